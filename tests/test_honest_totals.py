"""A total's year-earlier count is the like-for-like sum its change was computed from, or blank with the reason.

On the real files: for every period and offence the store holds, each region's, country's and England and
Wales' previous count belongs to the same forces as its count, agrees with its change, and never exceeds the
total that contains it; the published ONS totals (Tables P1 and P2) are reproduced.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from typer.testing import CliRunner

from crimestats import reference
from crimestats.analytics import materialised
from crimestats.cli import app
from crimestats.periods import format_period
from crimestats.store import Store

from conftest import VINTAGES
from official import HEADINGS, Published

runner = CliRunner()

NATIONAL, ENGLAND, WALES = "K04000001", "E92000001", "W92000004"


def _members() -> dict[str, set[str]]:
    """total code → the forces (and British Transport Police) it sums."""
    parent = {a.code: a.parent for a in reference.areas()}
    members: dict[str, set[str]] = {}
    for area in reference.areas():
        if area.kind in ("force", "transport"):
            node = area.parent
            while node is not None:
                members.setdefault(node, set()).add(area.code)
                node = parent.get(node)
    return members


@pytest.fixture(scope="module")
def totals(loaded_store: Store) -> list[dict[str, Any]]:
    return materialised.totals(loaded_store).to_pylist()


@pytest.fixture(scope="module")
def forces(loaded_store: Store) -> dict[tuple[str, str, Any], dict[str, Any]]:
    rows = materialised.forces(loaded_store, columns="area_code, offence, period_end, count, previous_count")
    return {(r["area_code"], r["offence"], r["period_end"]): r for r in rows.to_pylist()}


def test_a_previous_count_agrees_with_the_change_it_is_shown_with(totals: list[dict[str, Any]]) -> None:
    checked = 0
    for row in totals:
        if row["change_pct"] is not None:
            assert row["previous_count"] is not None, row
            implied = row["count"] / (1 + row["change_pct"] / 100)
            assert abs(implied - row["previous_count"]) <= 0.5 + 1e-6, row
            assert row["change"] == row["count"] - row["previous_count"], row
            checked += 1
        elif row["count"] is not None:
            assert row["change_note"], row  # blank, with the reason
    assert checked > 1000


def test_a_previous_count_sums_the_same_forces_as_the_count(
    totals: list[dict[str, Any]], forces: dict[tuple[str, str, Any], dict[str, Any]]
) -> None:
    members = _members()
    summed = 0
    for row in totals:
        if row["previous_count"] is None:
            continue
        parts = [forces[(code, row["offence"], row["period_end"])] for code in members[row["area_code"]]]
        counted = [p for p in parts if p["count"] is not None]
        assert row["count"] == sum(p["count"] for p in counted), row
        if all(p["previous_count"] is not None for p in counted):
            assert row["previous_count"] == sum(p["previous_count"] for p in counted), row
            summed += 1
    assert summed > 1000


def test_a_part_never_had_more_offences_a_year_earlier_than_the_whole(totals: list[dict[str, Any]]) -> None:
    by_key = {(r["area_code"], r["offence"], r["period_end"]): r for r in totals}
    parent = {a.code: a.parent for a in reference.areas()}
    compared = 0
    for (code, offence, period), row in by_key.items():
        whole = by_key.get((parent.get(code) or "", offence, period))
        if whole is None or row["previous_count"] is None or whole["previous_count"] is None:
            continue
        assert row["previous_count"] <= whole["previous_count"], (row, whole)
        compared += 1
    assert compared > 1000


@pytest.mark.parametrize("vintage", VINTAGES)
def test_totals_reproduce_the_published_count_change_and_the_year_earlier_count_it_implies(
    totals: list[dict[str, Any]], published: dict[str, dict[str, Published]], vintage: str
) -> None:
    """Every region, country and England and Wales: the P1 count, the P2 change, and the year-earlier count that
    change implies (in the year ending September 2019, homicide 617 against 654, not 137)."""
    p1, p2 = published[vintage]["P1"], published[vintage]["P2"]
    by_key = {(r["area_code"], r["offence"]): r for r in totals if format_period(r["period_end"]) == vintage}
    checked = 0
    for (code, heading), change in p2.cells.items():
        row = by_key.get((code, HEADINGS.get(heading, "")))
        if row is None or not isinstance(change, int | float) or not isinstance(p1.cells.get((code, heading)), int):
            continue
        assert row["count"] == p1.cells[(code, heading)], row
        assert row["change_pct"] == pytest.approx(change), row
        assert row["previous_count"] == round(row["count"] / (1 + change / 100)), row
        checked += 1
    assert checked > 150


def test_totals_cli_prints_the_year_earlier_count_the_change_is_on(cli_store: Store) -> None:
    """`crimestats totals --period 2019-09 --offence homicide`: England and Wales 617 against 654 (ONS: -5.7%),
    England's year-earlier count below it, and Wales (too few homicides for ONS to show a change) blank with why."""
    result = runner.invoke(
        app, ["--db", str(cli_store.path), "totals", "-p", "2019-09", "-o", "homicide", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["area_code"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    national, england, wales = rows[NATIONAL], rows[ENGLAND], rows[WALES]
    assert (national["count"], national["previous_count"]) == ("617", "654")
    assert int(england["previous_count"]) <= int(national["previous_count"])
    assert wales["previous_count"] == wales["change_pct"] == ""
    assert wales["change_note"] == "not shown in ONS Table P2: the base number is fewer than 50"
    text = runner.invoke(app, ["--db", str(cli_store.path), "totals", "-p", "2019-09", "-o", "homicide"]).stdout
    national = next(line for line in text.splitlines() if line.startswith("│ England and Wales"))
    assert "A year earlier" in text.replace("\n", " ") and [c.strip() for c in national.split("│")][2:7] == [
        "617",
        "56,303,500",
        "0.011",
        "654",
        "-6",
    ]


def test_the_national_report_a_year_earlier_column_is_the_one_the_change_is_on(loaded_store: Store) -> None:
    """The national report's "A year earlier" for homicide, year ending September 2019: 654 (617 at -5.7%)."""
    from crimestats.reports.national import national_report

    report = national_report(loaded_store, "2019-09")
    homicide = next(row for row in report.table("offences").rows if row["offence"] == "homicide")
    assert (homicide["count"], homicide["previous_count"]) == (617, 654)
    for row in report.table("offences").rows:
        if row["change_pct"] is not None:
            assert abs(row["count"] / (1 + row["change_pct"] / 100) - row["previous_count"]) <= 0.5 + 1e-6, row
