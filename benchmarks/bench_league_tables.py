"""Benchmark: crimestats league tables (Ibis on DuckDB) against the same computation in plain pandas.

Run from the repository root::

    python benchmarks/bench_league_tables.py [--data DIR] [--repeat N] [--scale N [N ...]]

Steps, each repeated N times (median reported):

1. ingest every file in the data folder into a fresh store in a temporary directory;
2. ``crimestats.analytics.statistics`` for every force x offence x period, all sources and Home Office only;
3. a pandas baseline computing the same table from the raw stored tables (read out of DuckDB once, timed
   separately); its result must equal crimestats' row for row, or the script fails.

Steps 2 and 3 run once per ``--scale``. At scale N > 1 a copy of the store gets N - 1 synthetic years of
Home Office quarterly history: copies of the stored Home Office quarters with earlier period ends.

Timings are reported, never asserted on.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics as stats
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from crimestats import reference
from crimestats.analytics import Options
from crimestats.analytics import statistics as crimestats_statistics
from crimestats.store import Store

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[1]
# The rules below are written out here rather than imported, so the baseline is an independent check.
SOURCE_PRIORITY = ("ons-pfa", "ons-csp", "home-office")
QUARTER_SHIFTS = (0, 3, 6, 9)
CHANGE_BASE_MINIMUM = 50
RANK_DECIMALS = 1
KEYS = ["area_code", "offence", "period_end"]
COMPARED = ["count", "rate_per_1000", "rank", "ranked_of", "change_pct"]
RELATIVE_TOLERANCE = 1e-9
SELECTIONS: tuple[tuple[str, str | None], ...] = (("all sources", None), ("home-office", "home-office"))

# Copies of each Home Office file's quarterly rows, copy k moved k steps earlier. A step is the file's
# span of quarters rounded up to whole years: 12 months for a file of 4 quarters, so the copies and the
# original form one continuous quarterly series, and never a period the file already has.
SYNTHETIC_HISTORY_SQL = """
INSERT INTO figures
WITH quarters AS (
    SELECT * FROM figures
    WHERE months = 3 AND file_id IN (SELECT file_id FROM files WHERE source = 'home-office')
), steps AS (
    SELECT file_id,
           12 * ceil((date_diff('month', min(period_end), max(period_end)) + 3) / 12)::INTEGER AS months
    FROM quarters
    GROUP BY file_id
)
SELECT quarters.* REPLACE (CAST(period_end - to_months(copy.k * steps.months) AS DATE) AS period_end)
FROM quarters
JOIN steps USING (file_id)
CROSS JOIN range(1, $scale) AS copy(k)
"""
HOME_OFFICE_QUARTERS_SQL = """
SELECT count(*), count(DISTINCT (file_id, period_end)) FROM figures
WHERE months = 3 AND file_id IN (SELECT file_id FROM files WHERE source = 'home-office')
"""


# --------------------------------------------------------------------------------------------- timing


def timed(step: Callable[[], T], repeat: int) -> tuple[list[float], T]:
    """Run ``step`` ``repeat`` times; the wall-clock seconds of each run and the last run's result."""
    seconds = []
    result: T
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def ingest_fresh(data_dir: Path, workdir: Path) -> Path:
    """Ingest ``data_dir`` into a new store file under ``workdir``; the store is closed (checkpointed) after."""
    path = Path(tempfile.mkdtemp(dir=workdir)) / "bench.duckdb"
    with Store(path) as store:
        store.ingest([data_dir])
    return path


# ------------------------------------------------------------------------------------ scaled stores


def home_office_quarters(store: Store) -> tuple[int, int]:
    """Home Office quarterly figure rows, and distinct (file, quarter end) pairs among them."""
    row = store.con.execute(HOME_OFFICE_QUARTERS_SQL).fetchone()
    return (row[0], row[1]) if row else (0, 0)


def add_synthetic_history(store: Store, scale: int) -> int:
    """Add ``scale - 1`` shifted copies of the Home Office quarterly rows; the number of rows added."""
    rows_before, periods_before = home_office_quarters(store)
    store.con.execute(SYNTHETIC_HISTORY_SQL, {"scale": scale})
    rows_after, periods_after = home_office_quarters(store)
    if rows_after != rows_before * scale or periods_after != periods_before * scale:
        raise RuntimeError(
            f"scale {scale}: synthetic quarters overlap stored ones ({periods_before} quarter ends before, "
            f"{periods_after} after; expected {periods_before * scale})"
        )
    return rows_after - rows_before


