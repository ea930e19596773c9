"""Peer groups: a force compared with the forces most like it.

Two kinds of group:

- the Home Office **most similar groups** (MSG), supplied by the user (see
  :mod:`crimestats.sources.peer_groups`); crimestats ships no membership;
- **computed** groups, when no MSG file is given: the forces nearest to the force on standardised
  covariates read from the official files — resident population (log), population density (log, from the
  ONS MYE5 land areas) and offence mix (each offence group's share of the force's recorded crime). These are
  labelled as computed and are not the Home Office groups, which use social and economic characteristics
  crimestats does not hold.

Both averages the official tools print are returned, and :data:`AVERAGE_PRINTED` says which one a report
prints:

- ``simple_mean``: the unweighted mean of the members' rates, including the force itself, as in the HMIC
  Crime and Policing Comparator ("MSG average");
- ``weighted_mean``: sum of offences / sum of residents × 1,000 across the group including the force, as in
  the HMICFRS value for money dashboards.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crimestats import reference
from crimestats.analytics import materialised, uncertainty
from crimestats.analytics.options import Options
from crimestats.errors import NoDataError, UnknownAreaError
from crimestats.periods import format_period, parse_period, period_label
from crimestats.store import Store

if TYPE_CHECKING:  # the readers are not loaded to compare forces
    from crimestats.sources.peer_groups import PeerGroups

__all__ = [
    "AVERAGE_PRINTED",
    "PeerGroup",
    "computed_peer_comparisons",
    "computed_peer_group",
    "group_averages",
    "group_comparisons",
    "not_a_force",
    "peer_comparison",
    "peer_covariates",
    "peer_group",
    "stored_peer_results",
]

#: The average printed in reports and findings ("the average of similar forces").
AVERAGE_PRINTED = "simple_mean"
#: Offence groups whose shares of recorded crime make up the offence-mix covariate.
MIX_GROUPS = tuple(o.slug for o in reference.offences() if o.level == "group")
TOTAL = "total-excluding-fraud"


@dataclass(frozen=True)
class PeerGroup:
    """A force's comparison group: its members (not including the force) and how they were chosen."""

    force_code: str
    members: tuple[str, ...]
    method: str
    computed: bool


def peer_group(
    store: Store,
    force: str,
    period: str,
    groups: PeerGroups | None = None,
    covariates: dict[str, list[float]] | None = None,
    options: Options = Options(),
) -> PeerGroup:
    """The Home Office most similar group from ``groups`` when given, else a computed group.

    ``options.population_year`` chooses the mid-year estimate behind a computed group's covariates.
    """
    area = _force(force)
    if groups is None:
        return computed_peer_group(store, area.code, period, covariates=covariates, options=options)
    if area.code not in groups:
        raise UnknownAreaError(f"the most similar groups file has no group for {area.name}")
    return PeerGroup(area.code, groups[area.code], "Home Office most similar group (supplied file)", False)


def computed_peer_group(
    store: Store,
    force: str,
    period: str,
    size: int = reference.MOST_SIMILAR_GROUP_SIZE,
    covariates: dict[str, list[float]] | None = None,
    options: Options = Options(),
) -> PeerGroup:
    """The ``size`` forces nearest to ``force`` on standardised covariates (see the module docstring).

    Distance² = z(log population)² + z(log density)² + the mean of z(offence-group share)² over the offence
    groups, so the offence mix counts as much as each of the other two. Forces without a count in the period
    (e.g. missing data) and City of London (no meaningful resident rate) are not candidates. ``covariates``
    (from :func:`peer_covariates` for the same period) saves reading them again for each force.
    """
    area = _force(force)
    if covariates is None:
        covariates = peer_covariates(store, period, options)
    if area.code not in covariates:
        raise NoDataError(_no_rate_to_compare(store, area, period, options))
    standardised = _standardise(covariates)
    mix_weight = 1 / len(MIX_GROUPS)
    target = standardised[area.code]

    def distance(code: str) -> float:
        z = standardised[code]
        return (
            (z[0] - target[0]) ** 2
            + (z[1] - target[1]) ** 2
            + mix_weight * sum((a - b) ** 2 for a, b in zip(z[2:], target[2:], strict=True))
        )

    nearest = sorted((code for code in standardised if code != area.code), key=distance)[:size]
    method = (
        f"computed: the {size} forces nearest on population, population density and offence mix "
        "(standardised); not the Home Office most similar group"
    )
    return PeerGroup(area.code, tuple(nearest), method, True)


