"""The ``crimestats`` commands: parse arguments, call one library function, format what it returns.

Errors from the library become one line on stderr and exit code 1; no statistic is computed here.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from crimestats import __version__, analytics, caveats, documents, reference
from crimestats import formatting as fmt
from crimestats.cli.options import (
    Engine,
    ForceArgument,
    FormatOption,
    MsgOption,
    NoSuppressOption,
    OffenceOption,
    OutOption,
    PeriodOption,
    PopulationOption,
    PopulationYearOption,
    ReportFormat,
    SourceOption,
    State,
    force_name,
    open_store,
    options_from,
    query,
)
from crimestats.cli.output import (
    FORCE_VIEW,
    LEAGUE_VIEW,
    TOTALS_VIEW,
    TREND_VIEW,
    Format,
    emit,
    err,
    fail,
    out,
    title,
)
from crimestats.cli.street import street_app
from crimestats.downloads.cli import data_app
from crimestats.errors import CrimestatsError
from crimestats.periods import parse_period
from crimestats.store import default_path

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
app.add_typer(street_app, name="street")
app.command("check")(__import__("crimestats.cli.check", fromlist=["check"]).check)


@app.callback()
def main(
    db: Annotated[
        Path | None, typer.Option(help=f"Store file (default: $CRIMESTATS_DB or {default_path()}).", show_default=False)
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            envvar="CRIMESTATS_ENGINE",
            help=(
                "Where statistics the store does not keep yet are computed: duckdb, in the store, or spark"
                " (pip install 'crimestats\\[spark]'; local mode, or the cluster in $CRIMESTATS_SPARK_MASTER)."
                " Either way they are kept in the store, and later questions read them there."
            ),
        ),
    ] = Engine.duckdb,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"crimestats {__version__}", highlight=False)
        raise typer.Exit()
    State.db, State.engine = db, engine.value


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (searched recursively) of official files.")],
    first: Annotated[
        str | None, typer.Option("--from", help="data.police.uk files: store only the months from this one (2024-01).")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="data.police.uk files: store only the months up to this one (2025-06).")
    ] = None,
    force: Annotated[
        str | None, typer.Option("--force", help="data.police.uk files: store only this force's (City of London).")
    ] = None,
) -> None:
    """Read official files into the store: one transaction per file, files already stored are left alone.

    In a folder, files crimestats does not recognise are listed as skipped. A file that cannot be read is an
    error naming file, sheet, row and column; the other files are still stored, and the exit status is 1. Finding
    no official file at all is also an error.

    --from, --to and --force choose which of data.police.uk's monthly files (in an archive or loose) are stored;
    the others are passed over, and every other file is read whole. An archive stored before is read again for
    the months and forces it holds that the store does not.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from crimestats.cli.options import monthly_selection

    selection = monthly_selection(first, last, force)

    try:
        with (
            open_store() as store,
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

            report = store.ingest(paths, progress, selection)
            if report.with_status("ingested"):
                bar.update(task, total=None, description="computing the statistics")
                analytics.materialise(store)
    except CrimestatsError as error:
        fail(error)
    for result in report.results:
        if result.status == "ingested":
            out.print(
                f"ingested   {result.path}  ({result.source} {result.vintage}, {result.rows:,} rows)", highlight=False
            )
        elif result.status == "unchanged":
            out.print(f"unchanged  {result.path}  (already in the store)", highlight=False)
        for warning in result.warnings:
            err.print(f"warning: {warning}", highlight=False)
    skipped = [result for result in report.with_status("skipped") if result.source is None]
    outside = len(report.with_status("skipped")) - len(skipped)
    if outside:
        out.print(f"passed over {outside:,} data.police.uk file(s) outside --from, --to and --force", highlight=False)
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
    if not report.stored and outside:
        fail(CrimestatsError("nothing stored: no data.police.uk monthly file is of the months and force asked for"))
    if not report.stored:
        names = ", ".join(str(path) for path in paths)
        fail(CrimestatsError(f"no official files found in {names}; see `crimestats ingest --help` for what it reads"))


@app.command("table")
def league(
    period: PeriodOption,
    offence: OffenceOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    out_path: OutOption = None,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
    no_suppress: NoSuppressOption = False,
) -> None:
    """League table of forces for one offence: count, rate per 1,000 residents, rank (1 = lowest) and change."""
    options = options_from(source, population, population_year, no_suppress)
    answer = query(documents.league_document, period, offence, options)
    rows, national = answer.rows, answer.body["national"]
    notes = [*_caveat_notes(offence, period, rows), _population_note(rows)]
    footer = [_national_row(national)] if national else None
    heading = title(offence, period) + _older_population(rows)
    emit(rows, format, heading, LEAGUE_VIEW, notes, footer, document=answer.body, out_path=out_path)


def _national_row(national: dict[str, Any]) -> dict[str, Any]:
    """England and Wales as a row at the foot of a league table (unranked; its sources as one source cell)."""
    sources = {"source": ", ".join(national["sources"] or []), "vintage": ", ".join(national["vintages"] or [])}
    return {**national, "force": national["area"], "note": national["change_note"], **sources}


def _population_note(rows: list[dict[str, Any]]) -> str:
    """Where the residents behind the rates come from: 'Populations: ONS Table P3, 2019-09.'"""
    sources = sorted({str(r["population_source"]) for r in rows if r.get("population") is not None})
    return f"Populations: {'; '.join(sources)}." if sources else "Populations: none in the store for this period."


def _older_population(rows: list[dict[str, Any]]) -> str:
    """For a title, when the rates use an older population estimate than ONS would (the store lacks that one):
    ' (rates use the mid-2023 population estimate, the latest available)'."""
    years = sorted({r["population_year"] for r in rows if r.get("population_older")})
    return f" (rates use the mid-{years[-1]} population estimate, the latest available)" if years else ""


def _caveat_notes(
    offence: str | None,
    period: str,
    rows: Sequence[dict[str, Any]] = (),
    area: str | None = None,
    since: str | None = None,
) -> list[str]:
    """The caveats that apply to a table of rates and changes (context caveats are in the footer already, but
    not the one saying the rates use an older population estimate, when they do), over the periods from
    ``since`` to ``period`` for a trend."""
    found = caveats.caveats_for(
        area_code=area,
        offence=offence or "total-excluding-fraud",
        period_end=parse_period(period),
        comparison=True,
        since=None if since is None else parse_period(since),
        older_population=any(r.get("population_older") for r in rows),
    )
    return [c.text for c in found if c.kind != "context" or c.measure == "older-population"]


@app.command()
def force(
    name: Annotated[str, typer.Argument(help="Force name, alias or ONS code, e.g. 'Wiltshire' or E23000038.")],
    period: PeriodOption,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    out_path: OutOption = None,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
    no_suppress: NoSuppressOption = False,
) -> None:
    """One force across offence groups and subgroups: count, rate, rank among forces and change."""
    name = force_name(name)
    options = options_from(source, population, population_year, no_suppress)
    answer = query(documents.force_document, name, period, options)
    heading = f"{answer.body['force']}, {answer.body['period_label']}"
    emit(answer.rows, format, heading, FORCE_VIEW, document=answer.body, out_path=out_path)


@app.command()
def trend(
    name: ForceArgument,
    offence: OffenceOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    out_path: OutOption = None,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
    no_suppress: NoSuppressOption = False,
) -> None:
    """One force across every period in the store: count, rate and its 95% interval, rank, change on a year
    earlier, source and release, beside the rate of England and Wales in the same period, like for like."""
    name = force_name(name)
    options = options_from(source, population, population_year, no_suppress)
    result = query(documents.trend_document, name, offence, options).body
    item = reference.offence(result["offence"])
    heading = f"{result['force']}: {item.name}, every period in the store"
    periods = [row["period"] for row in result["rows"]]
    found = [
        _caveat_notes(item.slug, periods[-1], area=area, since=periods[0]) for area in (result["force_code"], None)
    ]
    notes = [_NATIONAL_NOTE, *dict.fromkeys(found[0] + found[1])]  # the force's caveats, then England and Wales'

    emit(result["rows"], format, heading, TREND_VIEW, notes, document=result, out_path=out_path)


_NATIONAL_NOTE = (
    "England and Wales: the rate of the forces with figures in that period (like for like: a force that could "
    "not supply data is left out, as `crimestats totals` shows)."
)


@app.command()
def totals(
    period: PeriodOption,
    offence: OffenceOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    out_path: OutOption = None,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
) -> None:
    """England and Wales, England, Wales and regional totals, like for like when a force's data is missing."""
    options = options_from(source, population, population_year, False)
    rows = query(analytics.totals_table, period, offence, options).to_pylist()
    heading = title(offence, period) + _older_population(rows)
    emit(rows, format, heading, TOTALS_VIEW, _caveat_notes(offence, period, rows), out_path=out_path)


@app.command()
def periods(source: SourceOption = None, format: FormatOption = Format.table, out_path: OutOption = None) -> None:
    """The 12-month periods the store holds figures for, and from which source."""
    rows = query(analytics.available_periods, options_from(source, None, None, False))
    emit(
        rows.to_pylist(),
        format,
        "Periods in the store",
        {"period": "Period", "label": "", "source": "Source and release", "forces": "Forces"},
        out_path=out_path,
    )


@app.command()
def files(format: FormatOption = Format.table, out_path: OutOption = None) -> None:
    """Provenance: every stored file with its sha256, source, vintage and when it was ingested."""
    rows = query(documents.files_document).rows
    view = {
        "file_name": "File",
        "source": "Source and release",
        "revision": "Rev",
        "rows": "Rows",
        "ingested_at": "Ingested",
        "sha256": "sha256",
    }
    emit(rows, format, "Files in the store", view, out_path=out_path)


@app.command()
def offences(format: FormatOption = Format.table, out_path: OutOption = None) -> None:
    """The offence classification: names and slugs accepted by --offence."""
    rows = [{"slug": o.slug, "name": o.name, "level": o.level, "parent": o.parent} for o in reference.offences()]
    view = {"slug": "Slug", "name": "Name", "level": "Level", "parent": "Part of"}
    emit(rows, format, "Offences", view, out_path=out_path)


@app.command()
def forces(format: FormatOption = Format.table, out_path: OutOption = None) -> None:
    """The 43 territorial police forces with their ONS codes and regions."""
    names = {a.code: a.name for a in reference.areas()}
    rows = [
        {"code": a.code, "name": a.name, "region": names.get(a.parent or ""), "aliases": "; ".join(a.aliases)}
        for a in reference.forces()
    ]
    view = {"code": "Code", "name": "Force", "region": "Region", "aliases": "Also known as"}
    emit(rows, format, "Police forces", view, out_path=out_path)


# ---- comparisons and reports ------------------------------------------------------------------------------


def _peer_groups(msg: Path | None) -> PeerGroups | None:
    if msg is None:
        return None
    from crimestats.sources.peer_groups import read_peer_groups

    if msg.is_dir():
        fail(CrimestatsError(f"{msg} is a folder: --msg takes a CSV file with the header 'force,peer'"))
    try:
        return read_peer_groups(msg)
    except CrimestatsError as error:
        fail(error)


@app.command()
def peers(
    name: ForceArgument,
    period: PeriodOption,
    offence: OffenceOption = None,
    msg: MsgOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    out_path: OutOption = None,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
) -> None:
    """A force against its peer group: the Home Office most similar group (--msg) or a computed group.

    Prints both averages the official tools use: the simple mean of the group's rates including the force
    (HMIC Crime and Policing Comparator) and the weighted average, total offences / total residents (HMICFRS
    value for money dashboards), and whether the force differs from the rest of its group (E-test).
    """
    from crimestats.analytics.peers import peer_comparison

    name = force_name(name, transport=False)
    options = options_from(source, population, population_year, False)
    groups = _peer_groups(msg)
    result = query(peer_comparison, name, period, offence, groups, options)
    view = {"force": "Force", "count": "Offences", "population": "Population", "rate_per_1000": "Rate per 1,000"}
    notes = [
        result["method"],
        f"Simple mean {fmt.rate(result['simple_mean'])} (printed in reports); weighted average "
        f"{fmt.rate(result['weighted_mean'])}: {result['average_note']}.",
        f"{result['force']} against the rest of the group: {result['verdict']}{_bracketed(result['p_value'])}.",
    ]
    title = f"{result['force']} and its peers: {result['offence_name']}, {result['period_label']}"
    emit(result["members"], format, title, view, notes, document=result, out_path=out_path)


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
    out_path: OutOption = None,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
) -> None:
    """Funnel plot data: each force's rate against 95% and 99.8% limits around the rate of all forces.

    Spiegelhalter (2005): a force is 'above' or 'below' when outside the 99.8% limits for its population.
    """
    options = options_from(source, population, population_year, False)
    result = query(analytics.funnel, period, offence, options, overdispersion)
    document = {k: v for k, v in result.items() if k != "curve"}
    view = {"force": "Force", "population": "Population", "rate_per_1000": "Rate per 1,000"}
    view |= {"limits_998": "99.8% limits", "position": "Position"}
    notes = [f"Target (rate of all forces together): {fmt.rate(result['target'])} per 1,000.", result["method"]]
    emit(result["rows"], format, title(offence, period), view, notes, document=document, out_path=out_path)


