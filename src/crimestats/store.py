"""The store: one DuckDB file holding every figure read from the official files, with provenance.

Ingest is one transaction per file (a failure leaves the store exactly as it was, a full disk or a read-only file
system included: :class:`StoreError`) and idempotent (a file
whose sha256 is already stored changes nothing). Figures from different sources and vintages of the same
period are all kept; analytics choose between them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import platformdirs

from crimestats import street_layouts
from crimestats.errors import CrimestatsError, EngineError, SourceError, StoreError

if TYPE_CHECKING:  # imported where used: reading files and building expressions are not every command's work
    import ibis

    from crimestats import sources
    from crimestats.sources.police_uk import Selection

__all__ = ["ENGINES", "IngestReport", "Store", "default_path"]

#: The engines the statistics can be computed on (:mod:`crimestats.analytics.engines`); the store is DuckDB either way.
ENGINES = ("duckdb", "spark")

# Nullable columns throughout the figure tables: Ibis requires equal schemas to union them.
SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS file_ids START 1;
CREATE TABLE IF NOT EXISTS files (
    file_id INTEGER PRIMARY KEY DEFAULT nextval('file_ids'),
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL UNIQUE,
    source VARCHAR NOT NULL,
    vintage VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    ingested_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS figures (
    file_id INTEGER,
    sheet VARCHAR, source_row INTEGER, source_column VARCHAR,
    table_id VARCHAR,
    area_code VARCHAR,
    offence VARCHAR,
    offence_code VARCHAR,
    period_end DATE,
    months TINYINT,
    measure VARCHAR,
    value DOUBLE, symbol VARCHAR, reason VARCHAR
);
CREATE TABLE IF NOT EXISTS populations (
    file_id INTEGER,
    sheet VARCHAR, source_row INTEGER, source_column VARCHAR,
    area_code VARCHAR,
    year SMALLINT,
    denominator VARCHAR,
    value DOUBLE, symbol VARCHAR, reason VARCHAR
);
CREATE TABLE IF NOT EXISTS lookup (
    file_id INTEGER,
    source_row INTEGER,
    lad_code VARCHAR, lad_name VARCHAR,
    csp_code VARCHAR, csp_name VARCHAR,
    pfa_code VARCHAR
);
CREATE TABLE IF NOT EXISTS boundaries (
    file_id INTEGER,
    feature INTEGER,
    area_code VARCHAR, area_name VARCHAR,
    geometry VARCHAR
);
"""


#: Why a data.police.uk file or archive was skipped by ``ingest --from --to --force``.
OUTSIDE_SELECTION = "none of its data.police.uk monthly files is of the months and force asked for"


def default_path() -> Path:
    """``$CRIMESTATS_DB`` if set, else ``crimestats.duckdb`` in the user data directory (platformdirs)."""
    if os.environ.get("CRIMESTATS_DB"):
        return Path(os.environ["CRIMESTATS_DB"])
    return Path(platformdirs.user_data_dir("crimestats", appauthor=False)) / "crimestats.duckdb"


@dataclass(frozen=True)
class FileResult:
    """What happened to one file: ``ingested``, ``unchanged`` (already stored), ``skipped`` or ``failed``."""

    path: Path
    status: str
    source: str | None = None
    vintage: str | None = None
    rows: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class IngestReport:
    """The outcome of ingesting several files and directories."""

    results: list[FileResult] = field(default_factory=list)

    def with_status(self, status: str) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def stored(self) -> list[FileResult]:
        """Files now in the store: ingested by this run or already there."""
        return [r for r in self.results if r.status in ("ingested", "unchanged")]


