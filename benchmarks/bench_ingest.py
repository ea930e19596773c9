"""Benchmark: ``crimestats ingest`` of the data folder (the files stored, then the statistics materialised)
against just reading the same files.

Run from the repository root::

    python benchmarks/bench_ingest.py [--data DIR] [--repeat N]

Steps, taking turns, each repeated N times (median reported):

1. baseline: python-calamine reading every sheet of every workbook that ingest stores, and the csv module
   reading every CSV it stores (the files of a first ingest with status ``ingested``);
2. ingest: what ``crimestats ingest`` does, into a new, empty store in a temporary directory: ``Store.ingest``
   (readers and store writes), then ``analytics.materialise`` (the default statistics computed and kept), timed
   apart. Opening and closing the store are not timed; what this process keeps of earlier runs' statistics
   (E-tests, rank ranges, funnels) is forgotten first, as a new process would not have it.

Timings are reported, never asserted on. The target is ingest including materialisation at most 3x the
baseline.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics as stats
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
from _common import checked, data_parser
from python_calamine import CalamineWorkbook

from crimestats import analytics, reference
from crimestats.analytics import uncertainty
from crimestats.sources._base import WORKBOOK_SUFFIXES
from crimestats.store import Store

TARGET = 3.0


def stored_files(data_dir: Path, workdir: Path) -> list[Path]:
    """The files an ingest of ``data_dir`` stores (not those it skips or fails on)."""
    with Store(workdir / "first.duckdb") as store:
        report = store.ingest([data_dir])
    return [result.path for result in report.results if result.status == "ingested"]


def read_baseline(files: list[Path]) -> int:
    """Every sheet of the workbooks (python-calamine) and every record of the CSVs (csv module); the cells read."""
    cells = 0
    for path in files:
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                cells += sum(map(len, book.get_sheet_by_name(name).to_python()))
        elif path.suffix.lower() == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                cells += sum(map(len, csv.reader(handle)))
    return cells


def ingest_once(data_dir: Path, workdir: Path, number: int) -> tuple[float, float, int]:
    """Seconds of one ``Store.ingest`` into a new store and of materialising its statistics, and the rows stored."""
    uncertainty.forget_kept()
    with Store(workdir / f"run{number}.duckdb") as store:
        start = time.perf_counter()
        report = store.ingest([data_dir])
        stored = time.perf_counter()
        analytics.materialise(store)
        materialised = time.perf_counter()
    return stored - start, materialised - stored, sum(result.rows for result in report.results)


def timed_baseline(files: list[Path]) -> tuple[float, int]:
    start = time.perf_counter()
    cells = read_baseline(files)
    return time.perf_counter() - start, cells


def machine_info() -> list[str]:
    return [
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs",
        f"python {platform.python_version()}, duckdb {duckdb.__version__}, pyarrow {pa.__version__}",
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return checked(data_parser(__doc__.splitlines()[0] if __doc__ else None, repeat=5), argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(*machine_info(), sep="\n")
    print(f"data: {args.data}, repeat: {args.repeat}")
    reference.areas()  # the reference data are loaded once per process: not part of either step
    reference.offences()
    with tempfile.TemporaryDirectory(prefix="crimestats-bench-") as name:
        workdir = Path(name)
        files = stored_files(args.data, workdir)  # also a warm-up: imports, first DuckDB and Arrow calls
        baseline, ingest, materialise, whole = [], [], [], []
        for number in range(args.repeat):  # taking turns, so other work on the machine slows both
            seconds, cells = timed_baseline(files)
            baseline.append(seconds)
            stored, computed, rows = ingest_once(args.data, workdir, number)
            ingest.append(stored)
            materialise.append(computed)
            whole.append(stored + computed)
    workbooks = sum(path.suffix.lower() in WORKBOOK_SUFFIXES for path in files)
    csvs = sum(path.suffix.lower() == ".csv" for path in files)
    print(f"files stored: {len(files)} ({workbooks} workbooks, {csvs} CSV, {len(files) - workbooks - csvs} other)\n")
    base, ours = stats.median(baseline), stats.median(whole)
    width = 58
    print(f"{'step':<{width}}  {'median s':>9}  {'x baseline':>10}")
    rows_of = [
        (f"baseline: calamine + csv read ({cells:,} cells)", base),
        (f"Store.ingest ({rows:,} rows stored)", stats.median(ingest)),
        ("analytics.materialise (the default statistics)", stats.median(materialise)),
        ("crimestats ingest: both (median of the sums)", ours),
    ]
    for label, seconds in rows_of:
        print(f"{label:<{width}}  {seconds:>9.4f}  {seconds / base:>9.1f}x")
    verdict = "within" if ours <= TARGET * base else "over"
    print(f"\ningest including materialisation / baseline = {ours / base:.2f}x ({verdict} the {TARGET:.0f}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
