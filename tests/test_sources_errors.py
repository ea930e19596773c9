"""Malformed input: every reader refuses a damaged file with a one-line SourceError that says where the damage is,
and a refused file leaves the store exactly as it was.

Each bad file is made at test time in a temporary folder from a real official file in the data folder: a cell
changed, a header renamed, a sheet renamed, or the bytes cut in half. The expected row and column come from the
change made (rows and columns are 1-based and lettered as a spreadsheet shows them; in a CSV a row is a record).
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from crimestats.errors import SourceError, UnrecognisedFileError
from crimestats.sources import Batch, ons_pfa, population, read_file
from crimestats.store import Store

from conftest import table_counts

HOME_OFFICE = Path("home-office/prc-pfa-mar2013-onwards-tables201718.csv")
ONS_PFA = Path("ons-pfa-tables/policeforceareatablesyearendingjune2019.xlsx")
ONS_CSP = Path("ons-csp-tables/policeforceareatablesyejune25final.csv")
MYE = Path("population/LAD23_Mid_Year_pop_2011_to_2023.xlsx")
LOOKUP = Path("population/Local_Authority_District_to_CSPs_to_Police_Force_Areas_(December__2023)_Lookup_.csv")

HOME_OFFICE_ROWS = 300  # data rows kept from the Home Office CSV (all of them are quarter 1, 2017/18)
MYE_ROWS = 48  # rows kept from sheet MYE4: title and notes, the header (row 8) and 40 areas
LAST = -1  # expected row: the last record of the bad file (a cut-off file fails on its cut-off row)


# --- small helpers -------------------------------------------------------------------------------------------


def read_rows(path: Path) -> list[list[str]]:
    """A CSV file as records (a cell may hold a line break, so a record is not always one line)."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def cut_in_half(source: Path, target: Path) -> Path:
    """The first half of a file's bytes, as a download that stopped half way would leave it."""
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


@functools.cache
def home_office_rows(data_dir: Path) -> tuple[tuple[str, ...], ...]:
    """The header and the first data rows of the Home Office CSV."""
    return tuple(tuple(row) for row in read_rows(data_dir / HOME_OFFICE)[: HOME_OFFICE_ROWS + 1])


@functools.cache
def mye_sheets(data_dir: Path) -> dict[str, list[list[object]]]:
    """The cover sheet and the first rows of sheet MYE4 of the mid-year estimates workbook, as values."""
    book = openpyxl.load_workbook(data_dir / MYE, read_only=True)
    try:
        return {
            name: [list(row) for row in book[name].iter_rows(max_row=MYE_ROWS, values_only=True)]
            for name in ("Cover sheet", "MYE4")
        }
    finally:
        book.close()


def home_office_csv(data_dir: Path, folder: Path, change: Callable[[list[list[str]]], None] | None = None) -> Path:
    """The Home Office CSV cut down to its first rows, changed by ``change`` (rows[0] is the header, line 1)."""
    rows = [list(row) for row in home_office_rows(data_dir)]
    if change is not None:
        change(rows)
    return write_rows(folder / HOME_OFFICE.name, rows)


def official_csv(source: Path, change: Callable[[list[list[str]]], None]) -> Callable[[Path, Path], Path]:
    """A builder for a changed copy of a whole official CSV (rows[i] is row i + 1)."""

    def build(data_dir: Path, folder: Path) -> Path:
        rows = read_rows(data_dir / source)
        change(rows)
        return write_rows(folder / source.name, rows)

    return build


def pfa_workbook(change: Callable[[Workbook], None]) -> Callable[[Path, Path], Path]:
    """A builder for a changed copy of an ONS police force area workbook."""

    def build(data_dir: Path, folder: Path) -> Path:
        book = openpyxl.load_workbook(data_dir / ONS_PFA)
        change(book)
        book.save(folder / ONS_PFA.name)
        return folder / ONS_PFA.name

    return build


