"""The numbers findings, reports and charts word: summaries of the statistics rows, computed here, never there.

- per league (one offence, one period, every force), materialised with the statistics: each force's positions
  on the funnel plot (by chance alone, and allowing for the usual spread between forces), the rate it is
  judged against, and whether its rank is shared (:func:`with_league_positions`);
- per league, read back: how many forces are above, below and within the funnel limits (both judgements), the
  forces at either end of the ranking, and those a national total counts but the funnel plot does not compare
  (:func:`funnel_summary`, :func:`league_ends`, :func:`not_compared`);
- over time: England and Wales like for like, without the forces a later total leaves out
  (:func:`like_for_like_trend`);
- per force: how many significance tests were made for it (:func:`tests_made`), its gaps to its peer group
  (:func:`peer_results`, :func:`offence_mix`), and how notable each kind of finding is (the ``*_strength``
  functions, which order findings of a kind).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from crimestats import reference
from crimestats.analytics.peers import PeerGroup, group_averages

__all__ = [
    "change_strength",
    "extreme_strength",
    "funnel_summary",
    "league_ends",
    "like_for_like_trend",
    "not_compared",
    "offence_mix",
    "peer_results",
    "peer_strength",
    "rated_members",
    "tests_made",
    "with_league_positions",
]

Row = Mapping[str, Any]


# --- per league, materialised -------------------------------------------------------------------------------


def with_league_positions(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``funnel_position``, ``funnel_position_poisson``, ``funnel_target`` and ``rank_joint`` to the rows of
    one offence and period.

    Both positions are 'above', 'below' or 'within' the 99.8% limits of the funnel plot around the pooled rate
    of the forces with a rate (Spiegelhalter 2005), exactly as
    :func:`crimestats.analytics.comparisons.funnel_rows` judges them: ``funnel_position`` with the
    over-dispersion allowance (the limits widened for the usual spread between forces), and
    ``funnel_position_poisson`` with chance alone (exact Poisson limits). Both are None for a force without a
    rate, or when there is no funnel plot: fewer than two forces with a rate, or no offences at all.
    ``funnel_target`` is that pooled rate, on every row of the league. ``rank_joint`` says whether another
    force has the same rank (equal rates as printed); None for a force without a rank.
    """
    rows = list(rows)
    (widened, target), (poisson, _) = _positions(rows, True), _positions(rows, False)
    ranks = Counter(row["rank"] for row in rows if row.get("rank") is not None)
    return [
        {
            **row,
            "funnel_position": widened.get(row["force_code"]),
            "funnel_position_poisson": poisson.get(row["force_code"]),
            "funnel_target": target,
            "rank_joint": None if row.get("rank") is None else ranks[row["rank"]] > 1,
        }
        for row in rows
    ]


def _positions(rows: list[dict[str, Any]], overdispersion: bool) -> tuple[dict[str, str], float | None]:
    """force code → its position on the league's funnel plot, and the plot's target (none without a plot)."""
    from crimestats.analytics.comparisons import funnel_rows

    try:
        funnel = funnel_rows(rows, overdispersion, with_curve=False)
    except ValueError:
        return {}, None
    return {row["force_code"]: row["position"] for row in funnel["rows"]}, funnel["target"]


# --- per league, read back ----------------------------------------------------------------------------------


def funnel_summary(rows: Iterable[Row]) -> dict[str, Any]:
    """How many forces of one league are ``above``, ``below`` and ``within`` the funnel limits allowing for the
    usual spread between forces, how many are above and below them by chance alone (``poisson_above``,
    ``poisson_below``), how many were ``compared`` (those with a position), the ``target`` rate they were judged
    against (None without a funnel plot), and the highest rate as a multiple of the lowest above zero
    (``highest_to_lowest``, None with fewer than two rates)."""
    rows = list(rows)
    positions = Counter(row.get("funnel_position") for row in rows if row.get("funnel_position") is not None)
    poisson = Counter(row.get("funnel_position_poisson") for row in rows)
    target = next((row["funnel_target"] for row in rows if row.get("funnel_target") is not None), None)
    rates = [row["rate_per_1000"] for row in rows if row.get("funnel_position") is not None]
    lowest = min((rate for rate in rates if rate > 0), default=None)
    return {
        "above": positions["above"],
        "below": positions["below"],
        "within": positions["within"],
        "poisson_above": poisson["above"],
        "poisson_below": poisson["below"],
        "compared": sum(positions.values()),
        "target": target,
        "highest_to_lowest": max(rates) / lowest if lowest is not None and len(rates) > 1 else None,
    }


def not_compared(rows: Iterable[Row]) -> list[Row]:
    """The rows of one league with offences but no place on its funnel plot: British Transport Police (no
    residents), a force whose rate is not published (City of London): what a national total counts beyond the
    forces compared."""
    return [row for row in rows if row.get("count") is not None and row.get("funnel_position") is None]


def league_ends(rows: Iterable[Row]) -> tuple[list[Row], list[Row], int]:
    """The forces with the lowest rank, those with the highest (more than one where the rank is joint), in the
    league's order, and how many forces are ranked."""
    ranked = sorted((row for row in rows if row.get("rank") is not None), key=lambda row: row["rank"])
    if not ranked:
        return [], [], 0
    low, high = ranked[0]["rank"], ranked[-1]["rank"]
    return [r for r in ranked if r["rank"] == low], [r for r in ranked if r["rank"] == high], len(ranked)


