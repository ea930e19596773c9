"""One figure, the same wherever it appears (issue 8): for every force in the year ending September 2019, the
rate, rank, number ranked, plausible rank range and % change of total recorded crime (excluding fraud) and of
stalking and harassment are identical in the CLI's table JSON, force JSON, findings JSON, the force and
national reports' JSON (their tables and the data rows of their Vega-Lite charts), and as printed.

The reference is ``crimestats table --period 2019-09 --format json``, whose figures are checked against the
published ONS workbook for Wiltshire. Numbers are compared for exact equality as each view gives them (JSON
floats round-trip exactly). A view that prints a figure ("60.9", "4 of 41 (4–5)", "4th lowest of 41") is
compared with :mod:`crimestats.formatting` applied to the table's number.

The CLI is run in-process on a copy of the session store for a few forces and for every view that covers all
forces at once (table, funnel, national report); the findings and force reports of all 44 forces are built
with the library functions the CLI calls (``build_findings``, ``force_report`` then ``to_dict``, which is what
``render_json`` dumps), sharing one read of the period's figures, and checked equal to the CLI's JSON for the
forces run through both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crimestats import analytics, reference
from crimestats import formatting as fmt
from crimestats.analytics import Options
from crimestats.cli import app
from crimestats.reports import build
from crimestats.reports.findings import PeriodFigures, build_findings
from crimestats.store import Store

from conftest import copy_of
from official import ons_round, read_table

PERIOD = "2019-09"
LABEL = "year ending September 2019"
TOTAL = "total-excluding-fraud"
STALKING = "stalking-and-harassment"
OFFENCES = (TOTAL, STALKING)
#: The figures compared: the issue's rate, rank, rank range and change, with the count and interval beside them.
FIELDS = (
    "count",
    "rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "rank",
    "ranked_of",
    "rank_low",
    "rank_high",
    "change_pct",
)
#: Forces run through the CLI as well: a ranked one, the largest, the suppressed rate, BTP, no figures.
CLI_FORCES = ("Wiltshire", "Metropolitan Police", "City of London", "British Transport Police", "Greater Manchester")
WILTSHIRE = "E23000038"
#: Funnel positions as each view words them: funnel JSON and findings, report league table, funnel chart.
POSITION_WORDS = {
    "above": ("above", "Above the 99.8% limit"),
    "below": ("below", "Below the 99.8% limit"),
    "within": ("within limits", "Within the limits"),
}

runner = CliRunner()
Rows = dict[str, dict[str, dict[str, Any]]]  # offence → force code → row


def run_json(path: Path, *args: str) -> Any:
    return json.loads(run_text(path, *args, "--format", "json"))


def run_text(path: Path, *args: str) -> str:
    result = runner.invoke(app, ["--db", str(path), *args])
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout


def figures(row: dict[str, Any], keys: tuple[str, ...] = FIELDS) -> dict[str, Any]:
    return {key: row[key] for key in keys}


def differences(view: str, found: Iterator[tuple[str, str, dict[str, Any]]], table: Rows) -> list[str]:
    """Every figure a view gives (offence, force code, {field: value}) that is not the table's, as a line."""
    lines, seen = [], 0
    for offence, code, values in found:
        seen += 1
        expected = table[offence][code]
        lines += [
            f"{view}: {expected['force']} {offence} {key} = {value!r}, table {expected[key]!r}"
            for key, value in values.items()
            if value != expected[key] or type(value) is not type(expected[key])
        ]
    assert seen, f"{view} gave no figures to compare"
    return lines


def assert_same(view: str, found: Iterator[tuple[str, str, dict[str, Any]]], table: Rows) -> None:
    lines = differences(view, found, table)
    assert not lines, f"{len(lines)} figure(s) differ:\n" + "\n".join(lines[:40])


def chart(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c["vega_lite"] for c in report["charts"] if c["name"] == name)


