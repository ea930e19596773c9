"""--period as people write it, and 'latest'; an impossible period lists the periods in the store."""

from __future__ import annotations

import json

import pytest

import crimestats
from crimestats.errors import PeriodError
from crimestats.store import Store
from test_cli import run


def held(store: Store) -> list[str]:
    """The periods `crimestats periods` lists."""
    return sorted({row["period"] for row in json.loads(run(store, "periods", "-f", "json")[1])})


@pytest.mark.parametrize("period", ["Sep 2019", "September 2019", "YE Sep 2019", "year ending September 2019"])
def test_a_period_as_people_write_it_is_the_quarter_end(cli_store: Store, period: str) -> None:
    expected = run(cli_store, "table", "-p", "2019-09", "-f", "csv")[1]
    assert run(cli_store, "table", "-p", period, "-f", "csv")[1] == expected
    code, out, err = run(cli_store, "force", "Wiltshire", "-p", period)
    assert code == 0 and out.startswith("Wiltshire, year ending September 2019"), err


def test_latest_is_the_newest_period_in_the_store(cli_store: Store) -> None:
    newest = held(cli_store)[-1]
    assert (
        run(cli_store, "totals", "-p", "latest", "-f", "json")[1]
        == run(cli_store, "totals", "-p", newest, "-f", "json")[1]
    )
    with crimestats.open(cli_store.path) as stats:
        assert stats.totals("latest").period == newest
        assert stats.league_table("YE Sep 2019").period == "2019-09"


@pytest.mark.parametrize("period", ["2019-07", "Jul 2019", "2019", "last year"])
def test_an_impossible_period_lists_the_periods_in_the_store(cli_store: Store, period: str) -> None:
    code, _, err = run(cli_store, "table", "-p", period)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: period {period!r} is not a quarter end: write 2019-09 or 'Sep 2019'")
    assert err.strip().endswith(f"; periods in the store: {', '.join(held(cli_store))}")
    with crimestats.open(cli_store.path) as stats, pytest.raises(PeriodError, match="periods in the store: 2018-03"):
        stats.league_table(period)
