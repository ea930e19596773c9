"""``crimestats data``: list the official datasets, download them into the cache, check for updates.

A Typer sub-app: parse arguments, make one library call, format what it returns. Library errors become one
line on stderr and exit code 1. Every ``crimestats`` command imports this module to register ``data``, so the
catalogue, discovery and httpx are imported inside the commands that use them.
"""

from __future__ import annotations

import json
import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from crimestats.downloads.cache import default_cache_dir
from crimestats.errors import CrimestatsError
from crimestats.store import Store, default_path

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from crimestats.downloads.http import FetchPolicy

__all__ = ["data_app"]

data_app = typer.Typer(
    help=(
        "Get the official files: list the datasets, download them into a local cache (checked, resumable, "
        "only what changed), and see whether newer releases are out.\n\n"
        "`crimestats data download` then `crimestats ingest` the cache folder it prints."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
DestOption = Annotated[
    Path | None,
    typer.Option(
        "--dest",
        help=f"Cache folder for the files (default: $CRIMESTATS_CACHE or {default_cache_dir()}).",
        show_default=False,
    ),
]
MirrorOption = Annotated[
    str | None,
    typer.Option(
        "--mirror",
        metavar="BASE",
        help="Fetch each official URL's path from BASE instead of its host, e.g. http://mirror.example/ons.",
    ),
]


RetriesOption = Annotated[int, typer.Option(help="Retries of a failed request, with backoff (discovery: at most 1).")]
TimeoutOption = Annotated[
    float,
    typer.Option(
        help="Seconds to wait for the server at each step; a file arriving slower than --min-rate over this many"
        " seconds is given up."
    ),
]
DeadlineOption = Annotated[
    float, typer.Option("--deadline", help="Seconds one file may take in all, retries included.")
]
MinRateOption = Annotated[int, typer.Option("--min-rate", help="Slowest transfer accepted, in KB a second.")]


def _policy(retries: int, timeout: float, deadline: float = 3600.0, min_rate: int = 1, **limits: int) -> FetchPolicy:
    from crimestats.downloads.http import FetchPolicy

    return FetchPolicy(
        timeout=timeout,
        retries=retries,
        discovery_retries=min(retries, 1),
        deadline=deadline,
        min_rate=min_rate * 1024,
        **limits,
    )


def _fail(error: CrimestatsError) -> NoReturn:
    err.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


@data_app.command("sources")
def sources(format: FormatOption = Format.table) -> None:
    """The official datasets crimestats can download: publisher, licence, releases, the sources they are read as.

    Each dataset's files are read into the store as one or more sources, the `--source` of the other commands.
    """
    from rich.table import Table

    from crimestats.downloads.catalogue import load_catalogue

    try:
        entries = [dataset.summary() for dataset in load_catalogue().values()]
    except CrimestatsError as error:
        _fail(error)
    if format is Format.json:
        out.print_json(json.dumps(entries, ensure_ascii=False))
        return
    table = Table(title="Official datasets", title_justify="left")
    for heading in ("Dataset", "Publisher", "Title", "Latest known", "Read as", "Default", "Licence"):
        table.add_column(heading)
    for entry in entries:
        releases = entry["releases"]
        table.add_row(
            entry["name"],
            entry["publisher"],
            f"{entry['title']}\n[dim]{entry['url']}[/]",
            releases[-1]["release"] if releases else "",
            ", ".join(entry["read_as"]),
            "yes" if entry["default"] else "",
            entry["licence"],
        )
    out.print(table)


class _Bars:
    """Rich progress bars on stderr, one per file; hidden when stderr is not a terminal."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, label: str, total: int | None, completed: int) -> None:
        self.task = self.progress.add_task(label[:40], total=total, completed=completed)

    def advance(self, amount: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, amount)

    def end(self) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None


@data_app.command("download")
def download(
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="DATASET", help="Datasets to fetch (default: those marked default in `sources`)."),
    ] = None,
    dest: DestOption = None,
    mirror: MirrorOption = None,
    latest: Annotated[bool, typer.Option("--latest", help="Only the newest release of each dataset.")] = False,
    max_size: Annotated[int, typer.Option("--max-size", help="Refuse any file larger than this (MB).")] = 4096,
    retries: RetriesOption = 4,
    timeout: TimeoutOption = 30.0,
    deadline: DeadlineOption = 3600.0,
    min_rate: MinRateOption = 1,
    first: Annotated[
        str | None,
        typer.Option("--from", help="police-uk-archive: the first month wanted (default: 35 months before --to)."),
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="police-uk-archive: the last month wanted (default: the latest).")
    ] = None,
    force: Annotated[
        str | None,
        typer.Option("--force", help="police-uk-archive: the force wanted (archives are national; ingest keeps it)."),
    ] = None,
) -> None:
    """Download releases into the cache: unchanged files are not fetched again, interrupted ones resume.

    police-uk-archive with --from and --to fetches the fewest monthly archives that hold those months (each
    archive holds the 36 months up to its own); the archives hold every force, so --force only narrows what the
    `crimestats ingest` command printed at the end stores (it takes the same --from, --to and --force).

    Each file is checked (size; a spreadsheet is a spreadsheet, not an error page) before it replaces the cache's.

    Limits against broken or hostile servers: --max-size, --timeout, --min-rate and --deadline per file; release
    listings nested more than 64 levels deep are refused, and so is a redirect from https to plain http (name an
    http --mirror to use plain http).

    manifest.json next to the files records each URL, sha256, size and the server's ETag and Last-Modified.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    from crimestats.cli.options import monthly_selection
    from crimestats.downloads.fetch import download as download_datasets

    policy = _policy(retries, timeout, deadline, min_rate, max_size=max_size * 1024 * 1024)
    selection = monthly_selection(first, last, force)
    months = None if selection is None else (selection.start, selection.end)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bars:
            report = download_datasets(
                names,
                dest=dest,
                mirror=mirror,
                latest_only=latest,
                policy=policy,
                progress=_Bars(bars),
                months=months,
            )
    except CrimestatsError as error:
        _fail(error)
    for warning in report.warnings:
        _warn(warning)
    for result in report.results:
        if result.status == "failed":
            continue
        detail = f"{result.size:,} bytes, sha256 {result.sha256[:12] if result.sha256 else ''}"
        label = f"{result.status:<10} {result.dataset} {result.release}"
        out.print(f"{label}  {result.path}  ({detail})", highlight=False)
    for result in report.failed:
        err.print(f"[bold red]error:[/] {result.error}", highlight=False, soft_wrap=True)
    chosen = [
        part
        for option, value in (("--from", first), ("--to", last), ("--force", force))
        if value
        for part in (option, value)
    ]
    command = shlex.join(["crimestats", "ingest", str(report.dest), *chosen])
    out.print(f"cache: {report.dest}  (read it with `{command}`)", highlight=False)
    if report.failed:
        raise typer.Exit(1)


@data_app.command("status")
def status(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None, typer.Argument(metavar="DATASET", help="Datasets to check (default: all).")
    ] = None,
    db: Annotated[
        Path | None, typer.Option(help="Store file (default: the --db given to crimestats, or $CRIMESTATS_DB).")
    ] = None,
    dest: DestOption = None,
    mirror: MirrorOption = None,
    format: FormatOption = Format.table,
    retries: RetriesOption = 1,
    timeout: TimeoutOption = 30.0,
) -> None:
    """Per dataset: the release in the store, the latest the publisher lists, and whether an update is out."""
    from rich.table import Table

    from crimestats.downloads.updates import status as dataset_status

    path = db or _root_db(ctx) or default_path()
    try:
        store = Store(path, read_only=True) if path.exists() else None
        try:
            report = dataset_status(store, names, dest=dest, mirror=mirror, policy=_policy(retries, timeout))
        finally:
            if store is not None:
                store.close()
    except CrimestatsError as error:
        _fail(error)
    for warning in report.warnings:
        _warn(warning)
    if format is Format.json:
        out.print_json(json.dumps(report.rows, ensure_ascii=False))
        return
    table = Table(title=f"Datasets and the store {path}", title_justify="left")
    for heading in ("Dataset", "In the store", "Downloaded", "Latest known", "Status"):
        table.add_column(heading)
    for row in report.rows:
        latest = row["latest"] or ""
        if row["latest"] and not row["discovered"]:
            latest += " (catalogue; offline?)"
        table.add_row(
            row["dataset"],
            row["in_store"] or "",
            row["downloaded"] or "",
            latest,
            f"[bold]{row['note']}[/]" if row["update_available"] else row["note"],
        )
    out.print(table)


def _root_db(ctx: typer.Context) -> Path | None:
    """The ``--db`` given to the main ``crimestats`` command, when this app runs as its ``data`` sub-command."""
    value: Any = ctx.find_root().params.get("db")
    return Path(value) if value else None
