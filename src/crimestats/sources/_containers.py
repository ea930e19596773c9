"""A workbook's zip container checked before a spreadsheet parser is handed it.

python-calamine allocates a sheet's whole rectangle of cells at once, from the largest cell reference in an
.xlsx sheet or the repeat counts of an .ods table, and a Rust allocation that fails aborts the process (no
exception to catch). So each sheet's size is worked out here from the XML itself, streamed a chunk at a time,
and a sheet past the limits is refused before calamine sees the file. The same pass counts what the zip
really inflates to: a member that inflates beyond its declared size fails its CRC check.
"""

from __future__ import annotations

import html
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

CHUNK = 1 << 20

# A reference attribute: a cell's (``r="AB12"``: letters and digits) or a row's (``r="12"``: digits only). In a
# worksheet only cells and rows have one; searching for the attribute alone is many times faster than for tags.
_REFERENCE = re.compile(rb'\sr="([A-Z]*)([0-9]*)"')
# A start tag with a namespace prefix (``<x:c ...>``), counted only when the sheet uses one.
_PREFIXED = {tag: re.compile(rb"<[\w.-]+:" + tag + rb"[\s/>]") for tag in (b"c", b"row")}
#: A row number longer than this many digits is past every limit: counted as this large.
_LONGEST_NUMBER = 10**12
# An .ods table, row or cell tag: (closing slash, kind, attributes, self-closing slash).
_ODS_TAG = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="([0-9]+)"')
_ODS_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="([0-9]+)"')
_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_SHEET = re.compile(rb'<(?:[\w.-]+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')


@dataclass(frozen=True)
class SheetBounds:
    """How far a sheet reaches: its last row and column (1-based) as the parser would lay them out."""

    name: str
    rows: int
    columns: int


class ContainerProblem(Exception):
    """What is wrong with a container, for the caller to raise as the file's :class:`SourceError`."""


class _Scanner(Protocol):
    def feed(self, xml: bytes) -> None: ...
    def bounds(self) -> Iterator[SheetBounds]: ...


def column_number(letters: bytes) -> int:
    """b'A' → 1, b'AB' → 28."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


class XlsxSheetScanner:
    """The last row and column an .xlsx worksheet's cells reach, from their references.

    A cell without a reference takes the next column of its row: counted as reaching one column further
    than the largest reference, for each such cell (an upper bound, as no writer we know omits them).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = self.columns = 0
        self.cells = self.referenced = self.row_tags = 0

    def feed(self, xml: bytes) -> None:
        references = _REFERENCE.findall(xml)
        if references:
            letters = {cell for cell, _ in references if cell}
            self.referenced += sum(1 for cell, _ in references if cell)
            self.columns = max(self.columns, *map(column_number, letters))
            self.rows = max(self.rows, *(_row_number(number) for number in {n for _, n in references} if number))
        self.cells += _tags(xml, b"c")
        self.row_tags += _tags(xml, b"row")

    def bounds(self) -> Iterator[SheetBounds]:
        columns = self.columns + (self.cells - self.referenced)
        yield SheetBounds(self.name, max(self.rows, self.row_tags), columns)


def _row_number(digits: bytes) -> int:
    return int(digits) if len(digits) <= 12 else _LONGEST_NUMBER


def _tags(xml: bytes, tag: bytes) -> int:
    """How many ``<tag …>`` start tags (or empty tags) the XML holds, with or without a namespace prefix."""
    found = sum(xml.count(b"<" + tag + end) for end in (b" ", b">", b"/", b"\t", b"\n", b"\r"))
    return found + (len(_PREFIXED[tag].findall(xml)) if b":" + tag in xml else 0)


class OdsScanner:
    """The last filled row and column of every table in an .ods ``content.xml``, repeat counts honoured.

    Repeated rows and cells count in full up to the last one holding a value (LibreOffice ends a table with
    a row repeated a million times over empty cells, which the parser does not lay out).
    """

    def __init__(self) -> None:
        self.tables: list[SheetBounds] = []
        self.number = 0
        self._start_table()

    def _start_table(self) -> None:
        self.rows = self.filled_rows = self.width = 0
        self.row_repeat = self.column = self.filled_column = 0

    def feed(self, xml: bytes) -> None:
        for closing, kind, attributes, empty in _ODS_TAG.findall(xml):
            if kind == b"table":
                self._table(bool(closing))
            elif kind == b"table-row":
                self._row(bool(closing), attributes, bool(empty))
            elif not closing:
                self._cell(attributes, filled=not empty or b"office:value-type" in attributes)

    def _table(self, closing: bool) -> None:
        if closing:
            self.number += 1
            self.tables.append(SheetBounds(f"table {self.number}", self.filled_rows, self.width))
        self._start_table()

    def _row(self, closing: bool, attributes: bytes, empty: bool) -> None:
        if not closing:
            found = _ODS_ROWS_REPEATED.search(attributes)
            self.row_repeat, self.column, self.filled_column = int(found.group(1)) if found else 1, 0, 0
        if closing or empty:
            self.rows += self.row_repeat
            if self.filled_column:
                self.filled_rows = self.rows
                self.width = max(self.width, self.filled_column)

    def _cell(self, attributes: bytes, filled: bool) -> None:
        found = _ODS_COLUMNS_REPEATED.search(attributes)
        self.column += int(found.group(1)) if found else 1
        if filled:
            self.filled_column = self.column

    def bounds(self) -> Iterator[SheetBounds]:
        yield from self.tables


