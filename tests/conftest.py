"""Shared fixtures: the real official files in ../shared/data (or $CRIMESTATS_TEST_DATA) and stores built from them."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from crimestats import analytics
from crimestats.analytics import materialised
from crimestats.periods import format_period, parse_year_ending
from crimestats.store import Store

import mirror as served
from mirror import Mirror
from official import Published, read_table

ROOT = Path(__file__).resolve().parent.parent
#: The periods of the eight ONS force area table releases in the data folder.
VINTAGES = ["2018-03", "2018-06", "2018-09", "2018-12", "2019-03", "2019-06", "2019-09", "2019-12"]


def _data_dir() -> Path:
    return Path(os.environ.get("CRIMESTATS_TEST_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session", autouse=True)
def chart_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's own cache of drawn charts (reports/charts/render.py), shared by its tests and the CLI they
    run, never the user's."""
    folder = tmp_path_factory.mktemp("charts")
    before = os.environ.get("CRIMESTATS_CHART_CACHE")
    os.environ["CRIMESTATS_CHART_CACHE"] = str(folder)
    yield folder
    if before is None:
        del os.environ["CRIMESTATS_CHART_CACHE"]
    else:
        os.environ["CRIMESTATS_CHART_CACHE"] = before


@pytest.fixture(scope="session", autouse=True)
def terminal_width() -> Iterator[None]:
    """Tables print 160 columns wide, as they do to a file, whatever terminal or test worker runs the tests
    (the layout tests set their own ``$COLUMNS``)."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "160"
    yield
    if before is None:
        del os.environ["COLUMNS"]
    else:
        os.environ["COLUMNS"] = before


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real official files. Under CI=true a missing folder fails the run instead of skipping."""
    path = _data_dir()
    if not (path / "ons-pfa-tables").is_dir():
        message = f"official test data not found at {path} (set CRIMESTATS_TEST_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def ingested_file(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store file with every official file in the data folder ingested and the default statistics
    materialised, as `crimestats ingest` leaves it: the one ingest of the session. Copy it to write to it.

    It also keeps the option sets several copies ask for (:data:`SHARED_OPTION_SETS`) and the peer comparisons
    of 2019-09, so that no copy computes them again."""
    path = tmp_path_factory.mktemp("store") / "ingested.duckdb"
    with Store(path) as store:
        store.ingest([data_dir])
        for options in (analytics.Options(), *SHARED_OPTION_SETS):
            analytics.materialise(store, options)
        materialised.peers(store, dt.date(2019, 9, 1))
    return path


#: Option sets the tests of several modules ask for: the mid-year estimates computed peer groups use, the
#: figures ONS suppresses, the Home Office source, and the population year the newest release needs.
SHARED_OPTION_SETS = (
    analytics.Options(population="ons-mye"),
    analytics.Options(suppress=False),
    analytics.Options(source="home-office"),
    analytics.Options(population_year=2023),
)


def load_tool(name: str, folder: str = "tools") -> ModuleType:
    """A script of the repository's tools/ folder (or ``folder``; not a package), imported as a module."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent.parent / folder / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_benchmark(name: str) -> ModuleType:
    """A script of benchmarks/, imported as a module (with the folder on the path, for its ``_common``)."""
    folder = str(Path(__file__).resolve().parent.parent / "benchmarks")
    if folder not in sys.path:
        sys.path.append(folder)
    return load_tool(name, "benchmarks")


def copy_of(ingested_file: Path, folder: Path) -> Path:
    """A copy of the session's ingested store, for a test that writes to it or opens it in another way."""
    return Path(shutil.copy(ingested_file, folder / "store.duckdb"))


@pytest.fixture(scope="module")
def cli_store(ingested_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The session's ingested store, copied for the module: the CLI opens it as a separate file."""
    store = Store(copy_of(ingested_file, tmp_path_factory.mktemp("cli")))
    store.close()
    return store


@pytest.fixture(scope="session")
def loaded_store(ingested_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The ingested store, open for the session (shared by read-only tests; statistics of other option sets
    are materialised into it as tests ask for them)."""
    store = Store(copy_of(ingested_file, tmp_path_factory.mktemp("loaded")))
    yield store
    store.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a temporary folder."""
    with Store(tmp_path / "test.duckdb") as opened:
        yield opened


def table_counts(store: Store) -> dict[str, int]:
    """Rows in every store table: used to check that a failed ingest changed nothing."""
    return {
        name: store.con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
        for name in ("files", "figures", "populations", "lookup", "boundaries")
    }


@pytest.fixture(scope="session")
def published(data_dir: Path) -> dict[str, dict[str, Published]]:
    """vintage → {"P1", "P2", "P3"} → the published table."""
    tables: dict[str, dict[str, Published]] = {}
    for path in sorted((data_dir / "ons-pfa-tables").glob("*.xlsx")):
        p1 = read_table(path, "P1")
        period = parse_year_ending(p1.vintage)
        assert period is not None
        tables[format_period(period)] = {"P1": p1, "P2": read_table(path, "P2"), "P3": read_table(path, "P3")}
    return tables


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[Mirror]:
    """A misbehaving mirror of the publishers (tests/mirror.py) for the module's download tests."""
    started = served.start_mirror(data_dir)
    yield started
    started.close()


@pytest.fixture
def mirror(server: Mirror) -> Iterator[Mirror]:
    """The module's server with a clean request log, no faults and its original routes."""
    server.reset()
    yield server
    server.reset()
