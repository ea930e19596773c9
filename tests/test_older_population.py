"""The newest release has rates: when the store lacks the estimate ONS would use, the latest one is used, and said.

The year ending June 2025 (ONS Table C2) would take the mid-2024 estimate; the store's estimates end at mid-2023,
so its rates use mid-2023, name it in the row and the title, and carry a caveat; --population-year overrides.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from crimestats import analytics, caveats
from crimestats.analytics import Options
from crimestats.cli import app
from crimestats.store import Store

runner = CliRunner()
NEWEST = "2025-06"
LOOKUP = "Local_Authority_District_to_CSPs_to_Police_Force_Areas_(December__2023)_Lookup_.csv"
UNRATED = {"E23000034", "BTP"}  # City of London (ONS publishes no rate) and British Transport Police (no residents)


@pytest.fixture(scope="module")
def mid_2023(data_dir: Path) -> dict[str, int]:
    """Mid-2023 residents of each force area and of England and Wales, from MYE4 and the official lookup."""
    book = openpyxl.load_workbook(data_dir / "population" / "LAD23_Mid_Year_pop_2011_to_2023.xlsx", read_only=True)
    rows = list(book["MYE4"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Code")
    column = rows[header].index("Mid-2023")
    by_area = {str(r[0]): int(r[column]) for r in rows[header + 1 :] if r[0]}
    book.close()
    with (data_dir / "population" / LOOKUP).open(encoding="utf-8-sig") as handle:
        force_of = {r["LAD23CD"]: r["PFA23CD"] for r in csv.DictReader(handle)}
    forces: dict[str, int] = {"K04000001": by_area["K04000001"]}
    for lad, force in force_of.items():
        forces[force] = forces.get(force, 0) + by_area[lad]
    return forces


def _league(store: Store, **options: Any) -> list[dict[str, Any]]:
    return analytics.league_table(store, NEWEST, "theft-offences", Options(**options)).to_pylist()


def test_the_newest_release_has_rates_on_the_latest_estimate(loaded_store: Store, mid_2023: dict[str, int]) -> None:
    rated = [r for r in _league(loaded_store) if r["force_code"] not in UNRATED]
    assert len(rated) == 42
    for row in rated:
        assert row["population"] == mid_2023[row["force_code"]], row
        assert math.isclose(row["rate_per_1000"], row["count"] / row["population"] * 1000)
        assert (row["population_year"], row["population_older"]) == (2023, True)
        assert row["population_source"] == (
            "ONS mid-year estimates, mid-2023 (release mid-2023; the latest in the store: ONS would use mid-2024)"
        )
        assert row["rank"] is not None


def test_population_year_overrides_the_latest_estimate(loaded_store: Store) -> None:
    rows = [r for r in _league(loaded_store, population_year=2022) if r["force_code"] not in UNRATED]
    assert {(r["population_year"], r["population_older"]) for r in rows} == {(2022, False)}
    assert all(r["rate_per_1000"] is not None and "mid-2022" in r["population_source"] for r in rows)


def test_releases_with_their_estimate_in_the_store_are_unchanged(loaded_store: Store) -> None:
    for period, year in (("2019-09", 2018), ("2018-03", 2016)):
        rows = analytics.league_table(loaded_store, period, options=Options(population="ons-mye")).to_pylist()
        assert {(r["population_year"], r["population_older"]) for r in rows} == {(year, False)}


def test_totals_of_the_newest_release_have_rates(loaded_store: Store, mid_2023: dict[str, int]) -> None:
    rows = analytics.totals_table(loaded_store, NEWEST, "theft-offences").to_pylist()
    national = next(r for r in rows if r["area_code"] == "K04000001")
    assert national["population"] == mid_2023["K04000001"]
    assert (national["population_year"], national["population_older"]) == (2023, True)
    assert math.isclose(national["rate_per_1000"], national["count"] / national["population"] * 1000)


@pytest.mark.parametrize("command", ["table", "totals"])
def test_the_title_names_the_estimate_and_the_caveat_is_printed(cli_store: Store, command: str) -> None:
    args = ["--db", str(cli_store.path), command, "--period", NEWEST, "--offence", "theft-offences"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    printed = " ".join(result.stdout.split())  # the title wraps at the table's width
    title = "Theft offences, year ending June 2025 (rates use the mid-2023 population estimate, the latest available)"
    assert printed.startswith(title)
    older = caveats.caveat("population-older-estimate").text
    assert "use an older population estimate" in older
    assert f"Note: {older}" in printed
    overridden = runner.invoke(app, [*args, "--population-year", "2023"])
    assert overridden.exit_code == 0, overridden.output
    assert overridden.stdout.splitlines()[0] == "Theft offences, year ending June 2025"
    assert older not in " ".join(overridden.stdout.split())


def test_the_older_population_caveat_applies_only_when_asked_for() -> None:
    ids = {c.id for c in caveats.caveats_for(offence="theft-offences", rate=True)}
    assert "population-older-estimate" not in ids
    asked = {c.id for c in caveats.caveats_for(offence="theft-offences", rate=True, older_population=True)}
    assert "population-older-estimate" in asked


@pytest.mark.parametrize("force", [None, "wiltshire"])
def test_reports_carry_the_older_population_caveat_only_when_their_rates_use_one(
    loaded_store: Store, force: str | None
) -> None:
    from crimestats.reports.build import force_report
    from crimestats.reports.national import national_report
    from crimestats.reports.render import render_markdown

    def report(period: str) -> Any:
        if force is None:
            return national_report(loaded_store, period, offence="theft-offences")
        return force_report(loaded_store, force, period, offence="theft-offences")

    older = caveats.caveat("population-older-estimate")
    newest, published = report(NEWEST), report("2019-09")
    assert older.id in {c["id"] for c in newest.caveats}
    assert older.text in render_markdown(newest)
    assert older.id not in {c["id"] for c in published.caveats}
    assert older.text not in render_markdown(published)
