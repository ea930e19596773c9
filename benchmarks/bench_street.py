"""Benchmark: ingesting a data.police.uk archive, against DuckDB's own ``read_csv`` and pandas on the same files.

Run from the repository root::

    python benchmarks/bench_street.py [--rows 1000000] [--rows 6500000] [--pandas-up-to 6500000]

For each size, a synthetic national archive in the real layout is written (``YYYY-MM.zip`` holding
``YYYY-MM/YYYY-MM-<force>-street.csv``: 43 forces, 14 crime types and anti-social behaviour, about 35,000
LSOAs, about 550,000 rows a month, forces, LSOAs and crime types skewed as in the real files), and the same
files unpacked beside it. Each step runs in a child process, so its peak memory (max RSS) is its own:

1. duckdb: ``CREATE TABLE AS SELECT * FROM read_csv(...)`` of the unpacked files, with the same explicit
   columns and types, into a new DuckDB file (DuckDB's own reader, the baseline);
2. crimestats: ``Store.ingest([archive])`` into a new store (a month's members unpacked at a time and read in
   one ``read_csv`` call, every check);
3. pandas: ``pandas.read_csv`` of every unpacked file, one ``concat`` and the frame written into a DuckDB table
   (sizes up to ``--pandas-up-to``; the read and concat alone are printed too);
4. counts: street crimes by force × month × crime type through the library, cold (materialising the counts)
   and warm (median of 5), in the crimestats step's process after the ingest (whose own peak is printed too).

Ratios are printed, never asserted. Targets: ingest ≥ 0.5× DuckDB's throughput and ≥ 10× pandas', peak memory
≤ 4 GB at 20M rows, warm counts ≤ 1 s at 20M rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from _common import machine_info

from crimestats import reference
from crimestats.street_layouts import LAYOUTS

ROWS_A_MONTH = 550_000
LSOAS = 35_000
CRIME_TYPES = {  # share of a month's rows, roughly as in the national files
    "Violence and sexual offences": 0.30,
    "Anti-social behaviour": 0.14,
    "Public order": 0.09,
    "Criminal damage and arson": 0.08,
    "Shoplifting": 0.08,
    "Other theft": 0.07,
    "Vehicle crime": 0.06,
    "Burglary": 0.05,
    "Drugs": 0.03,
    "Other crime": 0.03,
    "Theft from the person": 0.02,
    "Bicycle theft": 0.02,
    "Robbery": 0.015,
    "Possession of weapons": 0.015,
}
OUTCOMES = [
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Under investigation",
    "Status update unavailable",
    "Awaiting court outcome",
    "Court result unavailable",
    "Local resolution",
    "Offender given a caution",
    "Further investigation is not in the public interest",
    "Formal action is not in the public interest",
]
FORCE_SLUGS = {"E23000001": "metropolitan"}


def forces() -> list[tuple[str, str]]:
    """(file-name slug, name) of the 43 territorial forces."""
    return [(FORCE_SLUGS.get(area.code, area.slug), area.name) for area in reference.forces()]


def force_shares(count: int) -> np.ndarray:
    """Zipf-like shares: the largest force (the Met) about 15% of the rows, the smallest well under 1%."""
    weights = 1 / np.arange(1, count + 1) ** 0.9
    return weights / weights.sum()


def month_table(rng: np.random.Generator, month: str, force: str, rows: int, lsoas: np.ndarray) -> pa.Table:
    """One force's street file for one month, in the real columns."""
    types = np.array(list(CRIME_TYPES))
    crime_type = types[rng.choice(len(types), rows, p=np.array(list(CRIME_TYPES.values())) / sum(CRIME_TYPES.values()))]
    asb = crime_type == "Anti-social behaviour"
    ids = np.frombuffer(rng.bytes(32 * rows).hex().encode(), dtype="S64").astype(str)
    lsoa = lsoas[np.minimum(rng.zipf(1.3, rows) - 1, len(lsoas) - 1)]
    outcome = np.array(OUTCOMES)[rng.choice(len(OUTCOMES), rows)]
    police = f"{force} Police"
    return pa.table(
        {
            "Crime ID": pa.array(np.where(asb, "", ids)),
            "Month": pa.repeat(pa.scalar(month), rows),
            "Reported by": pa.repeat(pa.scalar(police), rows),
            "Falls within": pa.repeat(pa.scalar(police), rows),
            "Longitude": pa.array(np.round(rng.uniform(-3, 1, rows), 6)),
            "Latitude": pa.array(np.round(rng.uniform(50.5, 54.5, rows), 6)),
            "Location": pa.array(np.char.add("On or near Street ", (lsoa % 997).astype(str))),
            "LSOA code": pa.array(np.char.add("E0", (1_000_000 + lsoa).astype(str))),
            "LSOA name": pa.array(np.char.add(f"{force} ", (lsoa % 1000).astype(str))),
            "Crime type": pa.array(crime_type),
            "Last outcome category": pa.array(np.where(asb, "", outcome)),
            "Context": pa.repeat(pa.scalar(""), rows),
        }
    )


