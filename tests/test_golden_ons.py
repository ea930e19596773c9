"""Golden tests: crimestats reproduces the published ONS police force area tables (P1-P3) and agrees with
the Home Office open data, cell by cell, on the real files in ../shared/data.

Published values are read independently (tests/official.py, openpyxl); crimestats' values come from the
store built by ingesting the whole data folder.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from crimestats.analytics import Options, area_totals, force_statistics
from crimestats.periods import format_period
from crimestats.store import Store

from conftest import VINTAGES
from official import FORCE_CODE, HEADINGS, Published, ons_round


def _by_key(store: Store, options: Options) -> dict[tuple[str, str, str], dict[str, object]]:
    frame: pd.DataFrame = force_statistics(store.backend, options).to_pandas()
    frame["period"] = frame["period_end"].astype(str).str[:7]
    return {(r["area_code"], r["offence"], r["period"]): r for r in frame.to_dict("records")}


@pytest.fixture(scope="module")
def ons(loaded_store: Store) -> dict[tuple[str, str, str], dict[str, object]]:
    return _by_key(loaded_store, Options(source="ons-pfa"))


def _force_cells(table: Published) -> list[tuple[str, str, object]]:
    return [(code, HEADINGS[h], v) for (code, h), v in table.cells.items() if FORCE_CODE.match(code) and h in HEADINGS]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def test_all_eight_vintages_ingest(loaded_store: Store, published: dict[str, dict[str, Published]]) -> None:
    stored = sorted(f["vintage"] for f in loaded_store.files() if f["source"] == "ons-pfa")
    assert stored == VINTAGES == sorted(published)


def test_counts_equal_p1(ons: dict, published: dict[str, dict[str, Published]]) -> None:
    """Every force × offence count, including '..' (Greater Manchester 2019) as missing, never 0."""
    checked = 0
    for vintage, tables in published.items():
        for code, offence, value in _force_cells(tables["P1"]):
            ours = ons[(code, offence, vintage)]["count"]
            if isinstance(value, str):
                assert value == ".." and _missing(ours), (vintage, code, offence)
            else:
                assert ours == value, (vintage, code, offence, ours, value)
            checked += 1
    assert checked == 8 * 43 * 22  # 43 forces, the total and 21 offence columns, 8 releases


def test_rates_reproduce_p3(ons: dict, published: dict[str, dict[str, Published]]) -> None:
    """Rates from P1 counts and P3's population equal P3's rates to the published 1 decimal place.

    P3 prints populations rounded to 100 while ONS divided by the unrounded estimate, so a rate near a
    rounding boundary can differ in the last place. Every mismatch must be explained by that: the published
    rate must lie between the rates computed with the population ± 50.
    """
    matched, suppressed, mismatches = 0, 0, []
    cells = [(v, c, o, val) for v, t in published.items() for c, o, val in _force_cells(t["P3"])]
    for vintage, code, offence, value in cells:
        row = ons[(code, offence, vintage)]
        if isinstance(value, str):  # '+' City of London suppressed, '..' not available
            assert _missing(row["rate_per_1000"]), (vintage, code, offence)
            suppressed += 1
        elif ons_round(value) == ons_round(row["rate_per_1000"]):
            matched += 1
        else:
            low = row["count"] / (row["population"] + 50) * 1000
            high = row["count"] / (row["population"] - 50) * 1000
            reason = "population published rounded to 100" if low <= value <= high else "unexplained"
            mismatches.append(
                f"{vintage} {code} {offence}: published {value:.3f}, ours {row['rate_per_1000']:.3f} ({reason})"
            )
    share = matched / (len(cells) - suppressed)
    print(
        f"\nP3 rates: {matched} of {len(cells) - suppressed} match to 1 dp ({share:.2%}); "
        f"{suppressed} suppressed in both"
    )
    print("\n".join(mismatches))
    assert all("rounded to 100" in m for m in mismatches)
    assert share > 0.998


def test_population_used_is_p3s(ons: dict, published: dict[str, dict[str, Published]]) -> None:
    for vintage, tables in published.items():
        population_heading = next(h for h in tables["P3"].headings if h.startswith("population figures"))
        for (code, heading), value in tables["P3"].cells.items():
            if heading == population_heading and FORCE_CODE.match(code) and not isinstance(value, str):
                assert ons[(code, "total-excluding-fraud", vintage)]["population"] == value


@pytest.mark.parametrize("vintage", VINTAGES)
def test_change_reproduces_p2(ons: dict, published: dict[str, dict[str, Published]], vintage: str) -> None:
    """Every force's % change equals P2 of the same release.

    ONS revises the earlier year between releases and P2 compares with the revised figure, so crimestats uses
    the change a release publishes (and the earlier count it implies) rather than the earlier release's count.
    A cell P2 shows as '-' (base under 50, or not comparable) is missing in ours too.
    """
    matched, differ = 0, []
    for code, offence, value in _force_cells(published[vintage]["P2"]):
        row = ons[(code, offence, vintage)]
        if isinstance(value, str):
            if not _missing(row["change_pct"]):
                differ.append(f"{code} {offence}: P2 '{value}', ours {row['change_pct']:.1f} ({row['change_source']})")
            continue
        if not _missing(row["change_pct"]) and row["change_pct"] == pytest.approx(value, rel=1e-12, abs=1e-12):
            assert row["change_source"] == "ONS Table P2"
            assert row["change_pct"] == pytest.approx((row["count"] / row["previous_count"] - 1) * 100, abs=0.01)
            matched += 1
        else:
            differ.append(f"{code} {offence}: P2 {value}, ours {row['change_pct']} ({row['change_note']})")
    print(f"\nP2 {vintage}: {matched} of {matched + len(differ)} equal; different:\n" + "\n".join(differ))
    assert matched > 800
    assert not differ


def test_home_office_twelve_months_equal_p1_for_unrevised_forces(
    loaded_store: Store, published: dict[str, dict[str, Published]]
) -> None:
    """The 12-month total summed from the Home Office 2017/18 quarters equals P1 for the year ending March
    2018 for the forces whose figures were not revised between the two publications; the rest are listed."""
    home_office = _by_key(loaded_store, Options(source="home-office"))
    p1 = published["2018-03"]["P1"]
    exact, revised = [], []
    for (code, heading), value in p1.cells.items():
        if FORCE_CODE.match(code) and heading == "total recorded crime excluding fraud":
            ours = home_office[(code, "total-excluding-fraud", "2018-03")]["count"]
            (exact if ours == value else revised).append(f"{p1.names[code]}: P1 {value:,.0f}, Home Office {ours:,.0f}")
    print(f"\n{len(exact)} of 43 forces equal P1 exactly; differences:\n" + "\n".join(revised))
    assert len(exact) + len(revised) == 43
    assert len(exact) == 24  # the other 19 were revised between the two publications


def test_home_office_offence_mapping_reproduces_p1_for_an_unrevised_force(
    loaded_store: Store, published: dict[str, dict[str, Published]]
) -> None:
    """For a force whose total was not revised, every offence column of P1 equals the Home Office roll-up."""
    home_office = _by_key(loaded_store, Options(source="home-office"))
    p1 = published["2018-03"]["P1"]
    unrevised = [
        code
        for (code, heading), value in p1.cells.items()
        if FORCE_CODE.match(code)
        and heading == "total recorded crime excluding fraud"
        and home_office[(code, "total-excluding-fraud", "2018-03")]["count"] == value
    ]
    mismatched = [
        (code, offence, value, home_office[(code, offence, "2018-03")]["count"])
        for code, offence, value in _force_cells(p1)
        if code in unrevised and home_office[(code, offence, "2018-03")]["count"] != value
    ]
    print(f"\n{len(unrevised)} unrevised forces; offence cells differing: {mismatched}")
    assert not mismatched


CATEGORIES = {
    "victim-based-crime": [
        "violence-against-the-person", "sexual-offences", "robbery", "theft-offences", "criminal-damage-and-arson"
    ],
    "other-crimes-against-society": [
        "drug-offences", "possession-of-weapons-offences", "public-order-offences",
        "miscellaneous-crimes-against-society",
    ],
}  # fmt: skip


@pytest.mark.parametrize("vintage", VINTAGES)
def test_categories_compare_with_the_same_revised_year_as_their_parts(
    ons: dict, published: dict[str, dict[str, Published]], vintage: str
) -> None:
    """ONS prints no change for "Victim-based crime" and "Other crimes against society"; crimestats sums them, and
    compares them with the earlier year P2 implies: the sum of their groups' (P1 / (1 + P2 / 100)), or, where P2
    withholds a group's change, the total's less the other category's. So the categories' earlier years add up
    to the total's, and a total never rises less than both of its parts."""
    p1, p2 = published[vintage]["P1"].cells, published[vintage]["P2"].cells
    in_p1 = {HEADINGS[heading]: heading for _, heading in p1 if heading in HEADINGS}
    in_p2 = {HEADINGS[heading]: heading for _, heading in p2 if heading in HEADINGS}

    def implied(code: str, slug: str) -> float | None:
        count, change = p1.get((code, in_p1[slug])), p2.get((code, in_p2[slug]))
        numeric = not isinstance(count, str) and not isinstance(change, str) and None not in (count, change)
        return count / (1 + change / 100) if numeric else None  # type: ignore[operator]

    codes = {code for code, _, _ in _force_cells(published[vintage]["P1"])}
    checked = 0
    for code in sorted(codes):
        earlier = {slug: [implied(code, part) for part in parts] for slug, parts in CATEGORIES.items()}
        total = implied(code, "total-excluding-fraud")
        expected = {slug: sum(v) if None not in v else None for slug, v in earlier.items()}  # type: ignore[arg-type]
        for slug, other in (
            ("victim-based-crime", "other-crimes-against-society"),
            *[("other-crimes-against-society", "victim-based-crime")],
        ):
            if expected[slug] is None and expected[other] is not None and total is not None:
                expected[slug] = total - expected[other]
        for slug, value in expected.items():
            row = ons[(code, slug, vintage)]
            if value is None:
                assert _missing(row["change_pct"]), (code, slug, row["change_pct"])
                continue
            assert row["previous_count"] == pytest.approx(value, abs=len(CATEGORIES[slug])), (code, slug)
            assert row["change_pct"] == pytest.approx((row["count"] / row["previous_count"] - 1) * 100)
            checked += 1
        if None not in expected.values() and total is not None:
            parts = sum(ons[(code, slug, vintage)]["previous_count"] for slug in CATEGORIES)
            assert parts == pytest.approx(ons[(code, "total-excluding-fraud", vintage)]["previous_count"], abs=6)
    assert checked >= 80


