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
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from crimestats import __version__, analytics, caveats, reference
from crimestats import formatting as fmt
from crimestats.analytics.options import Options
from crimestats.downloads.cli import data_app
from crimestats.errors import CrimestatsError, UnknownAreaError
from crimestats.periods import parse_period, period_label
from crimestats.store import Store, default_path

if TYPE_CHECKING:
    from crimestats.sources.peer_groups import PeerGroups

# Each command imports the library it calls when it runs, so `--help` and quick questions load only what
# they use (statistics are read from the store; Ibis, SciPy and the readers load for the commands that need them).

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
app.add_typer(data_app, name="data")
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


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


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
    if population_year is not None:
        _check_population_year(population, population_year)
    return Options(
        source=source.value if source else None,
        population=population.value if population else None,
        population_year=population_year,
        suppress=not no_suppress,
    )


def _check_population_year(population: Population | None, year: int) -> None:
    """--population-year must name an estimate in the store, and only goes with mid-year estimates."""
    if population is Population.published:
        _fail(
            CrimestatsError(
                "--population-year applies to mid-year estimates; published P3 populations are those of the release"
            )
        )
    years = _query(analytics.population_years, population is None)
    if year not in years:
        known = f"the store holds {_year_list(years)}" if years else "the store holds none: ingest the ONS estimates"
        _fail(CrimestatsError(f"no population estimates for mid-{year}; {known}"))


def _year_list(years: list[int]) -> str:
    """'mid-2011 to mid-2023' for consecutive years, else 'mid-2011, mid-2016 and mid-2023'."""
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"mid-{years[0]} to mid-{years[-1]}"
    named = [f"mid-{year}" for year in years]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"


def _force_name(name: str, *, transport: bool = True) -> str:
    """The name if it denotes a police force (or BTP, when ``transport``); else one line naming what it is,
    or suggesting the forces whose names contain it ('Manchester' → Greater Manchester)."""
    from crimestats.analytics.peers import not_a_force

    found = reference.find_area(name)
    if found is None:
        _fail(UnknownAreaError(_unknown_area(name, transport)))
    error = not_a_force(found, transport=transport)
    if error is not None:
        _fail(error)
    return name


def _unknown_area(name: str, transport: bool) -> str:
    text = reference.normalise_name(name)
    candidates = [*reference.forces(), *([reference.area("BTP")] if transport else [])]
    near = [
        area.name
        for area in candidates
        if len(text) >= 3 and any(text in reference.normalise_name(key) for key in (area.name, *area.aliases))
    ]
    if near and len(near) <= 6:
        hint = f"did you mean {', '.join(near[:-1])} or {near[-1]}?" if len(near) > 1 else f"did you mean {near[0]}?"
    else:
        hint = "try a name like 'Wiltshire' or a code like E23000038"
    return f"unknown force or area {name!r} ({hint})"


def _store(read_only: bool = False) -> Store:
    path = State.db or default_path()
    if read_only and not path.exists():
        raise CrimestatsError(f"no store at {path}: run `crimestats ingest PATH` first")
    return Store(path, read_only=read_only, cache_statistics=True)


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

    In a folder, files crimestats does not recognise are listed as skipped. A file that cannot be read is an
    error naming file, sheet, row and column; the other files are still stored, and the exit status is 1. Finding
    no official file at all is also an error.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

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
            if report.with_status("ingested"):
                bar.update(task, total=None, description="computing the statistics")
                analytics.materialise(store)
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
        err.print(
            f"{len(failed)} file(s) failed; the others were stored, each in its own transaction.", highlight=False
        )
        raise typer.Exit(1)
    if not report.stored:
        names = ", ".join(str(path) for path in paths)
        _fail(CrimestatsError(f"no official files found in {names}; see `crimestats ingest --help` for what it reads"))


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
    rows = _query(analytics.league_table, period, offence, options).to_pylist()
    notes = [*_caveat_notes(offence, period), _population_note(rows)]
    _emit(rows, format, _title(offence, period), LEAGUE_VIEW, notes)