def check_zip(path: str, suffix: str, *, max_members: int, max_bytes: int) -> list[SheetBounds]:
    """Check a zip workbook's member count and inflated size; return an .ods's tables' bounds (an .xlsx sheet
    is bounded by :func:`sheet_bounds` when it is about to be read, as calamine parses sheets one at a time).

    Raises :class:`ContainerProblem` for a file that is not a zip, has too many members or inflates past
    ``max_bytes`` (declared or real).
    """
    with _opened(path) as archive:
        members = archive.infolist()
        if len(members) > max_members:
            raise ContainerProblem(f"the zip holds {len(members):,} files, more than the limit of {max_members:,}")
        declared = sum(member.file_size for member in members)
        if declared > max_bytes:
            raise ContainerProblem(f"unzips to {declared:,} bytes, more than the limit of {max_bytes:,}")
        scanned: list[SheetBounds] = []
        for member in members:
            scanner = OdsScanner() if suffix == ".ods" and member.filename == "content.xml" else None
            _inflate(archive, member, scanner)
            if scanner is not None:
                scanned.extend(scanner.bounds())
        return scanned


def sheet_bounds(path: str, sheet: str) -> SheetBounds | None:
    """How far the .xlsx worksheet shown as ``sheet`` reaches (None if the workbook has no such worksheet)."""
    with _opened(path) as archive:
        for member, name in _worksheet_names(archive).items():
            if name == sheet:
                scanner = XlsxSheetScanner(f"sheet '{name}'")
                _inflate(archive, archive.getinfo(member), scanner)
                return next(scanner.bounds())
    return None


@contextmanager
def _opened(path: str) -> Iterator[zipfile.ZipFile]:
    """The zip, any failure to read it a :class:`ContainerProblem`."""
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, ValueError, OSError, KeyError) as exc:
        raise ContainerProblem(f"cannot open as a spreadsheet: a damaged zip container ({exc})") from exc


def _worksheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """The members an .xlsx workbook's relationships name as worksheets (calamine reads those), each with the
    sheet's name as the workbook shows it."""
    relationships, workbook = (
        _small_member(archive, name) for name in ("xl/_rels/workbook.xml.rels", "xl/workbook.xml")
    )
    shown = {rid: _unescape(name) for name, rid in _SHEET.findall(workbook)}
    names = {}
    for attributes in _RELATIONSHIP.findall(relationships):
        kind, target, rid = (_attribute(attributes, key) for key in (b"Type", b"Target", b"Id"))
        if kind.endswith(b"/worksheet"):
            text = target.decode("utf-8", errors="replace")
            member = text.lstrip("/") if text.startswith("/") else str(PurePosixPath("xl") / text)
            names[member] = shown.get(rid, PurePosixPath(member).stem)
    return names


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A workbook's index member (at most 16 MB read), or nothing if it has none."""
    try:
        with archive.open(name) as stream:
            return stream.read(16 * CHUNK)
    except KeyError:
        return b""


def _attribute(attributes: bytes, name: bytes) -> bytes:
    found = re.search(rb"\b" + name + rb'="([^"]*)"', attributes)
    return found.group(1) if found else b""


def _unescape(name: bytes) -> str:
    return html.unescape(name.decode("utf-8", errors="replace"))


def _inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, scanner: _Scanner | None) -> None:
    """Inflate one member a chunk at a time (checking its CRC), handing its XML to the scanner in whole tags."""
    rest = b""
    with archive.open(member) as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            if scanner is None:
                continue
            data = rest + chunk
            cut = data.rfind(b">") + 1
            if cut == 0 and len(data) < 4 * CHUNK:
                rest = data
                continue
            cut = cut or len(data)
            scanner.feed(data[:cut])
            rest = data[cut:]
    if scanner is not None and rest:
        scanner.feed(rest)