def peer_covariates(store: Store, period: str, options: Options = Options()) -> dict[str, list[float]]:
    """force code → [log population, log density, share of each offence group] for forces with figures.

    Populations are mid-year estimates, of ``options.population_year`` when given (else the year ONS would use).
    """
    month = parse_period(period)
    mye = Options(population="ons-mye", population_year=options.population_year)
    offences = {TOTAL, *MIX_GROUPS}
    rows = [
        row
        for row in materialised.forces(store, mye, period_end=month, kind="force").to_pylist()
        if row["offence"] in offences
    ]
    land = {row["area_code"]: row["area_sq_km"] for row in rows}
    counts: dict[str, dict[str, float]] = {}
    population: dict[str, float] = {}
    for row in rows:
        if row["count"] is not None:
            counts.setdefault(row["area_code"], {})[row["offence"]] = row["count"]
        if row["population"]:
            population[row["area_code"]] = row["population"]
    result = {}
    for code, by_offence in counts.items():
        area = reference.area(code)
        total = by_offence.get(TOTAL)
        if area.rate_suppressed or not total or code not in population or not land.get(code):
            continue
        shares = [by_offence.get(slug, 0.0) / total for slug in MIX_GROUPS]
        result[code] = [math.log(population[code]), math.log(population[code] / land[code]), *shares]
    return result


def computed_peer_comparisons(store: Store, period: str, options: Options = Options()) -> list[dict[str, Any]]:
    """Every force with a computed peer group against it, for every offence of one period: ``force_code``,
    ``offence`` and :func:`group_averages`' result (what :func:`crimestats.analytics.materialised.peers`
    keeps)."""
    columns = "offence, area_code, count, population, rate_per_1000, rate_note"
    leagues: dict[str, dict[str, dict[str, Any]]] = {}
    for row in materialised.forces(store, options, columns, period_end=parse_period(period)).to_pylist():
        leagues.setdefault(row["offence"], {})[row["area_code"]] = row
    covariates = peer_covariates(store, period, options)
    keys, compared = [], []
    for code in covariates:
        group = computed_peer_group(store, code, period, covariates=covariates, options=options)
        for slug, rows in leagues.items():
            keys.append({"force_code": code, "offence": slug})
            compared.append((group, rows))
    return [{**key, **result} for key, result in zip(keys, group_comparisons(compared), strict=True)]


def stored_peer_results(
    store: Store, group: PeerGroup, period: str, options: Options = Options()
) -> dict[str, dict[str, Any]] | None:
    """offence → the force against its computed peer group (:func:`group_averages`), read from the materialised
    comparisons; None for a group that is not the one materialised (a supplied group, or another size)."""
    if not group.computed:
        return None
    rows = materialised.peers(store, parse_period(period), options, force_code=group.force_code)
    found = rows.drop_columns(["force_code"]).to_pylist()
    if not found or [member["force_code"] for member in found[0]["members"]] != [group.force_code, *group.members]:
        return None
    return {row.pop("offence"): row for row in found}


def _standardise(covariates: dict[str, list[float]]) -> dict[str, list[float]]:
    columns = list(zip(*covariates.values(), strict=True))
    means = [sum(c) / len(c) for c in columns]
    sds = [math.sqrt(sum((x - m) ** 2 for x in c) / len(c)) or 1.0 for c, m in zip(columns, means, strict=True)]
    return {
        code: [(x - m) / s for x, m, s in zip(values, means, sds, strict=True)] for code, values in covariates.items()
    }


