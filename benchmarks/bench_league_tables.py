"""Benchmark: every league table read from crimestats' materialised statistics, against plain pandas and plain SQL.

Run from the repository root::

    python benchmarks/bench_league_tables.py [--data DIR] [--repeat N]

The data folder is ingested once into a store in a temporary directory, and its statistics are materialised.
Then, ``--repeat`` times in turns (median reported):

1. one league table from the open store: ``analytics.league_table(store, "2019-09", "stalking-and-harassment")``;
2. every league table (every force x offence level x period) through crimestats: the materialised table read
   from the store as stored, league by league, and ``analytics.league_table`` called for every offence and period;
3. the same figures computed from the stored raw tables by a pandas baseline (the tables read into pandas
   once, not timed) and by one hand-written DuckDB SQL query;
4. the one-off cost of materialising: ``materialised.compute_forces`` (the Ibis expression
   ``figures.force_statistics`` and, in Python, intervals, plausible ranks and change tests), and the
   expression alone.

Both baselines must give crimestats' rows, figure for figure, or the script names the rows that differ and
exits 1. Timings are reported, never asserted on.
"""

from __future__ import annotations

import argparse
import statistics as stats
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from _common import Timing, checked, data_parser, in_turns, ingest_fresh, machine_info

from crimestats import analytics, reference
from crimestats.analytics import Options, materialised, uncertainty
from crimestats.analytics.figures import force_statistics
from crimestats.periods import format_period
from crimestats.store import Store

PERIOD, OFFENCE = "2019-09", "stalking-and-harassment"
ONE_TABLE_CALLS = 50  # one league table is timed as the median of this many calls, in each round
TARGET_ONE_TABLE_MS = 5.0
TARGET_VS_PANDAS = 10.0  # every league table at least this many times faster than pandas
TARGET_VS_SQL = 2.0  # and at most this many times the hand-written SQL
# The rules below are written out here rather than imported, so each baseline is an independent check.
SOURCE_PRIORITY = ("ons-pfa", "ons-csp", "home-office")
QUARTER_SHIFTS = (0, 3, 6, 9)
CHANGE_BASE_MINIMUM = 50
KEYS = ["area_code", "offence", "period_end"]
EXACT = ["count", "rank", "ranked_of", "previous_count"]
CLOSE = ["population", "rate_per_1000", "change_pct"]
RELATIVE_TOLERANCE = 1e-9


# ------------------------------------------------------------------------------------------ reference data


@dataclass(frozen=True)
class Reference:
    """The reference data both baselines join: areas, offence ancestors-or-self and offence parents."""

    areas: pd.DataFrame  # forces and British Transport Police: area_code, kind, rate_suppressed
    ancestors: pd.DataFrame  # offence, ancestor (every ancestor and the offence itself)
    parents: pd.DataFrame  # offence, parent

    @classmethod
    def read(cls) -> Reference:
        areas = [(a.code, a.kind, a.rate_suppressed) for a in reference.areas() if a.kind in ("force", "transport")]
        parents = [(o.slug, o.parent) for o in reference.offences() if o.parent is not None]
        return cls(
            pd.DataFrame(areas, columns=["area_code", "kind", "rate_suppressed"]),
            pd.DataFrame(reference.offence_ancestors(), columns=["offence", "ancestor"]),
            pd.DataFrame(parents, columns=["offence", "parent"]),
        )


# ------------------------------------------------------------------------------------------ pandas baseline


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