def store_at_scale(path: Path, scale: int, workdir: Path) -> Path:
    """The ingested store itself at scale 1; otherwise a copy of it with synthetic history added."""
    if scale == 1:
        return path
    scaled = Path(tempfile.mkdtemp(dir=workdir)) / f"bench-x{scale}.duckdb"
    shutil.copyfile(path, scaled)
    with Store(scaled) as store:
        added = add_synthetic_history(store, scale)
    print(f"scale {scale}: added {added:,} synthetic Home Office quarterly rows (copies of the stored quarters)")
    return scaled


# ---------------------------------------------------------------------------------- pandas baseline


@dataclass(frozen=True)
class RawTables:
    """The store's tables as pandas DataFrames, read once."""

    figures: pd.DataFrame
    files: pd.DataFrame
    populations: pd.DataFrame
    lookup: pd.DataFrame


def read_raw(store: Store) -> RawTables:
    def table(name: str) -> pd.DataFrame:
        return store.con.execute(f"SELECT * FROM {name}").df()

    return RawTables(table("figures"), table("files"), table("populations"), table("lookup"))


def month_index(dates: pd.Series) -> pd.Series:
    """Dates → whole months since year 0, so periods can be shifted by adding integers."""
    return dates.dt.year * 12 + dates.dt.month - 1