def peer_comparison(
    store: Store,
    force: str,
    period: str,
    offence: str | None = None,
    groups: PeerGroups | None = None,
    options: Options = Options(),
) -> dict[str, Any]:
    """A force's rate for one offence against its peer group's simple and weighted averages.

    The gap is tested against the rest of the group's pooled rate with the E-test (see
    :func:`gap_test`). Members without a rate (missing data, suppressed)
    are listed with ``rate_per_1000`` None and left out of both averages.
    """
    month = parse_period(period)
    group = peer_group(store, force, period, groups, options=options)
    slug = reference.offence(offence or TOTAL).slug
    codes = [group.force_code, *group.members]
    rows = materialised.forces(store, options, period_end=month, offence=slug)
    keys = ("area_code", "area_name", "count", "population", "rate_per_1000", "rate_note")
    found = {r["area_code"]: {k: r[k] for k in keys} for r in rows.to_pylist() if r["area_code"] in codes}
    header = {
        "force_code": group.force_code,
        "force": reference.area(group.force_code).name,
        "period": format_period(month),
        "period_label": period_label(month),
        "offence": slug,
        "offence_name": reference.offence(slug).name,
        "method": group.method,
        "computed": group.computed,
    }
    stored = stored_peer_results(store, group, period, options) or {}
    averages = stored[slug] if slug in stored else group_averages(group, found)
    if averages["simple_mean"] is None:
        own = found.get(group.force_code) or {}
        why = f": {own['rate_note']}" if own.get("rate_note") else ""
        raise NoDataError(f"no rates for {header['force']}'s group for {slug} in the {period_label(month)}{why}")
    return {**header, **averages}