def _population_note(rows: list[dict[str, Any]]) -> str:
    """Where the residents behind the rates come from: 'Populations: ONS Table P3, 2019-09.'"""
    sources = sorted({str(r["population_source"]) for r in rows if r.get("population") is not None})
    return f"Populations: {'; '.join(sources)}." if sources else "Populations: none in the store for this period."


def _caveat_notes(offence: str | None, period: str, area: str | None = None) -> list[str]:
    """The caveats that apply to a table of rates and changes (context caveats are in the footer already)."""
    found = caveats.caveats_for(
        area_code=area, offence=offence or "total-excluding-fraud", period_end=parse_period(period), comparison=True
    )
    return [c.text for c in found if c.kind != "context"]


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
    name = _force_name(name)
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
    options = _options(source, population, population_year, False)
    rows = _query(analytics.totals_table, period, offence, options)
    _emit(rows.to_pylist(), format, _title(offence, period), TOTALS_VIEW, _caveat_notes(offence, period))


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
    "change_pct": "Change %",
}


def _cell(key: str, row: dict[str, Any]) -> str:
    """ONS presentation: counts with thousands separators, rates to 1 decimal place, changes to whole per cent."""
    value = row.get(key)
    if key == "note":
        return value or ""
    if key == "rank":
        return fmt.rank(*(row.get(k) for k in ("rank", "ranked_of", "rank_low", "rank_high")))
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


def _emit(
    rows: list[dict[str, Any]], format: Format, title: str, view: dict[str, str], notes: list[str] | None = None
) -> None:
    if format is Format.json:
        out.print(_json(rows), highlight=False)
    elif format is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else list(view), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _csv_value(v) for k, v in row.items()} for row in rows)
        sys.stdout.write(buffer.getvalue())
    else:
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for key, heading in view.items():
            table.add_column(
                heading,
                justify="right" if key in ("count", "population", "rate_per_1000", "change_pct", "rank") else "left",
            )
        for row in rows:
            table.add_row(*[_cell(key, row) for key in view])
        out.print(table)
        for note in notes or []:
            out.print(f"Note: {note}", style="dim", highlight=False)
        out.print(
            "Source: police recorded crime, Home Office; ONS. '..' = not available. "
            "Police recorded crime is official statistics, not accredited official statistics.",
            style="dim",
            highlight=False,
        )


def _csv_value(value: Any) -> Any:
    """A list of names as 'a; b'; structured values (the caveats and numbers of a finding) as JSON."""
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    return "; ".join(map(str, value)) if isinstance(value, list) else value


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_default, indent=2, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if hasattr(value, "to_pylist"):  # an Arrow table
        return value.to_pylist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


# ---- comparisons and reports ------------------------------------------------------------------------------


def _peer_groups(msg: Path | None) -> PeerGroups | None:
    from crimestats.sources.peer_groups import read_peer_groups

    if msg is not None and msg.is_dir():
        _fail(CrimestatsError(f"{msg} is a folder: --msg takes a CSV file with the header 'force,peer'"))
    try:
        return None if msg is None else read_peer_groups(msg)
    except CrimestatsError as error:
        _fail(error)


