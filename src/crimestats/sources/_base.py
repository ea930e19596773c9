"""What every reader shares: the batch it returns, cell parsing, area resolution and file probing."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from python_calamine import CalamineWorkbook

from crimestats import reference
from crimestats._json import json_depth
from crimestats.errors import CrimestatsError, SourceError
from crimestats.sources import _columns, _containers, _legacy
from crimestats.sources._columns import LARGEST_NUMBER

FIGURES_SCHEMA = pa.schema(
    [
        ("sheet", pa.string()),
        ("source_row", pa.int32()),
        ("source_column", pa.string()),
        ("table_id", pa.string()),
        ("area_code", pa.string()),
        ("offence", pa.string()),
        ("offence_code", pa.string()),
        ("period_end", pa.date32()),
        ("months", pa.int8()),
        ("measure", pa.string()),
        ("value", pa.float64()),
        ("symbol", pa.string()),
        ("reason", pa.string()),
    ]
)
POPULATIONS_SCHEMA = pa.schema(
    [
        ("sheet", pa.string()),
        ("source_row", pa.int32()),
        ("source_column", pa.string()),
        ("area_code", pa.string()),
        ("year", pa.int16()),
        ("denominator", pa.string()),
        ("value", pa.float64()),
        ("symbol", pa.string()),
        ("reason", pa.string()),
    ]
)
LOOKUP_SCHEMA = pa.schema(
    [
        ("source_row", pa.int32()),
        ("lad_code", pa.string()),
        ("lad_name", pa.string()),
        ("csp_code", pa.string()),
        ("csp_name", pa.string()),
        ("pfa_code", pa.string()),
    ]
)

BOUNDARIES_SCHEMA = pa.schema(
    [
        ("feature", pa.int32()),
        ("area_code", pa.string()),
        ("area_name", pa.string()),
        ("geometry", pa.string()),  # the GeoJSON geometry object, as JSON text
    ]
)

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")
JSON_SUFFIXES = (".geojson", ".json")


@dataclass(frozen=True)
class Limits:
    """How much one file may hold. Each is checked before a parser is handed the file, so that no file can make
    a parser allocate without bound; a file past one is a :class:`SourceError` saying which limit and how to
    raise it. Each is overridden by an environment variable, ``CRIMESTATS_MAX_`` and the name in capitals
    (``CRIMESTATS_MAX_CELLS=50000000``).

    The defaults are far above any official file: the largest, the Home Office open data .ods, is about
    25 MB with 40,000 rows a sheet.
    """

    #: Bytes in any file read.
    file_bytes: int = 1 << 30
    #: Bytes a workbook's zip container (.xlsx, .ods) inflates to, all members together.
    unzipped_bytes: int = 1 << 30
    #: Files inside a workbook's zip container or a data.police.uk archive.
    zip_members: int = 10_000
    #: Bytes of a data.police.uk archive (.zip), and what its monthly files inflate to, all together: the
    #: archive of 36 months of every force is about 1.6 GB and inflates to about 10 GB. Each monthly file is
    #: held to ``file_bytes``.
    archive_bytes: int = 64 << 30
    #: Rows of one sheet, counting an .ods row repeat as its copies (Excel's own limit).
    rows: int = 1_048_576
    #: Columns of one sheet, counting an .ods cell repeat as its copies (Excel's own limit).
    columns: int = 16_384
    #: Rows x columns of one sheet: the parser lays the whole rectangle out in memory at once.
    cells: int = 10_000_000
    #: Nesting of arrays and objects in a JSON file (GeoJSON polygons need 4 or 5).
    json_depth: int = 64
    #: Memory (address space) of the child process that parses a legacy .xls workbook, whose cells cannot be
    #: bounded before parsing (:mod:`crimestats.sources._legacy`).
    parser_bytes: int = 2 << 30

    @classmethod
    def from_environment(cls) -> Limits:
        """The defaults, with any ``CRIMESTATS_MAX_<NAME>`` set in the environment."""
        return cls(**{name: _limit_from_environment(name, value) for name, value in cls().__dict__.items()})


#: A text field of a CSV: the csv module refuses a longer one (a file holding one is damaged).
FIELD_CHARS = csv.field_size_limit()


def _limit_from_environment(name: str, default: int) -> int:
    variable = f"CRIMESTATS_MAX_{name.upper()}"
    text = os.environ.get(variable)
    if text is None:
        return default
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise CrimestatsError(f"{variable} must be a positive whole number, not {text!r}")
    return value


def check_file(path: Path) -> None:
    """Refuse a file past the :class:`Limits` before any parser reads it: its size, and for a zip workbook its
    member count, inflated size and the rows, columns and cells of each sheet."""
    limits = Limits.from_environment()
    size = path.stat().st_size
    limit, name = (
        (limits.archive_bytes, "archive_bytes") if path.suffix.lower() == ".zip" else (limits.file_bytes, "file_bytes")
    )
    if size > limit:
        raise _limit_error(path, f"is {size:,} bytes, more than the limit of {limit:,}", name)
    if path.suffix.lower() not in ZIP_SUFFIXES:
        return
    try:
        sheets = _containers.check_zip(
            str(path), path.suffix.lower(), max_members=limits.zip_members, max_bytes=limits.unzipped_bytes
        )
    except _containers.ContainerProblem as exc:
        raise SourceError(str(exc), file=path.name) from exc
    for sheet in sheets:
        _check_sheet(path, sheet, limits)


def check_sheet(path: Path, name: str) -> None:
    """Refuse an .xlsx sheet reaching past the :class:`Limits` before calamine parses it."""
    try:
        bounds = _containers.sheet_bounds(str(path), name)
    except _containers.ContainerProblem as exc:
        raise SourceError(str(exc), file=path.name) from exc
    if bounds is not None:
        _check_sheet(path, bounds, Limits.from_environment())


def _check_sheet(path: Path, sheet: _containers.SheetBounds, limits: Limits) -> None:
    where = f"{sheet.name} reaches row {sheet.rows:,} and column {column_letter(max(sheet.columns - 1, 0))}"
    if sheet.rows > limits.rows:
        raise _limit_error(path, f"{where}: more than the limit of {limits.rows:,} rows", "rows")
    if sheet.columns > limits.columns:
        raise _limit_error(path, f"{where}: more than the limit of {limits.columns:,} columns", "columns")
    if sheet.rows * sheet.columns > limits.cells:
        cells = sheet.rows * sheet.columns
        raise _limit_error(path, f"{where}: {cells:,} cells, more than the limit of {limits.cells:,}", "cells")
    if sheet.misplaced:
        raise SourceError(sheet.misplaced, file=path.name)


def _limit_error(path: Path, message: str, limit: str) -> SourceError:
    return SourceError(f"{message} (CRIMESTATS_MAX_{limit.upper()} raises it)", file=path.name)


def load_json(path: Path, what: str = "JSON") -> Any:
    """A JSON file parsed, within :attr:`Limits.json_depth`; NaN, Infinity and numbers too large for a float
    are refused, as JSON itself has no such numbers."""
    data = path.read_bytes()
    depth, limit = json_depth(data), Limits.from_environment().json_depth
    if depth > limit:
        raise _limit_error(path, f"nests {depth:,} deep, more than the limit of {limit}", "json_depth")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_not_a_number, parse_float=_finite_float)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"is not valid {what} ({exc})", file=path.name) from exc


def _not_a_number(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large for a number")
    return value


def parser_failure(exc: BaseException) -> bool:
    """Whether an exception is a parser's failure on a bad file: any Exception, or a Rust panic inside
    python-calamine (pyo3's PanicException is a BaseException, so ``except Exception`` misses it)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


@dataclass(frozen=True)
class Batch:
    """Everything a reader understood in one file, ready to be stored in one transaction."""

    source: str
    vintage: str
    revision: int = 0
    figures: pa.Table = field(default_factory=FIGURES_SCHEMA.empty_table)
    populations: pa.Table = field(default_factory=POPULATIONS_SCHEMA.empty_table)
    lookup: pa.Table = field(default_factory=LOOKUP_SCHEMA.empty_table)
    boundaries: pa.Table = field(default_factory=BOUNDARIES_SCHEMA.empty_table)
    warnings: tuple[str, ...] = ()
    #: data.police.uk monthly files (:class:`crimestats.sources.police_uk.MonthlyFile`), which the store loads
    #: with DuckDB's CSV reader inside the file's transaction: millions of rows are never held here.
    police_uk: tuple[Any, ...] = ()


class Probe:
    """A cheap first look at a file, for recognising its family by content.

    A workbook is opened once and its sheets are parsed only when a recogniser or the reader asks for one
    (:attr:`workbook` keeps them), so recognising a file and then reading it parses each sheet at most once.
    """

    def __init__(self, path: Path, rows: tuple[tuple[str, ...], ...] = (), workbook: Workbook | None = None) -> None:
        self.path = path
        self.workbook = workbook
        self.sheets: tuple[str, ...] = workbook.names if workbook else ()  # workbook sheet names; () for a CSV
        self._rows = rows

    @functools.cached_property
    def rows(self) -> tuple[tuple[str, ...], ...]:
        """The first rows of the CSV, or of every sheet one after another."""
        return tuple(self._head_rows())

    def _head_rows(self) -> Iterator[tuple[str, ...]]:
        if self.workbook is None:
            yield from self._rows
            return
        for key in self.workbook:
            yield from (tuple(str(c) for c in row) for row in self.workbook[key].rows[:12])

    @property
    def text(self) -> str:
        """The first rows as one lower-case string, whitespace collapsed."""
        return _probe_text(self.rows)

    def mentions(self, phrase: str) -> bool:
        """Whether :attr:`text` holds ``phrase``, parsing only as many sheets as it takes to find it."""
        if self.workbook is None:
            return phrase in self.text
        rows: list[tuple[str, ...]] = []
        for key in self.workbook:
            rows.extend(tuple(str(c) for c in row) for row in self.workbook[key].rows[:12])
            if phrase in _probe_text(rows):
                return True
        return False

    def has_header(self, *names: str, at_least: int | None = None) -> bool:
        """Whether one of the first rows holds these column names (case-insensitive): all, or ``at_least`` of them.

        Readers recognise a family by most of its signature, so that a file with one renamed column gets the
        reader's precise "missing column" error rather than "not a file crimestats recognises".
        """
        wanted = {n.lower() for n in names}
        needed = len(wanted) if at_least is None else at_least
        return any(len(wanted & {" ".join(c.split()).lower() for c in row}) >= needed for row in self._head_rows())

    @classmethod
    def of(cls, path: Path) -> Probe:
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            return cls(path, workbook=Workbook(path))  # checks the file against the limits
        check_file(path)
        if path.suffix.lower() in JSON_SUFFIXES:
            with path.open("rb") as handle:
                start = handle.read(4096).decode("utf-8", errors="replace")
            return cls(path, ((start,),))
        if path.suffix.lower() not in (".csv", ".txt"):
            return cls(path)
        with path.open("rb") as handle:
            text = handle.read(64 * 1024).decode("utf-8-sig", errors="replace")
        rows = []
        try:
            for row in csv.reader(io.StringIO(text)):
                rows.append(tuple(row))
                if len(rows) == 30:
                    break
        except csv.Error:
            pass  # a cut-off quoted cell at the end of the sample
        return cls(path, tuple(rows))


def _probe_text(rows: Iterable[tuple[str, ...]]) -> str:
    return " ".join(" ".join(cell.split()) for row in rows for cell in row).lower()


def path_of(file: Path | Probe) -> Path:
    """A reader's argument as the path of the file."""
    return file.path if isinstance(file, Probe) else file


def probe_of(file: Path | Probe) -> Probe:
    """A reader's argument as a probe: the one recognition made, or a new one for a path."""
    return file if isinstance(file, Probe) else Probe.of(file)


@functools.cache
def column_letter(index: int) -> str:
    """0 → 'A', 27 → 'AB'."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class Sheet:
    """One sheet (or CSV) as rows of cells, with its name for error messages.

    A reader takes cells one at a time (:meth:`text`, :func:`parse_number`) or whole columns as Arrow arrays
    (:meth:`column`, :meth:`texts`), which give every cell of the column as :meth:`text` gives it.
    """

    def __init__(self, file: str, name: str | None, rows: Sequence[Sequence[Any]]) -> None:
        self.file, self.name, self.rows = file, name, rows
        self._columns: dict[tuple[str, int], pa.Array] = {}
        self._transposed: list[tuple[Any, ...]] | None = None

    def column(self, column: int) -> pa.Array:
        """Every cell of a column as text before whitespace is collapsed (``80.0`` → ``'80'``; ``''`` past a
        short row's end), as an Arrow string array with one item per row."""
        key = ("raw", column)
        if key not in self._columns:
            self._columns[key] = self._column(column)
        return self._columns[key]

    def _column(self, column: int) -> pa.Array:
        if self._transposed is None:
            self._transposed = list(itertools.zip_longest(*self.rows, fillvalue=""))
        if column >= len(self._transposed):
            return pa.array([""] * len(self.rows), pa.string())
        return _columns.text_array(self._transposed[column])

    def texts(self, column: int) -> pa.Array:
        """Every cell of a column as :meth:`text` gives it, as an Arrow string array."""
        key = ("text", column)
        if key not in self._columns:
            self._columns[key] = _columns.collapse(self.column(column))
        return self._columns[key]

    def widths(self) -> np.ndarray:
        """The number of cells in each row."""
        return np.fromiter(map(len, self.rows), dtype=np.int64, count=len(self.rows))

    def error(self, message: str, row: int | None = None, column: int | None = None) -> SourceError:
        """A :class:`SourceError` at a 0-based row and column of this sheet (printed 1-based, as Excel does)."""
        return SourceError(
            message,
            file=self.file,
            sheet=self.name,
            row=None if row is None else row + 1,
            column=None if column is None else column_letter(column),
        )

    def cell(self, row: int, column: int) -> Any:
        cells = self.rows[row]
        return cells[column] if column < len(cells) else ""

    def text(self, row: int, column: int) -> str:
        """A cell as text, whitespace collapsed; a whole number stored as a number reads as ``'80'``, not ``'80.0'``."""
        value = self.cell(row, column)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return " ".join(str(value).split())

    def headings(self, row: int) -> list[str]:
        """The cells of a header row as text, whitespace collapsed."""
        return [self.text(row, column) for column in range(len(self.rows[row]))]

    def require_width(self, row: int, width: int) -> None:
        """A CSV row shorter than its header means a damaged or truncated file."""
        if len(self.rows[row]) < width:
            raise self.error(f"has {len(self.rows[row])} cells but the header has {width}; is the file truncated?", row)

    def is_blank(self, row: int, columns: Sequence[int]) -> bool:
        """Whether every one of these cells of a row is empty."""
        return all(self.text(row, c) == "" for c in columns)


class Workbook(Mapping[str, Sheet]):
    """A workbook's sheets keyed by name with surrounding spaces removed, each parsed the first time it is asked for.

    Listing the names reads no sheet. A file calamine cannot open or parse is a :class:`SourceError`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        check_file(path)
        #: A legacy .xls workbook's sheets, parsed whole in a child process; None for a zip workbook.
        self._legacy: dict[str, list[list[Any]]] | None = None
        if path.suffix.lower() == ".xls":
            names, self._legacy = _legacy.read_xls(path, Limits.from_environment().parser_bytes)
        else:
            try:
                self._book = CalamineWorkbook.from_path(str(path))
            except BaseException as exc:  # calamine raises several kinds for a damaged file, and may panic
                if not parser_failure(exc):
                    raise
                raise SourceError(f"cannot open as a spreadsheet ({exc})", file=path.name) from exc
            names = tuple(self._book.sheet_names)
        self.names: tuple[str, ...] = names
        self._names = {name.strip(): name for name in self.names}
        self._sheets: dict[str, Sheet] = {}

    def __getitem__(self, key: str) -> Sheet:
        if key not in self._sheets:
            name = self._names[key]
            self._sheets[key] = Sheet(
                self.path.name, name, self._legacy[name] if self._legacy is not None else self._parse(name)
            )
        return self._sheets[key]

    def _parse(self, name: str) -> list[list[Any]]:
        if self.path.suffix.lower() in (".xlsx", ".xlsm"):  # an .ods was bounded whole, when opened
            check_sheet(self.path, name)
        try:
            return self._book.get_sheet_by_name(name).to_python()
        except BaseException as exc:
            if not parser_failure(exc):
                raise
            raise SourceError(f"cannot open as a spreadsheet ({exc})", file=self.path.name) from exc

    def __contains__(self, key: object) -> bool:
        return key in self._names  # without parsing the sheet, as Mapping's own would

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_workbook(file: Path | Probe) -> Workbook:
    """Every sheet of a workbook, keyed by its name with surrounding spaces removed (parsed when first used)."""
    probe = probe_of(file)
    return probe.workbook if probe.workbook is not None else Workbook(probe.path)


class _ArrowRows(Sequence[list[Any]]):
    """The rows of an Arrow table of string columns, each made into a list when asked for."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __len__(self) -> int:
        return int(self.table.num_rows)

    @overload
    def __getitem__(self, index: int) -> list[Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[list[Any]]: ...
    def __getitem__(self, index: int | slice) -> list[Any] | list[list[Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return [column[index].as_py() for column in self.table.columns]


class _ArrowSheet(Sheet):
    """A CSV parsed by Arrow: columns are the parsed arrays, rows are made when a reader asks for one."""

    def __init__(self, file: str, table: pa.Table) -> None:
        super().__init__(file, None, _ArrowRows(table))
        self.table = table

    def _column(self, column: int) -> pa.Array:
        if column >= self.table.num_columns:
            return pa.array([""] * self.table.num_rows, pa.string())
        return self.table.column(column).combine_chunks()

    def widths(self) -> np.ndarray:
        return np.full(self.table.num_rows, self.table.num_columns, dtype=np.int64)


def read_csv_columns(path: Path) -> Sheet:
    """A CSV file as one sheet for reading by columns: what :func:`read_csv` gives, parsed by Arrow.

    Arrow parses a well-formed file (UTF-8, every record as wide as the first, ending in a line break, no lone
    carriage return); anything else goes to :func:`read_csv`, which reads it cell by cell or says what is
    wrong with it. The two agree on every cell; an empty line reads as a row of empty cells, not as no cells.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
        width = len(next(csv.reader(io.StringIO(text)), []))
    except (UnicodeDecodeError, csv.Error):
        return read_csv(path)
    if not width or not text.endswith(("\n", "\r")) or data.count(b"\r") != data.count(b"\r\n"):
        return read_csv(path)
    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data[3:] if data.startswith(codecs.BOM_UTF8) else data),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return read_csv(path)  # ragged rows, an open quote at the end, …
    return _ArrowSheet(path.name, table)


def read_csv(path: Path) -> Sheet:
    """A CSV file as one sheet (no sheet name)."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
    except UnicodeDecodeError as exc:
        raise SourceError(f"is not UTF-8 text ({exc.reason} at byte {exc.start})", file=path.name) from exc
    sheet = Sheet(path.name, None, [])
    rows: list[list[str]] = []
    try:
        rows.extend(list(row) for row in csv.reader(io.StringIO(text)))
    except csv.Error as exc:  # a field longer than FIELD_CHARS, a NUL byte
        raise sheet.error(f"is not a readable CSV record ({exc})", len(rows)) from exc
    sheet.rows = rows
    if text and not text.endswith(("\n", "\r")):
        raise sheet.error("ends in the middle of a line; the file looks truncated", len(sheet.rows) - 1)
    return sheet


def read_sheets(file: Path | Probe, *, by_columns: bool = False) -> Iterator[Sheet]:
    """A CSV as one sheet, a workbook as its sheets (each parsed when the iteration reaches it).

    ``by_columns``: the CSV is parsed by Arrow when it can be (:func:`read_csv_columns`), for a reader that
    takes whole columns.
    """
    probe = probe_of(file)
    if probe.path.suffix.lower() in WORKBOOK_SUFFIXES:
        workbook = read_workbook(probe)
        yield from (workbook[key] for key in workbook)
    else:
        yield read_csv_columns(probe.path) if by_columns else read_csv(probe.path)


_NUMBER = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$|^-?\d+(\.\d+)?$")

#: The symbols of the accessible workbooks ONS has published since 2021 (the Government Statistical Service's
#: guidance on symbols in tables), with their standard meanings; a table's own shorthand line overrides them.
ACCESSIBLE_SYMBOLS = {
    "[x]": "data unavailable",
    "[c]": "withheld to protect confidentiality",
    "[z]": "not applicable",
}
_NOTE_MARKER = re.compile(r"\s*\[note\s*\d+\]", re.IGNORECASE)
_DEFINES = r"\s*(?:=|:|\bindicates\b|\bdenotes\b|\bmeans\b)\s*"
_SHORTHAND = re.compile(
    rf"(\[[a-z]{{1,2}}\]){_DEFINES}(?:that\s+)?(.+?)\s*(?=[.;,]?\s*\[[a-z]{{1,2}}\]{_DEFINES}|\.\s|[.;]?\s*$)",
    re.IGNORECASE,
)


def without_notes(text: str) -> str:
    """A title, heading or name without the ``[note N]`` markers of ONS's accessible workbooks:
    ``'Homicide [note 3][note 4]'`` → ``'Homicide'``."""
    return _NOTE_MARKER.sub("", text).strip()


def shorthand(text: str) -> dict[str, str]:
    """The symbols a line of an accessible workbook's cover text defines, with their meanings:
    ``'Some shorthand is used in this table. [x] indicates data are unavailable, [c] = confidential.'`` →
    ``{'[x]': 'data are unavailable', '[c]': 'confidential'}``."""
    return {symbol.lower(): meaning for symbol, meaning in _SHORTHAND.findall(text)}


def parse_number(
    sheet: Sheet, row: int, column: int, symbols: dict[str, str]
) -> tuple[float | None, str | None, str | None]:
    """A number cell → (value, symbol, reason). Symbols such as '..' become (None, '..', reason), never 0.

    Accepts padding spaces and thousands separators ('"1,234 "'); text that is neither a number nor a
    known symbol is a :class:`SourceError` naming the cell.
    """
    value = sheet.cell(row, column)
    if isinstance(value, bool):
        raise sheet.error(f"unexpected value {value!r} in a number cell", row, column)
    if isinstance(value, (int, float)):
        return _plausible(sheet, row, column, float(value), value), None, None
    text = str(value).strip()
    if text in symbols:
        return None, text, symbols[text]
    if _NUMBER.match(text):
        return _plausible(sheet, row, column, float(text.replace(",", "")), text), None, None
    if text == "":
        raise sheet.error("empty cell where a number was expected", row, column)
    raise sheet.error(f"text {text!r} in a number cell", row, column)


def number_grid(
    sheet: Sheet, rows: np.ndarray, columns: Sequence[int], symbols: dict[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """The number cells of these rows and columns a column at a time, as (value, symbol) arrays of one row per
    row and one column per column, with :func:`parse_number`'s value and symbol for each cell (NaN value where
    a symbol). A cell the columns flag is read by :func:`parse_number`, in row then column order, which raises
    the error naming the first bad cell."""
    if not len(columns):
        return np.empty((len(rows), 0)), np.empty((len(rows), 0), dtype=object)
    read = _columns.numbers(pa.concat_arrays([sheet.column(column) for column in columns]), symbols)
    values, found, flagged = (np.reshape(part, (len(columns), -1))[:, rows].T.copy() for part in read)
    for row, column in zip(*np.nonzero(flagged), strict=True):
        value, symbol, _ = parse_number(sheet, int(rows[row]), columns[column], symbols)
        values[row, column], found[row, column] = (np.nan if value is None else value), symbol
    return values, found


def _plausible(sheet: Sheet, row: int, column: int, value: float, cell: Any) -> float:
    """A number no official table could hold (infinite, NaN, or beyond :data:`LARGEST_NUMBER`) is an error."""
    if not abs(value) < LARGEST_NUMBER:
        shown = str(cell) if len(str(cell)) <= 24 else f"{str(cell)[:20]}… ({len(str(cell))} characters)"
        raise sheet.error(f"number {shown} is too large to be an official figure", row, column)
    return value


def parse_count(sheet: Sheet, row: int, column: int) -> int:
    """A count cell → int; padding spaces and thousands separators allowed, anything else is an error.

    Negative counts occur: the Home Office publishes downward adjustments as negative quarterly counts.
    """
    value, _, _ = parse_number(sheet, row, column, {})
    assert value is not None
    if value != int(value):
        raise sheet.error(f"count {value!r} is not a whole number of offences", row, column)
    return int(value)


def resolve_area(sheet: Sheet, row: int, code: str, name: str, warnings: list[str]) -> reference.Area | None:
    """The area a row names by code and/or name.

    When both are given and disagree, the name wins (it is what the publisher checks by eye) and a warning
    is recorded. Returns None when neither is known, so the caller can list every unknown at once.
    """
    by_code = reference.find_area(code) if code else None
    by_name = reference.find_area(name) if name else None
    if by_code and (not name or by_code.is_named(name)):
        return by_code
    if by_code and by_name and by_name.code != by_code.code:
        warnings.append(
            f"{sheet.file}, row {row + 1}: code {code} is {by_code.name} but the name is {name!r}; used {by_name.name}"
        )
        return by_name
    if by_code and not by_name:
        warnings.append(f"{sheet.file}, row {row + 1}: name {name!r} is not known for {code}; used {by_code.name}")
    return by_code or by_name


def refuse_repeats(sheet: Sheet, rows: Sequence[int], areas: Sequence[str], column: int) -> None:
    """An area read from two rows of a table is an error naming the second: its figures would be counted twice
    wherever they are added up (a force's partnerships, a force's local authorities, an offence group)."""
    seen: dict[str, int] = {}
    for row, area in zip(rows, areas, strict=True):
        if area in seen:
            raise sheet.error(
                f"repeats row {seen[area] + 1}: area {area} again (it would be counted twice)", row, column
            )
        seen[area] = row


def unknown_error(sheet: Sheet, what: str, unknown: dict[str, int], column: int) -> SourceError:
    """One error listing every unknown value, pointing at the first place one occurs."""
    first = min(unknown.values())
    listed = ", ".join(repr(value) for value in sorted(unknown))
    return sheet.error(f"unknown {what}: {listed}", first, column)


def table(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows as an Arrow table of the declared schema."""
    return pa.Table.from_pylist(list(rows), schema=schema)
