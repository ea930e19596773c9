"""The ``crimestats`` command: parse arguments, call one library function, format what it returns.

Errors from the library become one line on stderr and exit code 1; no statistic is computed here.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import pyarrow as pa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from crimestats import __version__, analytics, reference
from crimestats.analytics import Options
from crimestats.errors import CrimestatsError
from crimestats.periods import parse_period, period_label
from crimestats.store import Store, default_path

T = TypeVar("T")

app = typer.Typer(
    help=(
        "Police recorded crime statistics for England and Wales, from the official ONS and Home Office files.\n\n"
        "Start with `crimestats ingest DIR` on a folder of official files, then `crimestats table --period 2019-09`."
    ),
    no_args_is_help=True,
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Source(StrEnum):
    ons_pfa = "ons-pfa"
    ons_csp = "ons-csp"
    home_office = "home-office"


class Population(StrEnum):
    published = "published"
    ons_mye = "ons-mye"


class State:
    db: Path | None = None


PeriodOption = Annotated[
    str,
    typer.Option(
        "--period", "-p", help="Quarter end of the 12-month period, e.g. 2019-09 = year ending September 2019."
    ),
]
OffenceOption = Annotated[
    str | None,
    typer.Option(
        "--offence", "-o", help="Offence name or slug, e.g. 'stalking-and-harassment' (default: total excluding fraud)."
    ),
]
SourceOption = Annotated[
    Source | None,
    typer.Option(
        "--source", "-s", help="Use only this source (default: ONS force tables, then ONS CSP table, then Home Office)."
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
PopulationOption = Annotated[
    Population | None,
    typer.Option(help="Population for rates: 'published' (ONS Table P3) or 'ons-mye' (mid-year estimates)."),
]
PopulationYearOption = Annotated[
    int | None, typer.Option(help="Mid-year estimate to use, e.g. 2018 (default: the one ONS would use).")
]
NoSuppressOption = Annotated[
    bool, typer.Option("--no-suppress", help="Show and rank City of London's rate, which ONS suppresses.")
]


@app.callback()
def main(
    db: Annotated[
        Path | None, typer.Option(help=f"Store file (default: $CRIMESTATS_DB or {default_path()}).", show_default=False)
    ] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"crimestats {__version__}", highlight=False)
        raise typer.Exit()
    State.db = db


def _options(
    source: Source | None, population: Population | None, population_year: int | None, no_suppress: bool
) -> Options:
    return Options(
        source=source.value if source else None,
        population=population.value if population else None,
        population_year=population_year,
        suppress=not no_suppress,
    )


def _store(read_only: bool = False) -> Store:
    path = State.db or default_path()
    if read_only and not path.exists():
        raise CrimestatsError(f"no store at {path}: run `crimestats ingest PATH` first")
    return Store(path, read_only=read_only)


def _query(function: Callable[..., T], *args: Any) -> T:
    """Open the store read-only, make one library call, and turn a library error into one line and exit 1."""
    try:
        with _store(read_only=True) as store:
            return function(store, *args)
    except CrimestatsError as error:
        _fail(error)


def _title(offence: str | None, period: str) -> str:
    """'Stalking and harassment, year ending September 2019'."""
    return f"{reference.offence(offence or 'total-excluding-fraud').name}, {period_label(parse_period(period))}"


def _fail(error: CrimestatsError) -> NoReturn:
    err.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (searched recursively) of official files.")],
) -> None:
    """Read official files into the store: one transaction per file, files already stored are left alone.

    In a folder, files crimestats does not recognise are listed as skipped; a named file it cannot read is an error.
    """
    try:
        with (
            _store() as store,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            ) as bar,
        ):
            task = bar.add_task("ingesting", total=None)

            def progress(path: Path, number: int, total: int) -> None:
                bar.update(task, total=total, completed=number - 1, description=f"ingesting {path.name[:40]}")

            report = store.ingest(paths, progress)
    except CrimestatsError as error:
        _fail(error)
    for result in report.results:
        if result.status == "ingested":
            out.print(
                f"ingested   {result.path}  ({result.source} {result.vintage}, {result.rows:,} rows)", highlight=False
            )
        elif result.status == "unchanged":
            out.print(f"unchanged  {result.path}  (already in the store)", highlight=False)
        for warning in result.warnings:
            err.print(f"warning: {warning}", highlight=False)
    skipped = report.with_status("skipped")
    if skipped:
        out.print(f"skipped {len(skipped)} file(s) crimestats does not recognise:", highlight=False)
        for result in skipped[:10]:
            out.print(f"  {result.path}", highlight=False)
        if len(skipped) > 10:
            out.print(f"  … and {len(skipped) - 10} more", highlight=False)
    failed = report.with_status("failed")
    for result in failed:
        err.print(f"[bold red]error:[/] {result.error}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("table")
def league(
    period: PeriodOption,
    offence: OffenceOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
    no_suppress: NoSuppressOption = False,
) -> None:
    """League table of forces for one offence: count, rate per 1,000 residents, rank (1 = lowest) and change."""
    options = _options(source, population, population_year, no_suppress)
    rows = _query(analytics.league_table, period, offence, options)
    _emit(rows.to_pylist(), format, _title(offence, period), LEAGUE_VIEW)


@app.command()
def force(
    name: Annotated[str, typer.Argument(help="Force name, alias or ONS code, e.g. 'Wiltshire' or E23000038.")],
    period: PeriodOption,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
    no_suppress: NoSuppressOption = False,
) -> None:
    """One force across offence groups and subgroups: count, rate, rank among forces and change."""
    profile = _query(analytics.force_profile, name, period, _options(source, population, population_year, no_suppress))
    rows = profile["rows"].to_pylist()
    if format is Format.json:
        out.print(_json({**profile, "rows": rows}), highlight=False)
        return
    _emit(rows, format, f"{profile['force']}, {profile['period_label']}", FORCE_VIEW)


@app.command()
def totals(
    period: PeriodOption,
    offence: OffenceOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
) -> None:
    """England and Wales, England, Wales and regional totals, like for like when a force's data is missing."""
    rows = _query(analytics.totals_table, period, offence, _options(source, population, population_year, False))
    _emit(rows.to_pylist(), format, _title(offence, period), TOTALS_VIEW)


