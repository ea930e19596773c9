"""data.police.uk street-level files: monthly street crimes, outcomes and stop-and-search, loose or in archives.

Each monthly file is one force, one month and one kind, named ``YYYY-MM-<force>-<kind>.csv`` (``<kind>`` is
``street``, ``outcomes`` or ``stop-and-search``) and recognised by its header row (:data:`LAYOUTS`). The monthly
archives (``YYYY-MM.zip``) hold ``YYYY-MM/YYYY-MM-<force>-<kind>.csv`` for the 36 months up to the archive's
month; their members are read from the zip without unpacking the archive, a month's members at a time, each
copied to a temporary file in the store's folder for DuckDB's reader (which cannot read a zip member).

A reader here does not return the rows: there are millions of them. It returns the monthly files it found
(:class:`MonthlyFile`), and the store loads them with DuckDB's CSV reader (:func:`load`) inside the file's
or archive's one transaction, so no row passes through Python. A value DuckDB cannot read as its column's type
(a month that is not ``YYYY-MM``, a date, a coordinate), a row wider or narrower than the header, a month
other than the file name's: each is a :class:`SourceError` naming file, row and column, and the store keeps
nothing of the file or archive.

Stop-and-search files have no force column: the force comes from the file name. A force the file name gives
that is not one of data.police.uk's is an error; Northern Ireland's files (in every archive) are passed over
with a warning, as crimestats covers England and Wales.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from crimestats import reference
from crimestats.errors import SourceError
from crimestats.sources._base import Batch, Limits, Probe, column_letter, path_of
from crimestats.street_layouts import LAYOUTS, TABLES

NAME = "police-uk"

#: data.police.uk's force names in file names that are not a name crimestats already knows.
FORCE_SLUGS = {"metropolitan": "E23000001", "btp": "BTP"}
OUTSIDE = {"northern-ireland": "Police Service of Northern Ireland"}

_MEMBER = re.compile(r"^(?:.*/)?(\d{4}-\d{2})-([a-z0-9-]+?)-(street|outcomes|stop-and-search)\.csv$")
_DUCKDB_TYPES = {"DATE": "a month written YYYY-MM", "DOUBLE": "a number", "BOOLEAN": "True or False"}


@dataclass(frozen=True)
class MonthlyFile:
    """One force's file of one kind for one month: loose (``member`` is None) or a member of an archive."""

    path: Path
    member: str | None
    force_code: str
    force: str  # data.police.uk's name for the force in file names: 'city-of-london'
    month: dt.date
    kind: str
    #: The newest month of the archive it came from (a loose file's own month): of two copies of the same
    #: force, month and kind, the one of the later edition is kept.
    edition: dt.date

    @property
    def name(self) -> str:
        """How errors name it: 'file.csv' or 'archive.zip: 2024-01/2024-01-…-street.csv'."""
        return self.path.name if self.member is None else f"{self.path.name}: {self.member}"


@dataclass(frozen=True)
class Selection:
    """Which monthly files to store (``crimestats ingest --from --to --force``): the months from ``start`` to
    ``end`` (either open) of one force (None: every force). The others in a file or archive are passed over."""

    start: dt.date | None = None
    end: dt.date | None = None
    force_code: str | None = None

    def keeps(self, monthly: MonthlyFile) -> bool:
        return (
            (self.start is None or monthly.month >= self.start)
            and (self.end is None or monthly.month <= self.end)
            and (self.force_code is None or monthly.force_code == self.force_code)
        )


# ---- recognising and reading --------------------------------------------------------------------------------


def recognise(probe: Probe) -> bool:
    """A CSV whose header row is (all but one column of) a data.police.uk layout, or an archive of them."""
    if probe.path.suffix.lower() == ".zip":
        return bool(_archive_members(probe.path, recognising=True))
    return bool(probe.rows) and _layout_of(probe.rows[0]) is not None


def read(file: Path | Probe) -> Batch:
    """The monthly files of a loose CSV or an archive, each to be loaded by :func:`load`."""
    path = path_of(file)
    if path.suffix.lower() == ".zip":
        return _read_archive(path)
    header = _header(path)
    kind = _layout_of(tuple(header))
    if kind is None:
        raise SourceError("the header row is not a data.police.uk layout", file=path.name, row=1)
    month, force, named_kind = _parse_name(path.name, path.name)
    if named_kind != kind:
        raise SourceError(f"the file name says {named_kind} but the header row is the {kind} layout", file=path.name)
    monthly, warnings = _monthly(path, None, month, force, kind, month)
    return Batch(NAME, f"{month:%Y-%m}", police_uk=tuple(monthly), warnings=warnings)


