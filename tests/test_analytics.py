"""Analytics on the real store: populations, the choice between sources, and the options users can change."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import openpyxl
import pytest

from crimestats import reference
from crimestats.analytics import Options, force_profile, force_statistics, league_table, totals_table
from crimestats.analytics.figures import force_populations
from crimestats.errors import CrimestatsError, NoDataError, UnknownAreaError
from crimestats.store import Store


@pytest.fixture(scope="module")
def mye4(data_dir: Path) -> dict[str, dict[int, float]]:
    """MYE4 read independently: area code → mid-year → population."""
    book = openpyxl.load_workbook(data_dir / "population" / "LAD23_Mid_Year_pop_2011_to_2023.xlsx", read_only=True)
    rows = list(book["MYE4"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Code")
    years = {j: int(str(h)[4:]) for j, h in enumerate(rows[header]) if str(h).startswith("Mid-")}
    return {r[0]: {year: r[j] for j, year in years.items()} for r in rows[header + 1 :] if r[0]}


def _force_population(store: Store, year: int) -> dict[str, float]:
    rows = force_populations(store.backend).to_pyarrow().to_pylist()
    return {r["area_code"]: r["population"] for r in rows if r["year"] == year}


def test_force_populations_add_up_to_england_and_wales(loaded_store: Store, mye4: dict) -> None:
    for year in (2016, 2018, 2023):
        forces = _force_population(loaded_store, year)
        assert sum(forces[f.code] for f in reference.forces()) == mye4["K04000001"][year]


def test_revised_estimates_are_close_to_the_populations_ons_printed(loaded_store: Store) -> None:
    """Mid-2018 revised after Census 2021 against P3's mid-2018 (year ending September 2019): within 3%, or
    1,000 people for City of London's 8,700 residents."""
    revised = _force_population(loaded_store, 2018)
    rows = league_table(loaded_store, "2019-09", options=Options(source="ons-pfa")).to_pylist()
    for row in rows:
        if row["population"]:
            gap = revised[row["force_code"]] - row["population"]
            assert abs(gap) < max(0.03 * row["population"], 1000), (row["force"], gap)


def test_home_office_rates_use_the_estimate_ons_would_use(loaded_store: Store, mye4: dict) -> None:
    """Year ending March 2018 → mid-2016, as in the P3 header of that release."""
    rows = league_table(loaded_store, "2018-03", options=Options(source="home-office")).to_pylist()
    wiltshire = next(r for r in rows if r["force"] == "Wiltshire")
    assert wiltshire["population"] == _force_population(loaded_store, 2016)["E23000038"]
    assert "mid-2016" in wiltshire["population_source"]
    assert math.isclose(wiltshire["rate_per_1000"], wiltshire["count"] / wiltshire["population"] * 1000)


def test_ons_figures_prefer_the_ons_tables_and_can_be_pinned(loaded_store: Store) -> None:
    default = {r["force"]: r for r in league_table(loaded_store, "2018-03").to_pylist()}
    pinned = {
        r["force"]: r for r in league_table(loaded_store, "2018-03", options=Options(source="home-office")).to_pylist()
    }
    assert default["Wiltshire"]["source"] == "ons-pfa" and pinned["Wiltshire"]["source"] == "home-office"
    assert default["Wiltshire"]["file_name"] == "policeforceareatablesyearendingmarch2018v2.xlsx"


def test_population_and_year_can_be_overridden(loaded_store: Store) -> None:
    options = Options(source="ons-pfa", population="ons-mye", population_year=2019)
    rows = league_table(loaded_store, "2019-09", options=options).to_pylist()
    wiltshire = next(r for r in rows if r["force"] == "Wiltshire")
    assert wiltshire["population"] == _force_population(loaded_store, 2019)["E23000038"]


def test_city_of_london_can_be_ranked_on_request(loaded_store: Store) -> None:
    rows = league_table(loaded_store, "2019-03", options=Options(suppress=False)).to_pylist()
    city = next(r for r in rows if r["force"] == "City of London")
    assert city["rank"] == city["ranked_of"] == 43  # 8,700 residents: by far the highest rate
    assert city["note"].startswith(
        "shown on request (--no-suppress), though rate per 1,000 residents suppressed by ONS"
    )
    suppressed = next(r for r in league_table(loaded_store, "2019-03").to_pylist() if r["force"] == "City of London")
    assert suppressed["rate_per_1000"] is None and "suppressed" in suppressed["note"]


