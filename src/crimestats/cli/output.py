"""How the commands print: ONS presentation of cells, tables, CSV, JSON, and one-line errors."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from crimestats import formatting as fmt
from crimestats import reference
from crimestats.documents import csv_value, to_csv, to_json
from crimestats.errors import CrimestatsError
from crimestats.periods import parse_period, period_label

if TYPE_CHECKING:
    from rich.table import Table


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


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
TREND_VIEW = {
    "period": "Period",
    "count": "Offences",
    "rate_per_1000": "Rate per 1,000",
    "rate_ci": "95% interval",
    "rank": "Rank",
    "change_pct": "Change %",
    "england_and_wales_rate": "England and Wales rate",
    "source": "Source",
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
    if key == "limits_998":
        return fmt.interval(row.get("lower_998"), row.get("upper_998"))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.NOT_AVAILABLE
    if key in ("count", "population", "previous_count", "street", "outcomes", "stop_and_search"):
        return fmt.count(value)
    if key in ("share", "linked_share"):  # a fraction: 0.124 → '12.4%'
        return f"{fmt.rate(value * 100, 1)}%"
    if key in ("rate_per_1000", "england_and_wales_rate"):
        return fmt.rate(value)
    if key == "change_pct":
        return fmt.signed_percent(value)
    if key == "source":
        return f"{value} {row.get('vintage') or ''}".strip()
    return str(value)


SOURCE_LINE = (
    "Source: police recorded crime, Home Office; ONS. '..' = not available. "
    "Police recorded crime is official statistics, not accredited official statistics."
)
#: The columns a narrow terminal does without, the first to go first; the rank and the force are always shown.
NARROW_DROPS = ("source", "note", "rate_ci", "population", "change_pct")
#: Columns whose text may wrap onto more lines in a narrow terminal (a force's name never does).
WRAPPING = ("note", "offence", "area", "text")
#: Marks a row below the rule (a total), whose cells may all wrap.
TOTAL_ROW = "_total"
_NUMBERS = (
    *("count", "population", "rate_per_1000", "england_and_wales_rate", "previous_count", "change_pct", "rank"),
    *("share", "linked_share", "street", "outcomes", "stop_and_search"),
)


def emit(
    rows: list[dict[str, Any]],
    format: Format,
    title: str,
    view: dict[str, str],
    notes: list[str] | None = None,
    footer: list[dict[str, Any]] | None = None,
    *,
    document: Any = None,
    out_path: Path | None = None,
    source: str | None = None,
) -> None:
    """Print the rows (a table shows ``footer`` rows below a rule: a total; JSON prints ``document`` when given:
    the command's whole answer), or write them to ``out_path``: xlsx always (a sheet of the rows, one of the
    title, notes and sources), csv and json on asking. ``source`` replaces the line naming the recorded crime
    statistics as the source (street-level data comes from data.police.uk)."""
    source = source or SOURCE_LINE
    if format is Format.xlsx:
        if out_path is None:
            fail(CrimestatsError("--format xlsx writes a workbook: give --out FILE.xlsx"))
        write_xlsx(rows, title, [*(notes or []), source, *_files(rows)], out_path)
    elif format is Format.table:
        if out_path is not None:
            fail(CrimestatsError("--out goes with --format csv, json or xlsx"))
        _print_table(rows, title, view, notes or [], footer or [], source)
    else:
        answer = rows if document is None else document
        text = to_json(answer) + "\n" if format is Format.json else to_csv(rows, list(view))
        if out_path is None:
            sys.stdout.write(text)
        else:
            _write(out_path, lambda path: path.write_text(text, encoding="utf-8"))


def _print_table(
    rows: list[dict[str, Any]],
    title: str,
    view: dict[str, str],
    notes: list[str],
    footer: list[dict[str, Any]],
    source: str = SOURCE_LINE,
) -> None:
    """The rows, then the ``footer`` rows below a rule, as a table that fits the terminal: columns are left out
    (see :data:`NARROW_DROPS`) rather than a force name or rank cut, and the notes say which."""
    width = terminal_width()
    footer = [{**row, TOTAL_ROW: True} for row in footer]  # its name may wrap: "England and Wales (excluding …)"
    shown = fitting_columns(rows + footer, view, width)
    left_out = [heading for key, heading in view.items() if key not in shown]
    if left_out:
        notes = [
            *notes,
            f"Left out to fit the terminal: {', '.join(left_out)} (--format csv or json has every column).",
        ]
    out.print(title, highlight=False, markup=False)
    out.print(_table(rows, shown, width, footer), width=width, soft_wrap=False)
    for note in notes:
        out.print(f"Note: {note}", style="dim", highlight=False)
    out.print(source, style="dim", highlight=False)


def terminal_width() -> int:
    """$COLUMNS if set, else the terminal's width (160 when printing to a file or pipe)."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else out.width


