"""Broken and hostile input: no file can crash a reader, make it allocate without bound, or be stored as wrong
numbers. Each file is made at test time from a real official file, changed the way a fuzzing run changed it:
an absurd cell reference, a deleted or blanked heading, an oversized CSV field, GeoJSON nested thousands deep,
a number too large for a float, an .ods row repeated a billion times, a duplicated row.

Every failure is one :class:`SourceError` naming the file (and sheet, row, column where they apply), and in a
folder the files after a bad one are still stored.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from typer.testing import CliRunner

from crimestats.cli import app
from crimestats.errors import SourceError
from crimestats.sources import read_file
from crimestats.store import Store
from test_sources_errors import read_rows, write_rows

from conftest import ROOT, table_counts

HOME_OFFICE = Path("home-office/prc-pfa-mar2013-onwards-tables201718.csv")
ONS_PFA = Path("ons-pfa-tables/policeforceareatablesyearendingjune2019.xlsx")
ONS_CSP = Path("ons-csp-tables/policeforceareatablesyejune25final.csv")
BOUNDARIES = Path("boundaries/force_boundaries_ugc.geojson")
HOME_OFFICE_ROWS = 200  # data rows kept from the Home Office CSV


# --- building the files ------------------------------------------------------------------------------------


def csp_header(rows: list[list[str]]) -> int:
    """The index of the C2 table's header row (the row starting 'Police Force Area code')."""
    return next(i for i, row in enumerate(rows) if " ".join(row[0].split()).lower() == "police force area code")


def changed_csp(data_dir: Path, target: Path, change: Callable[[list[list[str]], int], None]) -> Path:
    rows = read_rows(data_dir / ONS_CSP)
    change(rows, csp_header(rows))
    return write_rows(target, rows)


def home_office(data_dir: Path, target: Path, change: Callable[[list[list[str]]], None] | None = None) -> Path:
    rows = read_rows(data_dir / HOME_OFFICE)[: HOME_OFFICE_ROWS + 1]
    if change:
        change(rows)
    return write_rows(target, rows)


def changed_xlsx(data_dir: Path, target: Path, sheet_xml: str, change: Callable[[bytes], bytes]) -> Path:
    """The ONS June 2019 workbook with one worksheet's XML changed (``xl/worksheets/sheet2.xml`` is Table P1)."""
    with zipfile.ZipFile(data_dir / ONS_PFA) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == sheet_xml:
                changed = change(data)
                assert changed != data, "the change did not apply"
                data = changed
            out.writestr(member.filename, data)
    return target


def boundaries(data_dir: Path, target: Path, change: Callable[[dict[str, object]], None]) -> Path:
    collection = json.loads((data_dir / BOUNDARIES).read_text(encoding="utf-8"))
    change(collection)
    target.write_text(json.dumps(collection), encoding="utf-8")
    return target


def features(collection: dict[str, object]) -> list[dict[str, object]]:
    found = collection["features"]
    assert isinstance(found, list)
    return found


