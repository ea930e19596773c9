"""How the commands print: ONS presentation of cells, tables, CSV, JSON, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.console import Console

from crimestats import formatting as fmt
from crimestats import reference
from crimestats.errors import CrimestatsError
from crimestats.periods import parse_period, period_label


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)


def title(offence: str | None, period: str) -> str:
    """'Stalking and harassment, year ending September 2019'."""
    return f"{reference.offence(offence or 'total-excluding-fraud').name}, {period_label(parse_period(period))}"


def fail(error: CrimestatsError) -> NoReturn:
    err.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


LEAGUE_VIEW = {
    "rank": "Rank (plausible)",
    "force": "Force",
    "count": "Offences",
    "rate_per_1000": "Rate per 1,000",
    "rate_ci": "95% interval",
    "change_pct": "Change %",
    "source": "Source",
    "note": "Note",
}
FORCE_VIEW = {
    "offence": "Offence",
    "count": "Offences",
    "rate_per_1000": "Rate per 1,000",
    "rate_ci": "95% interval",
    "rank": "Rank (plausible)",
    "change_pct": "Change %",
    "source": "Source",
    "note": "Note",
}
TOTALS_VIEW = {
    "area": "Area",
    "count": "Offences",
    "population": "Population",
    "rate_per_1000": "Rate per 1,000",
    "previous_count": "A year earlier",
    "change_pct": "Change %",
    "change_note": "Note",
}


def cell(key: str, row: dict[str, Any]) -> str:
    """ONS presentation: counts with thousands separators, rates to 1 decimal place, changes to whole per cent."""
    value = row.get(key)
    if key in ("note", "change_note"):
        return value or ""
    if key == "rank":  # a row that is not ranked at all (a total at the foot of a league) leaves it blank
        return fmt.rank(*(row.get(k) for k in ("rank", "ranked_of", "rank_low", "rank_high"))) if key in row else ""
    if key == "rate_ci":
        return fmt.interval(row.get("rate_ci_low"), row.get("rate_ci_high"))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.NOT_AVAILABLE
    if key in ("count", "population", "previous_count"):
        return fmt.count(value)
    if key == "rate_per_1000":
        return fmt.rate(value)
    if key == "change_pct":
        return fmt.signed_percent(value)
    if key == "source":
        return f"{value} {row.get('vintage') or ''}".strip()
    return str(value)


def emit(
    rows: list[dict[str, Any]],
    format: Format,
    title: str,
    view: dict[str, str],
    notes: list[str] | None = None,
    footer: list[dict[str, Any]] | None = None,
) -> None:
    """Print rows as a table (``footer`` rows below a rule: a total), CSV or JSON (the rows only)."""
    if format is Format.json:
        out.print(to_json(rows), highlight=False)
    elif format is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else list(view), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_value(v) for k, v in row.items()} for row in rows)
        sys.stdout.write(buffer.getvalue())
    else:
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for key, heading in view.items():
            table.add_column(
                heading,
                justify="right"
                if key in ("count", "population", "rate_per_1000", "previous_count", "change_pct", "rank")
                else "left",
            )
        for row in rows:
            table.add_row(*[cell(key, row) for key in view])
        if footer:
            table.add_section()
            for row in footer:
                table.add_row(*[cell(key, row) for key in view])
        out.print(table)
        for note in notes or []:
            out.print(f"Note: {note}", style="dim", highlight=False)
        out.print(
            "Source: police recorded crime, Home Office; ONS. '..' = not available. "
            "Police recorded crime is official statistics, not accredited official statistics.",
            style="dim",
            highlight=False,
        )


def csv_value(value: Any) -> Any:
    """A list of names as 'a; b'; structured values (the caveats and numbers of a finding) as JSON."""
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
        return json.dumps(value, default=json_default, ensure_ascii=False)
    return "; ".join(map(str, value)) if isinstance(value, list) else value


def to_json(value: Any) -> str:
    return json.dumps(value, default=json_default, indent=2, ensure_ascii=False)


def json_default(value: Any) -> Any:
    if hasattr(value, "to_pylist"):  # an Arrow table
        return value.to_pylist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