@app.command()
def findings(
    name: ForceArgument,
    period: PeriodOption,
    offence: OffenceOption = None,
    msg: MsgOption = None,
    source: SourceOption = None,
    format: FormatOption = Format.table,
    out_path: OutOption = None,
    population: PopulationOption = None,
    population_year: PopulationYearOption = None,
) -> None:
    """The notable, true statements about a force in a period, most notable first, each with its caveats.

    League position with its plausible rank range, statistically significant changes, gaps to the peer-group
    average and national context. --offence keeps the findings about that offence and its sub-offences.
    """
    from crimestats.reports.findings import build_findings

    name = force_name(name)
    options = options_from(source, population, population_year, False)
    groups = _peer_groups(msg)
    built = query(build_findings, name, period, groups, options, None, offence)
    result = built.to_dict()
    rows = [
        {**f, "significant": {True: "yes", False: "no"}.get(f["significant"], "not tested")} for f in result["findings"]
    ]
    view = {"text": "Finding", "significant": "Significant"}
    notes = [f"{c['text']} ({c['source_url']})" for c in result["caveats"]]
    emit(rows, format, f"{result['force']}, {result['period_label']}", view, notes, document=result, out_path=out_path)


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
        fail(CrimestatsError("--period is required, e.g. --period 2019-09"))
    if (name is None) == (not national):
        fail(CrimestatsError("name a force, or give --national (not both)"))
    if format in _TABLE_FOLDERS + (ReportFormat.xlsx,) and out_path is None:
        fail(CrimestatsError(f"--format {format.value} writes files: give --out PATH"))
    if format in _TABLE_FOLDERS and out_path is not None and out_path.exists() and not out_path.is_dir():
        fail(CrimestatsError(f"--out {out_path} is a file: --format {format.value} writes a folder, a file per table"))
    from crimestats.reports.build import force_report
    from crimestats.reports.national import national_report

    _ensure_data(yes, mirror)
    options = options_from(source, population, population_year, False)
    if national:
        built = query(national_report, period, options, None, None, offence)
    else:
        built = query(force_report, name, period, _peer_groups(msg), options, None, None, offence)
    _write_report(built, format, out_path)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but a loopback address lets other machines in.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    msg: MsgOption = None,
    cors: Annotated[bool, typer.Option("--cors", help="Let web pages of other sites read the JSON and CSV.")] = False,
) -> None:
    """A web dashboard and JSON/CSV API on the store, read-only: a page per force, league tables, maps,
    comparisons, and the same figures at each page's URL ending .json or .csv (see /docs).

    Prints the URL when it is ready; Ctrl-C stops it.
    """
    import asyncio

    import uvicorn

    from crimestats.web import create_app

    if msg is not None and msg.is_dir():
        fail(CrimestatsError(f"{msg} is a folder: --most-similar-group takes a CSV file with the header 'force,peer'"))
    try:
        web = create_app(State.db, most_similar_group=msg, cors=cors, engine=State.engine)
    except CrimestatsError as error:
        fail(error)
    if not _loopback(host):
        err.print(f"warning: listening on {host}: other machines can reach the dashboard", highlight=False)
    server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning", access_log=False))

    async def announce() -> None:  # uvicorn has no "ready" hook: say so once its sockets listen
        while not server.started:
            await asyncio.sleep(0.05)
        shown = f"[{host}]" if ":" in host else host
        out.print(f"crimestats is serving {State.db or default_path()} at http://{shown}:{port}/", highlight=False)

    async def run() -> None:
        ready = asyncio.create_task(announce())
        await server.serve()
        ready.cancel()

    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=server.config.get_loop_factory()) as loop:
        loop.run(run())  # on uvloop when it is installed (uvicorn's choice), as `uvicorn.run` would
    if not server.started:
        fail(CrimestatsError(f"cannot listen on {host}:{port} (in use, or not an address of this machine)"))


def _loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.1, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ensure_data(yes: bool, mirror: str | None) -> None:
    """Offer to download and ingest the official files when the store is missing or empty."""
    path = State.db or default_path()
    if path.exists():
        with open_store(read_only=True) as store:
            if store.files():
                return
    from crimestats.downloads.updates import ensure_data

    def confirm(question: str) -> bool:
        return sys.stdin.isatty() and typer.confirm(question, err=True)

    try:
        with open_store() as store:
            result = ensure_data(store, yes=yes, mirror=mirror, dest=None, confirm=confirm)
    except CrimestatsError as error:
        fail(error)
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
        fail(error)
    for folder in written.folders:
        err.print(f"created folder {folder}", highlight=False)
    for path in written.files:
        err.print(f"wrote {path}", highlight=False)


if __name__ == "__main__":
    app()
