"""Findings: for every ONS release in the data folder and several forces, the numbers in the findings agree with
Tables P1-P3 read independently (tests/official.py); the wording is held by snapshot tests.

Update the snapshots after an intended change of wording with ``CRIMESTATS_UPDATE_SNAPSHOTS=1 pytest``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crimestats import analytics, reference
from crimestats import formatting as fmt
from crimestats.analytics import Options, summaries, uncertainty
from crimestats.errors import NoDataError, UnknownAreaError
from crimestats.reports.findings import Findings, PeriodFigures, build_findings
from crimestats.sources.peer_groups import read_peer_groups
from crimestats.store import Store

from conftest import VINTAGES
from official import FORCE_CODE, HEADINGS, Published, ons_round

FORCES = ["Wiltshire", "Merseyside", "Dyfed-Powys", "Metropolitan Police", "Greater Manchester", "Cumbria"]
TOTAL = "total recorded crime excluding fraud"
SNAPSHOTS = Path(__file__).parent / "snapshots"


@functools.cache
def _figures(store: Store, vintage: str) -> PeriodFigures:
    return PeriodFigures.read(store, vintage)


def findings_for(store: Store, force: str, vintage: str) -> Findings:
    return build_findings(store, force, vintage, figures=_figures(store, vintage))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _p3_ranks(p3: Published) -> dict[str, int]:
    """Force code → rank of its published total rate among forces with one (1 = lowest, ties share)."""
    rates = {c: r for (c, h), v in p3.cells.items() if h == TOTAL and FORCE_CODE.match(c) and (r := _number(v))}
    return {code: 1 + sum(other < rate for other in rates.values()) for code, rate in rates.items()}


def _by_kind(found: Findings, kind: str, offence: str = "total-excluding-fraud") -> list[dict[str, Any]]:
    return [f.to_dict() for f in found.findings if f.kind == kind and f.offence == offence]


@pytest.mark.parametrize("vintage", VINTAGES)
@pytest.mark.parametrize("force", FORCES)
def test_league_finding_agrees_with_p1_and_p3(
    loaded_store: Store, published: dict[str, dict[str, Published]], force: str, vintage: str
) -> None:
    code = reference.area(force).code
    p1, p3 = published[vintage]["P1"], published[vintage]["P3"]
    found = findings_for(loaded_store, force, vintage)
    count = p1.cells[(code, TOTAL)]
    if isinstance(count, str):  # '..': Greater Manchester from the year ending September 2019
        assert [f.kind for f in found.findings] == ["missing"]
        assert found.findings[0].text == f"No figures are available for {force} for the {found.period_label}."
        assert "gmp-missing-2019" in found.findings[0].caveats
        return
    (league,) = _by_kind(found, "league")
    numbers = league["numbers"]
    assert numbers["count"] == count
    published_rate = p3.cells[(code, TOTAL)]
    assert isinstance(published_rate, float | int)
    population = next(v for (c, h), v in p3.cells.items() if c == code and h.startswith("population figures"))
    assert isinstance(population, float | int)
    # P3 prints populations rounded to 100: the exact rate lies within the rates from population ± 50.
    if ons_round(numbers["rate_per_1000"]) != ons_round(published_rate):
        assert count / (population + 50) * 1000 <= published_rate + 0.05
        assert count / (population - 50) * 1000 >= published_rate - 0.05
    expected_rank = _p3_ranks(p3)[code]
    assert abs(numbers["rank"] - expected_rank) <= 1, (numbers["rank"], expected_rank)
    assert numbers["rank_low"] <= numbers["rank"] <= numbers["rank_high"]
    rate_text = f"{ons_round(numbers['rate_per_1000'])} crimes per 1,000 residents"
    assert league["text"].startswith(f"{force} recorded {rate_text} in the {found.period_label}")
    assert f"of {numbers['ranked_of']} forces" in league["text"]
    assert f"plausible rank {numbers['rank_low']}" in league["text"]


@pytest.mark.parametrize("vintage", VINTAGES)
def test_national_finding_agrees_with_p1(
    loaded_store: Store, published: dict[str, dict[str, Published]], vintage: str
) -> None:
    found = findings_for(loaded_store, "Wiltshire", vintage)
    (national,) = _by_kind(found, "national")
    assert national["numbers"]["count"] == published[vintage]["P1"].cells[("K04000001", TOTAL)]
    excluded = "(excluding Greater Manchester)" in national["text"]
    assert excluded == (vintage in ("2019-09", "2019-12"))


@pytest.mark.parametrize("vintage", VINTAGES)
@pytest.mark.parametrize("force", FORCES)
def test_change_findings_agree_with_p1_and_p2(
    loaded_store: Store, published: dict[str, dict[str, Published]], force: str, vintage: str
) -> None:
    """Counts equal P1; a significant change goes the way P2 says (P2 compares with a revised earlier year, so
    the size may differ by a point or two, but a significant rise is not a published fall); a percentage is
    printed only for a significant change on a base of 50 or more."""
    code = reference.area(force).code
    p1, p2 = published[vintage]["P1"], published[vintage]["P2"]
    slugs = {HEADINGS.get(h.replace("-", " ")): h for h in p1.headings}  # offence slug → this release's heading
    found = findings_for(loaded_store, force, vintage)
    changes = [f.to_dict() for f in found.findings if f.kind == "change"]
    if found.findings[0].kind != "missing":
        assert changes  # every release prints P2, so every force with figures has at least its total change
    for change in changes:
        numbers = change["numbers"]
        heading = slugs[change["offence"]]
        assert numbers["count"] == p1.cells[(code, heading)], change["offence"]
        shown = re.search(r"(rose|fell) (\d+)%", change["text"])
        if shown:
            assert change["significant"] and numbers["previous_count"] >= 50
            assert Decimal(shown.group(2)) == ons_round(abs(numbers["change_pct"]), 0)
        if change["significant"]:
            p2_value = _number(p2.cells.get((code, heading)))
            if p2_value is not None and abs(p2_value) >= 3:
                assert (p2_value > 0) == ("rose" in change["text"]), (change["text"], p2_value)
        else:
            assert "%" not in change["text"]


def test_findings_never_use_forbidden_words(loaded_store: Store) -> None:
    for force in reference.forces():
        for finding in findings_for(loaded_store, force.name, "2019-06").findings:
            assert not re.search(r"\b(safest|safe|dangerous|crime-ridden)\b", finding.text, re.IGNORECASE)


def test_findings_carry_caveats_from_the_registry(loaded_store: Store) -> None:
    found = findings_for(loaded_store, "Wiltshire", "2019-09")
    stalking = [f for f in found.findings if f.offence == "stalking-and-harassment" and f.kind == "change"]
    assert stalking and "stalking-additional-recording-2018" in stalking[0].caveats
    assert all("not-accredited" in f.caveats for f in found.findings)
    city = findings_for(loaded_store, "City of London", "2019-09")
    assert "city-of-london-rates" in city.findings[0].caveats
    assert "suppressed" in city.findings[0].text


def test_most_similar_group_file_is_named_in_peer_findings(loaded_store: Store, tmp_path: Path) -> None:
    msg = tmp_path / "msg.csv"
    peers = ["Dorset", "Gloucestershire", "North Yorkshire", "Suffolk", "West Mercia", "Warwickshire", "Cumbria"]
    msg.write_text("force,peer\n" + "".join(f"Wiltshire,{p}\n" for p in peers), encoding="utf-8")
    found = build_findings(
        loaded_store, "Wiltshire", "2019-09", read_peer_groups(msg), figures=_figures(loaded_store, "2019-09")
    )
    (peer,) = _by_kind(found, "peer")
    assert "the 7 other forces in its most similar group" in peer["text"]
    assert peer["compared_with"].startswith("simple mean of the rates of 8 forces including Wiltshire")


# --- snapshots of the wording --------------------------------------------------------------------------------


def _snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("CRIMESTATS_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with CRIMESTATS_UPDATE_SNAPSHOTS=1 to create it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("force", "vintage"),
    [
        ("Wiltshire", "2019-09"),
        ("Greater Manchester", "2019-12"),
        ("City of London", "2018-12"),
        ("Cumbria", "2019-03"),
    ],
)
def test_findings_text_snapshot(loaded_store: Store, force: str, vintage: str) -> None:
    found = findings_for(loaded_store, force, vintage)
    lines = [f"[{f.kind}] {f.text}" for f in found.findings]
    _snapshot(f"findings-{reference.area(force).slug}-{vintage}.txt", "\n".join(lines) + "\n")


def test_findings_json_shape(loaded_store: Store) -> None:
    result = json.loads(json.dumps(findings_for(loaded_store, "Wiltshire", "2019-09").to_dict()))
    assert {"force", "period", "findings"} <= set(result)
    for finding in result["findings"]:
        assert {"kind", "text", "value", "compared_with", "significant", "caveats"} <= set(finding)
        assert all({"id", "text", "source_url"} <= set(c) for c in finding["caveats"])


# --- defects fixed: wording and what a finding may claim ---------------------------------------------------------


def test_a_change_for_a_force_without_a_rate_speaks_of_the_number_of_offences(loaded_store: Store) -> None:
    """City of London's rate is suppressed ('..'), so its changes are tested and described as counts: its P3
    population rose from 7,700 (mid-2017) to 8,700 (mid-2018), so a test of the rates would be a different test."""
    found = findings_for(loaded_store, "City of London", "2019-09")
    changes = [f for f in found.findings if f.kind == "change"]
    assert changes
    for finding in changes:
        assert "rate" not in finding.text, finding.text
        assert "the change in the number of offences is statistically significant" in finding.text
        numbers = finding.numbers
        counts_only = uncertainty.change_test(numbers["count"], 1.0, numbers["previous_count"], 1.0)
        assert finding.p_value == counts_only.p_value and finding.significant == counts_only.significant
        assert numbers["change_verdict"].endswith("(counts compared, not rates: the rate is not published)")
    (total,) = [f for f in changes if f.offence == "total-excluding-fraud"]
    assert (total.numbers["previous_count"], total.numbers["count"]) == (6485, 8278)
    assert total.text.startswith("Total recorded crime (excluding fraud) rose 28% on a year earlier (6,485 to 8,278")


def test_borderline_results_say_how_many_comparisons_were_made(loaded_store: Store) -> None:
    found = findings_for(loaded_store, "Wiltshire", "2019-09")
    note = "borderline: with 42 differences tested for Wiltshire, a few this close are expected by chance alone"
    (total,) = _by_kind(found, "change")
    assert total["p_value"] == pytest.approx(0.0467, abs=5e-5)
    assert f"(p = 0.0467, {note})." in total["text"]
    assert "among 42 tests" not in total["text"]
    tested = [f for f in found.findings if f.p_value is not None]
    assert len(tested) > 20
    for finding in tested:
        assert (note in finding.text) == (0.01 <= finding.p_value < 0.05), finding.text
        assert "multiple-comparisons" in finding.caveats
    assert not any("multiple-comparisons" in f.caveats for f in found.findings if f.p_value is None)
    assert "multiple-comparisons" in found.caveat_ids()


def test_the_peer_finding_speaks_of_the_rate_of_recorded_crime(loaded_store: Store) -> None:
    (peer,) = _by_kind(findings_for(loaded_store, "Wiltshire", "2019-09"), "peer")
    assert peer["text"].startswith("At 60.9 per 1,000 residents, Wiltshire's rate of recorded crime is below the 69.5")
    assert "rate of crimes" not in peer["text"]


def test_the_lancashire_estimate_is_attached_to_the_year_ending_december_2018_only(loaded_store: Store) -> None:
    december = findings_for(loaded_store, "Lancashire", "2018-12")
    assert "lancashire-missing-2018" in december.caveat_ids()
    for vintage in ("2019-03", "2019-09"):
        assert "lancashire-missing-2018" not in findings_for(loaded_store, "Lancashire", vintage).caveat_ids()
        assert "lancashire-missing-2018" not in findings_for(loaded_store, "Wiltshire", vintage).caveat_ids()


@pytest.mark.parametrize(
    ("area", "message"),
    [
        ("England and Wales", "England and Wales is the national total, not a police force"),
        ("South West", "South West is a region, not a police force"),
        ("Wales", "Wales is a country, not a police force"),
    ],
)
def test_findings_are_for_police_forces(loaded_store: Store, area: str, message: str) -> None:
    with pytest.raises(UnknownAreaError, match=message):
        build_findings(loaded_store, area, "2019-09")


def test_a_chosen_population_year_reaches_the_rates_and_the_computed_peer_group(loaded_store: Store) -> None:
    """The year ending June 2025 would use mid-2024, which the store does not hold: by default the latest estimate
    (mid-2023) gives the rates, as choosing it does."""
    default = build_findings(loaded_store, "Wiltshire", "2025-06")
    found = build_findings(loaded_store, "Wiltshire", "2025-06", options=Options(population_year=2023))
    assert _by_kind(default, "league")[0]["numbers"]["rate_per_1000"] == pytest.approx(41090 / 756396 * 1000)
    assert default.peer_group is not None
    (league,) = _by_kind(found, "league")
    assert league["numbers"]["count"] == 41090 and league["numbers"]["population"] == 756396
    assert league["numbers"]["rate_per_1000"] == pytest.approx(41090 / 756396 * 1000)
    assert league["text"].startswith("Wiltshire recorded 54.3 crimes per 1,000 residents in the year ending June 2025")
    assert found.peer_group is not None and len(found.peer_group.members) == 7
    assert _by_kind(found, "peer")


def test_findings_about_one_offence_open_with_its_rate_league_position_and_england_and_wales(
    loaded_store: Store, published: dict[str, dict[str, Published]]
) -> None:
    """Wiltshire's burglary in the year ending September 2019, against P1 and P3 of that release."""
    found = build_findings(
        loaded_store, "Wiltshire", "2019-09", figures=_figures(loaded_store, "2019-09"), offence="burglary"
    )
    league, national = found.findings[:2]
    assert (league.kind, league.offence, national.kind, national.offence) == (
        "league",
        "burglary",
        "national",
        "burglary",
    )
    p1, p3 = published["2019-09"]["P1"].cells, published["2019-09"]["P3"].cells
    count, rate = p1[("E23000038", "burglary")], p3[("E23000038", "burglary")]
    assert league.numbers["count"] == count and fmt.rate(league.value) == str(ons_round(rate))
    assert league.text.startswith(
        f"Wiltshire's rate of burglary was {ons_round(rate)} per 1,000 residents in the year ending September 2019"
        f" ({count:,} offences), ranked "
    )
    assert national.text.startswith("Across England and Wales (excluding Greater Manchester) the rate of burglary was")
    assert {f.offence for f in found.findings} <= {"burglary", "residential-burglary", "non-residential-burglary"}