@pytest.mark.parametrize("vintage", VINTAGES)
def test_ranks_agree_with_p3(ons: dict, published: dict[str, dict[str, Published]], vintage: str) -> None:
    """Each force's "n of N" for every offence agrees with a ranking of P3's published rates (1 = lowest, ties
    shared, suppressed and unavailable rates unranked), and so does the lowest-rate force. Rates are compared
    as P3 prints them, 1 dp, except below 1 per 1,000, where crimestats keeps two significant figures (P3 prints
    nearly every homicide rate as 0.0)."""
    p3 = published[vintage]["P3"]
    disagreements, checked = [], 0
    for heading, offence in HEADINGS.items():
        rates = {
            code: ons_round(value, 1 if value >= 1 or value <= 0 else max(1, 1 - math.floor(math.log10(value))))
            for (code, h), value in p3.cells.items()
            if h == heading and FORCE_CODE.match(code) and not isinstance(value, str)
        }
        if not rates:
            continue
        for code, rate in rates.items():
            expected = (1 + sum(other < rate for other in rates.values()), len(rates))
            row = ons[(code, offence, vintage)]
            checked += 1
            if (row["rank"], row["ranked_of"]) != expected:
                disagreements.append(f"{offence} {code}: P3 {expected}, ours {(row['rank'], row['ranked_of'])}")
        lowest = min(rates, key=lambda c: rates[c])
        assert ons[(lowest, offence, vintage)]["rank"] == 1, (offence, lowest)
    print(f"\n{vintage}: {checked - len(disagreements)} of {checked} ranks agree; " + "; ".join(disagreements))
    # A rate one rounding step away from P3's (population printed rounded to 100) can move a rank by one.
    assert len(disagreements) <= 2


