"""Benchmark: the street-level aggregations on DuckDB and on Spark local mode, in the same run, on the same store.

Run from the repository root (Java 17 and ``pip install -e '.[spark]'``)::

    python benchmarks/bench_spark.py [--rows 6500000] [--rows 20000000] [--repeat 3]

For each size, the synthetic national archive of ``bench_street.py`` (43 forces, 14 crime types and anti-social
behaviour, about 35,000 LSOAs, about 550,000 rows a month, skewed) is written and ingested into a new store once.
Then the same Ibis expressions (:mod:`crimestats.analytics.street`) run on both engines:

1. detail: counts by force × month × crime type × LSOA × last outcome, what crimestats materialises and every
   street count sums (a few million groups at 20M rows), returned to Python as Arrow;
2. by type: counts by force × month × crime type straight from the rows (a few thousand groups).

On Spark the store's street crimes are first written to Parquet partitioned by force, as ``--engine spark``
does (timed once, as is starting the Spark session). Each step is the median of ``--repeat`` runs; the two
engines' answers are checked equal before anything is printed. Ratios are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from _common import machine_info
from bench_street import write_archive

from crimestats.analytics import engines, street
from crimestats.store import Store

BY_TYPE = ["force_code", "month", "crime_type"]


def aggregations(backend: object) -> dict[str, Callable[[], pa.Table]]:
    """The timed steps on one engine, each returning its answer sorted (so the engines' answers compare)."""
    rows = backend.table("street_crimes")  # type: ignore[attr-defined]
    return {
        "detail": lambda: street.detail(backend).to_pyarrow().sort_by([(c, "ascending") for c in street.DETAIL]),  # type: ignore[arg-type]
        "by type": lambda: (
            rows.group_by(BY_TYPE).agg(count=rows.count()).to_pyarrow().sort_by([(c, "ascending") for c in BY_TYPE])
        ),
    }


def timed(step: Callable[[], pa.Table], repeat: int) -> tuple[float, pa.Table]:
    """The median seconds of ``repeat`` runs and the last answer."""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = step()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), answer


def bench(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
        start = time.perf_counter()
        archive, unpacked, written = write_archive(Path(folder), rows)
        path = Path(folder) / "street.duckdb"
        with Store(path) as store:
            store.ingest([archive])
        print(f"\n{written:,} rows: archive written and ingested in {time.perf_counter() - start:,.0f} s")
        with Store(path, read_only=True) as on_duckdb, Store(path, read_only=True, engine="spark") as on_spark:
            start = time.perf_counter()
            spark = engines.backend(on_spark, "street_crimes")
            print(f"  spark: store's street crimes written to Parquet and read: {time.perf_counter() - start:.1f} s")
            duckdb_steps, spark_steps = aggregations(on_duckdb.backend), aggregations(spark)
            for name in duckdb_steps:
                duckdb_seconds, duckdb_answer = timed(duckdb_steps[name], repeat)
                spark_seconds, spark_answer = timed(spark_steps[name], repeat)
                assert spark_answer.cast(duckdb_answer.schema).equals(duckdb_answer), f"{name}: the engines disagree"
                print(
                    f"  {name:8} ({duckdb_answer.num_rows:>9,} groups)  duckdb {duckdb_seconds:6.2f} s"
                    f"  spark {spark_seconds:6.2f} s  spark/duckdb {spark_seconds / duckdb_seconds:5.1f}x"
                )
        print("  load average: {:.2f}, {:.2f}, {:.2f} (1, 5, 15 min)".format(*os.getloadavg()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows of an archive (repeat; default 6,500,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (median reported)")
    args = parser.parse_args(argv)
    for line in machine_info("duckdb", "pyarrow", "pyspark", "ibis-framework"):
        print(line)
    start = time.perf_counter()
    engines._spark(engines.spark_master())
    print(f"spark session ({engines.spark_master()}) started in {time.perf_counter() - start:.1f} s")
    for rows in args.rows or [6_500_000]:
        bench(rows, args.repeat)


if __name__ == "__main__":
    main()
