"""Legacy .xls workbooks: python-calamine allocates a sheet from the cell indexes of the binary format, and a
failed allocation aborts the process, so an .xls is parsed in a child process with a memory limit
(``sources/_legacy.py``). A good one reads as before; one whose cells would take terabytes is its file's one-line
error, and the files after it are still stored. The workbooks are written byte by byte (tests/legacy_xls.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crimestats.errors import SourceError
from crimestats.sources._base import Workbook
from legacy_xls import write_xls
from test_hostile_input import home_office, ingest_in_child

CELLS = {(0, 0): 1.0, (1, 1): 2.5, (2, 0): 3.0}
DIED = "cannot open as a spreadsheet (the parser died (SIGABRT), most likely asking for more than the limit of"


def test_a_legacy_workbook_is_read_as_calamine_reads_it(tmp_path: Path) -> None:
    workbook = Workbook(write_xls(tmp_path / "small.xls", "Data", CELLS))
    assert workbook.names == ("Data",)
    assert workbook["Data"].rows == [[1.0, ""], ["", 2.5], [3.0, ""]]


@pytest.mark.parametrize(
    ("cells", "dimensions"),
    [({**CELLS, (65535, 65535): 4.0}, None), (CELLS, (4_000_000_000, 65535))],
    ids=["a cell at the far corner", "dimensions of four billion rows"],
)
def test_a_legacy_workbook_that_would_take_terabytes_is_one_error(
    tmp_path: Path, cells: dict[tuple[int, int], float], dimensions: tuple[int, int] | None
) -> None:
    with pytest.raises(SourceError) as raised:
        Workbook(write_xls(tmp_path / "huge.xls", "Data", cells, dimensions))
    assert str(raised.value).startswith(f"huge.xls: {DIED} 2,147,483,648 bytes of memory")


def test_in_a_folder_a_legacy_workbook_that_aborts_the_parser_is_one_line_and_the_rest_is_stored(
    data_dir: Path, tmp_path: Path
) -> None:
    """Through the CLI in a child process, so that the old code's abort fails the test, not the test run."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    write_xls(folder / "a-huge.xls", "Data", {**CELLS, (65535, 65535): 4.0})
    home_office(data_dir, folder / "b-good.csv")
    child = ingest_in_child(tmp_path / "store.duckdb", folder)
    assert child.returncode == 1, child.stderr[-2000:]
    errors = [line for line in child.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: a-huge.xls: {DIED}")
    assert "ingested" in child.stdout and "b-good.csv" in child.stdout


def test_a_file_named_xls_that_is_not_one_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "text.xls"
    path.write_text("Force,Count\nKent,5\n")
    with pytest.raises(SourceError) as raised:
        Workbook(path)
    assert str(raised.value).startswith("text.xls: cannot open as a spreadsheet (Cfb error: Invalid OLE")