def _read_archive(path: Path) -> Batch:
    members = _archive_members(path)
    if not members:
        raise SourceError("holds no data.police.uk monthly file (YYYY-MM/YYYY-MM-<force>-<kind>.csv)", file=path.name)
    named = [(member, *_parse_name(member, f"{path.name}: {member}")) for member in members]
    edition = max(month for _, month, _, _ in named)
    found: list[MonthlyFile] = []
    warnings: list[str] = []
    seen: dict[tuple[str, dt.date, str], str] = {}
    for member, month, force, kind in named:
        key = (force, month, kind)
        if key in seen:
            raise SourceError(f"holds {seen[key]} and {member} for the same force, month and kind", file=path.name)
        seen[key] = member
        monthly, skipped = _monthly(path, member, month, force, kind, edition)
        found += monthly
        warnings += skipped
    return Batch(NAME, f"{edition:%Y-%m}", police_uk=tuple(found), warnings=tuple(dict.fromkeys(warnings)))


def _monthly(
    path: Path, member: str | None, month: dt.date, force: str, kind: str, edition: dt.date
) -> tuple[list[MonthlyFile], tuple[str, ...]]:
    """The monthly file, or none and a warning for a force outside England and Wales."""
    if force in OUTSIDE:
        return [], (f"{path.name}: {OUTSIDE[force]} files passed over (crimestats covers England and Wales)",)
    name = path.name if member is None else f"{path.name}: {member}"
    return [MonthlyFile(path, member, _force_code(force, name), force, month, kind, edition)], ()


def _archive_members(path: Path, recognising: bool = False) -> list[str]:
    """The monthly files an archive holds, checked against the :class:`Limits` (members, inflated bytes)."""
    limits = Limits.from_environment()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        if recognising:
            return []
        raise SourceError(f"cannot open as a zip archive ({exc})", file=path.name) from exc
    members = [info for info in infos if _MEMBER.match(info.filename)]
    if recognising or not members:
        return [info.filename for info in members]
    if len(infos) > limits.zip_members:
        message = f"the zip holds {len(infos):,} files, more than the limit of {limits.zip_members:,}"
        raise SourceError(f"{message} (CRIMESTATS_MAX_ZIP_MEMBERS raises it)", file=path.name)
    inflated = sum(info.file_size for info in members)
    if inflated > limits.archive_bytes:
        message = f"its monthly files unzip to {inflated:,} bytes, more than the limit of {limits.archive_bytes:,}"
        raise SourceError(f"{message} (CRIMESTATS_MAX_ARCHIVE_BYTES raises it)", file=path.name)
    for info in members:
        if info.file_size > limits.file_bytes:
            message = (
                f"{info.filename} unzips to {info.file_size:,} bytes, more than the limit of {limits.file_bytes:,}"
            )
            raise SourceError(f"{message} (CRIMESTATS_MAX_FILE_BYTES raises it)", file=path.name)
    return sorted(info.filename for info in members)


def _parse_name(name: str, where: str) -> tuple[dt.date, str, str]:
    """'2024-01-city-of-london-street.csv' → (2024-01-01, 'city-of-london', 'street')."""
    match = _MEMBER.match(name)
    if match is None:
        raise SourceError("is not named YYYY-MM-<force>-<kind>.csv as data.police.uk names its files", file=where)
    month, force, kind = match.groups()
    try:
        return dt.datetime.strptime(month, "%Y-%m").date(), force, kind
    except ValueError:
        raise SourceError(f"the file name's month {month!r} is not a month written YYYY-MM", file=where) from None


def _force_code(force: str, where: str) -> str:
    """The ONS code of data.police.uk's name for a force in a file name; an unknown name is an error."""
    if force in FORCE_SLUGS:
        return FORCE_SLUGS[force]
    found = reference.find_area(force)
    if found is None or found.kind not in ("force", "transport"):
        known = ", ".join(sorted([*(area.slug for area in reference.forces()), *FORCE_SLUGS]))
        raise SourceError(f"unknown force {force!r} in the file name (data.police.uk's forces: {known})", file=where)
    return found.code


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        return next(csv.reader(handle), [])


def _layout_of(header: tuple[str, ...] | list[str]) -> str | None:
    """The layout a header row is (all but one column of, and nothing else), the closest if two are."""
    names = {" ".join(cell.split()) for cell in header}
    scores = {}
    for kind, columns in LAYOUTS.items():
        wanted = {column for column, _, _ in columns}
        missing, extra = len(wanted - names), len(names - wanted)
        if missing <= 1:
            scores[kind] = missing + extra
    return min(scores, key=lambda kind: scores[kind]) if scores else None


