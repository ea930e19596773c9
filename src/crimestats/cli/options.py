"""The options every command shares, parsed once where they enter: enums, option types, the store to open.

A value that does not parse (an unknown force, a population year the store lacks) is one line and exit 1.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from crimestats import analytics, reference
from crimestats.analytics.options import Options, Population, Source, options_for, options_of
from crimestats.cli.output import Format, fail
from crimestats.errors import CrimestatsError, PeriodError, UnknownAreaError
from crimestats.periods import format_period, parse_month, parse_period
from crimestats.store import Store, default_path

if TYPE_CHECKING:
    from crimestats.sources.police_uk import Selection

T = TypeVar("T")


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


class State:
    db: Path | None = None
    engine: str | None = None


class Engine(StrEnum):
    """--engine: :data:`crimestats.store.ENGINES`, as choices."""

    duckdb = "duckdb"
    spark = "spark"


def period_value(text: str) -> str:
    """--period as people write it (2019-09, 'Sep 2019', 'YE September 2019', 'latest'), read once here and
    passed on as ``2019-09``; one that is not a period is one line listing the periods in the store."""
    if not text:
        return text  # `report` says --period is required
    try:
        return format_period(parse_period(text))  # no store needed (`report` may be about to fill an empty one)
    except PeriodError:  # 'latest', or not a period: the store says which periods it holds
        return format_period(query(analytics.resolve_period, text))


PeriodOption = Annotated[
    str,
    typer.Option(
        "--period",
        "-p",
        help="The 12-month period by its last quarter: 2019-09, 'Sep 2019' or 'year ending September 2019' "
        "(all the year ending September 2019), or 'latest' (the newest in the store).",
        callback=period_value,
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
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format: a table, csv, json, or xlsx (with --out FILE).")
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Write to this file: needed for xlsx (a sheet of figures at full precision, a sheet of notes, caveats "
        "and sources); csv and json too.",
        show_default=False,
    ),
]
PopulationOption = Annotated[
    Population | None,
    typer.Option(help="Population for rates: 'published' (ONS Table P3) or 'ons-mye' (mid-year estimates)."),
]
PopulationYearOption = Annotated[
    int | None, typer.Option(help="Mid-year estimate to use, e.g. 2018 (default: the one ONS would use).")
]
MsgOption = Annotated[
    Path | None,
    typer.Option(
        "--most-similar-group",
        "--msg",
        help="Home Office most similar groups: a CSV with header 'force,peer', one row per group member "
        "(default: a computed group, labelled as such). --msg is the short form.",
    ),
]
ForceArgument = Annotated[str, typer.Argument(help="Force name, alias or ONS code, e.g. 'Wiltshire' or E23000038.")]
NoSuppressOption = Annotated[
    bool, typer.Option("--no-suppress", help="Show and rank City of London's rate, which ONS suppresses.")
]


def options_from(
    source: Source | None, population: Population | None, population_year: int | None, no_suppress: bool
) -> Options:
    """The options given, checked against the store when a population year is (one line and exit 1 if wrong)."""
    if population_year is None:  # nothing to check in the store: do not open it
        return options_of(source, population, None, not no_suppress)
    return query(options_for, source, population, population_year, not no_suppress, "--population-year")


def monthly_selection(first: str | None, last: str | None, force: str | None) -> Selection | None:
    """The data.police.uk monthly files ``--from``, ``--to`` and ``--force`` select (None: all of them)."""
    from crimestats.sources.police_uk import Selection

    if first is None and last is None and force is None:
        return None
    try:
        start, end = (None if month is None else parse_month(month) for month in (first, last))
    except CrimestatsError as error:
        fail(error)
    return Selection(start, end, None if force is None else reference.area(force_name(force)).code)


def force_name(name: str, *, transport: bool = True) -> str:
    """The name if it denotes a police force (or BTP, when ``transport``); else one line naming what it is,
    or suggesting the forces whose names contain it ('Manchester' → Greater Manchester)."""
    from crimestats.analytics.peers import not_a_force

    found = reference.find_area(name)
    if found is None:
        fail(UnknownAreaError(unknown_area(name, transport)))
    error = not_a_force(found, transport=transport)
    if error is not None:
        fail(error)
    return name


def unknown_area(name: str, transport: bool) -> str:
    candidates = [*reference.forces(), *([reference.area("BTP")] if transport else [])]
    hint = reference.did_you_mean(reference.suggest_areas(name, candidates)) or reference.AREA_HINT
    return f"unknown force or area {name!r} ({hint})"


def open_store(read_only: bool = False) -> Store:
    path = State.db or default_path()
    if read_only and not path.exists():
        raise CrimestatsError(f"no store at {path}: run `crimestats ingest PATH` first")
    return Store(path, read_only=read_only, cache_statistics=True, engine=State.engine)


def query(function: Callable[..., T], *args: Any) -> T:
    """Open the store read-only, make one library call, and turn a library error into one line and exit 1."""
    try:
        with open_store(read_only=True) as store:
            return function(store, *args)
    except CrimestatsError as error:
        fail(error)
