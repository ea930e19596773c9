"""The oracle for moved cell references: an .xlsx cell given another cell's reference (``<c r="B12">`` moved to
``C12``) is placed by the parser where the reference says, so its number could land in another offence's or
force's cell. For workbooks so changed from the real files, what is stored is compared with what the seed file
stores: a figure that differs anywhere but at the moved cell is a wrong number. Each such workbook must be
refused in one line, or stored with every other figure as the seed's.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

import fuzzing
from crimestats.sources import _containers
from crimestats.store import Store

#: The seeds moved in, and the sheets their readers read (a moved cell in another sheet changes nothing stored).
READ_SHEETS = {"ons-pfa.xlsx": ("Table P1", "Table P2", "Table P3"), "population.xlsx": ("MYE4", "MYE5")}
MOVES = 30  # a seed: each is an ingest of the workbook, a few seconds in all

Cell = tuple[str, int, str]  # sheet, row, column


def stored(store: Store) -> dict[Cell, tuple[object, ...]]:
    """Every figure and population of the file stored last, by the cell it was read from."""
    [(file_id,)] = store.con.execute("SELECT max(file_id) FROM files").fetchall()
    rows = store.con.execute(
        """SELECT sheet, source_row, source_column, table_id, area_code, offence, measure, value, symbol
             FROM figures WHERE file_id = $id
           UNION ALL
           SELECT sheet, source_row, source_column, NULL, area_code, CAST(year AS VARCHAR), denominator, value, symbol
             FROM populations WHERE file_id = $id""",
        {"id": file_id},
    ).fetchall()
    return {(sheet, row, column): rest for sheet, row, column, *rest in rows}


def worksheets(path: Path, sheets: tuple[str, ...]) -> list[str]:
    """The zip members holding these sheets."""
    with zipfile.ZipFile(path) as archive:
        return [member for member, name in _containers._worksheet_names(archive).items() if name in sheets]


@pytest.mark.parametrize("name", sorted(READ_SHEETS))
def test_a_moved_cell_reference_is_refused_or_changes_no_other_figure(
    data_dir: Path, tmp_path: Path, name: str
) -> None:
    seed = fuzzing.seed_bytes(data_dir)[name]
    (tmp_path / "seed").mkdir()
    seed_path = tmp_path / "seed" / name
    seed_path.write_bytes(seed)
    members = worksheets(seed_path, READ_SHEETS[name])
    rng = random.Random(f"moved:{name}")
    wrong, outcomes = [], {"ingested": 0, "failed": 0}
    with Store(tmp_path / "moved.duckdb") as store:
        assert store.ingest([seed_path]).results[0].status == "ingested"
        expected = stored(store)
        for number in range(MOVES):
            content, cell, target = fuzzing.move_reference(rng, seed, rng.choice(members))
            path = tmp_path / f"{number}-{name}"
            path.write_bytes(content)
            [result] = store.ingest([path]).results
            outcomes[result.status] += 1
            if result.status == "failed":
                assert result.error and "\n" not in result.error and path.name in result.error
                continue
            found = stored(store)
            differ = {key for key in expected.keys() | found.keys() if expected.get(key) != found.get(key)}
            if others := sorted(key for key in differ if f"{key[2]}{key[1]}" != cell):
                wrong.append(f"{cell} moved to {target}: {len(others)} other figures differ, first {others[0]}")
    assert not wrong, f"{outcomes}; wrong numbers stored: {wrong}"
