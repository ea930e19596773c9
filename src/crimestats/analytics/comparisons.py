"""Uncertainty attached to league-table rows: rate intervals, plausible rank ranges, change tests, funnel plots.

These work on rows already computed by :func:`crimestats.analytics.figures.statistics` (one offence, one
period, every force), so the statistical methods in :mod:`crimestats.analytics.uncertainty` stay pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crimestats.analytics import uncertainty
from crimestats.analytics.uncertainty import LEVELS
from crimestats.periods import period_label, shift_months

__all__ = ["funnel_rows", "with_change_tests", "with_intervals", "with_rank_ranges"]


def _rated(row: dict[str, Any]) -> bool:
    return row.get("rate_per_1000") is not None and row.get("count") is not None and bool(row.get("population"))


_INTERVAL_COLUMNS = ("rate_ci_low", "rate_ci_high", "rate_ci998_low", "rate_ci998_high")


def with_intervals(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``rate_ci_low`` and ``rate_ci_high``, the 95% interval of each published rate, and ``rate_ci998_low``
    and ``rate_ci998_high``, its 99.8% interval (None if no rate)."""
    rows = list(rows)
    rated = [i for i, row in enumerate(rows) if _rated(row) and row["count"] >= 0]
    limits: dict[int, tuple[float, ...]] = {}
    if rated:
        counts, populations = [rows[i]["count"] for i in rated], [rows[i]["population"] for i in rated]
        arrays = [limit for level in LEVELS for limit in uncertainty.rate_limits(counts, populations, level)]
        limits = dict(zip(rated, zip(*(array.tolist() for array in arrays), strict=True), strict=True))
    empty = [None] * len(_INTERVAL_COLUMNS)
    return [{**row, **dict(zip(_INTERVAL_COLUMNS, limits.get(i, empty), strict=True))} for i, row in enumerate(rows)]


