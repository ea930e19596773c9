"""The numbers findings, reports and charts word: summaries of the statistics rows, computed here, never there.

- per league (one offence, one period, every force), materialised with the statistics: each force's position
  on the funnel plot and the rate it is judged against, and whether its rank is shared (:func:`with_league_positions`);
- per league, read back: how many forces are above, below and within the funnel limits, and the forces at
  either end of the ranking (:func:`funnel_summary`, :func:`league_ends`);
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
    """Add ``funnel_position``, ``funnel_target`` and ``rank_joint`` to the rows of one offence and period.

    ``funnel_position`` is 'above', 'below' or 'within' the 99.8% limits of the funnel plot around the pooled
    rate of the forces with a rate, with the over-dispersion allowance (Spiegelhalter 2005), exactly as
    :func:`crimestats.analytics.comparisons.funnel_rows` judges it (None for a force without a rate, or when
    there is no funnel plot: fewer than two forces with a rate, or no offences at all). ``funnel_target`` is
    that pooled rate, on every row of the league. ``rank_joint`` says whether another force has the same rank
    (equal rates as printed); None for a force without a rank.
    """
    from crimestats.analytics.comparisons import funnel_rows

    rows = list(rows)
    try:
        funnel = funnel_rows(rows)
    except ValueError:
        funnel = {"target": None, "rows": []}
    positions = {row["force_code"]: row["position"] for row in funnel["rows"]}
    ranks = Counter(row["rank"] for row in rows if row.get("rank") is not None)
    return [
        {
            **row,
            "funnel_position": positions.get(row["force_code"]),
            "funnel_target": funnel["target"],
            "rank_joint": None if row.get("rank") is None else ranks[row["rank"]] > 1,
        }
        for row in rows
    ]


# --- per league, read back ----------------------------------------------------------------------------------


def funnel_summary(rows: Iterable[Row]) -> dict[str, Any]:
    """How many forces of one league are ``above``, ``below`` and ``within`` the funnel limits, how many were
    ``compared`` (those with a position), and the ``target`` rate they were judged against (None without a
    funnel plot)."""
    rows = list(rows)
    positions = Counter(row.get("funnel_position") for row in rows if row.get("funnel_position") is not None)
    target = next((row["funnel_target"] for row in rows if row.get("funnel_target") is not None), None)
    return {
        "above": positions["above"],
        "below": positions["below"],
        "within": positions["within"],
        "compared": sum(positions.values()),
        "target": target,
    }


def league_ends(rows: Iterable[Row]) -> tuple[list[Row], list[Row], int]:
    """The forces with the lowest rank, those with the highest (more than one where the rank is joint), in the
    league's order, and how many forces are ranked."""
    ranked = sorted((row for row in rows if row.get("rank") is not None), key=lambda row: row["rank"])
    if not ranked:
        return [], [], 0
    low, high = ranked[0]["rank"], ranked[-1]["rank"]
    return [r for r in ranked if r["rank"] == low], [r for r in ranked if r["rank"] == high], len(ranked)


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