def ods(target: Path, rows: list[list[str]], repeat_row: int | None = None, repeats: int = 1) -> Path:
    """An .ods of the rows (numbers as float cells), ended as LibreOffice ends a sheet: an empty row repeated to
    the sheet's last row and empty cells repeated to its last column. ``repeat_row`` is written once with
    ``table:number-rows-repeated="repeats"``."""
    lines = []
    for index, row in enumerate(rows):
        cells = "".join(_ods_cell(value) for value in row)
        repeated = f' table:number-rows-repeated="{repeats}"' if index == repeat_row else ""
        filler = '<table:table-cell table:number-columns-repeated="1016"/>'
        lines.append(f"<table:table-row{repeated}>{cells}{filler}</table:table-row>")
    lines.append(
        '<table:table-row table:number-rows-repeated="1048000">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="2017_18">'
        + "".join(lines)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
        ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        out.writestr("META-INF/manifest.xml", manifest)
        out.writestr("content.xml", content)
    return target


def _ods_cell(value: str) -> str:
    if re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
        text = f"<text:p>{number}</text:p>"
        return f'<table:table-cell office:value-type="float" office:value="{number}">{text}</table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p></table:table-cell>'


def ingest_in_child(store: Path, path: Path) -> subprocess.CompletedProcess[str]:
    """`crimestats ingest PATH` in a child process: a parser that aborts the process fails the test, not the run."""
    return subprocess.run(
        [sys.executable, "-m", "crimestats", "--db", str(store), "ingest", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )


def refused(path: Path) -> SourceError:
    """The error reading the file raises, after checking that storing it changes nothing."""
    with pytest.raises(SourceError) as raised:
        read_file(path)
    with Store(path.with_suffix(".duckdb")) as store:
        before = table_counts(store)
        report = store.ingest([path])
        assert [r.status for r in report.results] == ["failed"]
        assert report.results[0].error == str(raised.value)
        assert table_counts(store) == before
    assert "\n" not in str(raised.value)
    return raised.value


# --- 1. an absurd cell reference ---------------------------------------------------------------------------


def test_an_absurd_cell_reference_is_refused_before_the_parser_can_abort_the_process(
    data_dir: Path, tmp_path: Path
) -> None:
    """python-calamine lays out the rectangle up to the largest cell reference: ZZZZZ99999999 is 39 PB, and the
    failed allocation aborts the process. Run in a child process so that the old code's abort fails the test
    instead of ending the test run."""
    path = changed_xlsx(data_dir, tmp_path / "absurd.xlsx", "xl/worksheets/sheet2.xml", _absurd_reference)
    child = ingest_in_child(tmp_path / "store.duckdb", path)
    assert child.returncode == 1, child.stderr[-2000:]
    lines = [line for line in child.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: absurd.xlsx: sheet 'Table P1' reaches row 99,999,999 and column ZZZZZ: more than the limit of"
        " 1,048,576 rows (CRIMESTATS_MAX_ROWS raises it)"
    ]
    assert "Traceback" not in child.stderr


def _absurd_reference(xml: bytes) -> bytes:
    return xml.replace(b'r="B5"', b'r="ZZZZZ99999999"', 1)


def _moved_reference(xml: bytes) -> bytes:
    """Table P1's cell C12 (a force's count) given the reference of its right-hand neighbour, D12."""
    return xml.replace(b'<c r="C12"', b'<c r="D12"', 1)


def test_a_cell_reference_moved_onto_its_neighbour_is_refused_not_stored_as_the_neighbours_figure(
    data_dir: Path, tmp_path: Path
) -> None:
    """The parser places a cell where its reference says: C12's count would be stored as D12's offence."""
    error = refused(changed_xlsx(data_dir, tmp_path / "moved.xlsx", "xl/worksheets/sheet2.xml", _moved_reference))
    assert str(error) == (
        "moved.xlsx: sheet 'Table P1': cell reference 'D12' is out of place in row 12, after cell D12:"
        " a cell or row moved or repeated"
    )


def test_a_sheet_within_the_rows_and_columns_but_too_many_cells_is_refused(data_dir: Path, tmp_path: Path) -> None:
    path = changed_xlsx(
        data_dir, tmp_path / "wide.xlsx", "xl/worksheets/sheet2.xml", lambda x: x.replace(b'r="B5"', b'r="XFD1048576"')
    )
    error = refused(path)
    assert "17,179,869,184 cells, more than the limit of 10,000,000" in str(error)


# --- 2. the C2 header row ------------------------------------------------------------------------------------


def test_a_deleted_c2_heading_is_an_error_not_figures_shifted_into_the_wrong_columns(
    data_dir: Path, tmp_path: Path
) -> None:
    def delete_homicide(rows: list[list[str]], header: int) -> None:
        column = rows[header].index("Homicide")
        del rows[header][column]

    rows = read_rows(data_dir / ONS_CSP)
    header = csp_header(rows)
    error = refused(changed_csp(data_dir, tmp_path / "deleted.csv", delete_homicide))
    last = len(rows[header]) - 1  # the last figure of the first data row now has no heading above it
    assert (error.row, error.column) == (header + 2, "AC") and last == 28
    assert "a figure under no offence heading" in str(error) and "is a heading missing or blank?" in str(error)


def test_a_blanked_c2_heading_is_an_error_not_an_offence_dropped(data_dir: Path, tmp_path: Path) -> None:
    def blank_homicide(rows: list[list[str]], header: int) -> None:
        rows[header][rows[header].index("Homicide")] = ""

    error = refused(changed_csp(data_dir, tmp_path / "blanked.csv", blank_homicide))
    rows = read_rows(data_dir / ONS_CSP)
    assert (error.row, error.column) == (csp_header(rows) + 2, "I")  # Homicide is column I


def test_a_repeated_c2_heading_is_an_error(data_dir: Path, tmp_path: Path) -> None:
    def repeat_robbery(rows: list[list[str]], header: int) -> None:
        rows[header][rows[header].index("Homicide")] = "Robbery"

    error = refused(changed_csp(data_dir, tmp_path / "repeated.csv", repeat_robbery))
    assert "a second column headed 'Robbery'" in str(error)


# --- 3. tracebacks that stopped the batch ----------------------------------------------------------------------


def test_a_csv_field_over_the_csv_modules_limit_is_an_error_naming_the_record(data_dir: Path, tmp_path: Path) -> None:
    def long_name(rows: list[list[str]], header: int) -> None:
        rows[header + 3][3] = "x" * 200_000

    error = refused(changed_csp(data_dir, tmp_path / "long.csv", long_name))
    rows = read_rows(data_dir / ONS_CSP)
    assert error.row == csp_header(rows) + 4
    assert "field larger than field limit (131072)" in str(error)


def deep_geojson(data_dir: Path, target: Path) -> Path:
    """The boundaries with an array nested 5,000 deep in a feature's coordinates."""
    path = boundaries(data_dir, target, lambda c: None)
    text = path.read_text(encoding="utf-8")
    marker = '"coordinates": ['
    at = text.index(marker) + len(marker)
    path.write_text(text[:at] + "[" * 5000 + "]" * 5000 + "," + text[at:], encoding="utf-8")
    return path


def test_geojson_nested_thousands_deep_is_refused_without_recursion(data_dir: Path, tmp_path: Path) -> None:
    error = refused(deep_geojson(data_dir, tmp_path / "deep.geojson"))
    assert str(error).startswith("deep.geojson: nests 5,00")
    assert "more than the limit of 64 (CRIMESTATS_MAX_JSON_DEPTH raises it)" in str(error)


def test_a_feature_whose_properties_is_a_number_is_an_error(data_dir: Path, tmp_path: Path) -> None:
    def number_properties(collection: dict[str, object]) -> None:
        features(collection)[4]["properties"] = 5

    error = refused(boundaries(data_dir, tmp_path / "number.geojson", number_properties))
    assert str(error) == "number.geojson, row 5: feature 5 has no 'properties' object"


def test_in_a_folder_the_files_after_a_bad_one_are_still_stored(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    boundaries(data_dir, folder / "a-bad.geojson", lambda c: features(c)[4].update(properties=7))
    home_office(data_dir, folder / "b-good.csv")
    with Store(tmp_path / "store.duckdb") as store:
        report = store.ingest([folder])
        assert [(r.path.name, r.status) for r in report.results] == [
            ("a-bad.geojson", "failed"),
            ("b-good.csv", "ingested"),
        ]
        assert table_counts(store)["figures"] == HOME_OFFICE_ROWS


# --- 4. numbers too large for a float ----------------------------------------------------------------------------


def test_a_400_digit_home_office_count_is_an_error_not_infinity(data_dir: Path, tmp_path: Path) -> None:
    def huge(rows: list[list[str]]) -> None:
        rows[5][7] = "9" * 400

    error = refused(home_office(data_dir, tmp_path / "huge.csv", huge))
    assert (error.row, error.column) == (6, "H")
    assert "is too large to be an official figure" in str(error) and "(400 characters)" in str(error)


def test_a_400_digit_c2_count_is_an_error_not_infinity(data_dir: Path, tmp_path: Path) -> None:
    def huge(rows: list[list[str]], header: int) -> None:
        rows[header + 1][8] = "9" * 400

    error = refused(changed_csp(data_dir, tmp_path / "huge.csv", huge))
    assert (error.column, "too large to be an official figure" in str(error)) == ("I", True)


def _infinite(xml: bytes) -> bytes:
    cell = re.search(rb'<c r="C1[0-9]"[^>]*><v>[0-9.]+</v>', xml)
    assert cell is not None
    return xml.replace(cell.group(0), re.sub(rb"<v>[0-9.]+</v>", b"<v>1e309</v>", cell.group(0)), 1)


def test_a_workbook_number_of_1e309_is_an_error_not_infinity(data_dir: Path, tmp_path: Path) -> None:
    path = changed_xlsx(data_dir, tmp_path / "infinite.xlsx", "xl/worksheets/sheet2.xml", _infinite)
    error = refused(path)
    assert error.sheet == "Table P1" and error.column == "C"
    assert "number inf is too large to be an official figure" in str(error)


# --- 5. decompression ------------------------------------------------------------------------------------------


def test_an_ods_row_repeated_a_billion_times_is_refused_before_it_is_expanded(data_dir: Path, tmp_path: Path) -> None:
    rows = read_rows(data_dir / HOME_OFFICE)[:21]
    error = refused(ods(tmp_path / "repeated.ods", rows, repeat_row=3, repeats=1_000_000_000))
    assert "table 1 reaches row 1,000,000,020 and column H: more than the limit of 1,048,576 rows" in str(error)


def test_an_ods_ending_in_empty_repeated_rows_and_cells_is_read_as_written(data_dir: Path, tmp_path: Path) -> None:
    """LibreOffice writes every sheet so: the empty repeats are not counted against the limits."""
    rows = read_rows(data_dir / HOME_OFFICE)[:21]
    batch = read_file(ods(tmp_path / "good.ods", rows))
    assert batch.figures.num_rows == 20
    assert batch.figures.column("value").to_pylist() == [float(row[7]) for row in rows[1:]]


def test_a_workbook_unzipping_past_the_limit_is_refused(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = sum(member.file_size for member in zipfile.ZipFile(data_dir / ONS_PFA).infolist())
    monkeypatch.setenv("CRIMESTATS_MAX_UNZIPPED_BYTES", str(declared - 1))
    error = refused(changed_xlsx(data_dir, tmp_path / "big.xlsx", "xl/worksheets/sheet2.xml", lambda x: x + b" "))
    assert f"unzips to {declared + 1:,} bytes, more than the limit of {declared - 1:,}" in str(error)


def test_a_zip_member_inflating_past_its_declared_size_is_refused(data_dir: Path, tmp_path: Path) -> None:
    """A member's header may lie about its size: what it really inflates to is what counts."""
    assert "damaged zip container" in str(refused(lying_zip(data_dir, tmp_path / "lying.xlsx")))


def lying_zip(data_dir: Path, target: Path) -> Path:
    """The workbook with Table P1's XML 100 times larger than its zip headers say."""
    path = changed_xlsx(data_dir, target, "xl/worksheets/sheet2.xml", lambda x: x + b" " * 100_000)
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("xl/worksheets/sheet2.xml")
    data = bytearray(path.read_bytes())
    name = member.filename.encode()
    central = next(at for at in _all(data, b"PK\x01\x02", 0) if data[at + 46 : at + 46 + len(name)] == name)
    for size_at in (member.header_offset + 22, central + 24):  # the local header's and the directory's
        assert int.from_bytes(data[size_at : size_at + 4], "little") == member.file_size
        data[size_at : size_at + 4] = (member.file_size // 100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def _all(data: bytearray, marker: bytes, start: int) -> list[int]:
    found, at = [], data.find(marker, start)
    while at >= 0:
        found.append(at)
        at = data.find(marker, at + 1)
    return found


def test_a_zip_with_too_many_members_is_refused(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = len(zipfile.ZipFile(data_dir / ONS_PFA).infolist())
    monkeypatch.setenv("CRIMESTATS_MAX_ZIP_MEMBERS", str(members - 1))
    error = refused(changed_xlsx(data_dir, tmp_path / "many.xlsx", "xl/worksheets/sheet2.xml", lambda x: x + b" "))
    assert f"the zip holds {members:,} files, more than the limit of {members - 1:,}" in str(error)


def test_a_limit_set_to_nonsense_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crimestats.errors import CrimestatsError
    from crimestats.sources._base import Limits

    monkeypatch.setenv("CRIMESTATS_MAX_CELLS", "lots")
    with pytest.raises(CrimestatsError, match=r"^CRIMESTATS_MAX_CELLS must be a positive whole number, not 'lots'$"):
        Limits.from_environment()


# --- 8. duplicates -----------------------------------------------------------------------------------------------


def test_an_exact_duplicate_home_office_row_is_an_error_not_summed(data_dir: Path, tmp_path: Path) -> None:
    def duplicate_action_fraud(rows: list[list[str]]) -> None:
        assert rows[1][2] == "Action Fraud" and rows[1][7].strip() == "66776"
        rows.insert(2, list(rows[1]))

    error = refused(home_office(data_dir, tmp_path / "duplicate.csv", duplicate_action_fraud))
    assert (error.row, error.column) == (3, "G")
    assert "repeats row 2: the same force, quarter and offence code 'AF' again" in str(error)


def test_a_repeated_c2_row_is_an_error_not_a_partnership_counted_twice(data_dir: Path, tmp_path: Path) -> None:
    def repeat_kendal(rows: list[list[str]], header: int) -> None:
        rows.insert(header + 41, list(rows[header + 40]))  # South Lakeland, Cumbria

    error = refused(changed_csp(data_dir, tmp_path / "twice.csv", repeat_kendal))
    row = csp_header(read_rows(data_dir / ONS_CSP)) + 42
    assert str(error) == (
        f"twice.csv, row {row}, column C: repeats row {row - 1}: area E22000036 again (it would be counted twice)"
    )


def test_a_repeated_workbook_row_is_an_error(data_dir: Path, tmp_path: Path) -> None:
    def repeat_row(xml: bytes) -> bytes:
        row = re.search(rb'<row r="20".*?</row>', xml, re.DOTALL)
        assert row is not None
        return xml.replace(row.group(0), row.group(0) * 2, 1)

    error = refused(changed_xlsx(data_dir, tmp_path / "twice.xlsx", "xl/worksheets/sheet2.xml", repeat_row))
    assert str(error) == (
        "twice.xlsx: sheet 'Table P1': row reference '20' comes after row 20: a cell or row moved or repeated"
    )


def test_homicide_printed_once_for_each_code_it_combines_is_still_read(data_dir: Path) -> None:
    """The real file prints the combined homicide code 1/4.1/4.10/4.2 four times a force and quarter."""
    rows = read_rows(data_dir / HOME_OFFICE)
    homicide = [r for r in rows if r[2] == "Avon and Somerset" and r[1] == "1" and r[6] == "1/4.1/4.10/4.2"]
    assert len(homicide) == 4
    batch = read_file(data_dir / HOME_OFFICE)
    assert batch.figures.num_rows == len(rows) - 1


def test_a_duplicate_boundary_feature_is_an_error(data_dir: Path, tmp_path: Path) -> None:
    error = refused(boundaries(data_dir, tmp_path / "twice.geojson", lambda c: features(c).append(features(c)[0])))
    total = len(json.loads((data_dir / BOUNDARIES).read_text(encoding="utf-8"))["features"])
    assert (
        str(error)
        == f"twice.geojson, row {total + 1}: a second boundary for Metropolitan Police (the first is feature 1)"
    )


@pytest.mark.parametrize("coordinate", ["NaN", "Infinity", "1e309", "400.5"])
def test_a_coordinate_that_is_not_a_finite_longitude_is_an_error(
    data_dir: Path, tmp_path: Path, coordinate: str
) -> None:
    path = boundaries(data_dir, tmp_path / "nan.geojson", lambda c: None)
    text = path.read_text(encoding="utf-8")
    first = re.search(r'"coordinates": \[\[\[(-?[0-9.]+)', text)
    assert first is not None
    path.write_text(text[: first.start(1)] + coordinate + text[first.end(1) :], encoding="utf-8")
    error = refused(path)
    assert str(error).startswith("nan.geojson")
    assert ("is not valid GeoJSON" in str(error)) or ("row 1, column geometry: coordinates" in str(error))


# --- the acceptance folder -------------------------------------------------------------------------------------


def test_a_folder_of_every_reproducer_and_one_good_file_stores_the_good_file_and_lists_each_bad_one(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    changed_xlsx(data_dir, folder / "absurd.xlsx", "xl/worksheets/sheet2.xml", _absurd_reference)
    changed_csp(data_dir, folder / "deleted.csv", lambda rows, header: rows[header].remove("Homicide"))
    changed_csp(data_dir, folder / "long.csv", lambda rows, header: rows[header + 3].__setitem__(3, "x" * 200_000))
    boundaries(data_dir, folder / "number.geojson", lambda c: features(c)[4].update(properties=5))
    home_office(data_dir, folder / "huge.csv", lambda rows: rows[5].__setitem__(7, "9" * 400))
    ods(folder / "repeated.ods", read_rows(data_dir / HOME_OFFICE)[:21], repeat_row=3, repeats=1_000_000_000)
    home_office(data_dir, folder / "duplicate.csv", lambda rows: rows.insert(2, list(rows[1])))
    changed_csp(
        data_dir, folder / "blanked.csv", lambda rows, head: rows[head].__setitem__(rows[head].index("Homicide"), "")
    )
    deep_geojson(data_dir, folder / "deep.geojson")
    changed_xlsx(data_dir, folder / "infinite.xlsx", "xl/worksheets/sheet2.xml", _infinite)
    lying_zip(data_dir, folder / "lying.xlsx")
    changed_xlsx(data_dir, folder / "moved.xlsx", "xl/worksheets/sheet2.xml", _moved_reference)
    boundaries(data_dir, folder / "twice.geojson", lambda c: features(c).append(features(c)[0]))
    good = home_office(data_dir, folder / "good.csv")
    bad = 13
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "store.duckdb"), "ingest", str(folder)])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == bad and len({line.split(":")[1] for line in errors}) == bad
    assert f"{bad} file(s) failed; the others were stored" in result.stderr
    assert "Traceback" not in result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("ingested")] == [
        f"ingested   {good}  (home-office 2017-06, {HOME_OFFICE_ROWS:,} rows)"
    ]
