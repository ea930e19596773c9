"""The Spark engine: the same Ibis expressions computed on Spark (local mode) give the statistics DuckDB gives.

Every force and area statistic of every period and offence in the official files is computed on Spark once for
the module, into a copy of the session's store, and held row for row against the DuckDB statistics the session
computed: counts, ranks and text exactly, rates, intervals and changes to 1e-9 relative. The street-level
counts are held the same way on a synthetic archive of 250,000 rows in the real layout (benchmarks/bench_spark.py
compares the engines on 6.5M and 20M). Under CI=true, missing Java or pyspark fails these tests rather than
skipping them.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import crimestats
from crimestats.analytics import engines, materialised
from crimestats.cli import app
from crimestats.cli.options import Engine
from crimestats.errors import EngineError
from crimestats.store import ENGINES, Store

from conftest import copy_of, load_benchmark

runner = CliRunner()
KEY = ("area_code", "offence", "period_end")


@pytest.fixture(scope="module")
def spark_ready() -> None:
    """Java and pyspark, as `.ci/run` installs them."""
    missing = None
    if importlib.util.find_spec("pyspark") is None:
        missing = "pyspark is not installed (pip install -e '.[test]')"
    elif shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing = "Java is not installed (apt-get install openjdk-17-jre-headless)"
    if missing is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(scope="module")
def spark_file(spark_ready: None, ingested_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's store (its DuckDB statistics kept) with the default statistics computed on Spark."""
    path = copy_of(ingested_file, tmp_path_factory.mktemp("spark"))
    with Store(path, engine="spark") as store:
        materialised.materialise(store)
    return path


def by_key(table: pa.Table, key: tuple[str, ...]) -> dict[tuple[Any, ...], dict[str, Any]]:
    rows = table.to_pylist()
    found = {tuple(row[k] for k in key): row for row in rows}
    assert len(found) == len(rows), "the key is not unique"
    return found


def same(spark: Any, duckdb: Any) -> bool:
    """Equal, or for floating-point values within 1e-9 relative (NaN equal to NaN)."""
    if isinstance(spark, float) and isinstance(duckdb, float):
        return math.isclose(spark, duckdb, rel_tol=1e-9) or (math.isnan(spark) and math.isnan(duckdb))
    return bool(spark == duckdb)


def assert_same_rows(spark: pa.Table, duckdb: pa.Table, key: tuple[str, ...]) -> None:
    assert spark.schema == duckdb.schema
    on_spark, on_duckdb = by_key(spark, key), by_key(duckdb, key)
    assert on_spark.keys() == on_duckdb.keys()
    differences = [
        (row_key, column, value, on_duckdb[row_key][column])
        for row_key, row in on_spark.items()
        for column, value in row.items()
        if not same(value, on_duckdb[row_key][column])
    ]
    assert differences == []


def test_force_statistics_on_spark_equal_duckdb_for_every_period_and_offence(
    spark_file: Path, loaded_store: Store
) -> None:
    duckdb = materialised.forces(loaded_store)
    with Store(spark_file, read_only=True, engine="spark") as store:
        spark = materialised.forces(store)
    assert_same_rows(spark, duckdb, KEY)
    periods = {row["period_end"] for row in duckdb.select(["period_end"]).to_pylist()}
    offences = {row["offence"] for row in duckdb.select(["offence"]).to_pylist()}
    assert dt.date(2019, 9, 1) in periods and len(periods) >= 8 and len(offences) >= 30
    assert spark.num_rows == duckdb.num_rows > 10_000
    counts = [row["count"] for row in spark.select(["count"]).to_pylist()]
    assert all(count is None or isinstance(count, int) for count in counts)


def test_area_totals_on_spark_equal_duckdb(spark_file: Path, loaded_store: Store) -> None:
    duckdb = materialised.totals(loaded_store)
    with Store(spark_file, read_only=True, engine="spark") as store:
        spark = materialised.totals(store)
    assert_same_rows(spark, duckdb, KEY)
    excluding = [row for row in spark.to_pylist() if row["excluded"]]
    assert any(row["excluded"] == ["Greater Manchester"] for row in excluding)