def test_force_profile_covers_every_level(loaded_store: Store) -> None:
    profile = force_profile(loaded_store, "E23000038", "2018-03", Options(source="home-office"))
    rows = {r["offence_slug"]: r for r in profile["rows"].to_pylist()}
    # detail levels exist only in the Home Office data, and add up to their parents
    assert rows["rape-offences"]["count"] + rows["other-sexual-offences"]["count"] == rows["sexual-offences"]["count"]
    assert (
        rows["victim-based-crime"]["count"] + rows["other-crimes-against-society"]["count"]
        == (rows["total-excluding-fraud"]["count"])
    )


def test_totals_name_the_forces_left_out(loaded_store: Store) -> None:
    rows = {r["area_code"]: r for r in totals_table(loaded_store, "2019-12").to_pylist()}
    assert rows["K04000001"]["area"] == "England and Wales (excluding Greater Manchester)"
    assert rows["W92000004"]["area"] == "Wales"


def test_errors(loaded_store: Store) -> None:
    with pytest.raises(NoDataError, match="periods in the store: 2018-03"):
        league_table(loaded_store, "2016-03")
    with pytest.raises(UnknownAreaError, match="region"):
        force_profile(loaded_store, "North East", "2019-09")
    with pytest.raises(CrimestatsError, match="unknown source"):
        league_table(loaded_store, "2019-09", options=Options(source="twitter"))


def test_statistics_is_one_row_per_area_offence_and_period(loaded_store: Store) -> None:
    rows = force_statistics(loaded_store.backend).to_pyarrow().to_pylist()
    keys = [(r["area_code"], r["offence"], r["period_end"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert dt.date(2019, 9, 1) in {k[2] for k in keys}


def test_a_missing_published_population_says_why_the_rate_is_blank(loaded_store: Store) -> None:
    """The year ending June 2025 has no ONS force tables, so no Table P3 population to ask for."""
    rows = league_table(loaded_store, "2025-06", options=Options(population="published")).to_pylist()
    assert rows and all(
        r["rate_per_1000"] is None and r["population_source"] == "ONS Table P3, not in store" for r in rows
    )
    assert {r["note"] for r in rows if r["force"] != "City of London"} == {  # its rate is suppressed anyway
        "no ONS Table P3 population for this period in the store (drop --population published)"
    }


def test_home_office_figures_can_use_the_population_ons_published(loaded_store: Store) -> None:
    options = Options(source="home-office", population="published")
    rows = {r["force"]: r for r in league_table(loaded_store, "2018-03", options=options).to_pylist()}
    ons = {r["force"]: r for r in league_table(loaded_store, "2018-03", options=Options(source="ons-pfa")).to_pylist()}
    assert rows["Wiltshire"]["population"] == ons["Wiltshire"]["population"]
    assert rows["Wiltshire"]["population_source"] == "ONS Table P3, 2018-03"


def test_a_suppressed_rate_has_its_change_tested_on_the_counts(loaded_store: Store) -> None:
    """City of London's rate is suppressed, so its change is the E-test of the two counts (equal exposure)."""
    from scipy.stats import poisson_means_test

    rows = league_table(loaded_store, "2019-09", "shoplifting").to_pylist()
    city = next(r for r in rows if r["force"] == "City of London")
    assert city["rate_per_1000"] is None and city["previous_count"] is not None
    assert city["change_verdict"].endswith("(counts compared, not rates: the rate is not published)")
    expected = poisson_means_test(int(city["count"]), 1.0, int(city["previous_count"]), 1.0).pvalue
    assert city["change_p_value"] == pytest.approx(expected, rel=1e-6)


def test_a_change_verdict_says_which_comparison_was_made_and_why(loaded_store: Store) -> None:
    """Table P3 starts with 2018-03, so a 2018 period has no P3 population a year earlier: the counts are
    compared, and the verdict says so in a sentence; British Transport Police has no resident population; a
    change too small to test carries no method at all."""
    rows = {r["force"]: r for r in league_table(loaded_store, "2018-12", "total-excluding-fraud").to_pylist()}
    wiltshire = rows["Wiltshire"]
    assert wiltshire["population"] is not None and wiltshire["previous_count"] is not None
    assert wiltshire["change_verdict"] == (
        "statistically significant fall (counts compared, not rates: "
        "no ONS Table P3 population for the year ending December 2017 in the store)"
    )
    assert rows["British Transport Police"]["change_verdict"].endswith(
        "(counts compared, not rates: British Transport Police has no resident population)"
    )
    later = {r["force"]: r for r in league_table(loaded_store, "2019-12", "total-excluding-fraud").to_pylist()}
    assert "counts compared" not in later["Wiltshire"]["change_verdict"]
    robbery = {r["force"]: r for r in league_table(loaded_store, "2018-03", "robbery").to_pylist()}
    city = robbery["City of London"]
    counts = f"{city['previous_count']} then {city['count']}"
    assert city["change_verdict"] == f"too few offences to judge a change ({counts})"
