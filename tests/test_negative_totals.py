"""A 12-month total below zero is flagged: the Home Office quarterly data holds small negative adjustments (36
in the 2017/18 table), which stay, but a force's offence whose four quarters sum below zero is no count of
offences. Ingest warns of it, naming the file, force, offence and period, and analytics leaves it out of
counts and rates, with the reason. The real table has no such year (its lowest totals are 0); a copy with one
quarter changed has one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crimestats.analytics import figures
from crimestats.cli import app
from crimestats.store import Store
from test_hostile_input import HOME_OFFICE
from test_sources_errors import read_rows, write_rows

FORCE, CODE = "Dorset", "1/4.1/4.10/4.2"  # homicide: 4 offences in 2017/18, and an adjustment of -1 in quarter 4
WARNING = (
    "dorset-homicide.csv: Dorset, Homicide, 12 months to 2018-03: -1 offences, below zero (the quarters' downward"
    " adjustments outweigh the offences recorded); not used as a count"
)


@pytest.fixture(scope="module")
def negative_year(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Home Office table with Dorset's quarter 4 homicide adjustment made -5 (it is -1)."""
    rows = read_rows(data_dir / HOME_OFFICE)
    [row] = [r for r in rows if r[1] == "4" and r[2] == FORCE and r[6] == CODE and r[7].strip() == "-1"]
    row[7] = "-5"
    return write_rows(tmp_path_factory.mktemp("negative") / "dorset-homicide.csv", rows)


def test_the_real_table_has_negative_quarters_but_no_year_below_zero(data_dir: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "store.duckdb") as store:
        [result] = store.ingest([data_dir / HOME_OFFICE]).results
        quarters = store.con.execute("SELECT count(*) FROM figures WHERE value < 0").fetchone()
    assert result.status == "ingested" and quarters == (36,)
    assert not [warning for warning in result.warnings if "below zero" in warning]


def test_a_year_below_zero_is_an_ingest_warning_in_the_report_and_the_cli(negative_year: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "store.duckdb") as store:
        [result] = store.ingest([negative_year]).results
    assert result.status == "ingested" and result.warnings == (WARNING,)
    cli = CliRunner().invoke(app, ["--db", str(tmp_path / "cli.duckdb"), "ingest", str(negative_year)])
    assert cli.exit_code == 0, cli.output
    assert [line for line in cli.stderr.splitlines() if "below zero" in line] == [f"warning: {WARNING}"]


def test_a_year_below_zero_is_no_count_but_its_offence_group_still_adds_it_in(
    negative_year: Path, tmp_path: Path
) -> None:
    with Store(tmp_path / "store.duckdb") as store:
        store.ingest([negative_year])
        counts = figures.annual_counts(store.backend)
        year = counts.filter(counts.area_code == "E23000039", counts.period_end == dt.date(2018, 3, 1)).to_pyarrow()
    by_offence = {row["offence"]: row for row in year.to_pylist()}
    assert by_offence["homicide"]["value"] is None and by_offence["homicide"]["reason"] == figures.NEGATIVE_TOTAL
    assert by_offence["violence-with-injury"]["value"] > 0  # the adjustment is still part of its group's total