def test_the_spark_statistics_are_kept_apart_and_read_without_computing(spark_file: Path) -> None:
    with Store(spark_file, read_only=True) as store:
        catalogue = store.con.execute("SELECT kind, options FROM materialised").fetchall()
    engines_kept = {(kind, json.loads(options)["engine"]) for kind, options in catalogue}
    assert {("forces", "spark"), ("totals", "spark"), ("forces", "duckdb"), ("totals", "duckdb")} <= engines_kept
    with crimestats.open(spark_file, engine="spark") as spark, crimestats.open(spark_file) as duckdb:
        burglary = duckdb.league_table("2019-09", "burglary").to_dict()
        assert spark.league_table("2019-09", "burglary").to_dict() == burglary
        assert spark.force("Wiltshire", "2019-09").to_dict() == duckdb.force("Wiltshire", "2019-09").to_dict()


def test_cli_engine_option_and_environment_variable_read_the_spark_statistics(spark_file: Path) -> None:
    def table(*options: str, env: dict[str, str] | None = None) -> str:
        args = ["--db", str(spark_file), *options, "table", "--period", "2019-09", "--format", "json"]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    with Store(spark_file, read_only=True) as store:
        kept = store.con.execute("SELECT count(*) FROM materialised").fetchall()
    by_duckdb = table()
    assert table("--engine", "spark") == by_duckdb
    assert table(env={"CRIMESTATS_ENGINE": "spark"}) == by_duckdb
    with Store(spark_file, read_only=True) as store:  # nothing computed: both read what Spark kept
        assert store.con.execute("SELECT count(*) FROM materialised").fetchall() == kept


def test_an_unknown_engine_is_one_line_naming_the_engines(spark_file: Path) -> None:
    assert tuple(Engine) == ENGINES
    result = runner.invoke(app, ["--db", str(spark_file), "--engine", "polars", "table", "-p", "2019-09"])
    assert result.exit_code == 2 and "'polars' is not one of 'duckdb', 'spark'" in result.output
    with pytest.raises(EngineError, match="unknown engine 'polars': choose from duckdb, spark"):
        crimestats.open(spark_file, engine="polars")


def test_spark_reads_the_store_as_parquet_written_once_for_each_state_of_the_store(spark_file: Path) -> None:
    with Store(spark_file, read_only=True, engine="spark") as store:
        [state] = [path for path in engines.parquet_folder(store).iterdir() if path.is_dir()]
        assert sorted(path.name for path in state.iterdir()) == ["figures", "files", "lookup", "populations"]
        assert state.name == store.files_digest()[:20]
        stored = store.con.execute("SELECT count(*), sum(value) FROM figures").fetchall()
        written = store.con.execute(f"SELECT count(*), sum(value) FROM read_parquet('{state}/figures/*.parquet')")
        assert written.fetchall() == stored


# ---- street-level counts on a synthetic national archive --------------------------------------------------------


@pytest.fixture(scope="module")
def street_store(spark_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store holding a synthetic archive of 250,000 street crimes in the real layout (43 forces, one month)."""
    bench_street = load_benchmark("bench_street")
    folder = tmp_path_factory.mktemp("street-archive")
    archive, unpacked, rows = bench_street.write_archive(folder, 250_100)  # its months hold whole forces
    shutil.rmtree(unpacked)
    path = folder / "street.duckdb"
    with Store(path) as store:
        store.ingest([archive])
        [(stored,)] = store.con.execute("SELECT count(*) FROM street_crimes").fetchall()
    assert stored == rows >= 250_000
    yield path


def test_street_counts_on_spark_equal_duckdb(street_store: Path) -> None:
    with Store(street_store, read_only=True) as store:
        duckdb = store.con.sql(f"SELECT * EXCLUDE (row_order) FROM {materialised.street(store)}").to_arrow_table()
    with Store(street_store, read_only=True, engine="spark") as store:
        spark = store.con.sql(f"SELECT * EXCLUDE (row_order) FROM {materialised.street(store)}").to_arrow_table()
        by_type = crimestats.library.Crimestats(store).street_counts(by=["force", "month", "crime-type"])
    key = ("force_code", "month", "crime_type", "lsoa_code", "last_outcome_category")
    assert_same_rows(spark, duckdb, key)
    assert sum(spark["count"].to_pylist()) >= 250_000
    with crimestats.open(street_store) as on_duckdb:
        assert by_type.to_dict() == on_duckdb.street_counts(by=["force", "month", "crime-type"]).to_dict()


def test_without_java_or_pyspark_the_spark_engine_is_one_line_saying_what_to_install(
    spark_ready: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    start = engines._spark.__wrapped__  # not the process's kept session
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(EngineError, match=r"needs Java 17 or later \(Debian: apt-get install openjdk-17-jre"):
        start("local[1]")
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if pyspark were not installed
    with pytest.raises(EngineError, match=r"needs pyspark: pip install 'crimestats\[spark\]'"):
        start("local[1]")
