"""``crimestats street``: data.police.uk street-level crimes, coverage, stop-and-search and the reconciliation
with the recorded crime statistics. Each command makes one library call and formats what it returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from crimestats import formatting as fmt
from crimestats import reference
from crimestats.cli.options import FormatOption, OutOption, force_name, query
from crimestats.cli.output import Format, emit, fail
from crimestats.errors import CrimestatsError
from crimestats.library import Crimestats
from crimestats.periods import parse_month, period_label

T = TypeVar("T")

street_app = typer.Typer(
    help="Street-level crimes, outcomes and stop-and-search from data.police.uk (ingest the monthly files or an "
    "archive first). These are not official statistics: `street reconcile` compares them with the official count.",
    no_args_is_help=True,
)

SOURCE = (
    "Source: data.police.uk street-level files (Home Office; police forces). Not official statistics. "
    "'..' = not available."
)
ForceOption = Annotated[
    str | None, typer.Option("--force", help="Force name, alias or ONS code (default: every force in the store).")
]
FromOption = Annotated[
    str | None, typer.Option("--from", help="First month, e.g. 2024-01 (default: the first stored).")
]
ToOption = Annotated[str | None, typer.Option("--to", help="Last month, e.g. 2024-12 (default: the last stored).")]
#: Headings of the grouping columns ``street counts`` prints (the library checks ``--by`` and names the columns).
COUNT_HEADINGS = {
    "force_code": "Force",
    "crime_type": "Crime type",
    "month": "Month",
    "lsoa_code": "LSOA",
    "last_outcome_category": "Last outcome",
}


def _ask(question: Callable[[Crimestats], T]) -> T:
    """Ask the library one question on the store opened read-only (:func:`crimestats.cli.options.query`)."""
    return query(lambda store: question(Crimestats(store)))


def _force(name: str | None) -> str | None:
    return None if name is None else force_name(name)


def _shown(name: str | None) -> str:
    """The force's name for a title, or every force."""
    return "every force in the store" if name is None else reference.area(name).name


def _months(first: str | None, last: str | None) -> str:
    """', January 2024 to December 2024' for a title ('' when both are open)."""
    try:
        shown = [None if m is None else f"{fmt_month(parse_month(m))}" for m in (first, last)]
    except CrimestatsError as error:
        fail(error)
    if shown == [None, None]:
        return ""
    if shown[0] == shown[1]:
        return f", {shown[0]}"
    return f", {shown[0] or 'the first month'} to {shown[1] or 'the last month'}"


def fmt_month(month: Any) -> str:
    return f"{month:%B %Y}"


@street_app.command("counts")
def counts(
    force: ForceOption = None,
    first: FromOption = None,
    last: ToOption = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Group by crime-type, month, lsoa or outcome (repeat for more; default crime-type)."),
    ] = None,
    format: FormatOption = Format.table,
    out_path: OutOption = None,
) -> None:
    """Street crimes and anti-social behaviour incidents counted by crime type, month, LSOA or last outcome."""
    name = _force(force)
    result = _ask(lambda stats: stats.street_counts(by or ["crime-type"], name, first, last))
    view = {column: COUNT_HEADINGS.get(column, "Count") for column in result.rows.column_names}
    heading = f"Street-level crimes and anti-social behaviour, {_shown(name)}"
    rows = [{key: row[key] for key in view} for row in result.rows.to_pylist()]
    emit(rows, format, heading + _months(first, last), view, list(result.caveats), out_path=out_path, source=SOURCE)


@street_app.command("coverage")
def coverage(format: FormatOption = Format.table, out_path: OutOption = None) -> None:
    """Which months the store holds for each force, by kind (street, outcomes, stop-and-search), with row counts;
    a blank ('..', JSON null) is a month the force has no file for."""
    result = _ask(lambda stats: stats.street_coverage())
    view = {"force": "Force", "month": "Month", "street": "Street", "outcomes": "Outcomes", "stop_and_search": "Stops"}
    rows = [{key: row[key] for key in view} for row in result.rows.to_pylist()]
    missing = result.missing
    notes = [f"{len(missing)} force-month(s) with no street file." if missing else "No month is missing a street file."]
    emit(
        rows,
        format,
        "Street-level data in the store",
        view,
        [*notes, *result.caveats],
        out_path=out_path,
        source=SOURCE,
    )


@street_app.command("outcomes")
def outcomes(
    force: ForceOption = None,
    first: FromOption = None,
    last: ToOption = None,
    format: FormatOption = Format.table,
    out_path: OutOption = None,
) -> None:
    """How each crime type's crimes ended: the share with each last outcome (charged, no suspect identified …)."""
    name = _force(force)
    result = _ask(lambda stats: stats.street_outcomes(name, first, last))
    view = {"crime_type": "Crime type", "last_outcome_category": "Last outcome", "count": "Crimes", "share": "Share"}
    heading = f"Last outcomes of street-level crimes, {_shown(name)}" + _months(first, last)
    emit(result.rows.to_pylist(), format, heading, view, list(result.caveats), out_path=out_path, source=SOURCE)


@street_app.command("stops")
def stops(
    force: ForceOption = None,
    first: FromOption = None,
    last: ToOption = None,
    by: Annotated[
        str,
        typer.Option(help="Group by object, outcome, age, ethnicity (self-defined), legislation, gender or type."),
    ] = "object",
    format: FormatOption = Format.table,
    out_path: OutOption = None,
) -> None:
    """Stop-and-search counts and shares by object of search, outcome, age, ethnicity or legislation, and the share
    whose outcome was linked to what the officer searched for."""
    name = _force(force)
    result = _ask(lambda stats: stats.stops(by, name, first, last))
    column = result.rows.column_names[0]
    view = {column: by.capitalize(), "count": "Searches", "share": "Share", "linked_share": "Outcome linked to object"}
    heading = f"Stop and search by {by}, {_shown(name)}" + _months(first, last)
    emit(result.rows.to_pylist(), format, heading, view, list(result.caveats), out_path=out_path, source=SOURCE)


@street_app.command("reconcile")
def reconcile(
    force: Annotated[str, typer.Argument(help="Force name, alias or ONS code, e.g. 'City of London'.")],
    period: Annotated[str, typer.Option("--period", "-p", help="The 12 months' last month, e.g. 2025-06.")],
    format: FormatOption = Format.table,
    out_path: OutOption = None,
) -> None:
    """A force's police.uk crime count for 12 months beside the recorded crime count for the same months (ONS
    Table C2 for a year ending June), the ratio between them and the documented reasons they differ."""
    name = force_name(force)
    result = _ask(lambda stats: stats.reconcile(name, period))
    data = result.to_dict()
    months = period_label(parse_month(data["period_end"]))
    heading = f"{data['force']}: data.police.uk against police recorded crime, {months}"
    ratio = data["ratio"]
    summary = (
        f"Ratio police.uk / recorded crime: {ratio:.2f} ({fmt.count(data['police_uk_count'])} against"
        f" {fmt.count(data['recorded_count'])}); anti-social behaviour ({fmt.count(data['anti_social_behaviour'])}"
        " incidents) left out."
        if ratio is not None
        else f"No ratio: the street files cover {data['months_covered']} of the 12 months to"
        f" {data['period_end']}, or the store has no recorded crime count for them."
    )
    notes = [summary, "Why they differ:", *data["reasons"]]
    view = {"series": "Count", "count": "Crimes"}
    emit(data["rows"], format, heading, view, notes, document=data, out_path=out_path, source=SOURCE)