# ---------------------------------------------------------------------------------------------------------------
# The numbers findings word come from the analytics


@pytest.mark.parametrize("period", ["2018-03", "2019-09", "2019-12"])
@pytest.mark.parametrize("offence", ["total-excluding-fraud", "burglary", "robbery", "homicide"])
def test_the_materialised_funnel_position_is_the_funnel_commands(
    loaded_store: Store, period: str, offence: str
) -> None:
    """Every force's ``funnel_position`` and ``funnel_target`` in the statistics are what ``crimestats funnel``
    computes for the league; forces it leaves out (no rate, British Transport Police) have none."""
    rows = _figures(loaded_store, period).leagues[offence]
    try:
        funnel = analytics.funnel(loaded_store, period, offence)
    except NoDataError:
        assert all(row["funnel_position"] is None and row["funnel_target"] is None for row in rows)
        return
    positions = {row["force_code"]: row["position"] for row in funnel["rows"]}
    assert len(positions) >= 40
    assert {row["force_code"]: row["funnel_position"] for row in rows} == {
        row["force_code"]: positions.get(row["force_code"]) for row in rows
    }
    assert all(row["funnel_target"] == funnel["target"] for row in rows)


@pytest.mark.parametrize("period", ["2018-12", "2019-09"])
def test_a_rank_is_joint_when_another_force_has_it(loaded_store: Store, period: str) -> None:
    for offence, rows in _figures(loaded_store, period).leagues.items():
        ranks = [row["rank"] for row in rows]
        for row in rows:
            expected = None if row["rank"] is None else ranks.count(row["rank"]) > 1
            assert row["rank_joint"] == expected, (offence, row["force"])
    homicide = _figures(loaded_store, period).leagues["homicide"]
    assert any(row["rank_joint"] for row in homicide)  # equal rates as printed share a rank