@app.command()
def peers(
    name: ForceArgument,
    period: PeriodOption,
    offence: OffenceOption = None,
    msg: MsgOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
) -> None:
    """A force against its peer group: the Home Office most similar group (--msg) or a computed group.

    Prints both averages the official tools use: the simple mean of the group's rates including the force
    (HMIC Crime and Policing Comparator) and the weighted average, total offences / total residents (HMICFRS
    value for money dashboards), and whether the force differs from the rest of its group (E-test).
    """
    from crimestats.analytics.peers import peer_comparison

    name = _force_name(name, transport=False)
    options = _options(source, population, population_year, False)
    groups = _peer_groups(msg)
    result = _query(peer_comparison, name, period, offence, groups, options)
    if format is Format.json:
        out.print(_json(result), highlight=False)
        return
    view = {"force": "Force", "count": "Offences", "population": "Population", "rate_per_1000": "Rate per 1,000"}
    notes = [
        result["method"],
        f"Simple mean {fmt.rate(result['simple_mean'])} (printed in reports); weighted average "
        f"{fmt.rate(result['weighted_mean'])}: {result['average_note']}.",
        f"{result['force']} against the rest of the group: {result['verdict']}{_bracketed(result['p_value'])}.",
    ]
    title = f"{result['force']} and its peers: {result['offence_name']}, {result['period_label']}"
    _emit(result["members"], format, title, view, notes)


def _bracketed(p_value: float | None) -> str:
    """' (p < 0.001)', or nothing when no test was made."""
    text = fmt.p_value(p_value)
    return f" ({text})" if text else ""


@app.command()
def funnel(
    period: PeriodOption,
    offence: OffenceOption = None,
    overdispersion: Annotated[
        bool,
        typer.Option(
            "--overdispersion/--no-overdispersion",
            help="Widen the limits for the extra spread between forces (Spiegelhalter 2005 additive random effect).",
        ),
    ] = True,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
) -> None:
    """Funnel plot data: each force's rate against 95% and 99.8% limits around the rate of all forces.

    Spiegelhalter (2005): a force is 'above' or 'below' when outside the 99.8% limits for its population.
    """
    options = _options(source, population, population_year, False)
    result = _query(analytics.funnel, period, offence, options, overdispersion)
    if format is Format.json:
        out.print(_json({k: v for k, v in result.items() if k != "curve"}), highlight=False)
        return
    rows = [{**row, "limits": _limits(row)} for row in result["rows"]]
    view = {"force": "Force", "population": "Population", "rate_per_1000": "Rate per 1,000"}
    view |= {"limits": "99.8% limits", "position": "Position"}
    notes = [f"Target (rate of all forces together): {fmt.rate(result['target'])} per 1,000.", result["method"]]
    _emit(rows, format, _title(offence, period), view, notes)


def _limits(row: dict[str, Any]) -> str:
    return f"{fmt.rate(row['lower_998'])}–{fmt.rate(row['upper_998'])}"


@app.command()
def findings(
    name: ForceArgument,
    period: PeriodOption,
    offence: OffenceOption = None,
    msg: MsgOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
) -> None:
    """The notable, true statements about a force in a period, most notable first, each with its caveats.

    League position with its plausible rank range, statistically significant changes, gaps to the peer-group
    average and national context. --offence keeps the findings about that offence and its sub-offences.
    """
    from crimestats.reports.findings import build_findings

    name = _force_name(name)
    options = _options(source, population, population_year, False)
    groups = _peer_groups(msg)
    built = _query(build_findings, name, period, groups, options, None, offence)
    result = built.to_dict()
    if format is Format.json:
        out.print(_json(result), highlight=False)
        return
    rows = [{**f, "significant": {True: "yes", False: "no"}.get(f["significant"], "")} for f in result["findings"]]
    view = {"text": "Finding", "significant": "Significant"}
    notes = [f"{c['text']} ({c['source_url']})" for c in result["caveats"]]
    _emit(rows, format, f"{result['force']}, {result['period_label']}", view, notes)


