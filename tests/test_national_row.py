"""England and Wales at the foot of a league table, like for like: "Wiltshire 4.1 against 8.0" in one command.

The row is the England and Wales total summed from the same forces (Greater Manchester left out in the year
ending September 2019, as ONS does), in the table view under the forces, in the JSON as ``national`` and in the
library's league table; it reproduces the published ONS figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import crimestats
from crimestats.cli import app
from crimestats.store import Store

from official import ons_round, read_table

runner = CliRunner()
SEPTEMBER_2019 = "policeforceareatablesyearendingseptember2019.xlsx"
NATIONAL = "K04000001"


def _run(store: Store, *args: str) -> str:
    result = runner.invoke(app, ["--db", str(store.path), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(("offence", "heading"), [("stalking-and-harassment", "stalking and harassment"), (None, None)])
def test_table_json_has_england_and_wales_as_published(
    cli_store: Store, data_dir: Path, offence: str | None, heading: str | None
) -> None:
    args = ["table", "--period", "2019-09", "--format", "json", *(["--offence", offence] if offence else [])]
    printed = json.loads(_run(cli_store, *args))
    national = printed["national"]
    heading = heading or "total recorded crime excluding fraud"
    tables = data_dir / "ons-pfa-tables" / SEPTEMBER_2019
    p1, p2, p3 = (read_table(tables, table) for table in ("P1", "P2", "P3"))
    assert (national["area_code"], national["area"]) == (NATIONAL, "England and Wales (excluding Greater Manchester)")
    assert national["count"] == p1.cells[(NATIONAL, heading)]
    assert national["change_pct"] == pytest.approx(p2.cells[(NATIONAL, heading)])
    assert ons_round(national["rate_per_1000"]) == ons_round(float(p3.cells[(NATIONAL, heading)]))  # type: ignore[arg-type]
    # like for like: the forces (and British Transport Police) of the rows above, and no other
    assert national["count"] == sum(r["count"] for r in printed["rows"] if r["count"] is not None)
    totals = json.loads(_run(cli_store, "totals", "--period", "2019-09", "--format", "json", *args[5:]))
    assert national == next(r for r in totals if r["area_code"] == NATIONAL)


def test_table_prints_england_and_wales_below_the_forces(cli_store: Store) -> None:
    out = _run(cli_store, "table", "--period", "2019-09", "--offence", "stalking-and-harassment")
    lines = out.splitlines()
    wiltshire = next(i for i, line in enumerate(lines) if "│ Wiltshire " in line)
    national = next(i for i, line in enumerate(lines) if "England and Wales (excluding" in line)
    assert wiltshire < national
    assert all("of 41" not in line for line in lines[national:])  # unranked, after every force
    cells = [cell.strip() for cell in lines[national].split("│")]
    assert cells[1] == "" and cells[3:5] == ["448,960", "8.0"] and "4.1" in lines[wiltshire]
    csv_out = _run(cli_store, "table", "--period", "2019-09", "--format", "csv")
    assert NATIONAL not in csv_out  # a CSV holds the forces only


def test_the_library_league_table_carries_the_same_national_figures(cli_store: Store) -> None:
    printed = json.loads(_run(cli_store, "table", "--period", "2019-09", "--format", "json"))
    with crimestats.open(cli_store.path) as stats:
        league = stats.league_table("2019-09")
    assert league.national == printed["national"]
    assert league.national is not None and league.national["excluded"] == ["Greater Manchester"]
