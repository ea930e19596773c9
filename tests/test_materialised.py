"""The materialised statistics: the same rows as computing them on the fly, rebuilt exactly when the files change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crimestats import analytics
from crimestats.analytics import Options, materialised, peers, summaries
from crimestats.analytics.materialised import LEAGUE_ORDER
from crimestats.periods import parse_period
from crimestats.sources.peer_groups import MAX_MEMBERS
from crimestats.store import Store

from conftest import copy_of

HOME_OFFICE = Path("home-office") / "prc-pfa-mar2013-onwards-tables201718.csv"
POPULATION = Path("population")
SEP19 = Path("ons-pfa-tables") / "policeforceareatablesyearendingseptember2019.xlsx"
OPTION_SETS = [Options(), Options(population="ons-mye"), Options(suppress=False)]


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: repr(o)[8:-1] or "default")
def test_the_stored_table_equals_the_computation_row_for_row(loaded_store: Store, options: Options) -> None:
    stored = materialised.forces(loaded_store, options)
    computed = materialised.compute_forces(loaded_store, options)
    assert stored.schema == computed.schema
    assert stored.num_rows == computed.num_rows > 5000
    assert stored.to_pylist() == computed.to_pylist()
    totals = materialised.totals(loaded_store, options)
    assert totals.to_pylist() == materialised.compute_totals(loaded_store, options).to_pylist()


def test_a_league_table_is_the_stored_rows_of_its_offence_and_period(loaded_store: Store) -> None:
    league = analytics.league_table(loaded_store, "2019-09", "burglary").to_pylist()
    stored = materialised.forces(loaded_store).to_pylist()
    by_force = {
        r["force_code"]: r for r in stored if r["offence"] == "burglary" and str(r["period_end"]) == "2019-09-01"
    }
    assert len(league) == len(by_force) == 44  # 43 forces and British Transport Police
    for row in league:
        assert all(row[key] == by_force[row["force_code"]][key] for key in row)


def league_as_stored_and_sorted(store: Store, options: Options, **key: object) -> tuple[list[Any], list[Any]]:
    """One league's rows as stored (no sorting) and sorted by :data:`LEAGUE_ORDER`."""
    columns = "force_code, rank, kind, area_name"
    stored = materialised.forces(store, options, columns, None, **key).to_pylist()
    return stored, materialised.forces(store, options, columns, LEAGUE_ORDER, **key).to_pylist()


def test_every_league_is_stored_in_league_order_and_read_as_stored(loaded_store: Store) -> None:
    """A league is read without sorting (:data:`materialised.STORED_ORDER`): for every offence and period, the
    rows as stored are the rows sorted by rank, kind and name."""
    leagues = materialised.forces(loaded_store, columns="DISTINCT offence, period_end", order_by=None).to_pylist()
    assert len(leagues) > 200
    for key in leagues:
        stored, in_order = league_as_stored_and_sorted(loaded_store, Options(), **key)
        assert stored == in_order and len(stored) >= 43  # the forces, and British Transport Police where it has data


def test_the_stored_peer_comparisons_are_each_forces_computed_one_by_one(loaded_store: Store) -> None:
    month = parse_period("2019-09")
    stored = materialised.peers(loaded_store, month)
    leagues = analytics.period_leagues(loaded_store, month)
    covariates = peers.peer_covariates(loaded_store, "2019-09")
    assert set(stored["force_code"].to_pylist()) == set(covariates) and len(covariates) == 41  # not City, BTP
    for code in covariates:
        group = peers.computed_peer_group(loaded_store, code, "2019-09", covariates=covariates)
        found = peers.stored_peer_results(loaded_store, group, "2019-09")
        assert found == summaries.peer_results(group, leagues)  # every stored row, each gap tested on its own
    smaller = peers.computed_peer_group(loaded_store, "Wiltshire", "2019-09", size=MAX_MEMBERS - 1)
    supplied = peers.PeerGroup(smaller.force_code, smaller.members, "supplied", False)
    assert peers.stored_peer_results(loaded_store, smaller, "2019-09") is None  # not the group materialised
    assert peers.stored_peer_results(loaded_store, supplied, "2019-09") is None