def sum_or_null(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """SQL ``sum``: nulls skipped, null when every value is null."""
    return frame.groupby(keys, sort=False)[column].sum(min_count=1)


def sum_all_or_null(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum ``value`` by ``keys``; NaN when any part is NaN (a missing figure is not a zero)."""
    grouped = frame.assign(missing=frame["value"].isna()).groupby(keys, as_index=False, sort=False)
    summed = grouped.agg(value=("value", "sum"), missing=("missing", "any"))
    summed.loc[summed["missing"], "value"] = np.nan
    return summed.drop(columns="missing")


def twelve_month_from_quarters(figures: pd.DataFrame) -> pd.DataFrame:
    """12-month totals to each quarter end Q where the file has the area's quarters Q, Q-3, Q-6 and Q-9."""
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


def roll_up(rows: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Each file's finest offences summed into every ancestor; a figure the file publishes wins."""
    proper = ref.ancestors.loc[ref.ancestors["offence"] != ref.ancestors["ancestor"]]
    present = rows[["file_id", "offence"]].drop_duplicates()
    coarser = present.merge(proper, on="offence")[["file_id", "ancestor"]].drop_duplicates()
    coarser = coarser.rename(columns={"ancestor": "offence"}).assign(coarse=True)
    finest = rows.merge(coarser, on=["file_id", "offence"], how="left")
    finest = finest.loc[finest["coarse"].isna()].drop(columns="coarse")
    expanded = finest.merge(ref.ancestors, on="offence").drop(columns="offence").rename(columns={"ancestor": "offence"})
    rolled = sum_all_or_null(expanded, ["file_id", "area_code", "month", "offence"])
    both = pd.concat([rows.assign(derived=0), rolled.assign(derived=1)], ignore_index=True)
    both = both.sort_values("derived", kind="stable")
    return both.drop_duplicates(["file_id", "area_code", "month", "offence"])


def best_counts(counts: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """One count per (area, offence, period): first by non-null value, source priority, vintage, revision, file."""
    counts = counts.merge(files[["file_id", "source", "vintage", "revision"]], on="file_id")
    priority = {name: rank for rank, name in enumerate(SOURCE_PRIORITY)}
    counts = counts.assign(null=counts["value"].isna(), priority=counts["source"].map(priority).fillna(99))
    ordered = counts.sort_values(
        ["null", "priority", "vintage", "revision", "file_id"], ascending=[True, True, False, False, False]
    )
    return ordered.drop_duplicates(["area_code", "offence", "month"]).drop(columns=["null", "priority"])


def latest_file(files: pd.DataFrame, file_ids: pd.Series) -> int:
    """The latest release among these files: vintage, then revision, then the file stored last."""
    among = files.loc[files["file_id"].isin(file_ids)]
    return int(among.sort_values(["vintage", "revision", "file_id"])["file_id"].iloc[-1])


def mid_year_force_populations(raw: RawTables) -> pd.DataFrame:
    """Latest ONS mid-year estimates, local authorities summed to police force areas via the latest lookup."""
    pops = raw.populations.merge(raw.files[["file_id", "source"]], on="file_id")
    mye = pops.loc[(pops["source"] == "ons-mye") & (pops["denominator"] == "residents")]
    mye = mye.loc[mye["file_id"] == latest_file(raw.files, mye["file_id"])]
    lookup = raw.lookup.loc[raw.lookup["file_id"] == latest_file(raw.files, raw.lookup["file_id"])]
    by_force = mye.merge(lookup[["lad_code", "pfa_code"]].drop_duplicates(), left_on="area_code", right_on="lad_code")
    summed = sum_or_null(by_force, ["pfa_code", "year"], "value").reset_index()
    return summed.rename(columns={"pfa_code": "area_code", "year": "wanted_year", "value": "mye_population"})


def published_populations(raw: RawTables) -> pd.DataFrame:
    """ONS Table P3 populations by area and the period of their release (a corrected re-issue wins)."""
    files = raw.files.loc[raw.files["source"] == "ons-pfa", ["file_id", "vintage", "revision"]]
    pops = raw.populations.loc[raw.populations["denominator"] == "residents"].merge(files, on="file_id")
    pops = pops.assign(month=month_index(pd.to_datetime(pops["vintage"] + "-01")))
    pops = pops.sort_values(["revision", "file_id"], ascending=False).drop_duplicates(["area_code", "month"])
    return pops[["area_code", "month", "value"]].rename(columns={"value": "p3_population"})


def with_population(counts: pd.DataFrame, raw: RawTables) -> pd.DataFrame:
    """Table P3's population for ONS force table figures, the mid-year estimate ONS would use otherwise."""
    mye = mid_year_force_populations(raw)
    ons_year = counts["month"] // 12 - np.where(counts["month"] % 12 + 1 >= 6, 1, 2)
    latest = counts["area_code"].map(mye.groupby("area_code")["wanted_year"].max())  # a newer release: the latest
    wanted_year = np.minimum(ons_year, latest.fillna(ons_year)).astype(ons_year.dtype)
    joined = counts.assign(wanted_year=wanted_year).merge(
        published_populations(raw), on=["area_code", "month"], how="left"
    )
    joined = joined.merge(mye, on=["area_code", "wanted_year"], how="left")
    joined["population"] = joined["p3_population"].where(joined["source"] == "ons-pfa", joined["mye_population"])
    return joined.drop(columns=["p3_population", "mye_population", "wanted_year"])


def with_rate(counts: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    rated = counts.merge(ref.areas, on="area_code")
    rate = rated["value"] / rated["population"] * 1000
    rated["rate_per_1000"] = rate.where(rated["rate_suppressed"].isna())
    return rated.drop(columns="rate_suppressed")


def round_half_away(values: pd.Series, places: pd.Series | int) -> pd.Series:
    """Round like DuckDB's ``round`` (half away from zero on ``value * 10**places``), not numpy's half to even."""
    scale = 10.0**places
    scaled = values * scale
    whole = np.trunc(scaled)
    return (whole + np.sign(scaled) * (np.abs(scaled - whole) >= 0.5)) / scale


def rate_as_printed(rate: pd.Series) -> pd.Series:
    """1 decimal place, but 2 significant figures below 1 per 1,000 (0.012, not 0.0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        small = np.maximum(1, 1 - np.floor(np.log10(rate)))
    places = pd.Series(np.where((rate >= 1) | (rate <= 0) | rate.isna(), 1, small), index=rate.index)
    return round_half_away(rate, places.astype(int))


def with_rank(rated: pd.DataFrame) -> pd.DataFrame:
    """1 = lowest rate among forces with a rate; rates equal as printed share the lowest rank."""
    rankable = (rated["kind"] == "force") & rated["rate_per_1000"].notna()
    key = rate_as_printed(rated["rate_per_1000"]).where(rankable)
    groups = [rated["offence"], rated["month"]]
    rated["rank"] = key.groupby(groups).rank(method="min")
    rated["ranked_of"] = key.groupby(groups).transform("count").where(rankable)
    return rated


def with_published_change(ranked: pd.DataFrame, figures: pd.DataFrame) -> pd.DataFrame:
    """The earlier year's count: implied by ONS Table P2's published change where there is one, blank where P2
    withholds it, otherwise the best count 12 months earlier."""
    earlier = ranked[["area_code", "offence", "month", "value"]].rename(columns={"value": "stored_previous"})
    joined = ranked.merge(earlier.assign(month=earlier["month"] + 12), on=KEYS[:2] + ["month"], how="left")
    p2 = figures.loc[(figures["measure"] == "change_pct") & (figures["months"] == 12)]
    p2 = p2.assign(month=month_index(p2["period_end"]))[["file_id", "area_code", "offence", "month", "value", "reason"]]
    p2 = p2.rename(columns={"value": "published_change", "reason": "withheld"})
    joined = joined.merge(p2, on=["file_id", "area_code", "offence", "month"], how="left")
    joined["p2"] = joined["published_change"].notna() & joined["value"].notna() & (joined["published_change"] != -100)
    implied = round_half_away(joined["value"] / (1 + joined["published_change"] / 100), 0)
    stored = joined["stored_previous"].where(joined["withheld"].isna())
    joined["previous_count"] = implied.where(joined["p2"], stored)
    joined["revised"] = joined["p2"]
    return joined


def with_revised_sums(table: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """A total crimestats sums (derived) compares with its parts' revised earlier years, summed when every part
    has one, or its published total's less its siblings' when it is the only part without one; otherwise, if
    any part is revised, the earlier year is not known."""
    keys = ["file_id", "area_code", "month"]
    parts = table.loc[table["derived"] == 0].merge(ref.parents, on="offence")
    summary = pd.DataFrame(
        {
            "parts_previous": sum_or_null(parts, [*keys, "parent"], "previous_count"),
            "parts": parts.groupby([*keys, "parent"], sort=False).size(),
            "parts_revised": parts.groupby([*keys, "parent"], sort=False)["revised"].sum(),
        }
    ).reset_index()
    table = table.merge(summary.rename(columns={"parent": "offence"}), on=[*keys, "offence"], how="left")
    derived = table["derived"] == 1
    from_parts = derived & (table["parts"] == table["parts_revised"]) & table["parts_previous"].notna()
    table["previous_count"] = table["parts_previous"].where(from_parts, table["previous_count"])
    table["p2"] &= ~from_parts
    table["revised"] |= from_parts
    table["partly_revised"] = derived & (table["parts_revised"] > 0)

    children = table.merge(ref.parents, on="offence")
    revised_previous = children["previous_count"].where(children["revised"])
    family = pd.DataFrame(
        {
            "children": children.groupby([*keys, "parent"], sort=False).size(),
            "children_revised": children.groupby([*keys, "parent"], sort=False)["revised"].sum(),
            "revised_previous": sum_or_null(children.assign(rp=revised_previous), [*keys, "parent"], "rp"),
        }
    ).reset_index()
    totals = table.loc[table["revised"], [*keys, "offence", "previous_count"]]
    family = family.merge(totals.rename(columns={"offence": "parent", "previous_count": "parent_previous"}))
    table = table.merge(ref.parents, on="offence", how="left").merge(family, on=[*keys, "parent"], how="left")
    by_difference = (
        derived.to_numpy()
        & ~table["revised"]
        & (table["children"] - table["children_revised"] == 1)
        & table["parent_previous"].notna()
    )
    difference = table["parent_previous"] - table["revised_previous"].fillna(0)
    table["previous_count"] = difference.where(by_difference, table["previous_count"])
    table["revised"] |= by_difference
    table["revision_gap"] = table["partly_revised"] & ~table["revised"]
    table.loc[table["revision_gap"], "previous_count"] = np.nan
    return table


def with_change(table: pd.DataFrame) -> pd.DataFrame:
    """P2's change where it is published; none where P2 withholds it, the earlier year is unknown, or its count
    is under 50; otherwise computed."""
    previous = table["previous_count"]
    computed = (table["value"] - previous) / previous * 100
    hidden = (~table["p2"] & (previous < CHANGE_BASE_MINIMUM)) | table["withheld"].notna() | table["revision_gap"]
    table["change_pct"] = table["published_change"].where(table["p2"], computed.where(~hidden))
    return table


def pandas_league_tables(raw: RawTables, ref: Reference) -> pd.DataFrame:
    """Every force x offence x period league table row (the compared columns), in plain pandas."""
    twelve_month = pd.concat([published_counts(raw.figures), twelve_month_from_quarters(raw.figures)])
    counts = best_counts(roll_up(twelve_month, ref), raw.files)
    ranked = with_rank(with_rate(with_population(counts, raw), ref))
    table = with_change(with_revised_sums(with_published_change(ranked, raw.figures), ref))
    table = table.rename(columns={"value": "count"})
    table["period_end"] = table["month"].map(lambda m: f"{m // 12:04d}-{m % 12 + 1:02d}")
    return table[[*KEYS, *EXACT, *CLOSE]].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- SQL baseline

# The same rules as one DuckDB query over the stored tables and the reference tables ref_areas, ref_ancestors
# and ref_parents. A NULL-safe "all parts or nothing" sum is CASE WHEN count(value) = count(*) THEN sum(value) END.
LEAGUE_TABLES_SQL = """
WITH quarters AS (
    SELECT file_id, area_code, offence, period_end, value FROM figures WHERE measure = 'count' AND months = 3
), shifts(shift) AS (VALUES (0), (3), (6), (9)
), windows AS (
    SELECT file_id, area_code, CAST(period_end + to_months(shift) AS DATE) AS target
    FROM (SELECT DISTINCT file_id, area_code, period_end FROM quarters), shifts
    GROUP BY ALL HAVING count(*) = 4
), leaf AS (
    SELECT file_id, area_code, offence, period_end, CASE WHEN count(value) = count(*) THEN sum(value) END AS value
    FROM quarters GROUP BY ALL
), twelve AS (
    SELECT file_id, area_code, offence, period_end, value FROM figures WHERE measure = 'count' AND months = 12
    UNION ALL
    SELECT leaf.file_id, leaf.area_code, leaf.offence, w.target,
           CASE WHEN count(leaf.value) = count(*) THEN sum(leaf.value) END
    FROM leaf CROSS JOIN shifts
    JOIN windows w ON w.file_id = leaf.file_id AND w.area_code = leaf.area_code
                  AND w.target = CAST(leaf.period_end + to_months(shifts.shift) AS DATE)
    GROUP BY leaf.file_id, leaf.area_code, leaf.offence, w.target
), coarser AS (  -- offences of a file with a finer offence in the same file
    SELECT DISTINCT t.file_id, a.ancestor AS offence
    FROM (SELECT DISTINCT file_id, offence FROM twelve) t JOIN ref_ancestors a ON a.offence = t.offence
    WHERE a.ancestor <> a.offence
), rolled AS (
    SELECT t.file_id, t.area_code, t.period_end, a.ancestor AS offence,
           CASE WHEN count(t.value) = count(*) THEN sum(t.value) END AS value
    FROM (SELECT * FROM twelve ANTI JOIN coarser USING (file_id, offence)) t JOIN ref_ancestors a USING (offence)
    GROUP BY ALL
), counts AS (
    SELECT * FROM (
        SELECT file_id, area_code, offence, period_end, value, 0 AS derived FROM twelve
        UNION ALL
        SELECT file_id, area_code, offence, period_end, value, 1 FROM rolled
    ) QUALIFY row_number() OVER (PARTITION BY file_id, area_code, period_end, offence ORDER BY derived) = 1
), best AS (
    SELECT c.*, f.source FROM counts c JOIN files f USING (file_id)
    QUALIFY row_number() OVER (
        PARTITION BY c.area_code, c.offence, c.period_end
        ORDER BY c.value IS NULL, CASE f.source WHEN 'ons-pfa' THEN 0 WHEN 'ons-csp' THEN 1 WHEN 'home-office' THEN 2
                 ELSE 99 END, f.vintage DESC, f.revision DESC, c.file_id DESC) = 1
), p3 AS (  -- ONS Table P3 populations by the period of their release
    SELECT p.area_code, CAST(f.vintage || '-01' AS DATE) AS period_end, p.value AS population
    FROM populations p JOIN files f USING (file_id)
    WHERE f.source = 'ons-pfa' AND p.denominator = 'residents'
    QUALIFY row_number() OVER (PARTITION BY p.area_code, f.vintage ORDER BY f.revision DESC, f.file_id DESC) = 1
), mye AS (  -- the latest mid-year estimates summed to force areas through the latest lookup
    SELECT l.pfa_code AS area_code, p.year, sum(p.value) AS population
    FROM populations p
    JOIN (SELECT DISTINCT lad_code, pfa_code FROM lookup WHERE file_id = (
        SELECT file_id FROM files WHERE file_id IN (SELECT file_id FROM lookup)
        ORDER BY vintage DESC, revision DESC, file_id DESC LIMIT 1)) l ON l.lad_code = p.area_code
    WHERE p.denominator = 'residents' AND p.file_id = (
        SELECT file_id FROM files WHERE source = 'ons-mye'
           AND file_id IN (SELECT file_id FROM populations WHERE denominator = 'residents')
        ORDER BY vintage DESC, revision DESC, file_id DESC LIMIT 1)
    GROUP BY ALL
), latest AS (
    SELECT area_code, max(year) AS year FROM mye GROUP BY ALL
), rated AS (
    SELECT b.*, a.kind, pop.population,
           CASE WHEN a.rate_suppressed IS NULL THEN b.value / pop.population * 1000 END AS rate_per_1000
    FROM best b JOIN ref_areas a USING (area_code)
    LEFT JOIN p3 ON p3.area_code = b.area_code AND p3.period_end = b.period_end
    LEFT JOIN latest ON latest.area_code = b.area_code  -- a release newer than the estimates: the latest
    LEFT JOIN mye ON mye.area_code = b.area_code
                 AND mye.year = least(year(b.period_end) - CASE WHEN month(b.period_end) >= 6 THEN 1 ELSE 2 END,
                                      latest.year)
    CROSS JOIN LATERAL (SELECT CASE WHEN b.source = 'ons-pfa' THEN p3.population ELSE mye.population END
                        AS population) pop
), keyed AS (  -- the rate as printed: 1 decimal place, 2 significant figures below 1
    SELECT *, kind = 'force' AND rate_per_1000 IS NOT NULL AS rankable,
           CASE WHEN kind = 'force' THEN round(rate_per_1000, CAST(CASE WHEN rate_per_1000 >= 1 OR rate_per_1000 <= 0
                THEN 1 ELSE greatest(1, 1 - CAST(floor(log10(rate_per_1000)) AS BIGINT)) END AS INT)) END AS rank_key
    FROM rated
), ranked AS (
    SELECT *,
           CASE WHEN rankable THEN rank() OVER (PARTITION BY offence, period_end, rankable ORDER BY rank_key) END
               AS rank,
           CASE WHEN rankable THEN count(rank_key) OVER (PARTITION BY offence, period_end, rankable) END AS ranked_of
    FROM keyed
), published AS (  -- the earlier year implied by ONS Table P2's change, none where P2 withholds it
    SELECT r.*, c.value AS published_change, c.reason AS withheld,
           coalesce(c.value IS NOT NULL AND r.value IS NOT NULL AND c.value <> -100, false) AS p2,
           CASE WHEN c.value IS NOT NULL AND r.value IS NOT NULL AND c.value <> -100
                     THEN round(r.value / (1 + c.value / 100), 0)
                WHEN c.reason IS NOT NULL THEN NULL
                ELSE e.value END AS previous_count
    FROM ranked r
    LEFT JOIN ranked e ON e.area_code = r.area_code AND e.offence = r.offence
                      AND e.period_end = CAST(r.period_end - INTERVAL 12 MONTH AS DATE)
    LEFT JOIN figures c ON c.measure = 'change_pct' AND c.months = 12 AND c.file_id = r.file_id
                       AND c.area_code = r.area_code AND c.offence = r.offence AND c.period_end = r.period_end
), parts AS (
    SELECT s.file_id, s.area_code, s.period_end, rp.parent AS offence, sum(s.previous_count) AS parts_previous,
           count(*) AS parts, count(*) FILTER (WHERE s.p2) AS parts_revised
    FROM published s JOIN ref_parents rp USING (offence) WHERE s.derived = 0 GROUP BY ALL
), summed AS (  -- a derived total whose parts all have a revised earlier year: their sum
    SELECT s.* REPLACE (CASE WHEN from_parts THEN parts_previous ELSE s.previous_count END AS previous_count,
                        s.p2 AND NOT from_parts AS p2),
           s.p2 OR from_parts AS revised, s.derived = 1 AND coalesce(pt.parts_revised, 0) > 0 AS partly_revised
    FROM published s LEFT JOIN parts pt USING (file_id, area_code, period_end, offence)
    CROSS JOIN LATERAL (SELECT coalesce(s.derived = 1 AND pt.parts = pt.parts_revised
                                        AND pt.parts_previous IS NOT NULL, false) AS from_parts)
), family AS (
    SELECT s.file_id, s.area_code, s.period_end, rp.parent, count(*) AS children,
           count(*) FILTER (WHERE s.revised) AS children_revised,
           sum(s.previous_count) FILTER (WHERE s.revised) AS revised_previous, t.previous_count AS parent_previous
    FROM summed s JOIN ref_parents rp USING (offence)
    JOIN summed t ON t.revised AND t.file_id = s.file_id AND t.area_code = s.area_code
                 AND t.period_end = s.period_end AND t.offence = rp.parent
    GROUP BY ALL
), differenced AS (  -- the one part without a revised earlier year: its total's less its siblings'
    SELECT s.* REPLACE (CASE WHEN by_difference THEN f.parent_previous - coalesce(f.revised_previous, 0)
                             WHEN s.partly_revised AND NOT s.revised THEN NULL
                             ELSE s.previous_count END AS previous_count),
           s.partly_revised AND NOT s.revised AND NOT by_difference AS revision_gap
    FROM summed s LEFT JOIN ref_parents rp USING (offence)
    LEFT JOIN family f ON f.file_id = s.file_id AND f.area_code = s.area_code AND f.period_end = s.period_end
                      AND f.parent = rp.parent
    CROSS JOIN LATERAL (SELECT coalesce(s.derived = 1 AND NOT s.revised AND f.children - f.children_revised = 1
                                        AND f.parent_previous IS NOT NULL, false) AS by_difference)
)
SELECT area_code, offence, strftime(period_end, '%Y-%m') AS period_end, value AS count, rank, ranked_of,
       previous_count, population, rate_per_1000,
       CASE WHEN p2 THEN published_change
            WHEN previous_count < 50 OR withheld IS NOT NULL OR revision_gap THEN NULL
            ELSE (value - previous_count) / previous_count * 100 END AS change_pct
FROM differenced
"""


def sql_league_tables(store: Store) -> pa.Table:
    return store.con.sql(LEAGUE_TABLES_SQL).to_arrow_table()


def register_reference(store: Store, ref: Reference) -> None:
    for name, frame in (("ref_areas", ref.areas), ("ref_ancestors", ref.ancestors), ("ref_parents", ref.parents)):
        store.con.register(name, frame)


# ----------------------------------------------------------------------------------------- crimestats


def stored_forces(store: Store) -> pa.Table:
    """Every league table, read from the materialised table in the store as it is stored (league by league, each
    in league order: ``materialised.STORED_ORDER``), not from this connection's memo."""
    store.memo.clear()
    return materialised.forces(store, Options(), order_by=None)


def league_slices(store: Store) -> list[tuple[str, str]]:
    """(period, offence) of every league table in the materialised statistics."""
    table = materialised.forces(store, Options()).group_by(["period_end", "offence"]).aggregate([])
    return sorted((format_period(row["period_end"]), row["offence"]) for row in table.to_pylist())


def every_league_table(store: Store, slices: list[tuple[str, str]]) -> int:
    """``analytics.league_table`` for every period and offence; the rows returned."""
    return sum(analytics.league_table(store, period, offence).num_rows for period, offence in slices)


def one_table_ms(store: Store) -> float:
    """The median of ``ONE_TABLE_CALLS`` calls of one league table, in milliseconds."""
    seconds = []
    for _ in range(ONE_TABLE_CALLS):
        start = time.perf_counter()
        analytics.league_table(store, PERIOD, OFFENCE)
        seconds.append(time.perf_counter() - start)
    return stats.median(seconds) * 1000


# ---------------------------------------------------------------------------------------- comparison


def as_frame(table: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """The compared columns, periods as ``YYYY-MM``, whole numbers as nullable integers."""
    frame = table.to_pandas() if isinstance(table, pa.Table) else table.copy()
    if not isinstance(frame["period_end"].iloc[0], str):
        frame["period_end"] = frame["period_end"].map(format_period)
    for column in EXACT:
        frame[column] = frame[column].astype("Float64").round().astype("Int64")
    for column in CLOSE:
        frame[column] = frame[column].astype(float)
    return frame[[*KEYS, *EXACT, *CLOSE]]


def differs(ours: pd.Series, theirs: pd.Series, exact: bool) -> pd.Series:
    """True where two columns disagree; both missing agrees, floats to a relative tolerance."""
    missing = ours.isna() & theirs.isna()
    if exact:
        return ~missing & ~(ours == theirs).fillna(False).astype(bool)
    close = np.isclose(ours.astype(float), theirs.astype(float), rtol=RELATIVE_TOLERANCE, atol=0.0, equal_nan=False)
    return ~missing & ~close


def mismatches(name: str, baseline: pd.DataFrame, crimestats: pd.DataFrame) -> list[str]:
    """Every disagreement between a baseline and crimestats, as readable lines naming the rows (empty if none)."""
    problems = []
    for label, frame in ((name, baseline), ("crimestats", crimestats)):
        duplicated = frame.duplicated(KEYS).sum()
        if duplicated:
            problems.append(f"{label}: {duplicated} duplicated (area_code, offence, period_end) rows")
    joined = baseline.merge(crimestats, on=KEYS, how="outer", suffixes=("_baseline", "_crimestats"), indicator=True)
    for side, label in (("left_only", f"only in {name}"), ("right_only", "only in crimestats")):
        extra = joined.loc[joined["_merge"] == side, KEYS]
        if len(extra):
            problems.append(f"{len(extra)} rows {label}, e.g.\n{extra.head(5).to_string(index=False)}")
    both = joined.loc[joined["_merge"] == "both"]
    for column in EXACT + CLOSE:
        ours, theirs = both[f"{column}_baseline"], both[f"{column}_crimestats"]
        bad = differs(ours, theirs, exact=column in EXACT)
        if bad.any():
            sample = both.loc[bad, [*KEYS, f"{column}_baseline", f"{column}_crimestats"]].head(5)
            problems.append(f"{int(bad.sum())} rows differ on {column}, e.g.\n{sample.to_string(index=False)}")
    return problems


def agreement(name: str, baseline: pa.Table | pd.DataFrame, crimestats: pd.DataFrame) -> bool:
    problems = mismatches(name, as_frame(baseline), crimestats)
    if problems:
        print(f"check {name}: disagrees with crimestats\n" + "\n".join(problems))
        return False
    print(f"check {name}: {len(crimestats):,} rows agree with crimestats on {', '.join(EXACT + CLOSE)}")
    return True


# ------------------------------------------------------------------------------------------- report


def print_table(rows: list[tuple[str, float]], base: float) -> None:
    width = max(len(label) for label, _ in rows)
    print(f"{'every league table (every force x offence x period)':<{width}}  {'median s':>9}  {'x crimestats':>12}")
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:>9.4f}  {seconds / base:>11.1f}x")


def verdict(ok: bool) -> str:
    return "meets" if ok else "misses"


def first_call(store: Store) -> pa.Table:
    """One league table on a connection that has not yet read the materialised table (it reads all of it)."""
    store.memo.clear()
    return analytics.league_table(store, PERIOD, OFFENCE)


def report(timings: dict[str, Timing], one_ms: list[float], slices: int, costs: dict[str, Timing]) -> None:
    ours, looped = timings["crimestats"].median, timings["league_table"].median
    pandas, sql = timings["pandas"].median, timings["sql"].median
    ms, first = stats.median(one_ms), timings["first call"].median * 1000
    print(
        f"(a) a league table from an open store: league_table(store, {PERIOD!r}, {OFFENCE!r}) {ms:.2f} ms "
        f"({verdict(ms <= TARGET_ONE_TABLE_MS)} the <= {TARGET_ONE_TABLE_MS:.0f} ms target), median of "
        f"{ONE_TABLE_CALLS} calls x {len(one_ms)} rounds; the first call on a connection, which reads the whole "
        f"materialised table, {first:.1f} ms\n"
    )
    print_table(
        [
            ("crimestats: the materialised table read, league by league", ours),
            (f"crimestats: league_table() for each of {slices} offence x period", looped),
            ("pandas baseline, from the raw tables in memory", pandas),
            ("hand-written DuckDB SQL, from the stored tables", sql),
        ],
        ours,
    )
    print(
        f"\n(b) every league table: crimestats is {pandas / ours:.1f}x faster than pandas "
        f"({verdict(pandas / ours >= TARGET_VS_PANDAS)} the >= {TARGET_VS_PANDAS:.0f}x target) and takes "
        f"{ours / sql:.2f}x the time of the hand-written SQL ({verdict(ours / sql <= TARGET_VS_SQL)} the <= "
        f"{TARGET_VS_SQL:.0f}x target)"
    )
    print(
        f"    asked one league_table() at a time instead: {looped / pandas:.2f}x the time of pandas, "
        f"{looped / sql:.2f}x the SQL\n"
    )
    compute, expression = costs["compute"].median, costs["expression"].median
    print("one-off cost, paid once per store state and option set (not in the ratios above)")
    print(f"  materialised.compute_forces: Ibis, then intervals, rank ranges, change tests  {compute:>7.3f} s")
    print(f"    of which figures.force_statistics(...).to_pyarrow(), the Ibis expression   {expression:>7.3f} s")
    print(f"  compute_forces = {compute / sql:.0f}x the SQL baseline, {compute / pandas:.0f}x the pandas baseline")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return checked(data_parser(__doc__.splitlines()[0] if __doc__ else None, repeat=5), argv)


def run(store: Store, repeat: int) -> int:
    ref = Reference.read()
    register_reference(store, ref)
    start = time.perf_counter()
    materialised.materialise(store)  # what `crimestats ingest` does; also the first call of every step below
    print(f"materialise (first call, imports and start-up included): {time.perf_counter() - start:.2f} s")
    raw = read_raw(store)
    slices = league_slices(store)
    crimestats_rows = as_frame(stored_forces(store))
    print(f"store: {len(raw.files)} files, {len(raw.figures):,} figure rows, {len(crimestats_rows):,} league rows\n")
    checks = [
        agreement("pandas", pandas_league_tables(raw, ref), crimestats_rows),
        agreement("sql", sql_league_tables(store), crimestats_rows),
    ]
    if not all(checks):
        return 1
    one_ms: list[float] = []  # each round's median of ONE_TABLE_CALLS calls
    steps: dict[str, Callable[[], object]] = {
        "one table": lambda: one_ms.append(one_table_ms(store)),
        "first call": partial(first_call, store),
        "crimestats": partial(stored_forces, store),
        "league_table": partial(every_league_table, store, slices),
        "pandas": partial(pandas_league_tables, raw, ref),
        "sql": partial(sql_league_tables, store),
    }
    timings = in_turns(steps, repeat)
    costs = in_turns(
        {
            "compute": lambda: (uncertainty.forget_kept(), materialised.compute_forces(store, Options())),
            "expression": lambda: force_statistics(store.backend, Options()).to_pyarrow(),
        },
        repeat,
    )
    print()
    report(timings, one_ms, len(slices), costs)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(*machine_info("crimestats", "duckdb", "ibis-framework", "pandas", "pyarrow"), sep="\n")
    print(f"data: {args.data}, repeat: {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="crimestats-bench-") as workdir:
        start = time.perf_counter()
        path = ingest_fresh(args.data, Path(workdir) / "bench.duckdb")
        print(f"ingest: {time.perf_counter() - start:.2f} s")
        with Store(path) as store:
            return run(store, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