def test_the_tests_made_for_a_force_are_its_tested_changes_and_peer_gaps() -> None:
    rows = {"a": {"change_p_value": 0.2}, "b": {"change_p_value": None}, "c": {"change_p_value": 0.01}}
    peers = {"a": {"p_value": 0.5}, "b": {"p_value": 0.03}, "c": {"p_value": None}}
    assert summaries.tests_made(rows, peers) == 4
    assert summaries.tests_made(rows, {}) == 2  # no peer group
    assert summaries.tests_made({}, peers) == 0  # peer results of offences not tested for the force


def test_strengths_order_findings_by_how_notable_they_are() -> None:
    assert summaries.change_strength(0.001) == pytest.approx(3) and summaries.change_strength(None) == 0
    assert summaries.change_strength(0.0) == pytest.approx(300)
    assert summaries.peer_strength(60.0, 80.0) == pytest.approx(0.25) and summaries.peer_strength(1.0, 0.0) == 0
    assert summaries.extreme_strength({"rank": 1, "rank_low": 1, "rank_high": 3}) == -2
    assert summaries.extreme_strength({"rank": 43, "rank_low": None, "rank_high": None}) == 0


# --- issue 10: honest in every view ---------------------------------------------------------------------------


@pytest.mark.parametrize("vintage", ["2018-12", "2019-09"])
def test_a_finding_without_a_test_is_not_called_not_significant(loaded_store: Store, vintage: str) -> None:
    """League and extreme findings word the funnel plot; no significance test with a p-value is made for them, so
    ``significant`` is null, never false, and every finding with a null p-value has a null ``significant``."""
    figures = _figures(loaded_store, vintage)
    seen = set()
    for area in reference.forces():
        result = json.loads(json.dumps(build_findings(loaded_store, area.code, vintage, figures=figures).to_dict()))
        for finding in result["findings"]:
            seen.add(finding["kind"])
            if finding["p_value"] is None:
                assert finding["significant"] is None, finding["text"]
            if finding["kind"] in ("league", "extreme"):
                assert finding["significant"] is None and finding["p_value"] is None, finding["text"]
    assert {"league", "extreme", "change", "peer"} <= seen