def fitting_columns(rows: list[dict[str, Any]], view: dict[str, str], width: int) -> dict[str, str]:
    """The columns of ``view`` that fit in ``width`` characters with every cell whole (headings may wrap),
    leaving out those of :data:`NARROW_DROPS` in turn until they do."""
    shown = dict(view)
    for key in NARROW_DROPS:
        if _table_width(rows, shown) <= width:
            break
        shown.pop(key, None)
    return shown


def _table_width(rows: list[dict[str, Any]], view: dict[str, str]) -> int:
    """Characters a table needs with its headings wrapped: each column's width (:func:`_column_width`) and
    three for padding and rule, plus the left edge."""
    return 1 + sum(3 + _column_width(key, heading, rows) for key, heading in view.items())


def _column_width(key: str, heading: str, rows: list[dict[str, Any]]) -> int:
    """The narrowest a column can be with every cell whole: its widest cell (for text that wraps, its longest
    word: see :data:`WRAPPING`) or its heading's longest word."""
    cells = [(cell(key, row), key in WRAPPING or bool(row.get(TOTAL_ROW))) for row in rows]
    parts = [part for text, wraps in cells for part in (text.split() if wraps else [text])]
    return max(map(len, [*heading.split(), *parts]), default=0)


def _squeezed(rows: list[dict[str, Any]], view: dict[str, str], width: int) -> dict[str, int] | None:
    """Column widths for a table that does not fit ``width`` as it is: each column its narrowest, then, while
    characters are left, from the left, as wide as its heading, then as wide as its widest cell; None when the
    table fits."""
    natural = {key: max([len(heading), *(len(cell(key, row)) for row in rows)]) for key, heading in view.items()}
    if 1 + sum(3 + w for w in natural.values()) <= width:
        return None
    widths = {key: _column_width(key, heading, rows) for key, heading in view.items()}
    spare = width - _table_width(rows, view)
    for wanted in ({key: len(heading) for key, heading in view.items()}, natural):  # whole headings first
        for key in widths:
            extra = max(0, min(spare, wanted[key] - widths[key]))
            widths[key] += extra
            spare -= extra
    return widths


def _table(rows: list[dict[str, Any]], view: dict[str, str], width: int, footer: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    widths = _squeezed(rows + footer, view, width) or {}
    table = Table()
    for key, heading in view.items():
        table.add_column(heading, justify="right" if key in _NUMBERS else "left", width=widths.get(key))
    for row in rows:
        table.add_row(*[cell(key, row) for key in view])
    if footer:
        table.add_section()
        for row in footer:
            table.add_row(*[cell(key, row) for key in view])
    return table


def _files(rows: list[dict[str, Any]]) -> list[str]:
    """'Figures from policeforceareatables….xlsx (ons-pfa 2019-09).' for each file the rows come from."""
    found = {(r["file_name"], r.get("source"), r.get("vintage")) for r in rows if r.get("file_name")}
    return [f"Figures from {name} ({source} {vintage})." for name, source, vintage in sorted(found)]


def write_xlsx(rows: list[dict[str, Any]], title: str, notes: list[str], path: Path) -> None:
    """A workbook of two sheets: ``figures``, a heading row and the rows at full precision (lists joined with
    '; '), and ``notes``, the title, notes, caveats and sources, a line each."""
    import openpyxl

    book = openpyxl.Workbook()
    figures = book.active
    figures.title = "figures"
    fields = list(dict.fromkeys(key for row in rows for key in row))
    figures.append(fields)
    for row in rows:
        figures.append([csv_value(row.get(key)) for key in fields])
    sheet = book.create_sheet("notes")
    for line in [title, *notes]:
        sheet.append([line])
    _write(path, book.save)
    err.print(f"wrote {path}", highlight=False)


def _write(path: Path, save: Callable[[Path], object]) -> None:
    """Write a file with ``save(path)``; a failure is one line naming the path."""
    try:
        save(path)
    except OSError as error:
        fail(CrimestatsError(f"cannot write {path}: {error.strerror or error}"))