class Store:
    """An open crimestats DuckDB file. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        cache_statistics: bool = False,
        engine: str | None = None,
    ) -> None:
        """Open (or create) the store at ``path`` (default :func:`default_path`).

        ``read_only`` opens it for reading, so that several processes can read it at once. Statistics the
        store has not yet materialised are then computed into temporary tables of this connection; with
        ``cache_statistics`` the store is instead reopened for writing to keep them, when no other process
        has it open (the CLI does this: each command is a short-lived process). ``engine`` (one of
        :data:`ENGINES`; default ``$CRIMESTATS_ENGINE`` or duckdb) is the engine that computes them.
        """
        self.engine = engine or os.environ.get("CRIMESTATS_ENGINE") or "duckdb"
        if self.engine not in ENGINES:
            raise EngineError(f"unknown engine {self.engine!r}: choose from {', '.join(ENGINES)}")
        self.path = Path(path) if path is not None else default_path()
        self.read_only = read_only
        self.cache_statistics = cache_statistics
        #: What this connection has read of the store and need not read again until a file is stored: the
        #: digest of the files and the materialised tables known to exist.
        self.memo: dict[str, Any] = {}
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except (duckdb.Error, OSError) as exc:
            raise StoreError(f"cannot open store {self.path}: {_reason(exc)}") from exc
        if not read_only:
            try:
                with self.transaction(f"cannot create the tables of store {self.path}"):
                    self.con.execute(SCHEMA)
                    self.con.execute(street_layouts.schema())
            except StoreError:
                self.con.close()
                raise
        elif not self.con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'files'").fetchall():
            self.con.close()
            raise CrimestatsError(f"{self.path} is not a crimestats store: run `crimestats ingest PATH` to create one")
        self._backend: ibis.BaseBackend | None = None

    def writable(self) -> bool:
        """Whether the store can be written now: a read-only store opened with ``cache_statistics`` is reopened
        for writing when no other process has it open."""
        if not self.read_only:
            return True
        if not self.cache_statistics:
            return False
        self.con.close()
        self._backend = None
        self.memo.clear()  # temporary tables of the old connection are gone with it
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error:
            self.con = duckdb.connect(str(self.path), read_only=True)
            return False
        self.read_only = False
        return True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @property
    def backend(self) -> ibis.BaseBackend:
        """The store as an Ibis DuckDB backend, for analytics."""
        if self._backend is None:
            import ibis

            self._backend = ibis.duckdb.from_connection(self.con)
        return self._backend

    def files_digest(self) -> str:
        """The digest of the stored files' sha256s: what the statistics computed from them are keyed by. Read
        once per connection (the memo is forgotten when a file is stored)."""
        if "files_digest" not in self.memo:
            query = "SELECT coalesce(string_agg(sha256, ',' ORDER BY sha256), '') FROM files"
            [(shas,)] = self.con.execute(query).fetchall()
            self.memo["files_digest"] = hashlib.sha256(shas.encode()).hexdigest()
        digest: str = self.memo["files_digest"]
        return digest

    def ingest_file(
        self,
        path: Path,
        probe: sources.Probe | None = None,
        reader: sources.Reader | None = None,
        police_uk: Selection | None = None,
    ) -> FileResult:
        """Read one file and store it in one transaction; a file already stored (same sha256) is left alone.

        ``probe`` and ``reader`` pass on a recognition already made, so the file is not probed again.
        ``police_uk`` stores only the data.police.uk monthly files it selects (a file with none of them is
        ``skipped``, and not recorded); a data.police.uk file already stored is read again for the monthly files
        the store does not yet hold (another selection's), and is ``unchanged`` when there are none.
        """
        from crimestats import sources

        digest = sha256(path)
        known = self.con.execute("SELECT file_id, source, vintage FROM files WHERE sha256 = ?", [digest]).fetchall()
        if known and known[0][1] != sources.police_uk.NAME:
            return FileResult(path, "unchanged", *known[0][1:])
        batch = sources.read_file(path, probe, reader)
        if police_uk is not None and batch.police_uk:
            batch = dataclasses.replace(batch, police_uk=tuple(filter(police_uk.keeps, batch.police_uk)))
            if not batch.police_uk:
                return FileResult(path, "skipped", batch.source, batch.vintage, error=OUTSIDE_SELECTION)
        file_id = known[0][0] if known else None
        rows = self._write(path, digest, batch, file_id)
        status = "unchanged" if known and not rows else "ingested"
        return FileResult(path, status, batch.source, batch.vintage, rows, batch.warnings)

    @contextlib.contextmanager
    def transaction(self, failure: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction on the store: committed at the end of the block, rolled back if the block raises.

        A write the store cannot make (a full disk, a read-only file system) is a :class:`StoreError` starting
        with ``failure``, and the store is left as it was: DuckDB has then already ended the transaction, so
        the roll-back that follows is allowed to find none.
        """
        con = self.con
        try:
            con.execute("BEGIN TRANSACTION")
            yield con
            con.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"{failure}: {_reason(exc)}; the store is unchanged") from exc
            raise

    def _write(self, path: Path, digest: str, batch: sources.Batch, file_id: int | None = None) -> int:
        """Store a file's batch in one transaction, as a new file unless ``file_id`` names it (stored before)."""
        monthly = 0
        with self.transaction(f"cannot store {path.name} in {self.path}") as con:
            if file_id is None:
                [(file_id,)] = con.execute(
                    "INSERT INTO files (file_name, sha256, source, vintage, revision, ingested_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING file_id",
                    [path.name, digest, batch.source, batch.vintage, batch.revision, dt.datetime.now(dt.UTC)],
                ).fetchall()
            for name, arrow in (
                ("figures", batch.figures),
                ("populations", batch.populations),
                ("lookup", batch.lookup),
                ("boundaries", batch.boundaries),
            ):
                if arrow.num_rows:
                    con.register("incoming", arrow)
                    con.execute(f"INSERT INTO {name} SELECT {file_id} AS file_id, * FROM incoming")
                    con.unregister("incoming")
            if batch.police_uk:
                monthly = self._write_monthly(con, file_id, batch.police_uk)
        self.memo.clear()  # what was read of the store before this file (its digest, its statistics) is stale
        tables = (batch.figures, batch.populations, batch.lookup, batch.boundaries)
        return monthly + sum(int(table.num_rows) for table in tables)

    def _write_monthly(self, con: duckdb.DuckDBPyConnection, file_id: int, items: Iterable[Any]) -> int:
        """Store data.police.uk monthly files, each unless the store has the same force, month and kind from a
        later edition (a newer archive); a copy from an earlier edition is replaced. Returns the rows stored."""
        from crimestats.sources import police_uk

        stored = {
            (force_code, month, kind): (part_id, edition)
            for part_id, force_code, month, kind, edition in con.execute(
                "SELECT part_id, force_code, month, kind, edition FROM police_uk_months"
            ).fetchall()
        }
        newer = [item for item in items if stored.get(_monthly_key(item), (0, dt.date.min))[1] < item.edition]
        if not newer:
            return 0
        for kind in street_layouts.KINDS:
            old = [
                stored[_monthly_key(item)][0] for item in newer if item.kind == kind and _monthly_key(item) in stored
            ]
            if old:
                con.execute(f"DELETE FROM {street_layouts.TABLES[kind]} WHERE part_id IN (SELECT unnest(?))", [old])
                con.execute("DELETE FROM police_uk_months WHERE part_id IN (SELECT unnest(?))", [old])
        ids = [
            part_id
            for (part_id,) in con.execute("SELECT nextval('police_uk_part_ids') FROM range(?)", [len(newer)]).fetchall()
        ]
        rows = police_uk.load(con, list(zip(ids, newer, strict=True)), self.path.parent)
        con.executemany(
            "INSERT INTO police_uk_months VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [part_id, file_id, item.member or item.path.name, item.force_code, item.force, item.month, item.kind]
                + [item.edition, rows[part_id]]
                for part_id, item in zip(ids, newer, strict=True)
            ],
        )
        return sum(rows.values())

    def ingest(
        self,
        paths: Iterable[str | Path],
        progress: Callable[[Path, int, int], None] | None = None,
        police_uk: Selection | None = None,
    ) -> IngestReport:
        """Ingest files and directories (recursively); each file is its own transaction, and one that fails
        does not stop the rest. ``police_uk`` stores only the data.police.uk monthly files it selects (months,
        force); other files are read whole.

        A file that cannot be read is reported as ``failed`` with its one-line error. In a directory, files of
        no known family are reported as ``skipped``; a file named on its own that crimestats does not recognise
        is ``failed``, since it was asked for.
        """
        from crimestats import sources

        report = IngestReport()
        plan = list(_plan(paths))
        for number, (path, explicit) in enumerate(plan, start=1):
            if progress:
                progress(path, number, len(plan))
            try:
                probe, reader = None, None  # a file named on its own is probed by ingest_file, after the sha256
                if not explicit:
                    probe = sources.Probe.of(path)
                    reader = sources.recognise_probe(probe)
                    if reader is None:
                        report.results.append(FileResult(path, "skipped", error="not a file crimestats recognises"))
                        continue
                report.results.append(self.ingest_file(path, probe, reader, police_uk))
            except SourceError as exc:
                report.results.append(FileResult(path, "failed", error=str(exc)))
            except BaseException as exc:  # whatever reading one file does, the files after it are still stored
                if not sources.parser_failure(exc) or isinstance(exc, (CrimestatsError, duckdb.Error)):
                    raise
                report.results.append(FileResult(path, "failed", error=str(sources.read_failure(path, exc))))
        return report

    def files(self) -> list[dict[str, object]]:
        """Provenance of every stored file: name, sha256, source, vintage, revision, ingested-at and rows."""
        cursor = self.con.execute(
            """SELECT f.file_id, file_name, sha256, source, vintage, revision, ingested_at,
                      (SELECT count(*) FROM figures g WHERE g.file_id = f.file_id)
                    + (SELECT count(*) FROM populations p WHERE p.file_id = f.file_id)
                    + (SELECT count(*) FROM lookup l WHERE l.file_id = f.file_id)
                    + (SELECT count(*) FROM boundaries b WHERE b.file_id = f.file_id)
                    + (SELECT coalesce(sum(m.rows), 0) FROM police_uk_months m WHERE m.file_id = f.file_id) AS rows
               FROM files f ORDER BY source, vintage, file_id"""
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _plan(paths: Iterable[str | Path]) -> Iterator[tuple[Path, bool]]:
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                yield child, False
        elif path.exists():
            yield path, True
        else:
            raise SourceError("no such file or directory", file=str(path))


def _monthly_key(item: Any) -> tuple[str, dt.date, str]:
    return item.force_code, item.month, item.kind


def _reason(error: BaseException) -> str:
    """DuckDB's or the OS's message on one line, without DuckDB's class label: 'Could not write file "…": No
    space left on device'."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    for label in ("TransactionContext Error: ", "Failed to commit: ", "IO Error: "):
        message = message.removeprefix(label)
    return message


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