# ---- loading ----------------------------------------------------------------------------------------------

#: The message of the error the INSERT raises for a row of another month than its file name's.
_OTHER_MONTH = "police.uk row of another month in part "


def load(con: duckdb.DuckDBPyConnection, parts: Sequence[tuple[int, MonthlyFile]], folder: Path) -> dict[int, int]:
    """Append the monthly files' rows to their tables and return how many rows each part (``part_id``) has.

    The files of one kind and month from one source are read in one call of DuckDB's CSV reader (explicit
    columns and types, no sniffing; a list of files read in parallel), joined on the file name to their part,
    and checked for their month in the same statement. An archive's members are unpacked a month at a time into
    a temporary folder in ``folder``, the next month's while this month's are read. A row DuckDB rejects, a
    missing column or a row of another month is a :class:`SourceError` naming the file, row and column. Run
    inside the store's transaction, which the error rolls back."""
    groups = list(_groups(parts))
    rows: dict[int, int] = {}
    con.execute("SET enable_progress_bar = false")  # a month's read takes seconds: `ingest` shows its own progress
    with tempfile.TemporaryDirectory(dir=folder, prefix=".police-uk-") as scratch, ThreadPoolExecutor(1) as unpacker:
        pending = unpacker.submit(_unpacked, groups[0], Path(scratch)) if groups else None
        for number, group in enumerate(groups, start=1):
            assert pending is not None
            paths = pending.result()
            following = groups[number] if number < len(groups) else None
            pending = unpacker.submit(_unpacked, following, Path(scratch)) if following else None
            rows |= _load_group(con, group, paths)
            for (_, monthly), path in zip(group, paths, strict=True):
                if monthly.member is not None:
                    path.unlink()
    return rows


def _groups(parts: Sequence[tuple[int, MonthlyFile]]) -> Iterator[list[tuple[int, MonthlyFile]]]:
    """The parts in runs of one source file, kind and month (the order kept)."""
    run: list[tuple[int, MonthlyFile]] = []
    for part in parts:
        if run and _group_key(run[0][1]) != _group_key(part[1]):
            yield run
            run = []
        run.append(part)
    if run:
        yield run


def _group_key(monthly: MonthlyFile) -> tuple[Path, str, dt.date]:
    return monthly.path, monthly.kind, monthly.month


def _unpacked(group: list[tuple[int, MonthlyFile]], scratch: Path) -> list[Path]:
    """Paths DuckDB can read: a loose file itself, an archive's members copied to ``scratch``."""
    members = [(part_id, monthly) for part_id, monthly in group if monthly.member is not None]
    if not members:
        return [monthly.path for _, monthly in group]
    paths = []
    with zipfile.ZipFile(group[0][1].path) as archive:
        for part_id, monthly in members:
            copy = scratch / f"{part_id}.csv"
            try:
                with archive.open(str(monthly.member)) as stream, copy.open("wb") as written:
                    shutil.copyfileobj(stream, written, 1 << 20)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise SourceError(f"cannot be unpacked ({exc})", file=monthly.name) from exc
            paths.append(copy)
    return paths


