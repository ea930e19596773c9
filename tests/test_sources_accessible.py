"""The ONS police force area tables P1-P3 in the accessible layout ONS has published since 2021.

The workbooks are built here: the real tables for the year ending December 2019 (pfatablesdec19.xlsx), read with
openpyxl and laid out again as ONS lays out its accessible workbooks (Table C2 in ons-csp-tables shows the
conventions): the title in A1 ending in ``[note N]`` markers; lines of cover text above a one-row header, one of
them the table's shorthand ("[x] indicates ..."); headings and area names carrying ``[note N]`` instead of glued
footnote digits; no spacer columns or unit rows; the footnotes on a Notes sheet; ``[x]``, ``[c]`` and ``[z]`` where
the 2019 table prints ``..``, ``+`` and ``-``. Read from that layout, every figure must be the one read from the
original workbook, and the published figures (tests/official.py, read from the original) must be unchanged.

openpyxl writes a number with 16 significant digits (Excel writes 17), so a change or rate read back from a
workbook built here may differ from the original in the 17th digit: those are compared to within 1e-15.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from crimestats.analytics import Options, force_statistics
from crimestats.errors import SourceError
from crimestats.sources import Batch, ons_pfa, read_file, recognise
from crimestats.sources._base import ACCESSIBLE_SYMBOLS, shorthand
from crimestats.store import Store

from official import FORCE_CODE, HEADINGS, Published, ons_round, read_table

DEC19 = Path("ons-pfa-tables/pfatablesdec19.xlsx")
C2 = Path("ons-csp-tables/policeforceareatablesyejune25final.csv")
TABLES = ("P1", "P2", "P3")
#: The 2019 symbols and the accessible workbooks' symbols that stand for them.
SYMBOLS = {"..": "[x]", "+": "[c]", "-": "[z]"}
#: The table's shorthand, in the words the 2019 footnotes use for '..', '-' and '+'.
SHORTHAND = (
    "Some shorthand is used in this table. [x] indicates data not available. [z] indicates that the base number is"
    " fewer than 50. [c] indicates that rate per 1,000 population data for City of London have been suppressed due"
    " to the small population size of the police force area."
)
COVER = (
    "This worksheet contains one table. Some cells refer to notes which can be found on the notes worksheet.",
    "Police recorded crime statistics are published as official statistics, not accredited official statistics",
    SHORTHAND,
    "Link to Notes page",
    "Link to Table of contents",
    "Source: Police recorded crime from the Home Office",
)
# Footnote digits glued to a heading or name ('Residential burglary7,8', 'fraud3)'), or after a space at the end
# ('Stalking and harassment 5'); never 'mid-2018' or 'rounded to 100'.
_FOOTNOTES = re.compile(r"(?<=[A-Za-z)])(\d{1,2}(?:,\d{1,2})*)(?=[)\s]|$)|\s+(\d{1,2}(?:,\d{1,2})*)$")
_TITLE_FOOTNOTES = re.compile(r"(\d{4})(\d{1,2}(?:,\d{1,2})*)$")  # 'year ending December 20191,2'

Rows = list[list[Any]]


# --- laying the 2019 tables out as an accessible workbook ----------------------------------------------------------


def with_note_markers(text: object) -> str:
    """'Residential burglary7,8' → 'Residential burglary [note 7][note 8]'."""
    notes: list[str] = []

    def take(match: re.Match[str]) -> str:
        notes.extend((match.group(1) or match.group(2)).split(","))
        return ""

    bare = " ".join(_FOOTNOTES.sub(take, str(text)).split())
    return bare + (" " + "".join(f"[note {n}]" for n in notes) if notes else "")


@functools.cache
def original_rows(data_dir: Path) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """Tables P1-P3 of the December 2019 workbook as openpyxl reads their values."""
    book = openpyxl.load_workbook(data_dir / DEC19, read_only=True, data_only=True)
    try:
        sheets = {name.strip(): book[name] for name in book.sheetnames}
        return {t: tuple(tuple(r) for r in sheets[f"Table {t}"].iter_rows(values_only=True)) for t in TABLES}
    finally:
        book.close()


def accessible_table(rows: Sequence[Sequence[Any]], cover: Sequence[str]) -> tuple[Rows, list[str]]:
    """One 2019 table in the accessible layout, and its footnotes (for the Notes sheet)."""

    def cell(row: int, column: int) -> Any:
        return rows[row][column] if column < len(rows[row]) and rows[row][column] is not None else ""

    header = next(i for i, r in enumerate(rows) if str(r[0]).strip() == "Area Code")
    columns = [j for j in range(2, len(rows[header])) if cell(header, j) or cell(header - 1, j)]
    title = _TITLE_FOOTNOTES.sub(
        lambda m: m.group(1) + "".join(f" [note {n}]" for n in m.group(2).split(",")), rows[0][0]
    )
    laid: Rows = [[title.replace("] [", "][")], *([line] for line in cover)]
    laid.append(
        ["Area code", "Area name", *(with_note_markers(cell(header, j) or cell(header - 1, j)) for j in columns)]
    )
    footnotes = []
    for index in range(header + 1, len(rows)):
        if cell(index, 1):  # an area; the unit row and the footnotes have nothing in the name column
            values = [cell(index, j) for j in columns]
            laid.append([cell(index, 0), with_note_markers(cell(index, 1)), *(SYMBOLS.get(v, v) for v in values)])
        elif re.match(r"\d+\.? ", str(cell(index, 0))):
            footnotes.append(str(cell(index, 0)))
    return laid, footnotes


def accessible_workbook(
    data_dir: Path,
    path: Path,
    *,
    sheet_name: str = "Table {}",
    cover: Sequence[str] = COVER,
    change: Callable[[dict[str, Rows]], None] | None = None,
) -> Path:
    """The December 2019 tables as an accessible workbook: cover sheet, contents, notes and Tables P1-P3.

    ``change`` edits the tables' rows (keyed 'P1' …, 0-based) before they are written."""
    tables, notes = {}, []
    for table_id, rows in original_rows(data_dir).items():
        tables[table_id], footnotes = accessible_table(rows, cover)
        notes += [[f"[note {text.split('.')[0].split()[0]}]", text.split(" ", 1)[1].strip()] for text in footnotes]
    if change is not None:
        change(tables)
    book = openpyxl.Workbook(write_only=True)
    sheets: dict[str, Rows] = {
        "Cover sheet": [["Police force area data tables, year ending December 2019"], ["Crime in England and Wales"]],
        "Contents": [["Table of contents"], ["Worksheet name", "Worksheet title"]]
        + [[sheet_name.format(t), rows[0][0]] for t, rows in tables.items()],
        "Notes": [["Notes"], ["This worksheet contains one table."], ["Note number", "Note text"], *notes],
        **{sheet_name.format(t): rows for t, rows in tables.items()},
    }
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