# --- over time ----------------------------------------------------------------------------------------------


def like_for_like_trend(
    national: Iterable[Row], forces: Mapping[str, Iterable[Row]], excluded: Iterable[str]
) -> list[dict[str, Any]]:
    """England and Wales without the ``excluded`` forces (area codes) in every period, so that a total that
    has to leave a force out (Greater Manchester from the year ending September 2019) can be followed back.

    ``national`` and ``forces`` are :func:`crimestats.analytics.rate_trends` rows (England and Wales; area code
    → a force's rows). A period whose total already leaves out exactly those forces is kept as it is; from
    the full total of another period the forces' counts and residents are taken away, and the rate and its
    95% interval worked out again (those rows have ``like_for_like`` set). A period where an excluded force
    has no rate to take away is left out.
    """
    codes = sorted(excluded)
    names = [reference.area(code).name for code in codes]
    by_period = {code: {row["period"]: row for row in forces.get(code, [])} for code in codes}
    result = []
    for row in national:
        if sorted(row["excluded"]) == sorted(names):
            result.append(dict(row))
            continue
        if row["excluded"]:
            continue
        taken = [by_period[code].get(row["period"]) for code in codes]
        if any(force is None or not force["population"] for force in taken):
            continue
        count = row["count"] - sum(force["count"] for force in taken if force is not None)
        population = row["population"] - sum(force["population"] for force in taken if force is not None)
        result.append({**row, **_rate_with_interval(count, population), "excluded": names, "like_for_like": True})
    return result


def _rate_with_interval(count: int, population: float) -> dict[str, Any]:
    from crimestats.analytics.uncertainty import rate_interval

    interval = rate_interval(count, population)
    return {
        "count": count,
        "population": population,
        "rate_per_1000": count / population * 1000,
        "rate_ci_low": interval.low,
        "rate_ci_high": interval.high,
    }


# --- per force ----------------------------------------------------------------------------------------------


def peer_results(
    group: PeerGroup, leagues: Mapping[str, Iterable[Row]], offences: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """offence → the force against its peer group (:func:`crimestats.analytics.peers.group_averages`), for the
    ``offences`` given (default: every league)."""
    wanted = leagues if offences is None else [slug for slug in offences if slug in leagues]
    return {slug: group_averages(group, {row["area_code"]: dict(row) for row in leagues[slug]}) for slug in wanted}


def tests_made(rows: Mapping[str, Row], peers: Mapping[str, Row | None]) -> int:
    """How many significance tests were made for a force: one per offence whose change was tested (``rows``:
    offence → the force's row) and one per offence whose gap to the peer group was tested (``peers``: offence →
    :func:`peer_results`' result, or None without a group)."""
    made = 0
    for slug, row in rows.items():
        made += row.get("change_p_value") is not None
        result = peers.get(slug)
        made += result is not None and result["p_value"] is not None
    return made


def rated_members(result: Row) -> int:
    """How many members of a peer group (the force included) have a rate: the forces the simple mean is of."""
    return sum(1 for member in result["members"] if member["rate_per_1000"] is not None)


def offence_mix(results: Mapping[str, Row]) -> list[dict[str, Any]]:
    """The force's rate and its peer group's simple mean for each offence of ``results`` (offence →
    :func:`peer_results`' result), in their order: ``offence``, ``offence_name``, ``force_rate``, ``peer_rate``,
    and ``largest_difference``, true on the one row (the first, on a tie) where the force's rate is furthest
    from its peers' as a ratio (both rates present, the peers' above zero)."""
    rows = [
        {
            "offence": slug,
            "offence_name": reference.offence(slug).name,
            "force_rate": result["rate_per_1000"],
            "peer_rate": result["simple_mean"],
            "largest_difference": False,
        }
        for slug, result in results.items()
    ]
    gaps = [
        (abs(math.log(row["force_rate"] / row["peer_rate"])) if row["force_rate"] > 0 else 0.0, index)
        for index, row in enumerate(rows)
        if row["force_rate"] is not None and row["peer_rate"] is not None and row["peer_rate"] > 0
    ]
    if gaps:
        _, index = max(gaps, key=lambda gap: gap[0])
        rows[index]["largest_difference"] = True
    return rows


# --- how notable a finding is (orders the findings of one kind) ---------------------------------------------


def change_strength(p_value: float | None) -> float:
    """A tested change: -log10(p), so the less likely by chance, the stronger (0 without a test)."""
    return -math.log10(max(p_value, 1e-300)) if p_value is not None else 0.0


def peer_strength(rate: float, mean: float | None) -> float:
    """A gap to the peer average: its size relative to the average (0 with no average or an average of 0)."""
    return abs(rate - mean) / mean if mean else 0.0


def extreme_strength(row: Row) -> float:
    """A highest or lowest rate: the narrower the plausible rank range, the stronger (minus its width)."""
    rank = row["rank"]
    return -float((row.get("rank_high") or rank) - (row.get("rank_low") or rank))
