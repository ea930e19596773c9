"""Readers that work a column at a time give what a reading row by row gives, and parse only the sheets they need.

The Home Office reader is checked against a straightforward reading of the real CSV with the csv module and the
reference data, row for row; the column rules (whitespace, counts, CSV parsing by Arrow) against the cell rules
they stand for, on awkward cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

import pytest

from crimestats import reference
from crimestats.errors import SourceError
from crimestats.periods import financial_quarter_end
from crimestats.sources import Probe, home_office, read_file, recognise_probe
from crimestats.sources._base import Sheet, parse_count, read_csv, read_csv_columns
from crimestats.sources._columns import WHITESPACE, collapse, counts, strip, text_array

HOME_OFFICE = Path("home-office/prc-pfa-mar2013-onwards-tables201718.csv")
MYE = Path("population/LAD23_Mid_Year_pop_2011_to_2023.xlsx")
ONS_PFA = Path("ons-pfa-tables/pfatablesdec19.xlsx")
AWKWARD_TEXTS = ["", " ", "a", "  a  b ", "\tx\u00a0y\u3000", "\x1cz\x1f", "a\u200bb", "é  ü", "\n\r\n"]
AWKWARD_COUNTS = ["1", " 66776 ", "-00", "1,234 ", "-1,234", "12x", "", "1.5", "1,2x4", "nan", "inf", "1e3", "1,23"]


def straightforward(path: Path) -> list[dict[str, object]]:
    """The open data CSV read with the csv module, one record at a time, as the figures a reader must give."""
    header, *records = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    at = {name: header.index(name) for name in header}
    figures = []
    for number, record in enumerate(records, start=2):
        area = reference.find_area(record[at["Force Name"]])
        code = record[at["Offence Code"]].strip()
        assert area is not None
        figures.append(
            {
                "sheet": None,
                "source_row": number,
                "source_column": None,
                "table_id": "open-data",
                "area_code": area.code,
                "offence": reference.offence_for_code(code),
                "offence_code": code,
                "period_end": financial_quarter_end(record[at["Financial Year"]], int(record[at["Financial Quarter"]])),
                "months": 3,
                "measure": "count",
                "value": float(int(record[at["Number of Offences"]].replace(",", ""))),
                "symbol": None,
                "reason": None,
            }
        )
    return figures


def test_home_office_reader_gives_the_csv_row_for_row(data_dir: Path) -> None:
    batch = home_office.read(data_dir / HOME_OFFICE)
    assert batch.figures.to_pylist() == straightforward(data_dir / HOME_OFFICE)
    assert batch.vintage == "2018-03"


def test_home_office_rare_forms_read_as_row_by_row(data_dir: Path, tmp_path: Path) -> None:
    """Line breaks as CRLF, empty lines, a byte order mark and a count in other digits read like the plain CSV."""
    lines = (data_dir / HOME_OFFICE).read_text(encoding="utf-8-sig").splitlines()[:40]
    lines[10] = lines[10].rsplit(",", 1)[0] + ", \u0661\u0662 "  # Arabic-Indic 12: Python reads it, so must we
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    awkward = tmp_path / "awkward.csv"
    awkward.write_text("\ufeff" + "\r\n".join(lines[:20] + [""] + lines[20:]) + "\r\n", encoding="utf-8")
    expected = {(f["source_row"], f["value"]) for f in read_file(plain).figures.to_pylist()}
    got = read_file(awkward).figures.to_pylist()
    assert (11, 12.0) in expected and len(expected) == 39
    assert {(f["source_row"] if f["source_row"] <= 20 else f["source_row"] - 1, f["value"]) for f in got} == expected


def test_whitespace_is_pythons() -> None:
    assert set(WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}


def test_collapse_and_strip_are_pythons() -> None:
    texts = text_array(AWKWARD_TEXTS)
    assert collapse(texts).to_pylist() == [" ".join(t.split()) for t in AWKWARD_TEXTS]
    assert strip(texts).to_pylist() == [t.strip() for t in AWKWARD_TEXTS]


def test_cells_as_text_are_sheet_text() -> None:
    cells: list[object] = [80.0, 80.5, 3, True, dt.date(2019, 3, 1), " a  b ", -0.0, 1e20]
    sheet = Sheet("f", None, [[cell] for cell in cells])
    assert sheet.texts(0).to_pylist() == [sheet.text(row, 0) for row in range(len(cells))]


def test_counts_read_or_flag_as_parse_count() -> None:
    sheet = Sheet("f", None, [[text] for text in AWKWARD_COUNTS])
    values, flagged = counts(sheet.column(0))
    for row, text in enumerate(AWKWARD_COUNTS):
        try:
            expected: float | None = float(parse_count(sheet, row, 0))
        except (SourceError, ValueError, OverflowError):
            expected = None
        assert flagged[row] == (expected is None), text
        if expected is not None:
            assert values[row] == expected and str(values[row]) == str(expected), text


@pytest.mark.parametrize(
    "text",
    [
        'a,b,c\n1,"x, y",3\n',
        'a,b,c\r\n"line\nbreak","say ""hi""",\r\n',
        "\ufeffa,b\n,\n\n1,2\n",
        'a,b\n1,"2\n',  # an open quote: not Arrow's to parse
        "a,b\n1\n",  # a short row
        "a,b\r1,2\r",  # carriage returns alone
        "a,b\n1,2",  # no line break at the end
    ],
)
def test_arrow_parses_a_csv_as_the_csv_module(text: str, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    try:
        expected = read_csv(path)
    except Exception as exc:
        with pytest.raises(type(exc)) as info:
            read_csv_columns(path)
        assert str(info.value) == str(exc)
        return
    sheet = read_csv_columns(path)
    rows = [list(row) for row in sheet.rows]
    assert [row for row in rows if any(row)] == [row for row in expected.rows if any(row)]
    assert len(rows) == len(expected.rows)


def test_ingest_parses_only_the_sheets_a_reader_needs(data_dir: Path) -> None:
    for path, needed in ((MYE, {"MYE4", "MYE5"}), (ONS_PFA, {"Notes", "Table P1", "Table P2", "Table P3"})):
        probe = Probe.of(data_dir / path)
        reader = recognise_probe(probe)
        assert reader is not None
        read_file(data_dir / path, probe, reader)
        assert probe.workbook is not None
        assert set(probe.workbook._sheets) == needed, path
