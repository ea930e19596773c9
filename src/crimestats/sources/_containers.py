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

import numpy as np

CHUNK = 1 << 20

# A reference attribute: a cell's (``r="AB12"``: letters and digits) or a row's (``r="12"``: digits only). In a
# worksheet only cells and rows have one; searching for the attribute alone is many times faster than for tags.
_REFERENCE = re.compile(rb'\sr="([A-Z]*)([0-9]*)"')
# A start tag with a namespace prefix (``<x:c ...>``), counted only when the sheet uses one.
_PREFIXED = {tag: re.compile(rb"<[\w.-]+:" + tag + rb"[\s/>]") for tag in (b"c", b"row")}
#: A row number longer than this many digits is past every limit: counted as this large.
_LONGEST_NUMBER = 10**12
#: A column of more letters than this is past every limit (26**12 is below numpy's largest integer).
_MOST_LETTERS = 12
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
    #: Why the sheet cannot be read as its cells are placed: a cell reference out of its place (.xlsx).
    misplaced: str | None = None


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
    """The last row and column an .xlsx worksheet's cells reach, from their references, each reference checked
    to be where the cell is.

    A cell without a reference takes the next column of its row: counted as reaching one column further
    than the largest reference, for each such cell (an upper bound, as no writer we know omits them).

    The parser puts a cell where its reference says, whatever row element holds it, so a moved reference puts
    the number into another force's or offence's cell (or over one). A cell is refused unless it is in the
    row its row element names and to the right of the cell before it; rows go down the sheet.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = self.columns = 0
        self.cells = self.referenced = self.row_tags = 0
        self._rows_numbered = True  # every row element has a reference (Excel's and every writer's we know)
        self._place = _Place()
        self.misplaced: str | None = None  # what is wrong with the first reference out of place

    def feed(self, xml: bytes) -> None:
        references = _REFERENCE.findall(xml)
        row_tags = _tags(xml, b"row")
        if references:
            letters = np.array([cell for cell, _ in references])
            digits = np.array([number for _, number in references])
            is_row = letters == b""
            self.referenced += len(references) - int(is_row.sum())
            self._rows_numbered &= int(is_row.sum()) >= row_tags
            if letters.itemsize > _MOST_LETTERS or digits.itemsize >= len(str(_LONGEST_NUMBER)):
                self._far(references)  # past every limit, and refused by its bounds: no need to check places
            else:
                numbers, columns = np.where(digits == b"", b"0", digits).astype(np.int64), _column_numbers(letters)
                self.rows, self.columns = max(self.rows, int(numbers.max())), max(self.columns, int(columns.max()))
                self._check_places(references, digits, numbers, columns)
        self.cells += _tags(xml, b"c")
        self.row_tags += row_tags

    def _check_places(
        self, references: list[tuple[bytes, bytes]], digits: np.ndarray, numbers: np.ndarray, columns: np.ndarray
    ) -> None:
        """Note the first reference out of its place (the sheet's bounds are still worked out, so that a sheet
        past the limits is refused as such)."""
        if self.misplaced is None:
            try:
                self._place = self._place.check(self.name, references, digits, numbers, columns, self._rows_numbered)
            except ContainerProblem as exc:
                self.misplaced = str(exc)

    def _far(self, references: list[tuple[bytes, bytes]]) -> None:
        """The bounds of references too long to convert to numbers: a column of more letters than numpy's
        integers hold, or a row of more digits than :data:`_LONGEST_NUMBER` (counted as that)."""
        self.columns = max(self.columns, *map(column_number, {cell for cell, _ in references}))
        self.rows = max(self.rows, *(_row_number(number) for number in {n for _, n in references} if number))

    def bounds(self) -> Iterator[SheetBounds]:
        columns = self.columns + (self.cells - self.referenced)
        yield SheetBounds(self.name, max(self.rows, self.row_tags), columns, self.misplaced)


@dataclass(frozen=True)
class _Place:
    """Where a worksheet scan has got to: the row element it is in and the last cell's row and column."""

    row: int = 0
    cell_row: int = 0
    cell_column: int = 0

    def check(
        self,
        sheet: str,
        references: list[tuple[bytes, bytes]],
        digits: np.ndarray,
        numbers: np.ndarray,
        columns: np.ndarray,
        rows_numbered: bool,
    ) -> _Place:
        """The place after these references (in document order; a row element's has column 0), given their row
        digits and column numbers, or a :class:`ContainerProblem` for the first one out of place: a row element not
        below the one before, a cell not to the right of (or below) the cell before or not in its row
        element's row, a row number missing or starting with 0. A column at a time (numpy): a worksheet
        holds tens of thousands of references."""
        first_digit = digits.astype("S1")
        if ((first_digit == b"") | (first_digit == b"0")).any():
            index = int(np.argmax((first_digit == b"") | (first_digit == b"0")))
            raise _misplaced(sheet, references[index], "has no row number, or one starting with 0")
        is_row = columns == 0
        rows = np.concatenate([[self.row], numbers[is_row]])
        if (np.diff(rows) <= 0).any():
            at = int(np.argmax(np.diff(rows) <= 0))
            raise _misplaced(sheet, references[int(np.flatnonzero(is_row)[at])], f"comes after row {rows[at]}")
        cells = ~is_row
        cell_rows = np.concatenate([[self.cell_row], numbers[cells]])
        cell_columns = np.concatenate([[self.cell_column], columns[cells]])
        down, right = np.diff(cell_rows), np.diff(cell_columns)
        wrong = (down < 0) | ((down == 0) & (right <= 0))
        if rows_numbered:
            wrong |= numbers[cells] != rows[np.cumsum(is_row)[cells]]  # each cell in its row element's row
        if wrong.any():
            first = int(np.argmax(wrong))
            index = int(np.flatnonzero(cells)[first])
            row = int(rows[np.cumsum(is_row)[index]])
            after = b"".join(references[int(np.flatnonzero(cells)[first - 1])]).decode() if first else "the last"
            raise _misplaced(sheet, references[index], f"is out of place in row {row}, after cell {after}")
        return _Place(int(rows[-1]), int(cell_rows[-1]), int(cell_columns[-1]))


def _misplaced(sheet: str, reference: tuple[bytes, bytes], what: str) -> ContainerProblem:
    shown = (reference[0] + reference[1]).decode()
    kind = "cell" if reference[0] else "row"
    return ContainerProblem(f"{sheet}: {kind} reference {shown!r} {what}: a cell or row moved or repeated")


def _column_numbers(letters: np.ndarray) -> np.ndarray:
    """Column letters (a fixed-width bytes array) → column numbers: b'A' → 1, b'AB' → 28."""
    if not len(letters):
        return np.zeros(0, dtype=np.int64)
    codes = letters.view(np.uint8).reshape(len(letters), -1).astype(np.int64)
    numbers = np.zeros(len(letters), dtype=np.int64)
    for position in range(codes.shape[1]):
        code = codes[:, position]
        numbers = np.where(code > 0, numbers * 26 + code - 64, numbers)
    return numbers


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