def chart_rows(spec: Any) -> Iterator[dict[str, Any]]:
    """Every data row of a Vega-Lite spec (``data.values`` at any depth, as the report JSON publishes them)."""
    if isinstance(spec, list):
        for item in spec:
            yield from chart_rows(item)
    elif isinstance(spec, dict):
        for key, value in spec.items():
            if key == "data" and isinstance(value, dict) and isinstance(value.get("values"), list):
                yield from value["values"]
            else:
                yield from chart_rows(value)


def table_rows(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return next(t["rows"] for t in report["tables"] if t["name"] == name)


# --- the views, each built once ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_path(ingested_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session store for the CLI, which opens it as a file of its own."""
    return copy_of(ingested_file, tmp_path_factory.mktemp("same_numbers"))


@pytest.fixture(scope="module")
def table(cli_path: Path) -> Rows:
    """The reference: `crimestats table --period 2019-09 [--offence O] --format json`."""
    return {
        offence: {
            row["force_code"]: row
            for row in run_json(cli_path, "table", "--period", PERIOD, "--offence", offence)["rows"]
        }
        for offence in OFFENCES
    }


@pytest.fixture(scope="module")
def forces(table: Rows) -> dict[str, str]:
    """Force code → name, for every force in the table."""
    return {code: row["force"] for code, row in table[TOTAL].items()}


@pytest.fixture(scope="module")
def period_figures(loaded_store: Store) -> PeriodFigures:
    return PeriodFigures.read(loaded_store, PERIOD)


@pytest.fixture(scope="module")
def profiles(loaded_store: Store, cli_path: Path, forces: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`crimestats force NAME --period 2019-09 --format json` for every force (the CLI prints the library's
    profile with its Arrow rows as a list: checked equal for the CLI forces in test_cli_json_is_the_library_json)."""
    built = {}
    for code in forces:
        profile = analytics.force_profile(loaded_store, code, PERIOD)
        built[code] = {**profile, "rows": profile["rows"].to_pylist()}
    return json.loads(json.dumps(built, default=str))


@pytest.fixture(scope="module")
def findings(loaded_store: Store, forces: dict[str, str], period_figures: PeriodFigures) -> dict[str, Any]:
    """`crimestats findings NAME --period 2019-09 [--offence stalking-and-harassment] --format json`: offence
    (None for the default) → force code → the findings JSON."""
    return {
        offence: {
            code: json.loads(
                json.dumps(
                    build_findings(loaded_store, code, PERIOD, None, Options(), period_figures, offence).to_dict()
                )
            )
            for code in forces
        }
        for offence in (None, STALKING)
    }


@pytest.fixture(scope="module")
def reports(loaded_store: Store, forces: dict[str, str], period_figures: PeriodFigures) -> dict[str, Any]:
    """`crimestats report NAME --period 2019-09 --format json` for every force: force code → report JSON."""
    data = build.ReportData.read(loaded_store)
    return {
        code: json.loads(
            json.dumps(build.force_report(loaded_store, code, PERIOD, None, Options(), period_figures, data).to_dict())
        )
        for code in forces
    }


@pytest.fixture(scope="module")
def cli(cli_path: Path) -> dict[str, Any]:
    """What the CLI prints for the CLI forces and for every view that covers all forces at once."""
    made: dict[str, Any] = {"force": {}, "findings": {}, "report": {}}
    for name in CLI_FORCES:
        made["force"][name] = run_json(cli_path, "force", name, "--period", PERIOD)
        made["findings"][name] = run_json(cli_path, "findings", name, "--period", PERIOD)
    for name in CLI_FORCES[:4]:
        made["report"][name] = run_json(cli_path, "report", name, "--period", PERIOD)
    made["findings_stalking"] = run_json(cli_path, "findings", "Wiltshire", "--period", PERIOD, "--offence", STALKING)
    made["report_stalking"] = {
        name: run_json(cli_path, "report", name, "--period", PERIOD, "--offence", STALKING)
        for name in ("Wiltshire", "Metropolitan Police")
    }
    made["national"] = {
        offence: run_json(cli_path, "report", "--national", "--period", PERIOD, "--offence", offence)
        for offence in OFFENCES
    }
    made["funnel"] = run_json(cli_path, "funnel", "--period", PERIOD)
    made["table_text"] = {
        offence: run_text(cli_path, "table", "--period", PERIOD, "--offence", offence) for offence in OFFENCES
    }
    made["markdown"] = run_text(cli_path, "report", "Wiltshire", "--period", PERIOD)
    return made


# --- the reference is the published table ---------------------------------------------------------------------


def test_the_table_holds_every_force_and_the_published_figures(table: Rows, data_dir: Path) -> None:
    """Sanity: the figures compared are ONS's. Wiltshire's counts are the P1 cells, its rate rounds to P3's and
    its change to P2's; all 43 territorial forces and British Transport Police are in the table."""
    territorial = {a.code for a in reference.areas() if a.kind == "force"}
    assert len(territorial) == 43
    for offence in OFFENCES:
        assert set(table[offence]) == territorial | {"BTP"}
    workbook = data_dir / "ons-pfa-tables" / "policeforceareatablesyearendingseptember2019.xlsx"
    p1, p2, p3 = (read_table(workbook, name).cells for name in ("P1", "P2", "P3"))
    for offence, heading in [(TOTAL, "total recorded crime excluding fraud"), (STALKING, "stalking and harassment")]:
        wiltshire = table[offence][WILTSHIRE]
        assert wiltshire["count"] == p1[(WILTSHIRE, heading)]
        assert ons_round(wiltshire["rate_per_1000"]) == ons_round(p3[(WILTSHIRE, heading)])  # type: ignore[arg-type]
        assert ons_round(wiltshire["change_pct"], 0) == ons_round(p2[(WILTSHIRE, heading)], 0)  # type: ignore[arg-type]
    assert figures(table[TOTAL][WILTSHIRE], ("count", "rank", "ranked_of", "rank_low", "rank_high")) == {
        "count": 43831,
        "rank": 4,
        "ranked_of": 41,
        "rank_low": 4,
        "rank_high": 5,
    }
    assert table[STALKING][WILTSHIRE]["rank"] == 1


def test_a_changed_figure_is_caught(table: Rows) -> None:
    """The comparison can fail: a rate off by one in the 15th digit, or an int rank given as a float, differ."""
    row = table[TOTAL][WILTSHIRE]
    nudged = {"rate_per_1000": row["rate_per_1000"] * (1 + 1e-15), "rank": float(row["rank"])}
    assert len(differences("nudged", iter([(TOTAL, WILTSHIRE, nudged)]), table)) == 2


# --- force, findings and report JSON --------------------------------------------------------------------------


def test_force_json_rows_are_the_table_figures(table: Rows, profiles: dict[str, Any], cli: dict[str, Any]) -> None:
    def found(source: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for code, profile in source.items():
            for row in profile["rows"]:
                if row["offence_slug"] in OFFENCES:
                    yield row["offence_slug"], code, figures(row)

    assert_same("force JSON (library)", found(profiles), table)
    by_code = {profile["force_code"]: profile for profile in cli["force"].values()}
    assert_same("force JSON (CLI)", found(by_code), table)


def _numbered(found: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The figures in each finding's numbers about a force (the national finding's are England and Wales')."""
    for finding in found["findings"]:
        if finding["kind"] != "national" and finding["offence"] in OFFENCES and finding["numbers"]:
            yield finding["offence"], found["force_code"], {k: v for k, v in finding["numbers"].items() if k in FIELDS}


def test_findings_json_numbers_are_the_table_figures(table: Rows, findings: dict[Any, Any]) -> None:
    """The league finding opens every force's findings with its rate and rank (only the count where no rate is
    published; Greater Manchester has a 'missing' finding and no numbers); change, peer and extreme findings
    carry the same figures."""
    for offence in OFFENCES:
        by_force = findings[None if offence == TOTAL else offence]
        for code, row in table[offence].items():
            finding = by_force[code]["findings"][0]
            if row["count"] is None:  # Greater Manchester: no figures at all, said once
                assert finding["kind"] == "missing" and finding["numbers"] == {}
                continue
            assert finding["offence"] == offence, (row["force"], finding)
            if row["rate_per_1000"] is None:  # City of London, BTP
                assert finding["kind"] == "league" and finding["numbers"] == {"count": row["count"]}
                assert finding["value"] == row["count"]
            else:
                assert finding["kind"] == "league" and set(FIELDS) <= set(finding["numbers"])
                assert finding["value"] == row["rate_per_1000"]
    for offence, by_force in findings.items():
        assert_same(
            f"findings JSON{f' --offence {offence}' if offence else ''}",
            (n for f in by_force.values() for n in _numbered(f)),
            table,
        )


def test_findings_text_prints_the_table_figures(table: Rows, findings: dict[Any, Any]) -> None:
    """The league finding's sentence prints the rate as formatting.rate does, the rank of ranked_of and the
    plausible range as formatting.rank's parts; a change finding's 'rose 2%' is formatting.percent of change_pct."""
    wrong = []
    for offence in OFFENCES:
        for code, row in table[offence].items():
            found = findings[None if offence == TOTAL else offence][code]["findings"]
            text = found[0]["text"]  # the league finding (the 'missing' one for Greater Manchester)
            if row["count"] is None:
                expected = ["No figures"]
            elif row["rate_per_1000"] is None:
                expected = [f"recorded {fmt.count(row['count'])} "]
            else:
                expected = [f"{fmt.rate(row['rate_per_1000'])} {'crimes ' if offence == TOTAL else ''}per 1,000"]
            if row["rank"] is not None:
                rank, of, low, high = row["rank"], row["ranked_of"], row["rank_low"], row["rank_high"]
                place = "lowest" if rank == 1 else "highest" if rank == of else f"{fmt.ordinal(rank)} of {of} forces"
                expected += [place, f"of {of} forces", f"plausible rank {low}" + ("" if low == high else f"–{high}")]
            wrong += [f"{row['force']} {offence}: {part!r} not in {text!r}" for part in expected if part not in text]
            for change in (f for f in found if f["kind"] == "change" and f["offence"] == offence):
                said = re.search(r"(?:rose|fell) (\d+%) on a year earlier", change["text"])
                if said and said.group(1) != fmt.percent(row["change_pct"]):
                    wrong.append(f"{row['force']} {offence}: {change['text']!r}, change {row['change_pct']!r}")
    assert not wrong, "\n".join(wrong)


def test_report_tables_are_the_table_figures(table: Rows, reports: dict[str, Any]) -> None:
    """Each force report's offence table (its own row for each offence) and its league table (every force)."""

    def offence_rows() -> Iterator[tuple[str, str, dict[str, Any]]]:
        for code, report in reports.items():
            for row in table_rows(report, "offences"):
                if row["offence"] in OFFENCES:
                    yield row["offence"], code, figures(row)

    def league_rows() -> Iterator[tuple[str, str, dict[str, Any]]]:
        for report in reports.values():
            rows = table_rows(report, "league")
            assert {r["force_code"] for r in rows} == set(table[TOTAL])
            yield from ((TOTAL, row["force_code"], figures(row)) for row in rows)

    assert_same("force report JSON, offence table", offence_rows(), table)
    assert_same("force report JSON, league table", league_rows(), table)


def test_report_findings_are_the_findings_json(reports: dict[str, Any], findings: dict[Any, Any]) -> None:
    for code, report in reports.items():
        assert report["findings"] == findings[None][code]["findings"], code


def test_national_report_tables_are_the_table_figures(table: Rows, cli: dict[str, Any]) -> None:
    def league_rows() -> Iterator[tuple[str, str, dict[str, Any]]]:
        for offence, report in cli["national"].items():
            rows = table_rows(report, "league")
            assert {r["force_code"] for r in rows} == set(table[offence])
            yield from ((offence, row["force_code"], figures(row)) for row in rows)

    assert_same("national report JSON, league table", league_rows(), table)


def test_england_and_wales_is_the_same_in_every_view(
    table: Rows, cli: dict[str, Any], findings: dict[Any, Any], reports: dict[str, Any]
) -> None:
    """The national figures beside each force's: the national report's totals and offences tables, every force's
    national finding and the England and Wales column of every force report's offence table."""
    national = cli["national"][TOTAL]
    offences = {row["offence"]: row for row in table_rows(national, "offences")}
    for offence in OFFENCES:
        totals = table_rows(cli["national"][offence], "totals")[0]
        assert totals["area_code"] == offences[offence]["area_code"] == "K04000001"
        keys = ("count", "population", "rate_per_1000", "change_pct")
        assert figures(totals, keys) == figures(offences[offence], keys), offence
        for code, by_force in findings[None if offence == TOTAL else offence].items():
            told = [f["numbers"] for f in by_force["findings"] if f["kind"] == "national" and f["offence"] == offence]
            assert told == ([] if table[offence][code]["count"] is None else [figures(totals, keys[:3])]), code
        for code, report in reports.items():
            own = [row for row in table_rows(report, "offences") if row["offence"] == offence]
            assert [row["national_rate"] for row in own] == [totals["rate_per_1000"]], code


def test_national_headline_prints_the_lowest_and_highest_rates(table: Rows, cli: dict[str, Any]) -> None:
    """'Rates ranged from 57.5 per 1,000 in North Yorkshire to 127.3 in West Yorkshire, across 41 forces …':
    formatting.rate of the table's first and last ranked forces."""
    for offence, report in cli["national"].items():
        ranked = sorted((r for r in table[offence].values() if r["rank"] is not None), key=lambda r: r["rank"])
        low, high = ranked[0], ranked[-1]
        assert (
            f"Rates ranged from {fmt.rate(low['rate_per_1000'])} per 1,000 in {low['force']} to "
            f"{fmt.rate(high['rate_per_1000'])} in {high['force']}, across {len(ranked)} forces"
            in " ".join(report["headline"])
        ), offence


# --- chart data ------------------------------------------------------------------------------------------------


def _league_chart(report: dict[str, Any], offence: str, table: Rows) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The league chart's bars: rate and interval as numbers; its printed position ('4th lowest of 41', 'joint
    …' where forces share a rank) and interval ('60.3 to 61.4') checked against formatting of the table's."""
    rows = list(chart_rows(chart(report, "league")))
    assert {r["force_code"] for r in rows} == {c for c, r in table[offence].items() if r["rate_per_1000"] is not None}
    for record in rows:
        row = table[offence][record["force_code"]]
        assert re.fullmatch(f"(joint )?{fmt.ordinal(row['rank'])} lowest of {row['ranked_of']}", record["rank"]), (
            record["rank"],
            row["rank"],
        )
        assert record["interval"] == f"{fmt.rate(row['rate_ci_low'])} to {fmt.rate(row['rate_ci_high'])}"
        assert f": {fmt.rate(row['rate_per_1000'])} (95% interval" in record["summary"]
        yield offence, record["force_code"], figures(record, ("rate_per_1000", "rate_ci_low", "rate_ci_high"))


def _map_chart(report: dict[str, Any], offence: str, table: Rows) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The map's areas: the rate as a number and printed ('60.9'; 'no rate published' where there is none)."""
    areas = [feature["properties"] for feature in chart_rows(chart(report, "map"))]
    assert {a["code"] for a in areas} == set(table[offence]) - {"BTP"}  # BTP has no area
    for area in areas:
        rate = table[offence][area["code"]]["rate_per_1000"]
        assert area["rate_text"] == ("no rate published" if rate is None else fmt.rate(rate)), area
        yield offence, area["code"], {"rate_per_1000": area["rate_per_1000"]}


def _funnel_chart(report: dict[str, Any], offence: str, table: Rows) -> Iterator[tuple[str, str, dict[str, Any]]]:
    points = _funnel_points(report)
    assert set(points) == {c for c, r in table[offence].items() if r["rate_per_1000"] is not None}
    for code, point in points.items():
        assert point["population"] == table[offence][code]["population"]
        yield offence, code, {"rate_per_1000": point["rate_per_1000"]}


def _funnel_points(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The funnel chart's forces (its other data rows are the limit lines and the average)."""
    return {p["force_code"]: p for p in chart_rows(chart(report, "funnel")) if "force_code" in p}


def test_force_report_charts_are_the_table_figures(table: Rows, reports: dict[str, Any]) -> None:
    """League bars, funnel points and map areas of every force report, for every force in them."""
    for name, read in [("league chart", _league_chart), ("funnel chart", _funnel_chart), ("map", _map_chart)]:
        found = (item for report in reports.values() for item in read(report, TOTAL, table))
        assert_same(f"force report JSON, {name}", found, table)


def test_national_report_charts_are_the_table_figures(table: Rows, cli: dict[str, Any]) -> None:
    for name, read in [("league chart", _league_chart), ("funnel chart", _funnel_chart), ("map", _map_chart)]:
        found = (item for offence, report in cli["national"].items() for item in read(report, offence, table))
        assert_same(f"national report JSON, {name}", found, table)


def test_stalking_reports_are_the_table_figures(table: Rows, cli: dict[str, Any]) -> None:
    """`crimestats report NAME --offence stalking-and-harassment`: its league table and charts are stalking's."""
    for name, report in cli["report_stalking"].items():
        assert report["offence"] == STALKING
        rows = ((STALKING, row["force_code"], figures(row)) for row in table_rows(report, "league"))
        assert_same(f"{name} stalking report JSON, league table", rows, table)
        for chart_name, read in [("league chart", _league_chart), ("funnel chart", _funnel_chart), ("map", _map_chart)]:
            assert_same(f"{name} stalking report JSON, {chart_name}", read(report, STALKING, table), table)
        trend = _trend_point(report, report["force_code"], name)
        assert trend is not None
        assert_same(f"{name} stalking report JSON, trend chart", iter([(STALKING, report["force_code"], trend)]), table)


def _trend_point(report: dict[str, Any], code: str, name: str) -> dict[str, Any] | None:
    points = [p for p in chart_rows(chart(report, "trend")) if p.get("series") == name and p["period_label"] == LABEL]
    assert len(points) <= 1
    return figures(points[0], ("rate_per_1000", "rate_ci_low", "rate_ci_high")) if points else None


def test_trend_charts_end_on_the_table_figures(table: Rows, reports: dict[str, Any], forces: dict[str, str]) -> None:
    """Each force report's trend (read by analytics.rate_trends, not the league table) reaches the year ending
    September 2019 at the table's rate and interval; forces without a rate are not plotted."""
    found = []
    for code, report in reports.items():
        point = _trend_point(report, code, forces[code])
        if table[TOTAL][code]["rate_per_1000"] is None:
            assert point is None, forces[code]
        else:
            assert point is not None, forces[code]
            found.append((TOTAL, code, point))
    assert_same("force report JSON, trend chart", iter(found), table)


def test_offence_mix_charts_are_the_force_and_peer_figures(reports: dict[str, Any], profiles: dict[str, Any]) -> None:
    """The offence-mix bars: the force's rate of each offence group is its force JSON rate, the peer bar the
    offence table's peer average."""
    wrong, compared = [], 0
    for code, report in reports.items():
        if not any(c["name"] == "offence_mix" for c in report["charts"]):
            continue
        name = profiles[code]["force"]
        own = {row["offence"]: row["rate_per_1000"] for row in profiles[code]["rows"]}
        peers = {row["offence_name"]: row["peer_mean"] for row in table_rows(report, "offences")}
        for bar in chart_rows(chart(report, "offence_mix")):
            expected = own[bar["offence"]] if bar["group"] == name else peers[bar["offence"]]
            compared += 1
            if bar["rate"] != expected:
                wrong.append(f"{name} {bar['offence']} {bar['group']}: chart {bar['rate']!r}, expected {expected!r}")
    assert compared > 40 * 10
    assert not wrong, "\n".join(wrong)


def test_funnel_position_is_the_same_in_every_view(
    table: Rows, cli: dict[str, Any], findings: dict[Any, Any], reports: dict[str, Any]
) -> None:
    """`crimestats funnel`'s position and rate, the league finding's funnel_position, the report league table's
    'Against all forces' and the funnel chart's legend label."""
    funnel = {row["force_code"]: row for row in cli["funnel"]["rows"]}
    assert_same("funnel JSON", ((TOTAL, c, figures(r, ("count", "rate_per_1000"))) for c, r in funnel.items()), table)
    national = {row["force_code"]: row["funnel_position"] for row in table_rows(cli["national"][TOTAL], "league")}
    chart_labels = {code: point["position"] for code, point in _funnel_points(cli["national"][TOTAL]).items()}
    wrong = []
    for code, row in funnel.items():
        words, label = POSITION_WORDS[row["position"]]
        league = next(f for f in findings[None][code]["findings"] if f["kind"] == "league")
        seen = {
            "findings": league["numbers"]["funnel_position"],
            "force report league table": next(
                r["funnel_position"] for r in table_rows(reports[code], "league") if r["force_code"] == code
            ),
            "national league table": national[code],
            "national funnel chart": chart_labels[code],
        }
        want = {"findings": row["position"], "national funnel chart": label}
        wrong += [
            f"{row['force']}: {view} {value!r}, funnel JSON {row['position']!r}"
            for view, value in seen.items()
            if value != want.get(view, words)
        ]
    assert not wrong, "\n".join(wrong)


# --- printed -----------------------------------------------------------------------------------------------------


def _printed_rows(text: str, separator: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split(separator)[1:-1]] for line in text.splitlines() if separator in line]


def test_printed_table_and_markdown_report_show_the_table_figures(table: Rows, cli: dict[str, Any]) -> None:
    """`crimestats table` (text) and the Markdown report print each force's figures as formatting gives them:
    rank '4 of 41 (4–5)', rate '60.9', interval '60.3–61.4', change '+2', count '43,831'."""

    def printed(row: dict[str, Any]) -> dict[str, str]:
        return {
            "rank": fmt.rank(row["rank"], row["ranked_of"], row["rank_low"], row["rank_high"]),
            "count": fmt.count(row["count"]),
            "rate": fmt.rate(row["rate_per_1000"]),
            "interval": fmt.interval(row["rate_ci_low"], row["rate_ci_high"]),
            "change": fmt.signed_percent(row["change_pct"]),
        }

    by_name = {offence: {row["force"]: row for row in rows.values()} for offence, rows in table.items()}
    for offence, text in cli["table_text"].items():
        rows = {cells[1]: cells for cells in _printed_rows(text, "│") if cells[1] in by_name[offence]}
        assert set(rows) == set(by_name[offence])
        for name, cells in rows.items():  # Rank (plausible), Force, Offences, Rate, 95% interval, Change %
            expected = printed(by_name[offence][name])
            assert cells[:6] == [
                expected["rank"],
                name,
                *(expected[k] for k in ("count", "rate", "interval", "change")),
            ]
    markdown = _printed_rows(cli["markdown"], "|")
    league = {cells[1]: cells for cells in markdown if len(cells) >= 7 and cells[1] in by_name[TOTAL]}
    assert set(league) == set(by_name[TOTAL])
    for name, cells in league.items():
        expected = printed(by_name[TOTAL][name])
        assert cells[:6] == [expected["rank"], name, *(expected[k] for k in ("count", "rate", "interval", "change"))]
    names = {reference.offence(offence).name: offence for offence in OFFENCES}
    own = {cells[0]: cells for cells in markdown if len(cells) == 9 and cells[0] in names}
    assert set(own) == set(names)
    for name, cells in own.items():
        expected = printed(table[names[name]][WILTSHIRE])
        assert cells[1:6] == [expected[k] for k in ("count", "rate", "interval", "rank", "change")]


# --- the library is what the CLI prints -------------------------------------------------------------------------


def test_cli_json_is_the_library_json(
    cli: dict[str, Any], profiles: dict[str, Any], findings: dict[Any, Any], reports: dict[str, Any]
) -> None:
    """The views built with the library for every force are what the CLI prints, for the forces run through both."""
    codes = {name: reference.area(name).code for name in CLI_FORCES}
    for name, code in codes.items():
        assert cli["force"][name] == profiles[code], name
        assert cli["findings"][name] == findings[None][code], name
    for name, report in cli["report"].items():
        assert report == reports[codes[name]], name
    assert cli["findings_stalking"] == findings[STALKING][WILTSHIRE]