# --- what the reader gives ------------------------------------------------------------------------------------------


def figures_by_cell(batch: Batch) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """(table, area, offence, measure) → (value, symbol as the accessible layout writes it, reason)."""
    return {
        (r["table_id"], r["area_code"], r["offence"], r["measure"]): (
            r["value"],
            SYMBOLS.get(r["symbol"], r["symbol"]),
            r["reason"],
        )
        for r in batch.figures.to_pylist()
    }


def populations_by_cell(batch: Batch) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {
        (r["area_code"], r["year"], r["denominator"]): (r["value"], SYMBOLS.get(r["symbol"], r["symbol"]), r["reason"])
        for r in batch.populations.to_pylist()
    }


@pytest.fixture(scope="module")
def original(data_dir: Path) -> Batch:
    return ons_pfa.read(data_dir / DEC19)


@pytest.fixture(scope="module")
def accessible(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return accessible_workbook(data_dir, tmp_path_factory.mktemp("accessible") / "policeforceareatablesdec19.xlsx")


def same_value(ours: float | None, published: object) -> bool:
    """Both missing, or equal to the 16 significant digits openpyxl writes."""
    return (
        ours is None if published is None or isinstance(published, str) else ours == pytest.approx(published, rel=1e-15)
    )


def assert_same_cells(ours: dict[Any, tuple[Any, ...]], expected: dict[Any, tuple[Any, ...]]) -> None:
    """The same cells, each with the same symbol and reason and the same value (to openpyxl's 16 digits)."""
    assert ours.keys() == expected.keys()
    differ = [
        key
        for key, (value, *rest) in ours.items()
        if not same_value(value, expected[key][0]) or rest != list(expected[key][1:])
    ]
    assert not differ, [(key, ours[key], expected[key]) for key in differ[:5]]


def assert_same_figures(batch: Batch, original: Batch) -> None:
    assert (batch.source, batch.vintage, batch.revision) == (original.source, original.vintage, original.revision)
    assert_same_cells(figures_by_cell(batch), figures_by_cell(original))
    assert_same_cells(populations_by_cell(batch), populations_by_cell(original))
    assert batch.figures.num_rows == original.figures.num_rows
    assert batch.populations.num_rows == original.populations.num_rows


@pytest.mark.parametrize("sheet_name", ["Table {}", "Table_{}"])
def test_accessible_layout_gives_the_figures_of_the_original(
    data_dir: Path, tmp_path: Path, original: Batch, sheet_name: str
) -> None:
    """Every count, change, rate and population, and every symbol's meaning, as read from the 2019 layout; the
    sheets may be named 'Table P1' or 'Table_P1'. Notes on the names resolve without a warning."""
    path = accessible_workbook(data_dir, tmp_path / "tables.xlsx", sheet_name=sheet_name)
    reader = recognise(path)
    assert reader is not None and reader.name == ons_pfa.NAME
    batch = read_file(path)
    assert_same_figures(batch, original)
    assert batch.warnings == original.warnings == ()


def test_published_tables_are_reproduced_from_the_accessible_layout(
    accessible: Path, data_dir: Path, original: Batch
) -> None:
    """The golden checks, on the figures read from the accessible workbook: every force's P1 count, P2 change and
    P3 rate and population equals the published cell of the original workbook (read by tests/official.py);
    a symbol there is a missing value here, never 0."""
    stored = {key: value for key, (value, _, _) in figures_by_cell(read_file(accessible)).items()}
    measures = {"P1": "count", "P2": "change_pct", "P3": "rate_per_1000"}
    checked = dict.fromkeys(TABLES, 0)
    for table_id, measure in measures.items():
        published = read_table(data_dir / DEC19, table_id)
        for code, offence, value in force_cells(published):
            ours = stored[(table_id, code, offence, measure)]
            assert same_value(ours, value), (table_id, code, offence, ours, value)
            assert measure != "count" or ours is None or ours == value
            checked[table_id] += 1
    assert checked == {"P1": 43 * 22, "P2": 43 * 22, "P3": 43 * 22}
    populations = populations_by_cell(read_file(accessible))
    p3 = read_table(data_dir / DEC19, "P3")
    heading = next(h for h in p3.headings if h.startswith("population figures"))
    forces = [(code, value) for (code, h), value in p3.cells.items() if h == heading and FORCE_CODE.match(code)]
    assert len(forces) == 43
    assert all(same_value(populations[(code, 2018, "residents")][0], value) for code, value in forces)
    assert populations[("E23000005", 2018, "residents")][1:] == ("[x]", "data not available")  # Greater Manchester


def force_cells(table: Published) -> list[tuple[str, str, object]]:
    return [(code, HEADINGS[h], v) for (code, h), v in table.cells.items() if FORCE_CODE.match(code) and h in HEADINGS]


def test_golden_figures_hold_for_a_store_ingesting_the_accessible_layout(
    accessible: Path, data_dir: Path, store: Store
) -> None:
    """Ingested on its own, the accessible workbook gives the statistics the golden tests check: P1's counts
    (Greater Manchester's '[x]' missing, never 0), P2's changes, and rates from P1 counts over P3's population
    that equal P3's published rates to 1 decimal place, or differ only as the population's rounding to 100
    explains."""
    store.ingest([accessible])
    frame = force_statistics(store.backend, Options(source="ons-pfa")).to_pyarrow().to_pylist()
    ours = {(r["area_code"], r["offence"]): r for r in frame if str(r["period_end"]).startswith("2019-12")}
    published = {t: read_table(data_dir / DEC19, t) for t in TABLES}
    for code, offence, value in force_cells(published["P1"]):
        count = ours[(code, offence)]["count"]
        assert (count is None) if isinstance(value, str) else (count == value), (code, offence, count, value)
    for code, offence, value in force_cells(published["P2"]):
        change = ours[(code, offence)]["change_pct"]
        assert same_value(change, value), (code, offence, change, value)
    matched, rated = 0, 0
    for code, offence, value in force_cells(published["P3"]):
        row = ours[(code, offence)]
        if isinstance(value, str):
            assert row["rate_per_1000"] is None, (code, offence)
            continue
        rated += 1
        if ons_round(value) == ons_round(row["rate_per_1000"]):
            matched += 1
        else:
            low, high = (row["count"] / (row["population"] + d) * 1000 for d in (50, -50))
            assert low <= value <= high, (code, offence, value, row["rate_per_1000"])
    assert matched / rated > 0.998


# --- odd variants ---------------------------------------------------------------------------------------------------


def test_more_cover_lines_above_the_header(data_dir: Path, tmp_path: Path, original: Batch) -> None:
    """Thirty lines of cover text: the header is found by its content, and rows are still named as Excel shows them."""
    cover = (*COVER, *(f"Line {n} of cover text about the table." for n in range(24)))
    batch = read_file(accessible_workbook(data_dir, tmp_path / "tables.xlsx", cover=cover))
    assert_same_figures(batch, original)
    first = next(row for row in batch.figures.to_pylist() if row["table_id"] == "P1")
    assert (first["area_code"], first["source_row"], first["source_column"]) == ("K04000001", 33, "C")


def test_notes_on_headings_are_stripped(data_dir: Path, tmp_path: Path, original: Batch) -> None:
    """'[note N]' markers anywhere in a heading, in either case, and on the header's own labels."""

    def more_notes(tables: dict[str, Rows]) -> None:
        header = tables["P1"][len(COVER) + 1]
        assert header[:3] == ["Area code", "Area name", "Total recorded crime (excluding fraud) [note 3]"]
        header[0], header[1] = "Area code [note 11]", "Area name [Note 12]"
        header[2] = "Total recorded crime [note 3] (excluding fraud) [NOTE 4]"
        header[3] = header[3].replace(" [note 4]", "[note 4][note 13]")  # 'Violence against the person[note 4]…'

    batch = read_file(accessible_workbook(data_dir, tmp_path / "tables.xlsx", change=more_notes))
    assert_same_figures(batch, original)


def test_accessible_symbols_keep_the_meaning_the_table_gives_them(accessible: Path) -> None:
    """'[x]', '[c]' and '[z]' are stored as missing values with the symbol and the shorthand line's meaning."""
    cells = {
        (r["table_id"], r["area_code"], r["offence"], r["measure"]): r
        for r in read_file(accessible).figures.to_pylist()
    }
    greater_manchester = cells[("P1", "E23000005", "homicide", "count")]
    city_of_london = cells[("P3", "E23000034", "total-excluding-fraud", "rate_per_1000")]
    few = next(r for r in cells.values() if r["table_id"] == "P2" and r["symbol"] == "[z]")
    assert (greater_manchester["value"], greater_manchester["symbol"]) == (None, "[x]")
    assert greater_manchester["reason"] == "data not available"
    assert (city_of_london["value"], city_of_london["symbol"]) == (None, "[c]")
    assert city_of_london["reason"].startswith("rate per 1,000 population data for City of London have been suppressed")
    assert (few["value"], few["reason"]) == (None, "the base number is fewer than 50")


def test_accessible_symbols_without_a_shorthand_line_have_their_standard_meaning(
    data_dir: Path, tmp_path: Path
) -> None:
    cover = tuple(line for line in COVER if line != SHORTHAND)
    batch = read_file(accessible_workbook(data_dir, tmp_path / "tables.xlsx", cover=cover))
    reasons = {(r["symbol"], r["reason"]) for r in batch.figures.to_pylist() if r["symbol"]}
    assert reasons == {(symbol, ACCESSIBLE_SYMBOLS[symbol]) for symbol in ("[x]", "[c]", "[z]")}


def test_shorthand_reads_the_line_of_the_real_c2_table(data_dir: Path) -> None:
    """The shorthand line of ONS's own accessible Table C2, and the usual ways of writing one."""
    with (data_dir / C2).open(encoding="utf-8-sig", newline="") as handle:
        line = next(row[0] for row in csv.reader(handle) if "shorthand" in row[0])
    assert shorthand(line) == {"[x]": "data are unavailable"}
    assert shorthand("Some shorthand is used: [x] = not available, [c] = confidential; [Z] = not applicable.") == {
        "[x]": "not available",
        "[c]": "confidential",
        "[z]": "not applicable",
    }
    assert shorthand("Link to Notes page [note 1]") == {}


def _rename_header(tables: dict[str, Rows]) -> None:
    header = tables["P2"][len(COVER) + 1]
    assert header[0] == "Area code"
    header[0] = "Code"


def _drop_header(tables: dict[str, Rows]) -> None:
    del tables["P2"][len(COVER) + 1]


@pytest.mark.parametrize(
    ("change", "row", "says"),
    [
        (_rename_header, len(COVER) + 2, "header row has 'Code' where 'Area Code' was expected"),
        (_drop_header, 1, "no header row: no 'Area Code' in column A of rows 1-"),
    ],
    ids=["header-label-renamed", "header-row-missing"],
)
def test_header_not_found_is_one_line_naming_file_sheet_row_and_column(
    data_dir: Path, tmp_path: Path, change: Callable[[dict[str, Rows]], None], row: int, says: str
) -> None:
    path = accessible_workbook(data_dir, tmp_path / "tables.xlsx", sheet_name="Table_{}", change=change)
    with pytest.raises(SourceError) as info:
        read_file(path)
    message = str(info.value)
    assert "\n" not in message
    assert (info.value.file, info.value.sheet, info.value.row, info.value.column) == (path.name, "Table_P2", row, "A")
    assert message.startswith(f"tables.xlsx, sheet 'Table_P2', row {row}, column A: {says}"), message


def test_the_partnership_table_keeps_accessible_symbols_too(data_dir: Path, tmp_path: Path) -> None:
    """Table C2 (already in the accessible layout) takes '[x]', '[c]' and '[z]' cells as the force tables do, with
    the meaning its shorthand line gives ('[x] indicates data are unavailable.') or the standard one."""
    with (data_dir / C2).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = next(i for i, row in enumerate(rows) if " ".join(row[0].split()) == "Police Force Area code")
    homicide = [" ".join(h.split()) for h in rows[header]].index("Homicide")
    for offset, symbol in enumerate(("[x]", "[c]", "[z]"), start=1):  # Avon and Somerset, and its first two CSPs
        rows[header + offset][homicide] = symbol
    path = tmp_path / C2.name
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    cells = {(r["area_code"], r["offence"]): r for r in read_file(path).figures.to_pylist()}
    meanings = {"[x]": "data are unavailable", "[c]": ACCESSIBLE_SYMBOLS["[c]"], "[z]": ACCESSIBLE_SYMBOLS["[z]"]}
    for code, symbol in (("E23000036", "[x]"), ("E22000001", "[c]"), ("E22000002", "[z]")):
        row = cells[(code, "homicide")]
        assert (row["value"], row["symbol"], row["reason"]) == (None, symbol, meanings[symbol])
