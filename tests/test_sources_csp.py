"""The ONS community safety partnership table (C2, year ending June 2025) against its own CSV, read independently."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from crimestats.analytics import Options, league_table
from crimestats.sources import read_file
from crimestats.store import Store

C2 = "ons-csp-tables/policeforceareatablesyejune25final.csv"


def _records(data_dir: Path) -> tuple[list[str], list[list[str]]]:
    with (data_dir / C2).open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header = next(i for i, r in enumerate(rows) if r and " ".join(r[0].split()) == "Police Force Area code")
    return [" ".join(h.split()) for h in rows[header]], [r for r in rows[header + 1 :] if r and r[0]]


def _number(text: str) -> float:
    return float(text.replace(",", "").strip())


@pytest.fixture(scope="module")
def stored(data_dir: Path) -> dict[tuple[str, str], dict]:
    batch = read_file(data_dir / C2)
    return {(r["area_code"], r["offence"]): r for r in batch.figures.to_pylist()}


def test_force_total_rows_are_read_exactly(data_dir: Path, stored: dict) -> None:
    header, rows = _records(data_dir)
    total = header.index("Total recorded crime (excluding fraud)")
    shoplifting = header.index("Shoplifting")
    forces = [r for r in rows if not r[2] and not r[3]]
    assert len(forces) == 42  # every force but City of London, which is printed only as its one partnership
    for row in forces:
        code = "W15000002" if row[1].strip() == "Gwent" else row[0]
        assert stored[(code, "total-excluding-fraud")]["value"] == _number(row[total]), row[:2]
        assert stored[(code, "shoplifting")]["value"] == _number(row[shoplifting]), row[:2]


def test_partnership_rows_are_kept_with_their_codes(data_dir: Path, stored: dict) -> None:
    header, rows = _records(data_dir)
    total = header.index("Total recorded crime (excluding fraud)")
    for row in rows:
        if row[2]:
            assert stored[(row[2], "total-excluding-fraud")]["value"] == _number(row[total]), row[:4]


def test_city_of_london_total_is_summed_from_its_partnership_and_says_so(data_dir: Path, stored: dict) -> None:
    header, rows = _records(data_dir)
    total = header.index("Total recorded crime (excluding fraud)")
    city = [r for r in rows if r[0] == "E23000034"]
    assert stored[("E23000034", "total-excluding-fraud")]["value"] == sum(_number(r[total]) for r in city)
    assert "summed" in stored[("E23000034", "total-excluding-fraud")]["reason"]


def test_gwent_row_filed_under_south_wales_code_is_reported(data_dir: Path) -> None:
    warnings = read_file(data_dir / C2).warnings
    assert any("W15000003 is South Wales but the name is 'Gwent'" in w for w in warnings)


def test_league_table_for_june_2025_ranks_all_forces_but_city_of_london(loaded_store: Store) -> None:
    options = Options(population_year=2023)
    rows = league_table(loaded_store, "2025-06", options=options).to_pylist()
    ranked = [r for r in rows if r["rank"] is not None]
    assert len(ranked) == 42 and {r["source"] for r in rows} == {"ons-csp"}
    assert all("mid-2023" in r["population_source"] for r in ranked)