@app.command()
def report(
    name: Annotated[str | None, typer.Argument(help="Force name, alias or ONS code (omit with --national).")] = None,
    period: PeriodOption = "",
    national: Annotated[bool, typer.Option("--national", help="The national picture: all forces.")] = False,
    format: Annotated[
        ReportFormat,
        typer.Option(
            "--format", "-f", help="md, html (one self-contained file), json, or the tables as csv, xlsx or parquet."
        ),
    ] = ReportFormat.md,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=(
                "Where to write (default: md, html and json to stdout). md, html, json, xlsx: a file, or an existing "
                "folder to hold one named after the report (e.g. wiltshire-2019-09.md). csv, parquet: a folder, a "
                "file per table. Missing folders are created and existing files replaced; every file written is "
                "listed on stderr. md also writes its charts as SVG files in NAME_charts/ beside it."
            ),
        ),
    ] = None,
    offence: OffenceOption = None,
    msg: MsgOption = None,
    source: SourceOption = None,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="On an empty store, download and ingest the official files without asking."),
    ] = False,
    mirror: Annotated[
        str | None,
        typer.Option(metavar="BASE", help="On an empty store, fetch the official files from this mirror."),
    ] = None,
) -> None:
    """A report for a force (or --national) and period: headline findings, league position, offence table,
    peer comparison, charts, caveats, methods and the files the figures come from.

    --offence makes the whole report about one offence (title, headline, findings, league, peers, charts); the
    offence table still lists every offence.

    --out: md, html, json and xlsx go to the file named, or into an existing folder as NAME-PERIOD.FORMAT
    (wiltshire-2019-09.html, wiltshire-burglary-2019-09.md); csv and parquet go into the folder named, one file
    per table. Missing folders are created (and said so), existing files are replaced, and each file written
    is listed on stderr.

    On an empty store it offers to download the official files and read them in first (--yes for scripts);
    `crimestats ingest DIR` remains the way to work offline.
    """
    if not period:
        _fail(CrimestatsError("--period is required, e.g. --period 2019-09"))
    if (name is None) == (not national):
        _fail(CrimestatsError("name a force, or give --national (not both)"))
    if format in _TABLE_FOLDERS + (ReportFormat.xlsx,) and out_path is None:
        _fail(CrimestatsError(f"--format {format.value} writes files: give --out PATH"))
    if format in _TABLE_FOLDERS and out_path is not None and out_path.exists() and not out_path.is_dir():
        _fail(CrimestatsError(f"--out {out_path} is a file: --format {format.value} writes a folder, a file per table"))
    from crimestats.reports.build import force_report, national_report

    _ensure_data(yes, mirror)
    options = _options(source, population, population_year, False)
    if national:
        built = _query(national_report, period, options, None, None, offence)
    else:
        built = _query(force_report, name, period, _peer_groups(msg), options, None, None, offence)
    _write_report(built, format, out_path)


def _ensure_data(yes: bool, mirror: str | None) -> None:
    """Offer to download and ingest the official files when the store is missing or empty."""
    from crimestats.downloads import ensure_data

    path = State.db or default_path()
    if path.exists():
        with _store(read_only=True) as store:
            if store.files():
                return

    def confirm(question: str) -> bool:
        return sys.stdin.isatty() and typer.confirm(question, err=True)

    try:
        with _store() as store:
            result = ensure_data(store, yes=yes, mirror=mirror, dest=None, confirm=confirm)
    except CrimestatsError as error:
        _fail(error)
    if result is not None:
        for failed in result.download.failed:
            err.print(f"warning: not downloaded: {failed.url}: {failed.error}", highlight=False)
        stored = result.ingest.with_status("ingested")
        err.print(f"downloaded and ingested {len(stored)} official files into {path}", highlight=False)


_TABLE_FOLDERS = (ReportFormat.csv, ReportFormat.parquet)


def _write_report(built: Any, format: ReportFormat, out_path: Path | None) -> None:
    """Write the report as --out says (see `report`), listing on stderr each folder created and file written."""
    from crimestats.reports import files

    if out_path is None:
        sys.stdout.write(files.rendered(built, format.value))
        return
    try:
        written = files.write_report(built, format.value, out_path)
    except CrimestatsError as error:
        _fail(error)
    for folder in written.folders:
        err.print(f"created folder {folder}", highlight=False)
    for path in written.files:
        err.print(f"wrote {path}", highlight=False)


if __name__ == "__main__":
    app()