def group_averages(group: PeerGroup, rows: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The force against its group for one offence and period, from statistics rows keyed by force code.

    Returns members (the force first, then its peers), the force's rate, both averages, which one is
    printed, the difference, and the test of the gap (:func:`gap_test`).
    """
    return group_comparisons([(group, rows)])[0]


def group_comparisons(compared: Sequence[tuple[PeerGroup, Mapping[str, Mapping[str, Any]]]]) -> list[dict[str, Any]]:
    """:func:`group_averages` of each (group, rows), the gaps tested together (fast for thousands)."""
    averaged = [_averages(group, rows) for group, rows in compared]
    tests = iter(gap_tests([(own, others) for _, own, others in averaged if _testable(own, others)]))
    results = []
    for result, own, others in averaged:
        p_value, significant, verdict = next(tests) if _testable(own, others) else (None, None, _no_test(own, others))
        results.append({**result, "p_value": p_value, "significant": significant, "verdict": verdict})
    return results


def _testable(own: Mapping[str, Any], others: Sequence[Mapping[str, Any]]) -> bool:
    return own["rate_per_1000"] is not None and bool(others)


def _averages(
    group: PeerGroup, rows: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """:func:`group_averages` but for the test of the gap, with the force's member row and the other members
    with a rate, which the test compares."""
    codes = [group.force_code, *group.members]
    members = [_member(code, rows.get(code), code == group.force_code) for code in codes]
    rated = [m for m in members if m["rate_per_1000"] is not None]
    own = members[0]
    simple = sum(m["rate_per_1000"] for m in rated) / len(rated) if rated else None
    weighted = sum(m["count"] for m in rated) / sum(m["population"] for m in rated) * 1000 if rated else None
    others = [m for m in rated if not m["is_force"]]
    if own["rate_per_1000"] is not None:
        counted = f"the {_forces(len(rated))} in the group with a rate, including {own['force']}"
        left_out = ""
    else:
        counted = f"the {_forces(len(rated))} in the group with a rate"
        reason = (rows.get(group.force_code) or {}).get("rate_note")
        left_out = f"; {own['force']}'s own rate is not available" + (f" ({reason})" if reason else "")
        left_out += ", so it is not included"
    result = {
        "members": members,
        "rate_per_1000": own["rate_per_1000"],
        "simple_mean": simple,
        "weighted_mean": weighted,
        "average_printed": AVERAGE_PRINTED,
        "average_note": (
            f"simple mean of the rates of {counted} (as the HMIC Crime and Policing Comparator){left_out}; the "
            "weighted average is total offences / total residents of the same forces (as the HMICFRS value for "
            "money dashboards)"
        ),
        "difference": None if own["rate_per_1000"] is None or simple is None else own["rate_per_1000"] - simple,
    }
    return result, own, others


def gap_test(force: dict[str, Any], others: list[dict[str, Any]]) -> tuple[float | None, bool | None, str]:
    """Is the force's rate different from the pooled rate of the rest of its group? (p-value, significant, verdict)

    The two-sided E-test of Krishnamoorthy & Thomson (2004) on the force's count and residents against the
    other members' summed counts and residents; below :data:`~crimestats.analytics.uncertainty.SMALL_COUNT`
    offences no test is made.
    """
    return gap_tests([(force, others)])[0]


def gap_tests(
    compared: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
) -> list[tuple[float | None, bool | None, str]]:
    """:func:`gap_test` of each (force, others), the E-tests made together."""
    if not compared:
        return []
    tests = uncertainty.change_tests(
        [force["count"] for force, _ in compared],
        [force["population"] for force, _ in compared],
        [sum(m["count"] for m in others) for _, others in compared],
        [sum(m["population"] for m in others) for _, others in compared],
    )
    return [_gap_verdict(test) for test in tests]


def _gap_verdict(test: uncertainty.ChangeTest) -> tuple[float | None, bool | None, str]:
    if test.p_value is None:
        return None, None, f"too few offences to judge a difference ({test.count} against {test.previous_count})"
    if not test.significant:
        return test.p_value, False, "not statistically significantly different from the rest of the group"
    direction = "higher" if (test.rate_ratio or 0) > 1 else "lower"
    return test.p_value, True, f"statistically significantly {direction} than the rest of the group"


def _member(code: str, row: Mapping[str, Any] | None, is_force: bool) -> dict[str, Any]:
    row = row or {}
    return {
        "force_code": code,
        "force": reference.area(code).name,
        "is_force": is_force,
        "count": None if row.get("count") is None else int(row["count"]),
        "population": None if row.get("population") is None else int(row["population"]),
        "rate_per_1000": row.get("rate_per_1000"),
    }


def _forces(number: int) -> str:
    return f"{number} force" if number == 1 else f"{number} forces"


def _no_test(own: dict[str, Any], others: list[dict[str, Any]]) -> str:
    if own["rate_per_1000"] is None:
        return f"no rate for {own['force']} to compare"
    return "no other force in the group has a rate to compare with"


#: How an area that is not a police force is described when one was expected.
_NOT_A_FORCE = {
    "national": "the national total",
    "country": "a country",
    "region": "a region",
    "fraud_body": "a national fraud reporting body",
    "transport": "British Transport Police, not one of the 43 territorial forces,",
}


def not_a_force(area: reference.Area, *, transport: bool = False) -> UnknownAreaError | None:
    """The error for an area that is not a territorial police force (nor BTP when ``transport``), else None.

    'England and Wales is the national total, not a police force; see `crimestats totals`'.
    """
    if area.kind == "force" or (transport and area.kind == "transport"):
        return None
    if area.kind == "transport":
        return UnknownAreaError(f"{area.name} is not one of the 43 territorial police forces, so it has no peers")
    what = _NOT_A_FORCE.get(area.kind, f"a {area.kind}")
    return UnknownAreaError(f"{area.name} is {what}, not a police force; see `crimestats totals`")


def _force(name: str) -> reference.Area:
    area = reference.area(name)
    error = not_a_force(area)
    if error is not None:
        raise error
    return area


def _no_rate_to_compare(store: Store, area: reference.Area, period: str, options: Options) -> str:
    """Why a force has no computed peer group in a period: no figures, a suppressed rate or no population."""
    month = parse_period(period)
    label = period_label(month)
    mye = Options(population="ons-mye", population_year=options.population_year)
    rows = materialised.forces(store, mye, period_end=month, area_code=area.code, offence=TOTAL).to_pylist()
    count = rows[0]["count"] if rows else None
    if count is None:
        return f"{area.name} has no figures for the {label} to compare"
    if area.rate_suppressed:
        return (
            f"{area.name} has no rate to compare with a peer group ({area.rate_suppressed}); "
            f"its {int(count):,} offences in the {label} are in `crimestats force`"
        )
    if rows[0]["population"]:
        return (
            f"{area.name} has no computed peer group for the {label}: the store has no land areas (ONS MYE5) "
            "for population density; give a most similar groups file (--msg)"
        )
    from crimestats.analytics import population_years

    year = options.population_year or rows[0]["population_year"]
    years = population_years(store)
    earlier = [y for y in years if year is None or y < year]
    hint = f"; try --population-year {earlier[-1]}" if earlier else ""
    return (
        f"{area.name} has no rate for the {label} to compare: {int(count):,} offences are stored, but the store "
        f"has no mid-{year} population estimate{hint}"
    )