def mye_workbook(data_dir: Path, folder: Path, change: Callable[[Workbook], None] | None = None) -> Path:
    """A small copy of the mid-year estimates workbook (cover sheet and the top of MYE4), changed by ``change``."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in mye_sheets(data_dir).items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    if change is not None:
        change(book)
    book.save(folder / MYE.name)
    return folder / MYE.name


def set_cell(rows: list[list[str]], row: int, column: str, value: str, *, was: str | None = None) -> None:
    """Set a CSV cell by 1-based row and column letter, checking what it held first."""
    cells = rows[row - 1]
    index = ord(column) - ord("A")
    if was is not None:
        assert cells[index].strip() == was, f"fixture expects {was!r} at row {row}, column {column}"
    cells[index] = value


def set_header(rows: list[list[str]], old: str, new: str) -> None:
    """Rename a column in a CSV header row (whichever of the first rows holds it)."""
    for cells in rows[:30]:
        for index, cell in enumerate(cells):
            if " ".join(cell.split()) == old:
                cells[index] = new
                return
    raise AssertionError(f"no header {old!r}")


def set_workbook_cell(book: Workbook, sheet: str, cell: str, value: object, *, was: object = None) -> None:
    if was is not None:
        assert book[sheet][cell].value == was, f"fixture expects {was!r} in {sheet}!{cell}"
    book[sheet][cell] = value


# --- the bad files --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A damaged file and where its error must point."""

    id: str
    family: str  # which good file the store holds before the bad one is tried (see GOOD)
    build: Callable[[Path, Path], Path]  # (data folder, empty folder) → the bad file
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    says: tuple[str, ...] = ()  # words the message must hold besides the location


def _home_office(change: Callable[[list[list[str]]], None]) -> Callable[[Path, Path], Path]:
    return lambda data_dir, folder: home_office_csv(data_dir, folder, change)


def _mye(change: Callable[[Workbook], None]) -> Callable[[Path, Path], Path]:
    return lambda data_dir, folder: mye_workbook(data_dir, folder, change)


def _home_office_cut(data_dir: Path, folder: Path) -> Path:
    """The cut-down Home Office CSV cut again in half: the cut falls before the last row's offence code."""
    path = cut_in_half(home_office_csv(data_dir, folder), folder / "whole.tmp")
    path = path.rename(folder / HOME_OFFICE.name)
    last = read_rows(path)[-1]
    assert len(last) < 7, f"fixture expects the cut before column G, got {last}"
    return path


def _csp_cut(data_dir: Path, folder: Path) -> Path:
    path = cut_in_half(data_dir / ONS_CSP, folder / ONS_CSP.name)
    last = read_rows(path)[-1]
    assert len(last) == 8 and last[-1] == "", f"fixture expects the cut just before the count in column H, got {last}"
    return path