@pytest.fixture(scope="module")
def ons_totals(loaded_store: Store) -> dict[tuple[str, str, str], dict[str, object]]:
    frame = area_totals(loaded_store.backend, Options(source="ons-pfa")).to_pyarrow().to_pylist()
    return {(r["area_code"], r["offence"], format_period(r["period_end"])): r for r in frame}


def test_totals_summed_from_forces_equal_published_regions(
    ons_totals: dict, published: dict[str, dict[str, Published]]
) -> None:
    """Regional, country and England and Wales counts summed from forces equal P1's published rows exactly,
    including the releases where Greater Manchester is missing (like for like) and BTP in England and Wales."""
    checked = 0
    for vintage, tables in published.items():
        for (code, heading), value in tables["P1"].cells.items():
            if FORCE_CODE.match(code) or heading not in HEADINGS:
                continue
            row = ons_totals[(code, HEADINGS[heading], vintage)]
            assert row["count"] == value, (vintage, code, heading, row["count"], value)
            checked += 1
    assert checked == 8 * 12 * 22  # England and Wales, England, Wales and the 9 English regions
    greater_manchester_missing = ons_totals[("K04000001", "total-excluding-fraud", "2019-09")]["excluded"]
    assert greater_manchester_missing == ["Greater Manchester"]


@pytest.mark.parametrize("vintage", VINTAGES)
def test_like_for_like_national_change_reproduces_p2(
    ons_totals: dict, published: dict[str, dict[str, Published]], vintage: str
) -> None:
    """England and Wales change, summed like for like from the forces' counts and the earlier counts implied by
    their published changes (Greater Manchester out of both years in 2019-09 and 2019-12), equals P2 for every
    offence to within 0.05 percentage points (each implied earlier count is a whole number)."""
    checked = 0
    for (code, heading), value in published[vintage]["P2"].cells.items():
        if code != "K04000001" or heading not in HEADINGS or isinstance(value, str):
            continue
        ours = ons_totals[(code, HEADINGS[heading], vintage)]["change_pct"]
        assert ours == pytest.approx(value, abs=0.05), (heading, ours, value)
        checked += 1
    assert checked >= 20