def write_archive(folder: Path, total_rows: int, seed: int = 12) -> tuple[Path, Path, int]:
    """A synthetic archive of ``total_rows`` rows (months of about 550,000) and the same files unpacked."""
    rng = np.random.default_rng(seed)
    months = max(1, round(total_rows / ROWS_A_MONTH))
    per_month = total_rows // months
    found = forces()
    shares = force_shares(len(found))
    lsoa_of = np.array_split(rng.permutation(LSOAS), len(found))
    first = dt.date(2023, 1, 1)
    names = [f"{first.year + (first.month - 1 + i) // 12}-{(first.month - 1 + i) % 12 + 1:02d}" for i in range(months)]
    archive, unpacked = folder / f"{names[-1]}.zip", folder / "unpacked"
    written = 0
    options = pa_csv.WriteOptions(quoting_style="needed")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as made:
        for month in names:
            (unpacked / month).mkdir(parents=True, exist_ok=True)
            counts = np.maximum(1, (shares * per_month).astype(int))
            for (slug, name), rows, lsoas in zip(found, counts, lsoa_of, strict=True):
                member = f"{month}/{month}-{slug}-street.csv"
                pa_csv.write_csv(month_table(rng, month, name, int(rows), lsoas), unpacked / member, options)
                made.write(unpacked / member, member)
                written += int(rows)
    return archive, unpacked, written


# ---- the steps, each in its own process ----------------------------------------------------------------------


def step_duckdb(unpacked: Path, work: Path) -> dict[str, float]:
    import duckdb

    columns = {header: kind for header, _, kind in LAYOUTS["street"]}
    con = duckdb.connect(str(work / "duckdb.duckdb"))
    start = time.perf_counter()
    con.execute(
        "CREATE TABLE street AS SELECT * FROM read_csv(?, header = true, auto_detect = false, delim = ',',"
        " quote = '\"', escape = '\"', columns = ?, dateformat = '%Y-%m')",
        [str(unpacked / "*" / "*.csv"), columns],
    )
    con.close()
    return {"seconds": time.perf_counter() - start}


def step_crimestats(archive: Path, work: Path) -> dict[str, float]:
    from crimestats.analytics import street
    from crimestats.store import Store

    store = Store(work / "crimestats.duckdb")
    start = time.perf_counter()
    report = store.ingest([archive])
    seconds = time.perf_counter() - start
    ingest_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert [r.status for r in report.results] == ["ingested"], report.results
    start = time.perf_counter()
    street.street_counts(store, ["force", "month", "crime-type"])
    cold = time.perf_counter() - start
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        street.street_counts(store, ["force", "month", "crime-type"])
        warm.append(time.perf_counter() - start)
    store.close()
    return {
        "seconds": seconds,
        "ingest_peak_bytes": ingest_peak,
        "counts_cold": cold,
        "counts_warm": statistics.median(warm),
    }


def step_pandas(unpacked: Path, work: Path) -> dict[str, float]:
    """What a pandas user does: ``read_csv`` of each file (pandas' C parser, its own type inference), one
    ``concat``, and the frame written into a DuckDB table (the columnar store crimestats ends with)."""
    import duckdb
    import pandas as pd

    start = time.perf_counter()
    frame = pd.concat([pd.read_csv(path) for path in sorted(unpacked.rglob("*.csv"))], ignore_index=True)
    read = time.perf_counter() - start
    con = duckdb.connect(str(work / "pandas.duckdb"))
    con.register("frame", frame)
    con.execute("CREATE TABLE street AS SELECT * FROM frame")
    con.close()
    return {"seconds": time.perf_counter() - start, "read_seconds": read}


STEPS = {"duckdb": step_duckdb, "crimestats": step_crimestats, "pandas": step_pandas}


def in_child(step: str, source: Path, work: Path) -> dict[str, float]:
    """Run a step in a child process; its result with its peak memory (max RSS, bytes)."""
    command = [sys.executable, __file__, "--step", step, str(source), str(work)]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"step {step} failed")
    return {**json.loads(output), "peak_bytes": usage.ru_maxrss * 1024}


def bench(rows: int, pandas_up_to: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
        start = time.perf_counter()
        archive, unpacked, written = write_archive(Path(folder), rows)
        size = archive.stat().st_size
        print(f"\n{written:,} rows: archive {size / 1e6:,.0f} MB written in {time.perf_counter() - start:,.0f} s")
        results = {"duckdb": in_child("duckdb", unpacked, Path(folder))}
        results["crimestats"] = in_child("crimestats", archive, Path(folder))
        if rows <= pandas_up_to:
            results["pandas"] = in_child("pandas", unpacked, Path(folder))
        for name, result in results.items():
            rate, peak = written / result["seconds"] / 1e6, result["peak_bytes"] / 1e9
            print(f"  {name:10} {result['seconds']:7.1f} s  {rate:5.2f} M rows/s  peak {peak:4.2f} GB")
        if "pandas" in results:
            print(f"  (pandas read_csv and concat alone: {results['pandas']['read_seconds']:.1f} s)")
        ours = results["crimestats"]["seconds"]
        print(f"  crimestats throughput / duckdb read_csv: {results['duckdb']['seconds'] / ours:.2f}x (target ≥ 0.5x)")
        if "pandas" in results:
            print(f"  crimestats throughput / pandas: {results['pandas']['seconds'] / ours:.2f}x (target ≥ 10x)")
        counts = results["crimestats"]
        print(f"  crimestats peak memory of the ingest alone: {counts['ingest_peak_bytes'] / 1e9:.2f} GB")
        print(f"  counts force × month × type: cold {counts['counts_cold']:.2f} s, warm {counts['counts_warm']:.3f} s")
        print("  load average: {:.2f}, {:.2f}, {:.2f} (1, 5, 15 min)".format(*os.getloadavg()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows of an archive (repeat; default 1,000,000)")
    parser.add_argument("--pandas-up-to", type=int, default=6_500_000, help="largest size pandas is run on")
    parser.add_argument("--step", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        step, source, work = args.step
        print(json.dumps(STEPS[step](Path(source), Path(work))))
        return
    for line in machine_info("duckdb", "pyarrow", "pandas"):
        print(line)
    for rows in args.rows or [1_000_000]:
        bench(rows, args.pandas_up_to)


if __name__ == "__main__":
    main()