def month_to_date(months: pd.Series) -> pd.Series:
    dates = pd.to_datetime(pd.DataFrame({"year": months // 12, "month": months % 12 + 1, "day": 1}))
    return dates.astype("datetime64[s]")


def sum_all_or_null(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum ``value`` by ``keys``; NaN when any part is NaN (a missing figure is not a zero)."""
    grouped = frame.assign(missing=frame["value"].isna()).groupby(keys, as_index=False, sort=False, dropna=False)
    summed = grouped.agg(value=("value", "sum"), missing=("missing", "any"))
    summed.loc[summed["missing"], "value"] = np.nan
    return summed.drop(columns="missing")


def twelve_month_from_quarters(figures: pd.DataFrame) -> pd.DataFrame:
    """12-month totals to each quarter end Q where the file has the area's quarters Q, Q-3, Q-6 and Q-9.

    A missing quarterly value makes the total missing (crimestats' SQL ``sum`` would skip it instead; the
    official files have no missing quarterly values, so the two agree on them).
    """
    quarters = figures.loc[(figures["measure"] == "count") & (figures["months"] == 3)]
    quarters = quarters.assign(month=month_index(quarters["period_end"]))
    leaf = sum_all_or_null(quarters, ["file_id", "area_code", "offence", "month"])
    present = quarters[["file_id", "area_code", "month"]].drop_duplicates()
    shifted = pd.concat([present.assign(target=present["month"] + s) for s in QUARTER_SHIFTS])
    counts = shifted.groupby(["file_id", "area_code", "target"], as_index=False).size()
    windows = counts.loc[counts["size"] == len(QUARTER_SHIFTS), ["file_id", "area_code", "target"]]
    contributions = pd.concat([leaf.assign(target=leaf["month"] + s) for s in QUARTER_SHIFTS])
    joined = contributions.merge(windows, on=["file_id", "area_code", "target"])
    totals = sum_all_or_null(joined.drop(columns="month"), ["file_id", "area_code", "offence", "target"])
    return totals.rename(columns={"target": "month"})


def published_counts(figures: pd.DataFrame) -> pd.DataFrame:
    rows = figures.loc[(figures["measure"] == "count") & (figures["months"] == 12)]
    rows = rows.assign(month=month_index(rows["period_end"]))
    return rows[["file_id", "area_code", "offence", "month", "value"]]


def offence_ancestors() -> pd.DataFrame:
    return pd.DataFrame(reference.offence_ancestors(), columns=["offence", "ancestor"])


def roll_up(rows: pd.DataFrame) -> pd.DataFrame:
    """Each file's finest offences summed into every ancestor; a figure the file publishes wins."""
    ancestors = offence_ancestors()
    proper = ancestors.loc[ancestors["offence"] != ancestors["ancestor"]]
    present = rows[["file_id", "offence"]].drop_duplicates()
    coarser = present.merge(proper, on="offence")[["file_id", "ancestor"]].drop_duplicates()
    coarser = coarser.rename(columns={"ancestor": "offence"}).assign(coarse=True)
    finest = rows.merge(coarser, on=["file_id", "offence"], how="left")
    finest = finest.loc[finest["coarse"].isna()].drop(columns="coarse")
    expanded = finest.merge(ancestors, on="offence").drop(columns="offence").rename(columns={"ancestor": "offence"})
    rolled = sum_all_or_null(expanded, ["file_id", "area_code", "month", "offence"])
    both = pd.concat([rows.assign(derived=0), rolled.assign(derived=1)], ignore_index=True)
    both = both.sort_values("derived", kind="stable")
    return both.drop_duplicates(["file_id", "area_code", "month", "offence"]).drop(columns="derived")


def best_counts(counts: pd.DataFrame, files: pd.DataFrame, source: str | None) -> pd.DataFrame:
    """One count per (area, offence, period): first by non-null value, source priority, vintage, revision, file."""
    counts = counts.merge(files[["file_id", "source", "vintage", "revision"]], on="file_id")
    if source is not None:
        counts = counts.loc[counts["source"] == source]
    priority = {name: rank for rank, name in enumerate(SOURCE_PRIORITY)}
    counts = counts.assign(null=counts["value"].isna(), priority=counts["source"].map(priority).fillna(99))
    ordered = counts.sort_values(
        ["null", "priority", "vintage", "revision", "file_id"], ascending=[True, True, False, False, False]
    )
    return ordered.drop_duplicates(["area_code", "offence", "month"]).drop(columns=["null", "priority"])


def mid_year_force_populations(raw: RawTables) -> pd.DataFrame:
    """Latest ONS mid-year estimates, local authorities summed to police force areas via the latest lookup."""
    pops = raw.populations.merge(raw.files[["file_id", "source", "vintage"]], on="file_id")
    mye = pops.loc[(pops["source"] == "ons-mye") & (pops["denominator"] == "residents")]
    mye = mye.loc[mye["vintage"] == mye["vintage"].max()]
    lookup = raw.lookup.loc[raw.lookup["file_id"] == raw.lookup["file_id"].max(), ["lad_code", "pfa_code"]]
    by_force = mye.merge(lookup.drop_duplicates(), left_on="area_code", right_on="lad_code")
    summed = by_force.groupby(["pfa_code", "year"], as_index=False)["value"].sum(min_count=1)
    return summed.rename(columns={"pfa_code": "area_code", "year": "wanted_year", "value": "mye_population"})


def with_population(counts: pd.DataFrame, raw: RawTables) -> pd.DataFrame:
    """Table P3's population from the same file for ONS force tables, mid-year estimates otherwise."""
    residents = raw.populations.loc[raw.populations["denominator"] == "residents"]
    p3 = residents[["file_id", "area_code", "value"]].rename(columns={"value": "p3_population"})
    end_month = counts["month"] % 12 + 1
    wanted_year = counts["month"] // 12 - np.where(end_month >= 6, 1, 2)
    joined = counts.assign(wanted_year=wanted_year).merge(p3, on=["file_id", "area_code"], how="left")
    joined = joined.merge(mid_year_force_populations(raw), on=["area_code", "wanted_year"], how="left")
    published = joined["source"] == "ons-pfa"
    joined["population"] = joined["p3_population"].where(published, joined["mye_population"])
    return joined.drop(columns=["p3_population", "mye_population", "wanted_year"])


def areas() -> pd.DataFrame:
    rows = [(a.code, a.kind, a.rate_suppressed) for a in reference.areas() if a.kind in ("force", "transport")]
    return pd.DataFrame(rows, columns=["area_code", "kind", "rate_suppressed"])


def with_rate(counts: pd.DataFrame) -> pd.DataFrame:
    rated = counts.merge(areas(), on="area_code")
    rate = rated["value"] / rated["population"] * 1000
    rated["rate_per_1000"] = rate.where(rated["rate_suppressed"].isna())
    return rated.drop(columns="rate_suppressed")


def round_half_away(values: pd.Series, decimals: int) -> pd.Series:
    """Round like SQL ``round`` (half away from zero), not like numpy (half to even)."""
    scaled = values * 10**decimals
    whole = np.trunc(scaled)
    return (whole + np.sign(scaled) * (np.abs(scaled - whole) >= 0.5)) / 10**decimals


def with_rank(rated: pd.DataFrame) -> pd.DataFrame:
    """1 = lowest rate among forces with a rate; equal rates to 1 decimal place share the lowest rank."""
    rankable = (rated["kind"] == "force") & rated["rate_per_1000"].notna()
    key = round_half_away(rated["rate_per_1000"], RANK_DECIMALS).where(rankable)
    groups = [rated["offence"], rated["month"]]
    rated["rank"] = key.groupby(groups).rank(method="min").astype("Int64")
    rated["ranked_of"] = key.groupby(groups).transform("count").astype("Int64").where(rankable)
    return rated


def with_change(ranked: pd.DataFrame) -> pd.DataFrame:
    """Change on the same area and offence 12 months earlier; no percentage when the earlier count is < 50."""
    earlier = ranked[["area_code", "offence", "month", "value"]].rename(columns={"value": "previous_count"})
    earlier = earlier.assign(month=earlier["month"] + 12)
    joined = ranked.merge(earlier, on=["area_code", "offence", "month"], how="left")
    change_pct = (joined["value"] - joined["previous_count"]) / joined["previous_count"] * 100
    joined["change_pct"] = change_pct.where(joined["previous_count"] >= CHANGE_BASE_MINIMUM)
    return joined


def pandas_statistics(raw: RawTables, source: str | None = None) -> pd.DataFrame:
    """The crimestats ``statistics`` table (compared columns only), computed in plain pandas."""
    twelve_month = pd.concat([published_counts(raw.figures), twelve_month_from_quarters(raw.figures)])
    counts = best_counts(roll_up(twelve_month), raw.files, source)
    table = with_change(with_rank(with_rate(with_population(counts, raw))))
    table = table.rename(columns={"value": "count"}).assign(period_end=month_to_date(table["month"]))
    return table[[*KEYS, "count", "population", *COMPARED[1:]]].reset_index(drop=True)


# ---------------------------------------------------------------------------------------- comparison


def crimestats_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    frame["period_end"] = pd.to_datetime(frame["period_end"]).astype("datetime64[s]")
    for column in ("rank", "ranked_of"):
        frame[column] = frame[column].astype("Int64")
    return frame


def differs(ours: pd.Series, theirs: pd.Series, exact: bool) -> pd.Series:
    """True where two columns disagree; both missing agrees, floats to a relative tolerance."""
    missing = ours.isna() & theirs.isna()
    if exact:
        return ~missing & ~(ours == theirs).fillna(False).astype(bool)
    close = np.isclose(ours.astype(float), theirs.astype(float), rtol=RELATIVE_TOLERANCE, atol=0.0, equal_nan=False)
    return ~missing & ~close


def mismatches(baseline: pd.DataFrame, crimestats: pd.DataFrame) -> list[str]:
    """Every disagreement between the two results, as readable lines (empty if they agree)."""
    problems = []
    for name, frame in (("pandas", baseline), ("crimestats", crimestats)):
        duplicated = frame.duplicated(KEYS).sum()
        if duplicated:
            problems.append(f"{name}: {duplicated} duplicated (area_code, offence, period_end) rows")
    joined = baseline.merge(crimestats, on=KEYS, how="outer", suffixes=("_pandas", "_crimestats"), indicator=True)
    for side, label in (("left_only", "only in pandas"), ("right_only", "only in crimestats")):
        extra = joined.loc[joined["_merge"] == side, KEYS]
        if len(extra):
            problems.append(f"{len(extra)} rows {label}, e.g.\n{extra.head(5).to_string(index=False)}")
    both = joined.loc[joined["_merge"] == "both"]
    for column in COMPARED:
        ours, theirs = both[f"{column}_pandas"], both[f"{column}_crimestats"]
        bad = differs(ours, theirs, exact=column in ("count", "rank", "ranked_of"))
        if bad.any():
            sample = both.loc[bad, [*KEYS, f"{column}_pandas", f"{column}_crimestats"]].head(5)
            problems.append(f"{int(bad.sum())} rows differ on {column}, e.g.\n{sample.to_string(index=False)}")
    return problems


def check_same(label: str, baseline: pd.DataFrame, crimestats: pd.DataFrame) -> None:
    problems = mismatches(baseline, crimestats)
    if problems:
        raise AssertionError(f"{label}: pandas and crimestats disagree\n" + "\n".join(problems))
    print(f"check {label}: {len(crimestats):,} rows agree on {', '.join(COMPARED)}")


# ------------------------------------------------------------------------------------------- report


def machine_info() -> list[str]:
    return [
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs",
        f"python {platform.python_version()}, duckdb {duckdb.__version__}, ibis {ibis.__version__}, "
        f"pandas {pd.__version__}, numpy {np.__version__}",
    ]


@dataclass(frozen=True)
class ScaleRow:
    """Median seconds of crimestats and pandas for one source selection at one scale."""

    scale: int
    figure_rows: int
    selection: str
    crimestats: float
    pandas: float


def print_table(rows: list[tuple[str, float]]) -> None:
    width = max(len(step) for step, _ in rows)
    print(f"{'step':<{width}}  {'median s':>9}")
    for step, seconds in rows:
        print(f"{step:<{width}}  {seconds:>9.4f}")


def print_scale_table(rows: list[ScaleRow]) -> None:
    width = max(len("tables"), *(len(row.selection) for row in rows))
    print(
        f"{'scale':>5}  {'figure rows':>11}  {'tables':<{width}}  {'crimestats s':>12}  {'pandas s':>9}  "
        f"{'crimestats/pandas':>17}"
    )
    for row in rows:
        ratio = f"{row.crimestats / row.pandas:.1f}x"
        print(
            f"{row.scale:>5}  {row.figure_rows:>11,}  {row.selection:<{width}}  {row.crimestats:>12.4f}  "
            f"{row.pandas:>9.4f}  {ratio:>17}"
        )


def default_data_dir() -> Path:
    return Path(os.environ.get("CRIMESTATS_TEST_DATA", REPO_ROOT.parent / "shared" / "data"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="folder of official data files")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each timed step (median reported)")
    parser.add_argument(
        "--scale",
        type=int,
        nargs="+",
        default=[1],
        metavar="N",
        help="data volumes to time the league tables at: N - 1 synthetic years of Home Office quarters (default 1)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if min(args.scale) < 1:
        parser.error("--scale must be at least 1")
    args.scale = sorted(set(args.scale))
    if not args.data.is_dir():
        parser.error(f"data folder {args.data} not found (use --data or set CRIMESTATS_TEST_DATA)")
    return args


def count_rows(store: Store, table: str) -> int:
    row = store.con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return row[0] if row else 0


def store_summary(store: Store) -> str:
    return f"{count_rows(store, 'files')} files, {count_rows(store, 'figures'):,} figure rows"


def run_crimestats(store: Store, source: str | None) -> pa.Table:
    return crimestats_statistics(store.backend, Options(source=source)).to_pyarrow()


def league_steps(store: Store, scale: int, repeat: int) -> list[ScaleRow]:
    """Time crimestats and pandas on each source selection at one scale, and check they agree."""
    raw = read_raw(store)
    rows = []
    for label, source in SELECTIONS:
        ours_times, ours = timed(partial(run_crimestats, store, source), repeat)
        base_times, base = timed(partial(pandas_statistics, raw, source), repeat)
        check_same(f"scale {scale}, {label}", base, crimestats_frame(ours))
        rows.append(ScaleRow(scale, len(raw.figures), label, stats.median(ours_times), stats.median(base_times)))
    return rows


def scaled_league_steps(path: Path, scales: list[int], repeat: int, workdir: Path) -> list[ScaleRow]:
    rows = []
    for scale in scales:
        with Store(store_at_scale(path, scale, workdir)) as store:
            rows.extend(league_steps(store, scale, repeat))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(*machine_info(), sep="\n")
    print(f"data: {args.data}, repeat: {args.repeat}, scale: {' '.join(map(str, args.scale))}\n")
    with tempfile.TemporaryDirectory(prefix="crimestats-bench-") as workdir:
        ingest_times, path = timed(partial(ingest_fresh, args.data, Path(workdir)), args.repeat)
        with Store(path) as store:
            read_times, _ = timed(partial(read_raw, store), args.repeat)
            summary = store_summary(store)
        league = scaled_league_steps(path, args.scale, args.repeat, Path(workdir))
    print()
    print_table(
        [
            (f"ingest ({summary})", stats.median(ingest_times)),
            ("read raw tables DuckDB -> pandas", stats.median(read_times)),
        ]
    )
    print()
    print_scale_table(league)
    return 0


if __name__ == "__main__":
    sys.exit(main())