def with_rank_ranges(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``rank_low`` and ``rank_high``: the plausible (95%) range of each ranked force's rank.

    Rows are one offence and one period; only rows with a rank take part in the simulation. The published
    rank always lies inside the range.
    """
    rows = list(rows)
    ranked = [row for row in rows if row.get("rank") is not None and _rated(row) and row["count"] >= 0]
    ranges: dict[int, uncertainty.RankRange] = {}
    if len(ranked) > 1:
        simulated = uncertainty.rank_ranges([r["count"] for r in ranked], [r["population"] for r in ranked])
        ranges = {id(row): plausible for row, plausible in zip(ranked, simulated, strict=True)}
    result = []
    for row in rows:
        plausible = ranges.get(id(row))
        low = high = None
        if plausible is not None:
            low, high = min(plausible.low, row["rank"]), max(plausible.high, row["rank"])
        result.append({**row, "rank_low": low, "rank_high": high})
    return result


def with_change_tests(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``change_p_value``, ``change_significant`` and ``change_verdict``: the E-test of the change (or,
    with no change to test, the note saying why, e.g. ONS Table P2 withholds it).

    The test compares rates; where a year has no population (British Transport Police, or an earlier year
    the store holds no population for) or the rate is suppressed (City of London), it compares the counts,
    and the verdict says so.
    """
    rows = list(rows)
    tested = [i for i, row in enumerate(rows) if _testable(row)]
    exposures = [_exposures(rows[i]) for i in tested]
    results = uncertainty.change_tests(
        [int(rows[i]["count"]) for i in tested],
        [population for population, _ in exposures],
        [int(rows[i]["previous_count"]) for i in tested],
        [previous for _, previous in exposures],
    )
    tests = dict(zip(tested, results, strict=True))
    result = []
    for i, row in enumerate(rows):
        test = tests.get(i)
        verdict = test.verdict if test else row.get("change_note")  # no test: why there is no change
        if test and test.p_value is not None and not _rates_compared(row):
            verdict = f"{verdict} (counts compared, not rates: {_why_counts(row)})"
        result.append(
            {
                **row,
                "change_p_value": test.p_value if test else None,
                "change_significant": test.significant if test else None,
                "change_verdict": verdict,
            }
        )
    return result


def _both_populations(row: dict[str, Any]) -> bool:
    return bool(row.get("population")) and bool(row.get("previous_population"))


def _why_counts(row: dict[str, Any]) -> str:
    """Why a change is tested on the counts: the area has no resident population, a year has no population
    from the source used, or the rate is withheld."""
    if row.get("kind") == "transport":
        return f"{row.get('area_name') or 'British Transport Police'} has no resident population"
    source = (row.get("population_source") or "").split(",")[0] or "the population source used"
    if not row.get("population"):
        return f"no {source} population for the {period_label(row['period_end'])} in the store"
    if not row.get("previous_population"):
        return f"no {source} population for the {period_label(shift_months(row['period_end'], -12))} in the store"
    return "the rate is not published"


def _rates_compared(row: dict[str, Any]) -> bool:
    return _both_populations(row) and row.get("rate_per_1000") is not None


def _testable(row: dict[str, Any]) -> bool:
    count, previous = row.get("count"), row.get("previous_count")
    return count is not None and previous is not None and count >= 0 and previous >= 0


def _exposures(row: dict[str, Any]) -> tuple[float, float]:
    """The populations the rates are compared on, or (1, 1) to compare the counts."""
    return (row["population"], row["previous_population"]) if _rates_compared(row) else (1.0, 1.0)


def funnel_rows(rows: list[dict[str, Any]], overdispersion: bool = True, with_curve: bool = True) -> dict[str, Any]:
    """Funnel-plot data (Spiegelhalter 2005) for forces with a rate, in the shape ``crimestats funnel`` prints.

    The target is the pooled rate of the forces compared; limits are at 95% and 99.8% for each force's
    population, widened for over-dispersion (additive random effect estimated from winsorised z-scores)
    when ``overdispersion`` is set and the forces vary more than Poisson chance allows. ``position`` is
    judged at 99.8%. ``curve`` holds the limits on a grid of populations, for drawing (empty without
    ``with_curve``: the positions alone are materialised).
    """
    rated = [row for row in rows if _rated(row) and row.get("kind", "force") == "force"]
    if len(rated) < 2:
        raise ValueError("a funnel plot needs at least two forces with a rate")
    counts = [row["count"] for row in rated]
    populations = [row["population"] for row in rated]
    target, spread, points = uncertainty.funnel(counts, populations, overdispersion_adjust=overdispersion)
    tau2 = spread.tau2 if spread else 0.0
    curve = (
        uncertainty.funnel_curve(target, min(populations) * 0.8, max(populations) * 1.1, tau2=tau2)
        if with_curve
        else []
    )
    if spread and spread.adjusted:
        method = (
            "Funnel plot (Spiegelhalter 2005) around the rate of all forces together. The forces differ from one "
            "another far more than chance alone would make them, so the limits are widened by the usual spread "
            "between forces (a random effect estimated from the forces' own figures, the most extreme 10% at each "
            "end pulled in first); a force outside them stands out even allowing for that spread."
        )
    else:
        method = (
            "Funnel plot (Spiegelhalter 2005) around the rate of all forces together: the limits are those chance "
            "alone allows (exact Poisson); a force outside them differs by more than chance explains."
        )
    return {
        "target": target,
        "overdispersion": None
        if spread is None
        else {"phi": spread.phi, "tau2": spread.tau2, "winsorised": spread.winsorised, "adjusted": spread.adjusted},
        "method": method,
        "rows": [
            {
                "force_code": row["force_code"],
                "force": row["force"],
                "count": row["count"],
                "rate_per_1000": row["rate_per_1000"],
                "population": row["population"],
                "lower_95": point.lower_95,
                "upper_95": point.upper_95,
                "lower_998": point.lower_998,
                "upper_998": point.upper_998,
                "position": point.position,
            }
            for row, point in zip(rated, points, strict=True)
        ],
        "curve": curve,
    }