@pytest.mark.parametrize("offence", ["total-excluding-fraud", "burglary", "homicide"])
def test_both_funnel_judgements_are_materialised_as_crimestats_funnel_computes_them(
    loaded_store: Store, offence: str
) -> None:
    """``funnel_position_poisson`` is ``crimestats funnel --no-overdispersion``'s position (exact Poisson limits),
    ``funnel_position`` the over-dispersed one; over-dispersed limits are wider, so a force outside them is
    outside the Poisson limits on the same side."""
    rows = _figures(loaded_store, "2019-09").leagues[offence]
    for overdispersion, column in ((False, "funnel_position_poisson"), (True, "funnel_position")):
        try:
            funnel = analytics.funnel(loaded_store, "2019-09", offence, overdispersion=overdispersion)
        except NoDataError:
            assert all(row[column] is None for row in rows)
            continue
        positions = {row["force_code"]: row["position"] for row in funnel["rows"]}
        assert {row["force_code"]: row[column] for row in rows} == {
            row["force_code"]: positions.get(row["force_code"]) for row in rows
        }
    for row in rows:
        if row["funnel_position"] in ("above", "below"):
            assert row["funnel_position_poisson"] == row["funnel_position"], row["force"]


def test_the_league_finding_gives_both_judgements_in_plain_words(loaded_store: Store) -> None:
    """Wiltshire's 60.9 in the year ending September 2019 is further below the rate of all forces together than
    chance alone explains, but within the usual spread between forces: the finding says both."""
    (league,) = _by_kind(findings_for(loaded_store, "Wiltshire", "2019-09"), "league")
    funnel = analytics.funnel(loaded_store, "2019-09", overdispersion=False)
    (poisson,) = [row["position"] for row in funnel["rows"] if row["force"] == "Wiltshire"]
    (widened,) = [
        row["position"] for row in analytics.funnel(loaded_store, "2019-09")["rows"] if row["force"] == "Wiltshire"
    ]
    assert (poisson, widened) == ("below", "within")
    assert league["numbers"]["funnel_position_poisson"] == "below"
    assert league["numbers"]["funnel_position"] == "within"
    assert (
        f"that is lower than the rate of all forces together ({fmt.rate(funnel['target'])}) by more than chance "
        "alone explains, but within the usual differences between forces."
    ) in league["text"]
    assert "significantly" not in league["text"]