def _lookup_cut_in_force_code(data_dir: Path, folder: Path) -> Path:
    """The lookup cut off near its middle, four characters into a row's PFA23CD cell (column E)."""
    text = (data_dir / LOOKUP).read_text(encoding="utf-8-sig")
    start = text.index("\n", len(text) // 2) + 1  # the row after the middle
    line = text[start : text.index("\n", start)]
    cut = start + len(",".join(line.split(",")[:4])) + 1 + 4
    assert text[cut - 4 : cut].startswith("E23")
    (folder / LOOKUP.name).write_text(text[:cut], encoding="utf-8")
    return folder / LOOKUP.name


def _two_unknown_forces(rows: list[list[str]]) -> None:
    set_cell(rows, 201, "C", "Gotham City Police")
    set_cell(rows, 101, "C", "Atlantis Constabulary", was="Avon and Somerset")


def _pfa_unknown_force(book: Workbook) -> None:
    set_workbook_cell(book, "Table P1", "A10", "E23999999", was="E23000013")
    set_workbook_cell(book, "Table P1", "B10", "Atlantis Constabulary", was="Cleveland")


def _pfa_rename_sheet(book: Workbook) -> None:
    book["Table P1"].title = "Table P1 (old)"


def _mye_rename_sheet(book: Workbook) -> None:
    book["MYE4"].title = "MYE4 (old)"


def _mye_no_year_columns(book: Workbook) -> None:
    for cell in book["MYE4"][8][3:]:
        if isinstance(cell.value, str):
            cell.value = cell.value.replace("Mid-", "Year ")


def _csp_unknown_force(rows: list[list[str]]) -> None:
    set_cell(rows, 10, "A", "E23999999", was="E23000036")
    set_cell(rows, 10, "B", "Atlantis Constabulary", was="Avon and Somerset")


def _latin1(data_dir: Path, folder: Path) -> Path:
    path = home_office_csv(data_dir, folder)
    path.write_bytes(path.read_bytes().replace(b"Avon and Somerset", "Avon and Sømerset".encode("latin-1"), 1))
    return path


CASES = [
    # Home Office open data CSV (header + 300 rows); Force Name is column C, Offence Code G, the count H.
    Case("home-office-cut-in-half", "home-office", _home_office_cut, row=LAST, says=("truncated",)),
    Case("home-office-not-utf8", "home-office", _latin1, says=("UTF-8",)),
    Case(
        "home-office-offence-code-header-misspelt",
        "home-office",
        _home_office(lambda rows: set_header(rows, "Offence Code", "Offence Kode")),
        row=1,
        says=("missing column 'Offence Code'", "Offence Kode"),
    ),
    Case(
        "home-office-count-header-misspelt",
        "home-office",
        _home_office(lambda rows: set_header(rows, "Number of Offences", "Number of Offencez")),
        row=1,
        says=("'Number of Offences'", "'Offence Count'"),
    ),
    Case(
        "home-office-unknown-force",
        "home-office",
        _home_office(lambda rows: set_cell(rows, 101, "C", "Atlantis Constabulary", was="Avon and Somerset")),
        row=101,
        column="C",
        says=("'Atlantis Constabulary'",),
    ),
    Case(
        "home-office-two-unknown-forces",
        "home-office",
        _home_office(_two_unknown_forces),
        row=101,
        column="C",
        says=("'Atlantis Constabulary'", "'Gotham City Police'"),
    ),
    Case(
        "home-office-unknown-offence-code",
        "home-office",
        _home_office(lambda rows: set_cell(rows, 120, "G", "ZZ9")),
        row=120,
        column="G",
        says=("'ZZ9'",),
    ),
    Case(
        "home-office-text-count",
        "home-office",
        _home_office(lambda rows: set_cell(rows, 150, "H", "abc")),
        row=150,
        column="H",
        says=("'abc'",),
    ),
    Case(
        "home-office-count-with-letter",
        "home-office",
        _home_office(lambda rows: set_cell(rows, 250, "H", " 12x ")),
        row=250,
        column="H",
        says=("'12x'",),
    ),
    Case(
        "home-office-quarter-not-a-number",
        "home-office",
        _home_office(lambda rows: set_cell(rows, 77, "B", "Q1", was="1")),
        row=77,
        column="B",
        says=("'Q1'",),
    ),
    Case(
        "home-office-year-misformatted",
        "home-office",
        _home_office(lambda rows: set_cell(rows, 78, "A", "2017-18", was="2017/18")),
        row=78,
        column="A",
        says=("'2017-18'",),
    ),
    # ONS police force area workbook, year ending June 2019: Table P1 header on row 5, Cleveland on row 10.
    Case(
        "pfa-cut-in-half",
        "ons-pfa",
        lambda data_dir, folder: cut_in_half(data_dir / ONS_PFA, folder / ONS_PFA.name),
        says=("cannot open",),
    ),
    Case("pfa-sheet-renamed", "ons-pfa", pfa_workbook(_pfa_rename_sheet)),
    Case(
        "pfa-area-code-header-misspelt",
        "ons-pfa",
        pfa_workbook(lambda book: set_workbook_cell(book, "Table P1", "A5", "Area Kode", was="Area Code")),
        sheet="Table P1",
        row=5,  # the row with 'Area Name' beside it
        column="A",
        says=("'Area Kode' where 'Area Code' was expected",),
    ),
    Case(
        "pfa-unknown-offence-heading",
        "ons-pfa",
        pfa_workbook(lambda book: set_workbook_cell(book, "Table P1", "F5", "Homicidal", was="Homicide")),
        sheet="Table P1",
        row=5,
        column="F",
        says=("'Homicidal'",),
    ),
    Case(
        "pfa-unknown-force",
        "ons-pfa",
        pfa_workbook(_pfa_unknown_force),
        sheet="Table P1",
        row=10,
        column="B",
        says=("'Atlantis Constabulary'",),
    ),
    Case(
        "pfa-text-count",
        "ons-pfa",
        pfa_workbook(lambda book: set_workbook_cell(book, "Table P1", "F10", "abc", was=14)),
        sheet="Table P1",
        row=10,
        column="F",
        says=("'abc'",),
    ),
    Case(
        "pfa-text-rate-in-p3",
        "ons-pfa",
        pfa_workbook(lambda book: set_workbook_cell(book, "Table P3", "H12", "12x")),
        sheet="Table P3",
        row=12,
        column="H",
        says=("'12x'",),
    ),
    # ONS Table C2 CSV: title rows, a header record (row 8) whose cells hold line breaks, Avon and Somerset on row 10.
    Case("csp-cut-in-half", "ons-csp", _csp_cut, row=LAST, says=("truncated",)),
    Case(
        "csp-force-code-header-misspelt",
        "ons-csp",
        official_csv(ONS_CSP, lambda rows: set_header(rows, "Police Force Area code", "PFA code")),
    ),
    Case(
        "csp-unknown-offence-heading",
        "ons-csp",
        official_csv(ONS_CSP, lambda rows: set_cell(rows, 8, "I", "Homicidal", was="Homicide")),
        row=8,
        column="I",
        says=("'Homicidal'",),
    ),
    Case(
        "csp-unknown-force",
        "ons-csp",
        official_csv(ONS_CSP, _csp_unknown_force),
        row=10,
        column="B",
        says=("'Atlantis Constabulary'",),
    ),
    Case(
        "csp-text-count",
        "ons-csp",
        official_csv(ONS_CSP, lambda rows: set_cell(rows, 10, "K", "abc")),
        row=10,
        column="K",
        says=("'abc'",),
    ),
    Case(
        "csp-count-with-letter",
        "ons-csp",
        official_csv(ONS_CSP, lambda rows: set_cell(rows, 300, "M", "1,2x4 ")),
        row=300,
        column="M",
        says=("'1,2x4'",),
    ),
    # ONS mid-year estimates (a small copy: cover sheet + top of MYE4); MYE4 header on row 8, Gateshead on row 20.
    Case(
        "mye-cut-in-half",
        "ons-mye",
        lambda data_dir, folder: cut_in_half(data_dir / MYE, folder / MYE.name),
        says=("cannot open",),
    ),
    Case("mye-sheet-renamed", "ons-mye", _mye(_mye_rename_sheet)),
    Case(
        "mye-code-header-misspelt",
        "ons-mye",
        _mye(lambda book: set_workbook_cell(book, "MYE4", "A8", "Kode", was="Code")),
        sheet="MYE4",
        says=("'Code'",),
    ),
    Case("mye-no-year-columns", "ons-mye", _mye(_mye_no_year_columns), sheet="MYE4", row=8, says=("Mid-YYYY",)),
    Case(
        "mye-unknown-area",
        "ons-mye",
        _mye(lambda book: set_workbook_cell(book, "MYE4", "A20", "Atlantis Constabulary", was="E08000037")),
        sheet="MYE4",
        row=20,
        column="A",
        says=("'Atlantis Constabulary'",),
    ),
    Case(
        "mye-text-count",
        "ons-mye",
        _mye(lambda book: set_workbook_cell(book, "MYE4", "D20", "abc")),
        sheet="MYE4",
        row=20,
        column="D",
        says=("'abc'",),
    ),
    Case(
        "mye-count-with-letter",
        "ons-mye",
        _mye(lambda book: set_workbook_cell(book, "MYE4", "P21", "12x")),
        sheet="MYE4",
        row=21,
        column="P",
        says=("'12x'",),
    ),
    # LA → CSP → PFA lookup CSV: LAD23CD, LAD23NM, CSP23CD, CSP23NM, PFA23CD (column E), PFA23NM, ObjectId.
    Case("lookup-cut-in-force-code", "ons-lookup", _lookup_cut_in_force_code, row=LAST, says=("truncated",)),
    Case(
        "lookup-name-header-misspelt",
        "ons-lookup",
        official_csv(LOOKUP, lambda rows: set_header(rows, "LAD23NM", "LAD23NAME")),
        row=1,
        says=("LAD23NAME",),
    ),
    Case(
        "lookup-force-header-misspelt",
        "ons-lookup",
        official_csv(LOOKUP, lambda rows: set_header(rows, "PFA23CD", "PFA23CODE")),
        row=1,
        says=("missing column PFA", "PFA23CODE"),
    ),
    Case(
        "lookup-unknown-force",
        "ons-lookup",
        official_csv(LOOKUP, lambda rows: set_cell(rows, 101, "E", "Atlantis Constabulary", was="E23000003")),
        row=101,
        column="E",
        says=("'Atlantis Constabulary'",),
    ),
]

GOOD: dict[str, Callable[[Path, Path], Path]] = {
    "home-office": lambda data_dir, folder: home_office_csv(data_dir, folder),
    "ons-pfa": lambda data_dir, folder: data_dir / ONS_PFA,
    "ons-csp": lambda data_dir, folder: data_dir / ONS_CSP,
    "ons-mye": lambda data_dir, folder: mye_workbook(data_dir, folder),
    "ons-lookup": lambda data_dir, folder: data_dir / LOOKUP,
}


@dataclass(frozen=True)
class Bad:
    case: Case
    path: Path

    @property
    def row(self) -> int | None:
        return len(read_rows(self.path)) if self.case.row == LAST else self.case.row


@pytest.fixture(scope="module", params=CASES, ids=[case.id for case in CASES])
def bad(request: pytest.FixtureRequest, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Bad:
    """Each bad file, built once in a folder of its own."""
    case: Case = request.param
    return Bad(case, case.build(data_dir, tmp_path_factory.mktemp(case.id)))


def good_file(family: str, data_dir: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return GOOD[family](data_dir, folder)


def read_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        read_file(path)
    return info.value


def assert_one_line(error: Exception) -> None:
    message = str(error)
    assert "\n" not in message and "\r" not in message, f"error message is not one line: {message!r}"


# --- the error names the file, sheet, row and column ------------------------------------------------------------


def test_error_names_file_sheet_row_and_column(bad: Bad) -> None:
    error = read_error(bad.path)
    case = bad.case
    message = str(error)
    assert_one_line(error)
    assert error.file == bad.path.name
    assert (error.sheet, error.row, error.column) == (case.sheet, bad.row, case.column), message
    where = [bad.path.name]
    if case.sheet is not None:
        where.append(f"sheet '{case.sheet}'")
    if bad.row is not None:
        where.append(f"row {bad.row}")
    if case.column is not None:
        where.append(f"column {case.column}")
    assert message.startswith(", ".join(where) + ": "), message
    for words in case.says:
        assert words in message


def test_unknown_values_are_listed_together_at_the_first(data_dir: Path, tmp_path: Path) -> None:
    path = home_office_csv(data_dir, tmp_path, _two_unknown_forces)
    error = read_error(path)
    assert "unknown force name(s): 'Atlantis Constabulary', 'Gotham City Police'" in str(error)
    assert error.row == 101


@pytest.mark.parametrize(
    ("case_id", "read", "sheet"),
    [("pfa-sheet-renamed", ons_pfa.read, "Table P1"), ("mye-sheet-renamed", population.read_mye, "MYE4")],
)
def test_reader_names_the_missing_sheet(
    case_id: str, read: Callable[[Path], Batch], sheet: str, data_dir: Path, tmp_path: Path
) -> None:
    """A renamed sheet: the reader says which sheet is missing and lists the sheets it found."""
    case = next(c for c in CASES if c.id == case_id)
    path = case.build(data_dir, tmp_path)
    with pytest.raises(SourceError) as info:
        read(path)
    assert_one_line(info.value)
    assert str(info.value).startswith(f"{path.name}: no sheet '{sheet}' (sheets: ")
    assert f"{sheet} (old)" in str(info.value)


def test_header_misspelt_in_a_recognised_lookup_names_the_columns_found(data_dir: Path, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "lookup-force-header-misspelt")
    path = case.build(data_dir, tmp_path)
    with pytest.raises(SourceError) as info:
        population.read_lookup(path)
    assert_one_line(info.value)
    assert str(info.value).startswith(f"{path.name}, row 1: missing column PFA")
    assert "PFA23CODE" in str(info.value)


# --- a refused file leaves the store as it was ------------------------------------------------------------------


def test_failed_ingest_leaves_store_unchanged(bad: Bad, store: Store, data_dir: Path, tmp_path: Path) -> None:
    good = good_file(bad.case.family, data_dir, tmp_path / "good")
    result = store.ingest_file(good)
    assert result.status == "ingested" and result.rows > 0
    before, files = table_counts(store), store.files()
    error = read_error(bad.path)

    with pytest.raises(SourceError) as info:
        store.ingest_file(bad.path)
    assert str(info.value) == str(error)
    [named] = store.ingest([bad.path]).results  # a file named on its own is reported as failed, with its error
    assert (named.status, named.rows, named.error) == ("failed", 0, str(error))
    report = store.ingest([bad.path.parent])  # in a folder an unrecognised file is skipped; the rest would go on
    [outcome] = report.results
    expected = "skipped" if isinstance(error, UnrecognisedFileError) else "failed"
    assert outcome.status == expected and outcome.rows == 0
    if expected == "failed":
        assert outcome.error == str(error)

    assert table_counts(store) == before
    assert store.files() == files


@pytest.mark.parametrize("family", list(GOOD))
def test_same_file_twice_is_unchanged(family: str, store: Store, data_dir: Path, tmp_path: Path) -> None:
    good = good_file(family, data_dir, tmp_path)
    first = store.ingest_file(good)
    after_first = table_counts(store)
    second = store.ingest_file(good)
    again = store.ingest([good])
    assert first.status == "ingested" and first.rows > 0
    assert (second.status, second.source, second.vintage) == ("unchanged", first.source, first.vintage)
    assert [r.status for r in again.results] == ["unchanged"]
    assert table_counts(store) == after_first
    assert after_first["files"] == 1


@pytest.fixture
def mixed_folder(data_dir: Path, tmp_path: Path) -> Path:
    """A folder with a good lookup beside a text note and a GeoJSON file of areas crimestats does not map."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "notes.txt").write_text("Downloaded from the ONS website.\nSee README.\n", encoding="utf-8")
    feature = {"type": "Feature", "properties": {"LSOA21CD": "E01000001"}, "geometry": None}
    (folder / "forces.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    write_rows(folder / LOOKUP.name, read_rows(data_dir / LOOKUP))
    return folder


def test_folder_reports_unrecognised_files_as_skipped(mixed_folder: Path, store: Store) -> None:
    report = store.ingest([mixed_folder])
    statuses = {result.path.name: result.status for result in report.results}
    assert statuses == {"notes.txt": "skipped", "forces.geojson": "skipped", LOOKUP.name: "ingested"}
    assert table_counts(store)["lookup"] == len(read_rows(mixed_folder / LOOKUP.name)) - 1


@pytest.mark.parametrize("name", ["notes.txt", "forces.geojson"])
def test_named_unrecognised_file_fails(name: str, mixed_folder: Path, store: Store) -> None:
    before = table_counts(store)
    [outcome] = store.ingest([mixed_folder / name]).results
    assert outcome.status == "failed" and outcome.error is not None
    assert "\n" not in outcome.error
    assert outcome.error.startswith(f"{name}: not a file crimestats recognises")
    assert table_counts(store) == before