@app.command()
def periods(source: SourceOption = None, format: FormatOption = Format.table) -> None:
    """The 12-month periods the store holds figures for, and from which source."""
    rows = _query(analytics.available_periods, _options(source, None, None, False))
    _emit(
        rows.to_pylist(),
        format,
        "Periods in the store",
        {"period": "Period", "label": "", "source": "Source and release", "forces": "Forces"},
    )


@app.command()
def files(format: FormatOption = Format.table) -> None:
    """Provenance: every stored file with its sha256, source, vintage and when it was ingested."""
    rows = _query(Store.files)
    view = {
        "file_name": "File",
        "source": "Source and release",
        "revision": "Rev",
        "rows": "Rows",
        "ingested_at": "Ingested",
        "sha256": "sha256",
    }
    _emit(rows, format, "Files in the store", view)


@app.command()
def offences(format: FormatOption = Format.table) -> None:
    """The offence classification: names and slugs accepted by --offence."""
    rows = [{"slug": o.slug, "name": o.name, "level": o.level, "parent": o.parent} for o in reference.offences()]
    _emit(rows, format, "Offences", {"slug": "Slug", "name": "Name", "level": "Level", "parent": "Part of"})


@app.command()
def forces(format: FormatOption = Format.table) -> None:
    """The 43 territorial police forces with their ONS codes and regions."""
    names = {a.code: a.name for a in reference.areas()}
    rows = [
        {"code": a.code, "name": a.name, "region": names.get(a.parent or ""), "aliases": "; ".join(a.aliases)}
        for a in reference.forces()
    ]
    _emit(
        rows, format, "Police forces", {"code": "Code", "name": "Force", "region": "Region", "aliases": "Also known as"}
    )


# ---- formatting -------------------------------------------------------------------------------------------

LEAGUE_VIEW = {
    "rank": "Rank",
    "force": "Force",
    "count": "Offences",
    "rate_per_1000": "Rate per 1,000",
    "change_pct": "Change %",
    "source": "Source",
    "note": "Note",
}
FORCE_VIEW = {
    "offence": "Offence",
    "count": "Offences",
    "rate_per_1000": "Rate per 1,000",
    "rank": "Rank",
    "change_pct": "Change %",
    "source": "Source",
    "note": "Note",
}
TOTALS_VIEW = {
    "area": "Area",
    "count": "Offences",
    "population": "Population",
    "rate_per_1000": "Rate per 1,000",
    "change_pct": "Change %",
}


def _cell(key: str, row: dict[str, Any]) -> str:
    """ONS presentation: counts with thousands separators, rates to 1 decimal place, changes to whole per cent."""
    value = row.get(key)
    if key == "note":
        return value or ""
    if key == "rank":
        return ".." if value is None else f"{value} of {row['ranked_of']}"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ".."
    if key in ("count", "population", "previous_count"):
        return f"{value:,.0f}"
    if key == "rate_per_1000":
        return f"{_half_up(value, 1):,}"
    if key == "change_pct":
        return f"{_half_up(value, 0) + 0:+}"  # -0.3 prints as +0, not -0
    if key == "source":
        return f"{value} {row.get('vintage') or ''}".strip()
    return str(value)


def _half_up(value: float, places: int) -> Decimal:
    """Round half away from zero, as the ONS tables display (Python's round() goes to even)."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _emit(rows: list[dict[str, Any]], format: Format, title: str, view: dict[str, str]) -> None:
    if format is Format.json:
        out.print(_json(rows), highlight=False)
    elif format is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else list(view), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _csv_value(v) for k, v in row.items()} for row in rows)
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(title=title, title_justify="left")
        for key, heading in view.items():
            table.add_column(
                heading,
                justify="right" if key in ("count", "population", "rate_per_1000", "change_pct", "rank") else "left",
            )
        for row in rows:
            table.add_row(*[_cell(key, row) for key in view])
        out.print(table)
        out.print(
            "Source: police recorded crime, Home Office; ONS. '..' = not available. "
            "Police recorded crime is official statistics, not accredited official statistics.",
            style="dim",
            highlight=False,
        )


def _csv_value(value: Any) -> Any:
    return "; ".join(map(str, value)) if isinstance(value, list) else value


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_default, indent=2, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, pa.Table):
        return value.to_pylist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


if __name__ == "__main__":
    app()