def _load_group(
    con: duckdb.DuckDBPyConnection, group: list[tuple[int, MonthlyFile]], paths: list[Path]
) -> dict[int, int]:
    """One INSERT … SELECT of the group's files, each row joined to its part by file name, months checked."""
    kind = group[0][1].kind
    layout = LAYOUTS[kind]
    for (_, monthly), path in zip(group, paths, strict=True):
        _check_header(path, monthly, layout)
    selected = [f'r."{header}"' for header, _, _ in layout]
    if kind == "stop-and-search":
        selected.insert(0, "p.month")
    else:  # every row of a street or outcomes file is of the file name's month
        selected[1] = f"""CASE WHEN r."Month" IS NOT DISTINCT FROM p.month THEN r."Month"
            ELSE error('{_OTHER_MONTH}' || p.part_id) END"""
    con.register(
        "police_uk_parts",
        pa.table(
            {
                "path": [str(path) for path in paths],
                "part_id": pa.array([part_id for part_id, _ in group], pa.int32()),
                "force_code": [monthly.force_code for _, monthly in group],
                "month": [monthly.month for _, monthly in group],
            }
        ),
    )
    query = (
        f"INSERT INTO {TABLES[kind]} SELECT p.part_id, p.force_code, {', '.join(selected)} FROM read_csv(?,"
        " header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', columns = ?, filename = true,"
        " dateformat = '%Y-%m', timestampformat = '%Y-%m-%dT%H:%M:%S%z', store_rejects = true,"
        " rejects_scan = 'police_uk_scans', rejects_table = 'police_uk_rejects') r"
        " JOIN police_uk_parts p ON r.filename = p.path"
    )
    try:
        con.execute(query, [[str(path) for path in paths], {header: kind_type for header, _, kind_type in layout}])
    except duckdb.Error as exc:
        if _OTHER_MONTH not in str(exc):
            raise
        _raise_other_month(group, paths)
        raise  # not reached: one of the files has a row of another month
    finally:
        with contextlib.suppress(duckdb.Error):  # after an error DuckDB refuses it until the roll-back
            con.unregister("police_uk_parts")
    _raise_rejected(con, group, paths, layout)
    ids = [part_id for part_id, _ in group]
    counted = con.execute(
        f"SELECT part_id, count(*) FROM {TABLES[kind]} WHERE part_id BETWEEN ? AND ? GROUP BY part_id",
        [min(ids), max(ids)],
    ).fetchall()
    return {part_id: 0 for part_id in ids} | {int(part_id): int(rows) for part_id, rows in counted}


def _check_header(path: Path, monthly: MonthlyFile, layout: tuple[tuple[str, str, str], ...]) -> None:
    found = [" ".join(cell.split()) for cell in _header(path)]
    expected = [header for header, _, _ in layout]
    for column in expected:
        if column not in found:
            raise SourceError(
                f"missing column {column!r} of the {monthly.kind} layout (found: {', '.join(found)})",
                file=monthly.name,
                row=1,
            )
    if found != expected:
        raise SourceError(
            f"the columns are not in data.police.uk's order for the {monthly.kind} layout ({', '.join(expected)})",
            file=monthly.name,
            row=1,
        )


def _raise_rejected(
    con: duckdb.DuckDBPyConnection,
    group: list[tuple[int, MonthlyFile]],
    paths: list[Path],
    layout: tuple[tuple[str, str, str], ...],
) -> None:
    """The first row DuckDB's reader rejected (of the first file with one), as the file's error."""
    first = con.execute(
        "SELECT s.file_path, r.line, r.column_idx, r.column_name, r.error_type, r.error_message"
        " FROM police_uk_rejects r JOIN police_uk_scans s USING (scan_id, file_id)"
        " ORDER BY list_position(?, s.file_path), r.line LIMIT 1",
        [[str(path) for path in paths]],
    ).fetchall()
    if not first:
        return
    path, line, index, name, error, message = first[0]
    monthly = next(monthly for (_, monthly), copy in zip(group, paths, strict=True) if str(copy) == path)
    types = {header: kind_type for header, _, kind_type in layout}
    if error in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        problem = "has more cells than the header (a comma out of place shifts the row)"
        if error == "MISSING COLUMNS":
            problem = "has fewer cells than the header; is the file truncated?"
        raise SourceError(f"{problem} ({len(layout)} columns)", file=monthly.name, row=int(line))
    if error == "CAST" and name in types:
        value = re.search(r'Could not convert string "(.*?)"', message or "")
        shown = repr(value.group(1)) if value else "the value"
        expected = "a date and time like 2024-01-31T18:30:00+00:00" if types[name] == "TIMESTAMPTZ" else None
        raise SourceError(
            f"{shown} is not {expected or _DUCKDB_TYPES.get(types[name], types[name])}",
            file=monthly.name,
            row=int(line),
            column=f"{column_letter(int(index) - 1)} ({name})",
        )
    detail = " ".join(str(message).split())[:200]
    raise SourceError(f"is not a readable CSV record ({detail})", file=monthly.name, row=int(line))


def _raise_other_month(group: list[tuple[int, MonthlyFile]], paths: list[Path]) -> None:
    """The first row of a street or outcomes file of another month than the file name's, found again with the
    csv module (only when the INSERT found one)."""
    for (_, monthly), path in zip(group, paths, strict=True):
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            for line, row in enumerate(csv.reader(handle), start=1):
                if line > 1 and (len(row) < 2 or row[1] != f"{monthly.month:%Y-%m}"):
                    shown = repr(row[1]) if len(row) > 1 else "no month"
                    raise SourceError(
                        f"{shown} in a file for {monthly.month:%Y-%m} (the file name's month)",
                        file=monthly.name,
                        row=line,
                        column="B (Month)",
                    )