def _small_store(data_dir: Path, folder: Path) -> Store:
    store = Store(folder / "small.duckdb")
    store.ingest([data_dir / HOME_OFFICE, data_dir / POPULATION])
    return store


def _catalogue(store: Store) -> list[tuple[str, str]]:
    return store.con.execute("SELECT table_name, kind FROM materialised ORDER BY kind, table_name").fetchall()


def test_rebuilt_after_a_new_file_and_not_after_an_unchanged_one(data_dir: Path, tmp_path: Path) -> None:
    with _small_store(data_dir, tmp_path) as store:
        analytics.materialise(store)
        first = _catalogue(store)
        assert [kind for _, kind in first] == ["forces", "totals"]
        built = store.con.execute("SELECT max(built_at) FROM materialised").fetchall()

        assert store.ingest([data_dir / HOME_OFFICE]).results[0].status == "unchanged"
        analytics.materialise(store)
        assert _catalogue(store) == first
        assert store.con.execute("SELECT max(built_at) FROM materialised").fetchall() == built

        assert store.ingest([data_dir / SEP19]).results[0].status == "ingested"
        assert analytics.league_table(store, "2019-09").num_rows == 44  # the new file's period, read at once
        analytics.materialise(store)
        second = _catalogue(store)
        assert len(second) == 2 and not set(second) & set(first)
        names = {row[0] for row in store.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert not {name for name, _ in first} & names  # the stale tables are dropped


def test_another_option_set_is_kept_beside_the_defaults(data_dir: Path, tmp_path: Path) -> None:
    with _small_store(data_dir, tmp_path) as store:
        analytics.materialise(store)
        analytics.league_table(store, "2018-03", options=Options(population_year=2016))
        assert [kind for _, kind in _catalogue(store)] == ["forces", "forces", "totals"]


@pytest.fixture(scope="module")
def small_file(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store of the Home Office table and the population files, its defaults materialised: small, so
    that what a test makes it compute takes a second."""
    with _small_store(data_dir, tmp_path_factory.mktemp("small")) as store:
        analytics.materialise(store)
        return store.path


def test_a_read_only_store_computes_what_it_lacks_without_writing(small_file: Path, tmp_path: Path) -> None:
    path = copy_of(small_file, tmp_path)
    options = Options(population="ons-mye", population_year=2016)
    with Store(path, read_only=True) as store:
        before = _catalogue(store)
        league = analytics.league_table(store, "2018-03", options=options).to_pylist()
        assert league[0]["population_source"].startswith("ONS mid-year estimates, mid-2016")
        stored, in_order = league_as_stored_and_sorted(
            store, options, offence="robbery", period_end=parse_period("2018-03")
        )
        assert stored == in_order and len(stored) == 44  # the temporary table is laid out league by league too
        assert _catalogue(store) == before
    with Store(path, read_only=True) as store:
        assert _catalogue(store) == before


def test_a_read_only_store_opened_for_the_cli_keeps_what_it_computes(small_file: Path, tmp_path: Path) -> None:
    path = copy_of(small_file, tmp_path)
    options = Options(population="ons-mye", population_year=2016)
    with Store(path, read_only=True, cache_statistics=True) as store:
        before = len(_catalogue(store))
        analytics.league_table(store, "2018-03", options=options)
    with Store(path, read_only=True) as store:
        assert len(_catalogue(store)) == before + 1


def test_a_store_another_process_reads_still_answers(small_file: Path, tmp_path: Path) -> None:
    """While another process has the store open, it cannot be reopened for writing: what is missing is computed
    into a temporary table instead, and the other process is not disturbed."""
    path = copy_of(small_file, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with Store(path, read_only=True, cache_statistics=True) as store:
            before = _catalogue(store)
            assert analytics.league_table(store, "2018-03", options=Options(suppress=False)).num_rows == 44
            assert store.read_only and _catalogue(store) == before
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0


HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.read()
"""
