"""The breaks-and-caveats registry: the packaged CSV is sound, and caveats attach to the right figures."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from pathlib import Path

import pytest

from crimestats import caveats as registry
from crimestats import reference
from crimestats.caveats import COLUMNS, KINDS, Caveat, caveat, caveats, caveats_for, load_caveats
from crimestats.errors import PeriodError, SourceError, UnknownAreaError, UnknownOffenceError

GMP, DEVON, LANCASHIRE, CITY, BTP = "E23000005", "E23000035", "E23000003", "E23000034", "BTP"
NORTH_WEST, SOUTH_WEST, LONDON, ENGLAND = "E12000002", "E12000009", "E12000007", "E92000001"


def month(text: str) -> dt.date:
    year, number = text.split("-")
    return dt.date(int(year), int(number), 1)


def ids(**kwargs: object) -> list[str]:
    return [item.id for item in caveats_for(**kwargs)]  # type: ignore[arg-type]


# --- the packaged registry ------------------------------------------------------------------------------


def test_every_row_is_sourced_and_refers_to_known_areas_and_offences() -> None:
    area_codes = {a.code for a in reference.areas()}
    slugs = {o.slug for o in reference.offences()}
    items = caveats()
    assert len(items) >= 15
    assert len({item.id for item in items}) == len(items)
    for item in items:
        assert item.kind in KINDS
        assert item.source_url.startswith("https://"), item.id
        assert " " not in item.source_url and item.source_title, item.id
        assert item.area is None or item.area in area_codes, item.id
        assert item.offence is None or item.offence in slugs, item.id
        assert (item.scope is None) == (item.offence is None), item.id
        assert item.text.endswith(".") and "\n" not in item.text, item.id
        assert item.kind == "context" or item.start is not None, item.id


def test_the_required_caveats_are_all_there() -> None:
    present = {item.id for item in caveats()}
    assert {
        "gmp-missing-2019",
        "devon-cornwall-missing-2022",
        "harassment-new-offences-2015",
        "stalking-additional-recording-2018",
        "stalking-former-partner-2020",
        "burglary-residential-2017",
        "burglary-non-residential-2017",
        "fraud-action-fraud-2011",
        "fraud-national-only",
        "city-of-london-rates",
        "not-accredited",
        "police-activity",
    } <= present


def test_texts_use_exact_months() -> None:
    assert "July 2019" in caveat("gmp-missing-2019").text
    assert "October to December 2022" in caveat("devon-cornwall-missing-2022").text
    assert "April 2018" in caveat("stalking-additional-recording-2018").text
    assert "January 2014" in caveat("not-accredited").text


def test_the_packaged_file_is_loaded_once_and_matches_a_fresh_load() -> None:
    assert caveats() is caveats()
    path = Path(registry.__file__).parent / "data" / "caveats.csv"
    assert load_caveats(path) == caveats() == load_caveats(str(path))


def test_caveat_by_id() -> None:
    assert caveat("gmp-missing-2019").area == GMP
    with pytest.raises(KeyError):
        caveat("no-such-caveat")


# --- missing data -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2019-09", "2019-12", "2020-03", "2020-12"])
def test_gmp_missing_data_applies_to_gmp_its_region_and_the_national_totals(period: str) -> None:
    for area in (GMP, "Greater Manchester", NORTH_WEST, ENGLAND, "K04000001", None):
        assert "gmp-missing-2019" in ids(area_code=area, period_end=month(period)), area


def test_gmp_missing_data_does_not_apply_elsewhere_or_earlier() -> None:
    assert "gmp-missing-2019" not in ids(area_code="Cheshire", period_end=month("2019-09"))
    assert "gmp-missing-2019" not in ids(area_code=LONDON, period_end=month("2019-09"))
    # The year ending June 2019 is July 2018 to June 2019: it does not reach July 2019 ...
    assert "gmp-missing-2019" not in ids(area_code=GMP, period_end=month("2019-06"))
    assert "gmp-missing-2019" not in ids(period_end=month("2019-06"))
    assert "gmp-missing-2019" not in ids(area_code=GMP, period_end=month("2019-06"), comparison=True)
    # ... nor does the year ending March 2021 (April 2020 to March 2021), which ends the window.
    assert "gmp-missing-2019" not in ids(area_code=GMP, period_end=month("2021-03"))


def test_gmp_missing_data_applies_to_comparisons_whose_earlier_year_is_affected() -> None:
    assert "gmp-missing-2019" in ids(area_code=GMP, period_end=month("2020-06"), comparison=True)
    assert "gmp-missing-2019" in ids(area_code=GMP, period_end=month("2021-03"), comparison=True)
    assert "gmp-missing-2019" not in ids(area_code=GMP, period_end=month("2022-03"), comparison=True)


DEVON_PERIODS = [("2022-09", False), ("2022-12", True), ("2023-03", True), ("2023-06", True), ("2023-09", True)]


@pytest.mark.parametrize(("period", "applies"), [*DEVON_PERIODS, ("2023-12", False)])
def test_devon_and_cornwall_missing_data(period: str, applies: bool) -> None:
    for area in (DEVON, SOUTH_WEST, None):
        assert ("devon-cornwall-missing-2022" in ids(area_code=area, period_end=month(period))) is applies
    assert "devon-cornwall-missing-2022" not in ids(area_code="Dorset", period_end=month("2023-03"))


def test_devon_and_cornwall_missing_data_in_a_comparison_a_year_later() -> None:
    assert "devon-cornwall-missing-2022" in ids(area_code=DEVON, period_end=month("2023-12"), comparison=True)


def test_lancashire_estimate() -> None:
    assert "lancashire-missing-2018" in ids(area_code=LANCASHIRE, period_end=month("2018-12"))
    assert "lancashire-missing-2018" not in ids(area_code=LANCASHIRE, period_end=month("2018-09"))


@pytest.mark.parametrize("area", [LANCASHIRE, NORTH_WEST, ENGLAND, None])
def test_lancashire_estimate_is_only_in_the_year_ending_december_2018(area: str | None) -> None:
    """Only the year ending December 2018 release estimated November-December 2018 (its Tables P1-P3 note 8); the
    March, June and September 2019 releases carry no such note, and the December 2019 release compares with a
    revised year ending December 2018 (161,375 offences against the 162,819 first published)."""
    item = caveat("lancashire-missing-2018")
    assert item.kind == "estimated" and "year ending December 2018" in item.text and "revised" in item.text
    assert "lancashire-missing-2018" in ids(area_code=area, period_end=month("2018-12"))
    assert "lancashire-missing-2018" in ids(area_code=area, period_end=month("2018-12"), comparison=True)
    assert "lancashire-missing-2018" in ids(area_code=area, period_end=month("2019-09"), since=month("2018-06"))
    for later in ("2019-03", "2019-06", "2019-09"):
        assert "lancashire-missing-2018" not in ids(area_code=area, period_end=month(later)), later
        assert "lancashire-missing-2018" not in ids(area_code=area, period_end=month(later), comparison=True), later
    assert "lancashire-missing-2018" not in ids(area_code=area, period_end=month("2019-12"), comparison=True)
    assert "lancashire-missing-2018" not in ids(area_code=area, period_end=month("2019-09"), since=month("2019-03"))


def test_lancashire_estimate_does_not_apply_to_other_forces_or_regions() -> None:
    for other in ("Cumbria", "Wiltshire", SOUTH_WEST, LONDON):
        assert "lancashire-missing-2018" not in ids(area_code=other, period_end=month("2018-12")), other


def test_the_multiple_comparisons_caveat_goes_with_significance_tests_only() -> None:
    item = caveat("multiple-comparisons")
    assert item.measure == "test" and "5% level" in item.text and "borderline" in item.text
    assert "multiple-comparisons" in ids(area_code="Wiltshire", period_end=month("2019-09"), test=True)
    assert "multiple-comparisons" in ids(area_code=None, offence="robbery", comparison=True, test=True)
    assert "multiple-comparisons" not in ids(area_code="Wiltshire", period_end=month("2019-09"))
    assert "multiple-comparisons" not in ids(area_code="Wiltshire", period_end=month("2019-09"), rate=True)


def test_the_city_of_london_caveat_names_no_single_estimate() -> None:
    """It is attached to every period's City of London rate, so it must not quote one year's population (the
    year ending March 2018 used mid-2016's 7,200, the year ending June 2025 would use mid-2024)."""
    text = caveat("city-of-london-rates").text
    assert "mid-2018" not in text and "8,700" not in text
    assert "fewer than 15,000 people in every mid-year estimate since 2011" in text


# --- breaks and renames -----------------------------------------------------------------------------------


def test_stalking_break_applies_to_a_change_whose_two_years_straddle_april_2018() -> None:
    found = ids(offence="stalking-and-harassment", period_end=month("2018-09"), comparison=True)
    assert "stalking-additional-recording-2018" in found
    found = ids(offence="stalking-and-harassment", period_end=month("2020-02"), comparison=True)
    assert "stalking-additional-recording-2018" in found


def test_stalking_break_does_not_apply_once_both_years_follow_the_new_rules() -> None:
    # Year ending March 2020 against March 2019: April 2018 to March 2020, all under the April 2018 rules.
    found = ids(offence="stalking-and-harassment", period_end=month("2020-03"), comparison=True)
    assert "stalking-additional-recording-2018" not in found
    # Nor before the change.
    found = ids(offence="stalking-and-harassment", period_end=month("2018-03"), comparison=True)
    assert "stalking-additional-recording-2018" not in found


def test_no_stalking_break_applies_to_a_count_or_change_far_from_every_break() -> None:
    stalking_breaks = {i.id for i in caveats() if i.offence == "stalking-and-harassment" and i.kind == "break"}
    assert len(stalking_breaks) >= 4
    for comparison in (False, True):
        found = ids(offence="stalking-and-harassment", period_end=month("2022-06"), comparison=comparison)
        assert not stalking_breaks & set(found)


def test_a_plain_count_whose_year_straddles_a_break_gets_it() -> None:
    assert "stalking-additional-recording-2018" in ids(offence="stalking-and-harassment", period_end=month("2018-09"))
    assert "stalking-additional-recording-2018" not in ids(
        offence="stalking-and-harassment", period_end=month("2019-03")
    )


def test_scope_offence_and_totals_reaches_the_totals_that_contain_the_offence() -> None:
    for total in ("total-excluding-fraud", "victim-based-crime", "violence-against-the-person"):
        assert "stalking-additional-recording-2018" in ids(offence=total, period_end=month("2018-09"), comparison=True)
        assert "harassment-new-offences-2015" in ids(offence=total, period_end=month("2015-12"), comparison=True)
    # but not sibling offences, and not other branches
    for other in ("violence-with-injury", "theft-offences", "other-crimes-against-society"):
        assert "stalking-additional-recording-2018" not in ids(
            offence=other, period_end=month("2018-09"), comparison=True
        )


def test_scope_offence_stays_with_the_offence() -> None:
    change_2021 = {"period_end": month("2021-03"), "comparison": True}
    assert "stalking-former-partner-2020" in ids(offence="stalking-and-harassment", **change_2021)
    assert "stalking-former-partner-2020" not in ids(offence="total-excluding-fraud", **change_2021)


def test_burglary_rename_follows_ons_which_compares_again_from_the_year_ending_march_2019() -> None:
    # ONS suppressed residential burglary changes for the year ending December 2018 but published them for March 2019.
    for name in ("residential-burglary", "Domestic burglary", "non-residential-burglary"):
        found = ids(offence=name, period_end=month("2018-12"), comparison=True)
        assert {"burglary-residential-2017", "burglary-non-residential-2017"} & set(found), name
        found = ids(offence=name, period_end=month("2019-03"), comparison=True)
        assert not {"burglary-residential-2017", "burglary-non-residential-2017"} & set(found), name
    # Total burglary is unaffected.
    assert not {"burglary-residential-2017", "burglary-non-residential-2017"} & set(
        ids(offence="burglary", period_end=month("2018-06"), comparison=True)
    )


def test_a_trend_spanning_a_break_gets_it() -> None:
    found = ids(offence="stalking-and-harassment", period_end=month("2022-03"), since=month("2016-03"))
    assert {"stalking-additional-recording-2018", "stalking-former-partner-2020"} <= set(found)
    assert "harassment-new-offences-2015" not in found  # the trend starts with April 2015 to March 2016
    with pytest.raises(PeriodError):
        caveats_for(period_end=month("2016-03"), since=month("2022-03"))
    with pytest.raises(PeriodError):
        caveats_for(since=month("2016-03"))


def test_fraud_transfer_to_action_fraud_is_a_phased_break() -> None:
    assert "fraud-action-fraud-2011" in ids(offence="fraud-offences", period_end=month("2013-03"))
    assert "fraud-action-fraud-2011" in ids(offence="fraud-offences", period_end=month("2014-03"), comparison=True)
    assert "fraud-action-fraud-2011" not in ids(offence="fraud-offences", period_end=month("2015-03"), comparison=True)
    assert "fraud-national-only" in ids(offence="fraud-offences", period_end=month("2019-03"))
    assert "fraud-national-only" not in ids(offence="robbery", period_end=month("2019-03"))


# --- context ----------------------------------------------------------------------------------------------


def test_city_of_london_context_applies_to_city_of_london_rates_only() -> None:
    assert "city-of-london-rates" in ids(area_code=CITY, rate=True, period_end=month("2019-12"))
    assert "city-of-london-rates" in ids(area_code="City of London Police", rate=True)
    assert "city-of-london-rates" not in ids(area_code=CITY, period_end=month("2019-12"))  # a count
    for other in (LONDON, "Metropolitan Police", ENGLAND, None):
        assert "city-of-london-rates" not in ids(area_code=other, rate=True, period_end=month("2019-12")), other


def test_british_transport_police_rates() -> None:
    assert "btp-rates" in ids(area_code=BTP, rate=True)
    assert "btp-rates" not in ids(area_code=None, rate=True)


def test_the_official_statistics_caveats_apply_to_everything() -> None:
    areas = [None, GMP, CITY, NORTH_WEST, BTP, "AF"]
    offences = [None, "total-excluding-fraud", "stalking-and-harassment", "residential-burglary", "fraud-offences"]
    periods = [None, month("2003-03"), month("2019-09"), month("2024-12")]
    for area, offence, period, comparison, rate in itertools.product(
        areas, offences, periods, (False, True), (False, True)
    ):
        found = ids(area_code=area, offence=offence, period_end=period, comparison=comparison, rate=rate)
        assert {"not-accredited", "police-activity"} <= set(found), (area, offence, period)


def test_order_is_by_kind_with_context_last_and_stable() -> None:
    found = caveats_for(area_code=GMP, offence="stalking-and-harassment", period_end=month("2020-06"), comparison=True)
    kinds = [item.kind for item in found]
    assert kinds == sorted(kinds, key=KINDS.index)
    assert kinds[0] == "missing" and kinds[-1] == "context"
    assert found == caveats_for(
        area_code="Greater Manchester", offence="Stalking and harassment", period_end=month("2020-06"), comparison=True
    )
    file_order = [item.id for item in caveats()]
    for kind in KINDS:
        within = [item.id for item in found if item.kind == kind]
        assert within == sorted(within, key=file_order.index)


def test_without_a_period_nothing_is_left_out_for_its_dates() -> None:
    found = ids(area_code=GMP, offence="stalking-and-harassment")
    assert {"gmp-missing-2019", "stalking-additional-recording-2018", "stalking-former-partner-2020"} <= set(found)


def test_unknown_area_or_offence_in_a_query() -> None:
    with pytest.raises(UnknownAreaError):
        caveats_for(area_code="Atlantis")
    with pytest.raises(UnknownOffenceError):
        caveats_for(offence="piracy")


# --- loading and checking a file --------------------------------------------------------------------------

GOOD_ROW = {
    "id": "test-row",
    "kind": "break",
    "area": "E23000038",
    "offence": "robbery",
    "scope": "offence",
    "measure": "",
    "start": "2020-04",
    "end": "",
    "text": "A test caveat.",
    "source_title": "A test source",
    "source_url": "https://www.ons.gov.uk/",
}


def write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    loaded = load_caveats(write_csv(tmp_path / "good.csv", [GOOD_ROW]))
    assert loaded == (
        Caveat(
            "test-row",
            "break",
            "E23000038",
            "robbery",
            "offence",
            dt.date(2020, 4, 1),
            None,
            "A test caveat.",
            "A test source",
            "https://www.ons.gov.uk/",
        ),
    )


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"kind": "warning"}, "kind", "unknown kind 'warning'"),
        ({"area": "E23999999"}, "area", "unknown area code 'E23999999'"),
        ({"area": "Wiltshire"}, "area", "the code for Wiltshire is E23000038"),
        ({"offence": "piracy"}, "offence", "unknown offence slug 'piracy'"),
        ({"offence": "Domestic burglary"}, "offence", "the slug for Residential burglary is residential-burglary"),
        ({"scope": "everything"}, "scope", "unknown scope 'everything'"),
        ({"offence": "", "scope": "offence"}, "scope", "without an offence"),
        ({"measure": "per-head"}, "measure", "unknown measure"),
        ({"start": "2020-13"}, "start", "not a month written YYYY-MM"),
        ({"start": "April 2020"}, "start", "not a month written YYYY-MM"),
        ({"start": ""}, "start", "needs a start month"),
        ({"end": "2019-01"}, "end", "before start"),
        ({"kind": "missing", "area": ""}, "area", "needs the area"),
        ({"kind": "estimated", "area": ""}, "area", "needs the area"),
        ({"kind": "estimated", "end": ""}, "end", "needs the last estimated month"),
        ({"source_url": "http://www.ons.gov.uk/"}, "source_url", "not an https:// address"),
        ({"source_url": ""}, "source_url", "not an https:// address"),
        ({"source_title": ""}, "source_title", "title of its source"),
        ({"text": ""}, "text", "one non-empty line"),
        ({"id": "Bad Id"}, "id", "not a lower-case slug"),
    ],
)
def test_a_malformed_row_is_a_clear_error(tmp_path: Path, change: dict[str, str], column: str, message: str) -> None:
    path = write_csv(tmp_path / "bad.csv", [{**GOOD_ROW, "id": "fine-row"}, {**GOOD_ROW, **change}])
    with pytest.raises(SourceError, match=message) as raised:
        load_caveats(path)
    assert raised.value.row == 3 and raised.value.column == column
    assert str(path) in str(raised.value)


def test_duplicate_ids_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="duplicate id 'test-row'"):
        load_caveats(write_csv(tmp_path / "dup.csv", [GOOD_ROW, GOOD_ROW]))


def test_missing_or_unknown_columns_are_an_error(tmp_path: Path) -> None:
    without_url = tuple(c for c in COLUMNS if c != "source_url")
    with pytest.raises(SourceError, match="missing column"):
        load_caveats(write_csv(tmp_path / "cols.csv", [GOOD_ROW], without_url))
    (tmp_path / "extra.csv").write_text(",".join(COLUMNS) + ",note\n", encoding="utf-8")
    with pytest.raises(SourceError, match="unknown column"):
        load_caveats(tmp_path / "extra.csv")


def test_a_row_with_the_wrong_number_of_fields_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(",".join(COLUMNS) + "\nshort-row,context\n", encoding="utf-8")
    with pytest.raises(SourceError, match="wrong number of fields"):
        load_caveats(path)
