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
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

CHUNK = 1 << 20

# A cell's start tag with its reference (``<c r="AB12" s="3">``), any cell's start tag, and an .xlsx row's.
_CELL_REF = re.compile(rb'<(?:[\w.-]+:)?c\s[^>]*?\br="([A-Z]*)([0-9]*)"')
_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_ROW_REF = re.compile(rb'<(?:[\w.-]+:)?row\s[^>]*?\br="([0-9]+)"')
_ROW = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")
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
        self.letters: set[bytes] = set()
        self.numbers: set[bytes] = set()
        self.cells = self.referenced = self.row_tags = 0

    def feed(self, xml: bytes) -> None:
        refs = _CELL_REF.findall(xml)
        self.letters.update(letters for letters, _ in refs)
        self.numbers.update(number for _, number in refs)
        self.numbers.update(_ROW_REF.findall(xml))
        self.referenced += len(refs)
        self.cells += len(_CELL.findall(xml))
        self.row_tags += len(_ROW.findall(xml))

    def bounds(self) -> Iterator[SheetBounds]:
        columns = max(map(column_number, self.letters), default=0) + (self.cells - self.referenced)
        rows = max((int(n) for n in self.numbers if n), default=0)
        yield SheetBounds(self.name, max(rows, self.row_tags), columns)


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
    """Every sheet's bounds in a zip workbook, after checking its member count and inflated size.

    Raises :class:`ContainerProblem` for a file that is not a zip, has too many members or inflates past
    ``max_bytes`` (declared or real).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > max_members:
                raise ContainerProblem(f"the zip holds {len(members):,} files, more than the limit of {max_members:,}")
            declared = sum(member.file_size for member in members)
            if declared > max_bytes:
                raise ContainerProblem(f"unzips to {declared:,} bytes, more than the limit of {max_bytes:,}")
            sheets = _worksheet_names(archive, suffix)
            scanned: list[SheetBounds] = []
            for member in members:
                scanner = _scanner(member.filename, suffix, sheets)
                _inflate(archive, member, scanner)
                if scanner is not None:
                    scanned.extend(scanner.bounds())
            return scanned
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, ValueError, OSError) as exc:
        raise ContainerProblem(f"cannot open as a spreadsheet: a damaged zip container ({exc})") from exc


def _worksheet_names(archive: zipfile.ZipFile, suffix: str) -> dict[str, str]:
    """The members an .xlsx workbook's relationships name as worksheets (calamine reads those), each with the
    sheet's name as the workbook shows it."""
    if suffix == ".ods":
        return {}
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


def _scanner(name: str, suffix: str, sheets: dict[str, str]) -> _Scanner | None:
    if suffix == ".ods":
        return OdsScanner() if name == "content.xml" else None
    if name in sheets or (name.startswith("xl/worksheets/") and name.endswith(".xml")):
        return XlsxSheetScanner(f"sheet '{sheets.get(name, PurePosixPath(name).stem)}'")
    return None


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
