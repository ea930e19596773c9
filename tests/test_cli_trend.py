"""`crimestats trend FORCE`: one force in every period of the store, against the published ONS tables."""

from __future__ import annotations

import json

import pytest

import crimestats
from crimestats.store import Store
from test_cli import run

from conftest import VINTAGES
from official import Published, ons_round

WILTSHIRE, ENGLAND_AND_WALES, CITY_OF_LONDON = "E23000038", "K04000001", "E23000034"
TOTAL = "total recorded crime excluding fraud"
TREND_KEYS = [
    "period",
    "count",
    "rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "rank",
    "ranked_of",
    "change_pct",
    "england_and_wales_rate",
    "source",
    "vintage",
]


def trend_json(store: Store, *args: str) -> dict[str, object]:
    code, out, err = run(store, "trend", *args, "--format", "json")
    assert code == 0, err
    found: dict[str, object] = json.loads(out)
    return found


def printed_rank(p3: Published, code: str) -> tuple[int, int]:
    """A force's place among the territorial forces with a published rate (less City of London), 1 = lowest,
    rates compared as P3 prints them."""
    rates = {
        c: ons_round(v)
        for (c, heading), v in p3.cells.items()
        if heading == TOTAL and c[:3] in ("E23", "W15") and c != CITY_OF_LONDON and isinstance(v, int | float)
    }
    return 1 + sum(rate < rates[code] for rate in rates.values()), len(rates)


def test_trend_json_has_the_contract_shape_and_the_published_figures(
    cli_store: Store, published: dict[str, dict[str, Published]]
) -> None:
    trend = trend_json(cli_store, "Wiltshire")
    assert list(trend) == ["force_code", "force", "offence", "rows"]
    assert (trend["force_code"], trend["force"], trend["offence"]) == (WILTSHIRE, "Wiltshire", "total-excluding-fraud")
    rows = {row["period"]: row for row in trend["rows"]}  # type: ignore[attr-defined]
    assert all(list(row) == TREND_KEYS for row in rows.values())
    assert list(rows) == sorted(rows) and set(VINTAGES) <= set(rows)  # every ONS release, oldest first, once each
    for vintage in VINTAGES:
        p1, p3 = published[vintage]["P1"], published[vintage]["P3"]
        row = rows[vintage]
        assert (row["source"], row["vintage"]) == ("ons-pfa", vintage)
        assert row["count"] == p1.cells[(WILTSHIRE, TOTAL)]
        assert ons_round(row["rate_per_1000"]) == ons_round(p3.cells[(WILTSHIRE, TOTAL)])  # type: ignore[arg-type]
        assert row["rate_ci_low"] < row["rate_per_1000"] < row["rate_ci_high"]
        assert (row["rank"], row["ranked_of"]) == printed_rank(p3, WILTSHIRE)
        national = p3.cells[(ENGLAND_AND_WALES, TOTAL)]
        assert ons_round(row["england_and_wales_rate"]) == ons_round(national)  # type: ignore[arg-type]
    # From July 2019 England and Wales leaves out Greater Manchester, as P3 does: 41 forces ranked.
    assert rows["2019-09"]["ranked_of"] == 41


def test_trend_keeps_the_periods_a_force_has_no_figures_for(cli_store: Store) -> None:
    """Greater Manchester could not supply data from July 2019: its rows are there, the count missing."""
    trend = trend_json(cli_store, "Greater Manchester", "--offence", "burglary")
    rows = {row["period"]: row for row in trend["rows"]}  # type: ignore[attr-defined]
    assert trend["offence"] == "burglary"
    assert rows["2019-09"]["count"] is None and rows["2019-12"]["count"] is None
    assert rows["2019-06"]["count"] > 0 and rows["2019-09"]["england_and_wales_rate"] is not None


def test_trend_table_and_csv(cli_store: Store) -> None:
    code, out, err = run(cli_store, "trend", "Wiltshire Police", "-o", "stalking-and-harassment")
    assert code == 0, err
    assert out.startswith("Wiltshire: Stalking and harassment, every period in the store")
    assert "England and Wales" in out and "Note: England and Wales: the rate of the forces with figures" in out
    # England and Wales' column leaves out Greater Manchester from July 2019: the caveat says so.
    assert "Note: Greater Manchester Police could not supply crime data from July 2019" in out
    trend = trend_json(cli_store, "Wiltshire", "-o", "stalking-and-harassment")
    for row in trend["rows"]:  # type: ignore[attr-defined]
        if row["rank"] is not None:
            assert f"{row['period']} " in out and f"{row['rank']} of {row['ranked_of']}" in out
    code, out, _ = run(cli_store, "trend", "Wiltshire", "-o", "stalking-and-harassment", "-f", "csv")
    assert code == 0 and out.splitlines()[0] == ",".join(TREND_KEYS)
    assert len(out.splitlines()) == 1 + len(trend["rows"])  # type: ignore[arg-type]


def test_the_library_trend_is_what_the_cli_prints(cli_store: Store) -> None:
    with crimestats.open(cli_store.path) as stats:
        trend = stats.force_trend("Wiltshire", "burglary")
    assert trend.to_dict() == trend_json(cli_store, "Wiltshire", "--offence", "burglary")
    assert trend.to_pandas()["period"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["South West"], "error: South West is a region, not a police force"),
        (["Wiltshre"], "error: unknown force or area 'Wiltshre' (did you mean Wiltshire?)"),
        (["Wiltshire", "-o", "jaywalking"], "error: unknown offence 'jaywalking'"),
    ],
)
def test_trend_errors_are_one_line(cli_store: Store, args: list[str], message: str) -> None:
    code, _, err = run(cli_store, "trend", *args)
    assert code == 1 and err.startswith(message) and len(err.strip().splitlines()) == 1
