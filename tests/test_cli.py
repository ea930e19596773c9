"""The crimestats command, run in-process through Typer's runner on a store built from the real files."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
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


def test_ingest_lists_what_it_stored_and_skipped_and_materialises_the_statistics(
    data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "new.duckdb"
    result = runner.invoke(app, ["--db", str(path), "ingest", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.stdout and "README.md" in result.stdout  # unrecognised files are listed
    assert "ingested" in result.stdout and "pfatablesdec19.xlsx" in result.stdout
    with Store(path, read_only=True) as store:
        kinds = store.con.execute("SELECT kind FROM materialised ORDER BY kind").fetchall()
    assert kinds == [("forces",), ("totals",)]
    again = runner.invoke(app, ["--db", str(path), "ingest", str(data_dir)])
    assert again.exit_code == 0 and "unchanged" in again.stdout and "ingested " not in again.stdout


def test_table_json_has_the_contract_fields_and_published_values(cli_store: Store, data_dir: Path) -> None:
    code, out, _ = run(
        cli_store, "table", "--period", "2019-09", "--offence", "Stalking and Harassment", "--format", "json"
    )
    assert code == 0
    rows = json.loads(out)["rows"]
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
    rows = json.loads(out)["rows"]
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


def test_a_failing_file_does_not_stop_the_files_after_it(data_dir: Path, tmp_path: Path) -> None:
    lines = (data_dir / "home-office" / "prc-pfa-mar2013-onwards-tables201718.csv").read_text().splitlines()
    good = tmp_path / "first.csv"
    good.write_text("\n".join(lines[:30]) + "\n")
    bad = tmp_path / "second.csv"
    bad.write_text("\n".join([lines[0], lines[1].rsplit(",", 1)[0] + ",twelve", *lines[2:30]]) + "\n")
    lookup = (
        data_dir / "population" / "Local_Authority_District_to_CSPs_to_Police_Force_Areas_(December__2023)_Lookup_.csv"
    )
    with Store(tmp_path / "s.duckdb") as store:
        code, out, err = run(store, "ingest", str(good), str(bad), str(lookup))
        stored = {row["file_name"] for row in store.files()}
    assert code == 1
    assert stored == {"first.csv", lookup.name}
    assert "second.csv, row 2, column H: text 'twelve' in a number cell" in err
    assert "1 file(s) failed" in err


def test_a_folder_without_official_files_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("nothing official here\n")
    with Store(tmp_path / "s.duckdb") as store:
        code, out, err = run(store, "ingest", str(folder))
        assert store.files() == []
    assert code == 1 and "skipped 1 file(s)" in out
    assert f"no official files found in {folder}" in err


def test_every_command_has_help() -> None:
    for command in app.registered_commands:
        name = command.name or command.callback.__name__  # type: ignore[union-attr]
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.callback.__doc__, f"{name} has no help text"  # type: ignore[union-attr]


# --- comparisons and reports -----------------------------------------------------------------------------------


def test_table_and_force_json_rows_carry_intervals_rank_ranges_and_change_tests(cli_store: Store) -> None:
    rows = json.loads(run(cli_store, "table", "--period", "2019-09", "--format", "json")[1])["rows"]
    profile = json.loads(run(cli_store, "force", "Wiltshire", "--period", "2019-09", "--format", "json")[1])
    for row in [*rows, *profile["rows"]]:
        assert {"rate_ci_low", "rate_ci_high", "rank_low", "rank_high", "change_p_value", "change_verdict"} <= set(row)
        if row["rate_per_1000"] is not None:
            assert row["rate_ci_low"] < row["rate_per_1000"] < row["rate_ci_high"]
        if row["rank"] is not None:
            assert row["rank_low"] <= row["rank"] <= row["rank_high"]
    wiltshire = next(r for r in rows if r["force"] == "Wiltshire")
    total = next(r for r in profile["rows"] if r["offence_slug"] == "total-excluding-fraud")
    assert (total["rate_ci_low"], total["rank_low"]) == (wiltshire["rate_ci_low"], wiltshire["rank_low"])


def test_peers_json_gives_both_averages_and_says_which_is_printed(cli_store: Store, tmp_path: Path) -> None:
    msg = tmp_path / "msg.csv"
    msg.write_text("force,peer\nWiltshire,Dorset\nWiltshire,Gloucestershire\nWiltshire,Suffolk\n", encoding="utf-8")
    code, out, err = run(cli_store, "peers", "Wiltshire", "--period", "2019-09", "--msg", str(msg), "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert {"members", "simple_mean", "weighted_mean", "rate_per_1000", "method"} <= set(result)
    printed = json.loads(run(cli_store, "table", "--period", "2019-09", "--format", "json")[1])
    league = {r["force"]: r for r in printed["rows"]}
    names = ["Wiltshire", "Dorset", "Gloucestershire", "Suffolk"]
    assert [m["force"] for m in result["members"]] == names
    assert result["simple_mean"] == pytest.approx(sum(league[n]["rate_per_1000"] for n in names) / 4)
    counts, people = sum(league[n]["count"] for n in names), sum(league[n]["population"] for n in names)
    assert result["weighted_mean"] == pytest.approx(counts / people * 1000)
    assert result["average_printed"] == "simple_mean" and not result["computed"]
    computed = json.loads(run(cli_store, "peers", "Wiltshire", "--period", "2019-09", "--format", "json")[1])
    assert computed["computed"] and "not the Home Office most similar group" in computed["method"]


def test_a_bad_most_similar_groups_file_is_a_one_line_error(cli_store: Store, tmp_path: Path) -> None:
    msg = tmp_path / "msg.csv"
    msg.write_text("force,peer\nWiltshire,Narnia\n", encoding="utf-8")
    code, _, err = run(cli_store, "peers", "Wiltshire", "--period", "2019-09", "--msg", str(msg))
    assert code == 1
    assert err.strip() == "error: msg.csv, row 2, column B: 'Narnia' is not one of the 43 territorial police forces"


@pytest.mark.parametrize("overdispersion", ["--overdispersion", "--no-overdispersion"])
def test_funnel_json_has_the_contract_shape(cli_store: Store, overdispersion: str) -> None:
    code, out, err = run(cli_store, "funnel", "--period", "2019-09", overdispersion, "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert {"target", "overdispersion", "method", "rows"} <= set(result)
    keys = {"force_code", "force", "rate_per_1000", "population", "lower_95", "upper_95", "lower_998", "upper_998"}
    for row in result["rows"]:
        assert keys | {"position"} <= set(row)
        assert row["lower_998"] <= row["lower_95"] <= result["target"] <= row["upper_95"] <= row["upper_998"]
        expected = "above" if row["rate_per_1000"] > row["upper_998"] else "below"
        assert row["position"] == (
            "within" if row["lower_998"] <= row["rate_per_1000"] <= row["upper_998"] else expected
        )
    pooled = sum(r["rate_per_1000"] * r["population"] for r in result["rows"]) / sum(
        r["population"] for r in result["rows"]
    )
    assert result["target"] == pytest.approx(pooled)
    assert len(result["rows"]) == 41  # City of London (suppressed) and Greater Manchester (no data) are not plotted
    if overdispersion == "--no-overdispersion":
        assert result["overdispersion"] is None
        # Poisson limits alone are narrow for forces this size: most forces fall outside them.
        assert sum(r["position"] != "within" for r in result["rows"]) > 30
    else:
        assert result["overdispersion"]["adjusted"] and result["overdispersion"]["phi"] > 1


def test_findings_json_has_the_contract_shape(cli_store: Store) -> None:
    code, out, err = run(cli_store, "findings", "Wiltshire", "--period", "2019-09", "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["force"], result["period"]) == ("Wiltshire", "2019-09")
    assert result["findings"][0]["kind"] == "league"
    for finding in result["findings"]:
        assert {"kind", "text", "value", "compared_with", "significant", "caveats"} <= set(finding)
    table = run(cli_store, "findings", "Wiltshire", "--period", "2019-09", "--offence", "robbery")[1]
    assert "robbery" in table.lower() and "stalking" not in table.lower()


def test_findings_without_a_test_are_null_in_json_and_not_tested_in_the_table(cli_store: Store) -> None:
    """The league position and the national rate are not tested: ``"significant": null`` (never false with a
    null p-value) and "not tested" in the table, where a tested change reads "yes"."""
    result = json.loads(run(cli_store, "findings", "Wiltshire", "--period", "2019-09", "--format", "json")[1])
    assert [f["significant"] for f in result["findings"][:3]] == [None, None, True]
    assert not [f for f in result["findings"] if f["p_value"] is None and f["significant"] is not None]
    code, out, err = run(cli_store, "findings", "Wiltshire", "--period", "2019-09", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["significant"] for row in rows[:3]] == ["not tested", "not tested", "yes"]


def test_report_formats_and_files(cli_store: Store, tmp_path: Path) -> None:
    html = tmp_path / "wiltshire.html"
    code, _, err = run(cli_store, "report", "Wiltshire", "--period", "2019-09", "--format", "html", "--out", str(html))
    assert code == 0, err
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 5 and "<script" not in text
    markdown = tmp_path / "wiltshire.md"
    assert run(cli_store, "report", "Wiltshire", "-p", "2019-09", "--out", str(markdown))[0] == 0
    assert "![" in markdown.read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "wiltshire_charts").iterdir()) == [
        "funnel.svg",
        "league.svg",
        "map.svg",
        "offence_mix.svg",
        "trend.svg",
    ]
    workbook = tmp_path / "national.xlsx"
    assert run(cli_store, "report", "--national", "-p", "2019-09", "-f", "xlsx", "--out", str(workbook))[0] == 0
    assert workbook.stat().st_size > 5000
    code, _, err = run(cli_store, "report", "--national", "-p", "2019-09", "-f", "parquet")
    assert code == 1 and err.strip() == "error: --format parquet writes files: give --out PATH"
    code, _, err = run(cli_store, "report", "Wiltshire", "--national", "-p", "2019-09")
    assert code == 1 and "not both" in err


# --- defects fixed: population options, messages and formats ----------------------------------------------------


def test_findings_peers_and_funnel_take_the_population_options(cli_store: Store) -> None:
    """The year ending June 2025 would use mid-2024, which the store does not hold; --population-year 2023 gives
    Wiltshire 41,090 offences / 756,396 residents."""
    rate = 41090 / 756396 * 1000
    code, out, err = run(cli_store, "findings", "Wiltshire", "-p", "2025-06", "--population-year", "2023", "-f", "json")
    assert code == 0, err
    league = json.loads(out)["findings"][0]
    assert league["kind"] == "league" and league["numbers"]["rate_per_1000"] == pytest.approx(rate)
    code, out, err = run(cli_store, "peers", "Wiltshire", "-p", "2025-06", "--population-year", "2023", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["rate_per_1000"] == pytest.approx(rate)
    code, out, err = run(cli_store, "funnel", "-p", "2025-06", "--population-year", "2023", "-f", "json")
    assert code == 0, err
    wiltshire = next(r for r in json.loads(out)["rows"] if r["force"] == "Wiltshire")
    assert wiltshire["population"] == 756396 and wiltshire["rate_per_1000"] == pytest.approx(rate)
    code, out, err = run(cli_store, "findings", "Wiltshire", "-p", "2019-09", "--population", "ons-mye", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["findings"][0]["numbers"]["population_source"].startswith("ONS mid-year estimates, mid-2018")
    code, out, err = run(cli_store, "report", "Wiltshire", "-p", "2025-06", "--population-year", "2023")
    assert code == 0, err
    assert f"Wiltshire recorded {rate:.1f} crimes per 1,000 residents in the year ending June 2025" in out


def test_peers_of_the_newest_release_use_the_latest_population_estimate(cli_store: Store) -> None:
    """The store has no mid-2024 estimate (which ONS would use for the year ending June 2025): mid-2023 is used."""
    code, out, err = run(cli_store, "peers", "Wiltshire", "--period", "2025-06", "-f", "json")
    assert code == 0, err
    pinned = run(cli_store, "peers", "Wiltshire", "--period", "2025-06", "--population-year", "2023", "-f", "json")
    assert json.loads(out)["rate_per_1000"] == pytest.approx(json.loads(pinned[1])["rate_per_1000"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["table", "-p", "2019-09", "--population-year", "1900"],
            "error: no population estimates for mid-1900; the store holds mid-2011 to mid-2023",
        ),
        (
            ["findings", "Wiltshire", "-p", "2019-09", "--population-year", "2030"],
            "error: no population estimates for mid-2030; the store holds mid-2011 to mid-2023",
        ),
        (
            ["table", "-p", "2019-09", "--population", "published", "--population-year", "2017"],
            "error: --population-year applies to mid-year estimates; published P3 populations are those of the release",
        ),
    ],
)
def test_population_year_is_checked(cli_store: Store, args: list[str], message: str) -> None:
    code, out, err = run(cli_store, *args)
    assert (code, out, err.strip()) == (1, "", message)


def test_findings_csv_writes_caveats_and_numbers_as_json(cli_store: Store) -> None:
    code, out, err = run(cli_store, "findings", "Wiltshire", "--period", "2019-09", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(out.splitlines()))
    league = rows[0]
    assert league["kind"] == "league"
    assert json.loads(league["numbers"])["count"] == 43831
    caveat_ids = [c["id"] for c in json.loads(league["caveats"])]
    assert "not-accredited" in caveat_ids
    assert all(json.loads(row["caveats"]) is not None and json.loads(row["numbers"]) is not None for row in rows)


@pytest.mark.parametrize(
    ("offence", "message"),
    [
        (
            "rape-offences",
            "error: no rape-offences figures for the year ending September 2019; "
            "rape-offences figures: 2018-03 (home-office 2018-03)",
        ),
        ("arson", "error: no arson figures for the year ending September 2019; arson figures: 2018-03 (home-office"),
        ("fraud-offences", "error: no fraud-offences figures by police force: fraud is recorded centrally by Action"),
    ],
)
def test_a_missing_offence_names_the_periods_that_have_it(cli_store: Store, offence: str, message: str) -> None:
    code, _, err = run(cli_store, "table", "--period", "2019-09", "--offence", offence)
    assert code == 1 and err.startswith(message)
    assert "2019-09" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["force", "England and Wales", "-p", "2019-09"],
            "England and Wales is the national total, not a police force",
        ),
        (["findings", "England and Wales", "-p", "2019-09"], "England and Wales is the national total, not a police"),
        (["findings", "South West", "-p", "2019-09"], "South West is a region, not a police force"),
        (
            ["force", "Manchester", "-p", "2019-09"],
            "unknown force or area 'Manchester' (did you mean Greater Manchester?)",
        ),
        (["findings", "Devon", "-p", "2019-09"], "unknown force or area 'Devon' (did you mean Devon and Cornwall?)"),
        (["peers", "Thames", "-p", "2019-09"], "unknown force or area 'Thames' (did you mean Thames Valley?)"),
        (["peers", "West Y", "-p", "2019-09"], "(did you mean West Yorkshire?)"),
        (["force", "Atlantis", "-p", "2019-09"], "unknown force or area 'Atlantis' (try a name like 'Wiltshire'"),
    ],
)
def test_names_that_are_not_forces_get_a_clear_message(cli_store: Store, args: list[str], message: str) -> None:
    code, _, err = run(cli_store, *args)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_a_folder_given_as_msg_is_named_as_a_folder(cli_store: Store, tmp_path: Path) -> None:
    code, _, err = run(cli_store, "peers", "Wiltshire", "--period", "2019-09", "--msg", str(tmp_path))
    assert code == 1
    assert err.strip() == f"error: {tmp_path} is a folder: --msg takes a CSV file with the header 'force,peer'"


def test_the_peers_verdict_has_its_p_value_in_brackets(cli_store: Store, tmp_path: Path) -> None:
    code, out, err = run(cli_store, "peers", "Wiltshire", "--period", "2019-09")
    assert code == 0, err
    assert (
        "Wiltshire against the rest of the group: statistically significantly lower than the rest of the group "
        "(p < 0.001)." in out
    )
    msg = tmp_path / "msg.csv"
    msg.write_text("force,peer\nCity of London,Metropolitan Police\n", encoding="utf-8")
    code, out, err = run(cli_store, "peers", "City of London", "--period", "2019-09", "--msg", str(msg))
    assert code == 0, err
    assert "City of London against the rest of the group: no rate for City of London to compare.\n" in out
    assert "the 1 force in the group with a rate" in out and "1 forces" not in out


def test_findings_about_a_rare_offence_open_with_its_rate(cli_store: Store) -> None:
    """With no significant change or gap, findings for one offence still give its rate and league position."""
    args = ["findings", "Metropolitan Police", "--period", "2019-09", "--offence", "homicide"]
    code, out, err = run(cli_store, *args, "--format", "json")
    assert code == 0, err
    found = json.loads(out)["findings"]
    assert [f["kind"] for f in found[:2]] == ["league", "national"] and {f["offence"] for f in found} == {"homicide"}
    assert found[0]["text"].startswith("Metropolitan Police's rate of homicide was 0.014 per 1,000 residents")


def test_totals_print_the_caveats_of_the_period(cli_store: Store) -> None:
    """England and Wales in the year ending September 2019 leaves out Greater Manchester, and says why."""
    code, out, err = run(cli_store, "totals", "--period", "2019-09")
    assert code == 0, err
    assert "England and Wales (excluding Greater Manchester)" in out
    assert "Note: Greater Manchester Police could not supply crime data from July 2019" in out


def test_the_table_says_where_its_populations_come_from(cli_store: Store) -> None:
    code, out, _ = run(cli_store, "table", "--period", "2019-09")
    assert code == 0 and "Populations: ONS Table P3, 2019-09." in out
    code, out, _ = run(cli_store, "table", "--period", "2018-03", "--source", "home-office")
    assert code == 0 and "Populations: ONS mid-year estimates, mid-2016 (release mid-2023)." in out


def _commands() -> dict[tuple[str, ...], str]:
    """Every command and sub-command, as the words a user types, with its help text."""
    import typer.main

    found = {}
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", {})
        found |= {(name, sub): each.help or "" for sub, each in subcommands.items()}
        if not subcommands:
            found[(name,)] = command.help or ""
    return found


def test_every_command_has_help_text_and_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    commands = _commands()
    assert len(commands) >= 15 and ("table",) in commands and ("data", "download") in commands
    for words, help_text in commands.items():
        assert len(help_text) > 30, f"`crimestats {' '.join(words)}` has no help text"
        assert runner.invoke(app, [*words, "--help"]).exit_code == 0, words
        assert f"crimestats {' '.join(words)}" in readme, f"`crimestats {' '.join(words)}` is not in the README"


@pytest.mark.parametrize(
    "command",
    [
        ["table", "--period", "2019-09"],
        ["force", "Wiltshire", "--period", "2019-09"],
        ["report", "Wiltshire", "--period", "2019-09", "--format", "html", "--out", "{out}/wiltshire.html"],
    ],
    ids=["table", "force", "force report"],
)
def test_answers_read_from_the_kept_statistics_do_not_load_ibis(
    cli_store: Store, tmp_path: Path, command: list[str]
) -> None:
    """Ibis (and pandas with it) is loaded to compute, never to read what the store keeps: a force report of a
    force the store holds no street-level files of does not load it for the density map."""
    args = ["--db", str(cli_store.path), *(part.format(out=tmp_path) for part in command)]
    code = (
        "import sys; from typer.testing import CliRunner; from crimestats.cli import app;"
        f" done = CliRunner().invoke(app, {args!r}); assert done.exit_code == 0, done.output;"
        " print(sorted({'ibis', 'pandas'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
