"""crimestats.open(): the library twin of every CLI command, on the store the CLI filled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import crimestats
from crimestats.cli import app

from conftest import copy_of

runner = CliRunner()


@pytest.fixture(scope="module")
def store_path(ingested_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_of(ingested_file, tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="module")
def stats(store_path: Path) -> Iterator[crimestats.Crimestats]:
    with crimestats.open(store_path) as opened:
        yield opened


def cli_json(store_path: Path, *args: str) -> object:
    result = runner.invoke(app, ["--db", str(store_path), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_league_table_is_what_the_cli_prints(stats: crimestats.Crimestats, store_path: Path) -> None:
    league = stats.league_table("2019-09", "Stalking and harassment")
    assert (league.period, league.offence, league.period_label) == (
        "2019-09",
        "stalking-and-harassment",
        "year ending September 2019",
    )
    # The library's result and the CLI's JSON come from one call: equal once dates are written as JSON writes them.
    assert json.loads(json.dumps(league.to_dict(), default=str)) == cli_json(
        store_path, "table", "-p", "2019-09", "-o", "stalking-and-harassment"
    )
    frame = league.to_pandas()
    assert list(frame["force"][:2]) == ["Wiltshire", "North Yorkshire"] and len(frame) == 44
    assert league.to_arrow().num_rows == 44


def test_a_force_profile_is_what_the_cli_prints(stats: crimestats.Crimestats, store_path: Path) -> None:
    profile = stats.force("Wiltshire Police", "2019-09")
    printed = cli_json(store_path, "force", "Wiltshire", "-p", "2019-09")
    assert isinstance(printed, dict)
    assert (
        (profile.force_code, profile.force) == (printed["force_code"], printed["force"]) == ("E23000038", "Wiltshire")
    )
    assert json.loads(json.dumps(profile.to_dict()["rows"], default=str)) == printed["rows"]


def test_totals_trend_funnel_peers_and_findings(stats: crimestats.Crimestats, store_path: Path) -> None:
    totals = stats.totals("2019-09", "homicide")
    assert totals.to_dict()["rows"] == cli_json(store_path, "totals", "-p", "2019-09", "-o", "homicide")
    trend = stats.trend("burglary")
    national = trend.series["K04000001"]
    assert [point["period"] for point in national] == sorted(point["period"] for point in national)
    assert trend.to_arrow().num_rows == sum(len(points) for points in trend.series.values())
    funnel = stats.funnel("2019-09")
    printed = cli_json(store_path, "funnel", "-p", "2019-09")
    assert isinstance(printed, dict)
    assert funnel["target"] == printed["target"] and funnel.to_arrow().num_rows == len(printed["rows"])
    peers = stats.peers("Wiltshire", "2019-09")
    assert (
        peers.to_dict()["weighted_mean"]
        == cli_json(store_path, "peers", "Wiltshire", "-p", "2019-09")[
            "weighted_mean"  # type: ignore[index]
        ]
    )
    findings = stats.findings("Wiltshire", "2019-09")
    assert (
        findings.to_dict()["findings"][0]["text"]
        == cli_json(store_path, "findings", "Wiltshire", "-p", "2019-09")[
            "findings"  # type: ignore[index]
        ][0]["text"]
    )


def test_a_report_model_and_options(stats: crimestats.Crimestats) -> None:
    report = stats.report("Wiltshire", "2019-09")
    assert report.force_code == "E23000038" and report.period == "2019-09"
    league = stats.league_table("2019-09", suppress=False)
    city = next(row for row in league.to_dict()["rows"] if row["force"] == "City of London")
    assert city["rank"] is not None and city["rate_per_1000"] is not None


def test_bad_input_is_refused_where_it_enters(stats: crimestats.Crimestats) -> None:
    with pytest.raises(crimestats.PeriodError, match="quarter end"):
        stats.league_table("2019-08")
    with pytest.raises(crimestats.UnknownOffenceError, match="unknown offence 'shoplifting-ish'"):
        stats.league_table("2019-09", "shoplifting-ish")
    with pytest.raises(crimestats.UnknownAreaError):
        stats.force("Atlantis", "2019-09")
    with pytest.raises(TypeError):
        stats.league_table("2019-09", colour="red")


def test_the_public_surface_is_curated() -> None:
    assert {"open", "Options", "LeagueTable", "CrimestatsError", "NoDataError"} <= set(crimestats.__all__)
    assert all(hasattr(crimestats, name) for name in crimestats.__all__)
