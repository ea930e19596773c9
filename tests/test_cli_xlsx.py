"""`--format xlsx --out FILE`: the workbook holds what `--format json` prints, with its notes and sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from crimestats.store import Store
from test_cli import run

#: Each command, and where the rows are in its JSON (None: the JSON is the list of rows).
COMMANDS = [
    (["table", "-p", "2019-09", "-o", "stalking-and-harassment"], "rows"),
    (["force", "Wiltshire", "-p", "2019-09"], "rows"),
    (["totals", "-p", "2019-09", "-o", "homicide"], None),
    (["trend", "Wiltshire", "-o", "burglary"], "rows"),
    (["peers", "Wiltshire", "-p", "2019-09"], "members"),
    (["funnel", "-p", "2019-09", "-o", "robbery"], "rows"),
]


def as_cell(value: Any) -> Any:
    """A JSON value as the workbook holds it: lists joined with '; ', objects as JSON text."""
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
        return json.dumps(value, ensure_ascii=False)
    return "; ".join(map(str, value)) if isinstance(value, list) else value


def approx(value: Any) -> Any:
    """A float as Excel keeps it (openpyxl writes 16 significant digits); anything else as it is."""
    return pytest.approx(value, rel=1e-15, abs=0) if isinstance(value, float) else value


@pytest.mark.parametrize(("args", "key"), COMMANDS, ids=[args[0] for args, _ in COMMANDS])
def test_the_workbook_holds_the_json_rows_and_the_notes(
    cli_store: Store, tmp_path: Path, args: list[str], key: str | None
) -> None:
    code, out, err = run(cli_store, *args, "--format", "json")
    assert code == 0, err
    printed = json.loads(out)
    rows = printed if key is None else printed[key]
    path = tmp_path / "figures.xlsx"
    code, out, err = run(cli_store, *args, "--format", "xlsx", "--out", str(path))
    assert code == 0, err
    assert out == "" and err.strip() == f"wrote {path}"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["figures", "notes"]
    [header, *cells] = [list(row) for row in book["figures"].iter_rows(values_only=True)]
    assert header == list(rows[0])
    expected = [[as_cell(row[k]) for k in header] for row in rows]
    assert cells == [[approx(value) for value in row] for row in expected]  # every figure, at full precision
    notes = [row[0] for row in book["notes"].iter_rows(values_only=True)]
    code, table, _ = run(cli_store, *args)
    assert notes[0] == table.splitlines()[0]  # the title the table prints
    assert "Source: police recorded crime, Home Office; ONS." in " ".join(notes)
    assert all(f"Note: {note}" in table for note in notes[1:] if not note.startswith(("Source:", "Figures from")))


def test_a_workbook_names_the_files_its_figures_come_from(cli_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "league.xlsx"
    assert run(cli_store, "table", "-p", "2019-09", "-f", "xlsx", "--out", str(path))[0] == 0
    notes = [row[0] for row in openpyxl.load_workbook(path)["notes"].iter_rows(values_only=True)]
    assert "Figures from policeforceareatablesyearendingseptember2019.xlsx (ons-pfa 2019-09)." in notes
    assert any("Greater Manchester Police could not supply crime data from July 2019" in note for note in notes)


def test_out_writes_csv_and_json_as_printed(cli_store: Store, tmp_path: Path) -> None:
    for format in ("csv", "json"):
        path = tmp_path / f"totals.{format}"
        args = ["totals", "-p", "2019-09", "-f", format]
        assert run(cli_store, *args, "--out", str(path))[0] == 0
        assert path.read_text(encoding="utf-8") == run(cli_store, *args)[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["table", "-p", "2019-09", "-f", "xlsx"], "error: --format xlsx writes a workbook: give --out FILE.xlsx"),
        (["table", "-p", "2019-09", "--out", "x.txt"], "error: --out goes with --format csv, json or xlsx"),
        (["trend", "Wiltshire", "-f", "xlsx", "--out", "/nonexistent/folder/t.xlsx"], "error: cannot write"),
    ],
)
def test_xlsx_without_a_file_to_write_is_a_one_line_error(cli_store: Store, args: list[str], message: str) -> None:
    code, _, err = run(cli_store, *args)
    assert code == 1 and err.startswith(message) and len(err.strip().splitlines()) == 1