def test_the_peer_group_is_described_once_not_on_every_finding(loaded_store: Store) -> None:
    found = findings_for(loaded_store, "Wiltshire", "2019-09")
    peers = [f for f in found.findings if f.kind == "peer"]
    assert len(peers) > 5
    described = [f for f in peers if "not the Home Office most similar group" in f.text]
    assert described == [peers[0]] and "Wiltshire and its 7 peer forces" in peers[0].text
    assert all("average of its peer group" in f.text for f in peers[1:])


def test_the_national_finding_says_why_the_rate_of_all_forces_together_differs(
    loaded_store: Store, published: dict[str, dict[str, Published]]
) -> None:
    """England and Wales (excluding Greater Manchester) had 88.8 crimes per 1,000 in the year ending September
    2019, the 41 forces compared 87.5 together: the national total also counts British Transport Police (no
    residents) and City of London (rate not published); both counts are P1's."""
    figures = _figures(loaded_store, "2019-09")
    (national,) = _by_kind(findings_for(loaded_store, "Wiltshire", "2019-09"), "national")
    league = figures.leagues["total-excluding-fraud"]
    counts = {row["area_name"]: row["count"] for row in league}
    rated = [row for row in league if row["funnel_position"] is not None]
    together = sum(row["count"] for row in rated) / sum(row["population"] for row in rated) * 1000
    assert fmt.rate(together) == "87.5" and fmt.rate(national["value"]) == "88.8"
    assert counts["City of London"] == published["2019-09"]["P1"].cells[(reference.area("City of London").code, TOTAL)]
    assert (
        f"The rate of all forces together that each force is compared with, 87.5, is lower because it leaves out "
        f"British Transport Police ({counts['British Transport Police']:,} offences; no residents of its own) and "
        f"City of London ({counts['City of London']:,} offences; rate not published), which England and Wales "
        "(excluding Greater Manchester) counts."
    ) in national["text"]
    # the national count is the forces' and British Transport Police's together
    assert national["numbers"]["count"] == sum(c for c in counts.values() if c is not None)
