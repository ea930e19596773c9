"""The crimestats command, run in-process through Typer's runner on a store built from the real files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crimestats.cli import app
from crimestats.store import Store

from official import read_table

runner = CliRunner()


def run(store: Store, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(store.path), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def cli_store(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("cli") / "cli.duckdb"
    result = runner.invoke(app, ["--db", str(path), "ingest", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.stdout and "README.md" in result.stdout  # unrecognised files are listed
    store = Store(path)
    store.close()
    return store


def test_table_json_has_the_contract_fields_and_published_values(cli_store: Store, data_dir: Path) -> None:
    code, out, _ = run(
        cli_store, "table", "--period", "2019-09", "--offence", "Stalking and Harassment", "--format", "json"
    )
    assert code == 0
    rows = json.loads(out)
    keys = {"force_code", "force", "count", "population", "rate_per_1000", "rank", "ranked_of", "change_pct", "source"}
    assert all(keys <= set(row) for row in rows)
    published = read_table(data_dir / "ons-pfa-tables" / "policeforceareatablesyearendingseptember2019.xlsx", "P1")
    wiltshire = next(r for r in rows if r["force_code"] == "E23000038")
    assert wiltshire["count"] == published.cells[("E23000038", "stalking and harassment")]
    assert wiltshire["source"] == "ons-pfa"
    assert [r["rank"] for r in rows if r["rank"] is not None][0] == 1
    assert {r["ranked_of"] for r in rows if r["rank"] is not None} == {41}  # 43 less City of London and GMP


def test_slug_and_name_select_the_same_offence(cli_store: Store) -> None:
    by_slug = run(cli_store, "table", "-p", "2019-09", "-o", "stalking-and-harassment", "-f", "csv")[1]
    by_name = run(cli_store, "table", "-p", "2019-09", "-o", "STALKING AND HARASSMENT", "-f", "csv")[1]
    assert by_slug == by_name and by_slug.startswith("force_code,force,count")


def test_force_json_shape(cli_store: Store) -> None:
    code, out, _ = run(cli_store, "force", "Wiltshire Police", "--period", "2019-09", "--format", "json")
    assert code == 0
    profile = json.loads(out)
    assert (profile["force_code"], profile["force"], profile["period"]) == ("E23000038", "Wiltshire", "2019-09")
    offences = [row["offence"] for row in profile["rows"]]
    assert offences[0] == "Total recorded crime (excluding fraud)" and "Residential burglary" in offences
    assert set(profile["rows"][0]) >= {"offence", "count", "rate_per_1000", "rank", "ranked_of", "change_pct", "source"}


def test_table_text_output_reads_like_the_ons_tables(cli_store: Store) -> None:
    code, out, _ = run(cli_store, "table", "-p", "2019-09")
    assert code == 0
    assert "year ending September 2019" in out and "1 of 41" in out and "North Yorkshire" in out


def test_home_office_source_gives_the_twelve_months_to_march_2018(cli_store: Store, data_dir: Path) -> None:
    code, out, _ = run(cli_store, "table", "-p", "2018-03", "--source", "home-office", "-f", "json")
    assert code == 0
    rows = json.loads(out)
    assert {r["source"] for r in rows} == {"home-office"}
    with (data_dir / "home-office" / "prc-pfa-mar2013-onwards-tables201718.csv").open() as handle:
        expected = sum(
            int(r["Number of Offences"])
            for r in csv.DictReader(handle)
            if r["Force Name"] == "Wiltshire" and r["Offence Group"] != "Fraud offences"
        )
    assert next(r for r in rows if r["force"] == "Wiltshire")["count"] == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["force", "Atlantis", "-p", "2019-09"], "unknown force or area 'Atlantis'"),
        (["table", "-p", "2019-07"], "is not a quarter end"),
        (["table", "-p", "2016-03"], "no total-excluding-fraud figures"),
        (["table", "-p", "2019-09", "-o", "jaywalking"], "unknown offence 'jaywalking'"),
    ],
)
def test_errors_are_one_line_without_traceback(cli_store: Store, args: list[str], message: str) -> None:
    code, out, err = run(cli_store, *args)
    assert code == 1
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_named_unreadable_file_is_an_error(cli_store: Store, data_dir: Path) -> None:
    code, _, err = run(cli_store, "ingest", str(data_dir / "README.md"))
    assert code == 1 and "README.md: not a file crimestats recognises" in err


def test_every_command_has_help() -> None:
    for command in app.registered_commands:
        name = command.name or command.callback.__name__  # type: ignore[union-attr]
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.callback.__doc__, f"{name} has no help text"  # type: ignore[union-attr]
