"""The Home Office open data table is read the same from .csv, .xlsx and .ods, whichever name its count column has.

The spreadsheets are written at test time from part of the real Home Office CSV: the first rows of each financial
quarter of 2017/18, with counts as the CSV has them (padding spaces), with thousands separators, or as numbers.
Expected figures come from the rows written, not from running crimestats.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from crimestats.sources import Batch, read_file

HOME_OFFICE = Path("home-office/prc-pfa-mar2013-onwards-tables201718.csv")
ROWS_PER_QUARTER = 100
COUNT_COLUMNS = ("Number of Offences", "Offence Count")
FORMATS = ("csv", "xlsx", "ods")
DATA_SHEET = "2017_18"
QUARTER_ENDS = {"1": dt.date(2017, 6, 1), "2": dt.date(2017, 9, 1), "3": dt.date(2017, 12, 1), "4": dt.date(2018, 3, 1)}
YEAR, QUARTER, FORCE, CODE, COUNT = 0, 1, 2, 6, 7  # columns of the open data table
INTRODUCTION: list[list[object]] = [
    ["Police recorded crime open data tables, police force area level"],
    [],
    ["Column", "What it holds"],
    ["Financial Year", "April to March, written like 2017/18"],
    ["Force Name", "The police force area, or a national fraud body"],
    ["Number of Offences", "Offences recorded in the quarter"],
]

Cell = str | int | float
Row = list[Cell]


# --- writing the table in each format ---------------------------------------------------------------------------


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def count_of(text: str) -> int:
    """What a count cell of the CSV says: ' 66776 ' → 66776, '-00' → 0."""
    return int(text.strip().replace(",", ""))


def with_separators(count: int) -> str:
    """A count written with thousands separators and padding, as ONS and Home Office tables often do."""
    return f" {count:,} "


def renamed(header: Sequence[str], count_column: str) -> list[str]:
    return [count_column if name == "Number of Offences" else name for name in header]


def spreadsheet_row(record: Sequence[str], number: int) -> Row:
    """A CSV record as spreadsheet cells: the quarter as a number; the count as the CSV has it, with thousands
    separators, or as a number, in turn (codes stay text: '8N' and '1/4.1/4.10/4.2' are codes too)."""
    row: Row = list(record)
    row[QUARTER] = int(record[QUARTER])
    count = count_of(record[COUNT])
    variants: tuple[Cell, ...] = (record[COUNT], with_separators(count), count)
    row[COUNT] = variants[number % 3]
    return row


def csv_row(record: Sequence[str], number: int) -> Row:
    """A CSV record with every other count rewritten with thousands separators."""
    row: Row = list(record)
    if number % 2:
        row[COUNT] = with_separators(count_of(record[COUNT]))
    return row


def write_csv(path: Path, rows: Sequence[Sequence[Cell]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


def ods_cell(value: object) -> TableCell:
    if isinstance(value, int | float):
        cell = TableCell(valuetype="float", value=value)
    else:
        cell = TableCell(valuetype="string")
    cell.addElement(P(text=str(value)))
    return cell


def write_ods(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    document = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row or [""]:
                table_row.addElement(ods_cell(value))
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def table_rows(fmt: str, header: Sequence[str], records: Sequence[Sequence[str]]) -> list[Row]:
    """The header and the records as cells of one format."""
    convert = csv_row if fmt == "csv" else spreadsheet_row
    return [list(header), *(convert(record, number) for number, record in enumerate(records))]


def write_table(folder: Path, fmt: str, header: Sequence[str], records: Sequence[Sequence[str]]) -> Path:
    """The table in one format: a CSV as one table; a workbook with an introduction sheet before the data sheet."""
    rows = table_rows(fmt, header, records)
    if fmt == "csv":
        return write_csv(folder / "prc-pfa.csv", rows)
    sheets: dict[str, Sequence[Sequence[object]]] = {"Introduction": INTRODUCTION, DATA_SHEET: rows}
    return (write_xlsx if fmt == "xlsx" else write_ods)(folder / f"prc-pfa.{fmt}", sheets)


# --- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source(data_dir: Path) -> list[list[str]]:
    """Header and the first rows of each financial quarter of the real Home Office CSV, in file order."""
    header, *records = read_rows(data_dir / HOME_OFFICE)
    taken: Counter[str] = Counter()
    subset = []
    for record in records:
        if taken[record[QUARTER]] < ROWS_PER_QUARTER:
            taken[record[QUARTER]] += 1
            subset.append(record)
    assert sorted(taken) == ["1", "2", "3", "4"]
    return [header, *subset]


@pytest.fixture(scope="module")
def reference(source: list[list[str]], tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """The subset written back as a plain CSV, as published, and read."""
    return read_file(write_csv(tmp_path_factory.mktemp("reference") / "prc-pfa-subset.csv", source))


def figures(batch: Batch) -> list[dict[str, object]]:
    columns = ["sheet", "source_row", "area_code", "offence_code", "period_end", "value"]
    rows: list[dict[str, object]] = batch.figures.select(columns).to_pylist()
    return rows


def multiset(batch: Batch) -> Counter[tuple[object, ...]]:
    return Counter((f["area_code"], f["offence_code"], f["period_end"], f["value"]) for f in figures(batch))


# --- tests ------------------------------------------------------------------------------------------------------


def test_csv_subset_reads_as_written(reference: Batch, source: list[list[str]]) -> None:
    """Every row of the plain CSV becomes one figure with the code, quarter end and count the row holds."""
    rows = figures(reference)
    assert len(rows) == len(source) - 1
    codes: dict[str, set[object]] = {}
    for figure in rows:
        record = source[int(figure["source_row"]) - 1]  # type: ignore[call-overload]
        assert figure["offence_code"] == record[CODE]
        assert figure["period_end"] == QUARTER_ENDS[record[QUARTER]]
        assert figure["value"] == count_of(record[COUNT])
        codes.setdefault(record[FORCE], set()).add(figure["area_code"])
    assert all(len(found) == 1 for found in codes.values()), codes
    assert len({code for found in codes.values() for code in found}) == len(codes)
    assert reference.source == "home-office"
    assert reference.vintage == "2018-03"


@pytest.mark.parametrize("count_column", COUNT_COLUMNS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_csv_figures(
    fmt: str, count_column: str, source: list[list[str]], reference: Batch, tmp_path: Path
) -> None:
    header, *records = source
    written = [row[COUNT] for row in table_rows(fmt, header, records)[1:]]
    assert any(isinstance(count, str) and "," in count for count in written), "no count with a separator"
    assert any(isinstance(count, str) and count != count.strip() for count in written), "no padded count"
    assert fmt == "csv" or any(isinstance(count, int) for count in written), "no count written as a number"
    path = write_table(tmp_path, fmt, renamed(header, count_column), records)
    batch = read_file(path)
    assert batch.source == "home-office"
    assert batch.vintage == reference.vintage
    assert multiset(batch) == multiset(reference)
    assert {f["sheet"] for f in figures(batch)} == ({None} if fmt == "csv" else {DATA_SHEET})


@pytest.mark.parametrize("fmt", FORMATS)
def test_padded_count_with_separator_and_quarter_ends(fmt: str, source: list[list[str]], tmp_path: Path) -> None:
    """A count written "1,234 " (as text, in every format) is 1234; 2017/18 quarter 1 ends June 2017, quarter 4
    March 2018."""
    header, *records = source
    first = next(r for r in records if r[QUARTER] == "1")
    fourth = next(r for r in records if r[QUARTER] == "4")
    first = [*first[:COUNT], "1,234 "]
    path = write_table(tmp_path, fmt, header, [first, fourth])
    rows = figures(read_file(path))
    assert [(f["offence_code"], f["period_end"], f["value"]) for f in rows] == [
        (first[CODE], dt.date(2017, 6, 1), 1234.0),
        (fourth[CODE], dt.date(2018, 3, 1), float(count_of(fourth[COUNT]))),
    ]
    assert all(type(f["period_end"]) is dt.date for f in rows)


def test_workbook_data_sheet_after_other_sheets_is_found(source: list[list[str]], tmp_path: Path) -> None:
    """Sheets without the open data header (introduction, notes) are passed over wherever they are."""
    header, *records = source[:11]
    rows: list[Sequence[object]] = [header, *records]
    notes: list[Sequence[object]] = [["Notes"], ["1", "Counts are provisional"]]
    path = write_xlsx(tmp_path / "three-sheets.xlsx", {"Introduction": INTRODUCTION, "Data": rows, "Notes": notes})
    batch = read_file(path)
    assert [f["source_row"] for f in figures(batch)] == list(range(2, 12))
    assert {f["sheet"] for f in figures(batch)} == {"Data"}
