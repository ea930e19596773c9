"""Findings: the notable, true statements about one force in one period, ranked, each with its numbers.

Every finding says what it is compared with, whether the difference is statistically significant, and which
caveats apply. The sentences come from fixed templates (no language model) written to stay within what the
figures support:

- a league position always carries its plausible rank range (Poisson simulation), and where the rate stands
  against the funnel-plot limits around the rate of all forces together (Spiegelhalter 2005, 99.8%), judged
  both by chance alone and allowing for the usual differences between forces; these judgements are words, not
  significance tests, so league and extreme findings have no p-value and ``significant`` is None (not tested);
- a percentage change is printed only when ONS would print one (base of 50 or more) and the E-test finds the
  change in the rate statistically significant; otherwise the two counts are given. Where the force has no
  rate (suppressed, as for City of London, or no population), the test compares the numbers of offences and
  the sentence says so;
- about 40 differences are tested for each force (changes and peer gaps, one per offence) at the 5% level
  without adjustment for multiple comparisons, so a result with 0.01 <= p < 0.05 is called borderline in
  its sentence, and every tested finding carries the ``multiple-comparisons`` caveat;
- a gap to the peer-group average names the group and the average (simple mean, including the force);
- no finding calls a force "safe", "safest" or "dangerous": police recorded crime measures what the police
  recorded, not how safe a place is.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crimestats import analytics, caveats, reference
from crimestats import formatting as fmt
from crimestats.analytics import Options, summaries
from crimestats.analytics.peers import PeerGroup, not_a_force, peer_covariates, peer_group, stored_peer_results
from crimestats.errors import NoDataError
from crimestats.periods import format_period, parse_period, period_label
from crimestats.store import Store

if TYPE_CHECKING:  # the readers are not loaded to word a report
    from crimestats.sources.peer_groups import PeerGroups

__all__ = ["Finding", "Findings", "PeriodFigures", "build_findings"]

TOTAL = "total-excluding-fraud"
#: Offence levels whose changes, extremes and peer gaps are reported (besides the total).
DETAIL_LEVELS = ("group", "subgroup")
#: An extreme (highest or lowest rate) is reported only in a league of at least this many forces.
MIN_LEAGUE = 10
#: Order of kinds in the ranked list, before strength within a kind.
KIND_ORDER = {"missing": 0, "league": 0, "national": 1, "change": 2, "peer": 3, "extreme": 4}
#: Significance level of the change and peer-gap tests, and the p-value below which a result is not borderline.
ALPHA = 0.05
BORDERLINE_BELOW = 0.01


@dataclass(frozen=True)
class Finding:
    """One statement with its numbers, comparison basis, significance and caveats."""

    kind: str  # league | national | change | peer | extreme
    offence: str
    offence_name: str
    text: str
    value: float | None
    unit: str
    compared_with: str
    significant: bool | None
    p_value: float | None = None
    caveats: tuple[str, ...] = ()
    numbers: Mapping[str, Any] = field(default_factory=dict)
    strength: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "offence": self.offence,
            "offence_name": self.offence_name,
            "text": self.text,
            "value": self.value,
            "unit": self.unit,
            "compared_with": self.compared_with,
            "significant": self.significant,
            "p_value": self.p_value,
            "caveats": [_caveat_dict(caveats.caveat(i)) for i in self.caveats],
            "numbers": dict(self.numbers),
        }


@dataclass(frozen=True)
class Findings:
    """The ranked findings for one force and period."""

    force_code: str
    force: str
    period: str
    period_label: str
    peer_group: PeerGroup | None
    findings: tuple[Finding, ...]

    def caveat_ids(self) -> list[str]:
        """Every caveat attached to a finding, once, in registry order."""
        used = {i for finding in self.findings for i in finding.caveats}
        return [item.id for item in caveats.caveats() if item.id in used]

    def to_dict(self) -> dict[str, Any]:
        group = self.peer_group
        return {
            "force_code": self.force_code,
            "force": self.force,
            "period": self.period,
            "period_label": self.period_label,
            "peer_group": None
            if group is None
            else {
                "members": [{"force_code": c, "force": reference.area(c).name} for c in group.members],
                "method": group.method,
                "computed": group.computed,
            },
            "findings": [finding.to_dict() for finding in self.findings],
            "caveats": [_caveat_dict(caveats.caveat(i)) for i in self.caveat_ids()],
        }


def _caveat_dict(item: caveats.Caveat) -> dict[str, Any]:
    return {"id": item.id, "text": item.text, "source": item.source_title, "source_url": item.source_url}


@dataclass(frozen=True)
class PeriodFigures:
    """Everything about one period that findings for any force draw on, read once and shared.

    Findings for several forces of the same period (a national report, a test of every force) pass one of
    these to :func:`build_findings` instead of querying the store again for each force.
    """

    month: Any
    leagues: dict[str, list[dict[str, Any]]]
    national: dict[str, dict[str, Any]]
    read_covariates: Callable[[], dict[str, list[float]]]
    read_peer_results: Callable[[PeerGroup], dict[str, dict[str, Any]] | None]
    _peer_results: dict[tuple[PeerGroup, str], dict[str, Any]] = field(default_factory=dict, compare=False)

    @classmethod
    def read(cls, store: Store, period: str, options: Options = Options()) -> PeriodFigures:
        return cls(
            parse_period(period),
            analytics.period_leagues(store, period, options),
            analytics.national_figures(store, period, options),
            lambda: peer_covariates(store, period, options),
            lambda group: stored_peer_results(store, group, period, options),
        )

    @functools.cached_property
    def covariates(self) -> dict[str, list[float]]:
        """The computed peer groups' covariates, read on first use (a national report never needs them)."""
        return self.read_covariates()

    def peer_results(self, group: PeerGroup, offences: Iterable[str]) -> dict[str, dict[str, Any]]:
        """offence → the force against its peer group (:func:`crimestats.analytics.summaries.peer_results`), for
        the offences given that have a league; read from the materialised comparisons for a computed group
        (:func:`crimestats.analytics.peers.stored_peer_results`), else worked out once however many parts of a
        report ask."""
        wanted = [slug for slug in offences if slug in self.leagues]
        missing = [slug for slug in wanted if (group, slug) not in self._peer_results]
        if missing:
            stored = self.read_peer_results(group) or {}
            computed = summaries.peer_results(group, self.leagues, [slug for slug in missing if slug not in stored])
            for slug in missing:
                self._peer_results[(group, slug)] = stored[slug] if slug in stored else computed[slug]
        return {slug: self._peer_results[(group, slug)] for slug in wanted}


def build_findings(
    store: Store,
    force: str,
    period: str,
    groups: PeerGroups | None = None,
    options: Options = Options(),
    figures: PeriodFigures | None = None,
    offence: str | None = None,
) -> Findings:
    """The findings for ``force`` in the 12-month period ending ``period``, most notable first.

    ``offence`` opens with the force's rate and league position for that offence, and keeps only the findings
    about it and the offences it is made of.
    """
    area = reference.area(force)
    error = not_a_force(area, transport=True)
    if error is not None:
        raise error
    figures = figures or PeriodFigures.read(store, period, options)
    month = figures.month
    own = {slug: _row_of(rows, area.code) for slug, rows in figures.leagues.items()}
    total = own.get(TOTAL)
    if total is None:
        raise NoDataError(f"no figures for {area.name} in the {period_label(month)}; try `crimestats periods`")
    if total["count"] is None:
        return Findings(area.code, area.name, format_period(month), period_label(month), None, (_missing(area, month),))
    group = _peer_group(store, area, period, groups, figures.covariates)
    context = _Context(area, figures, own, group)
    tested = dict(context.offences(("total", *DETAIL_LEVELS)))
    peers = {} if group is None else figures.peer_results(group, tested)
    context = dataclasses.replace(context, peers=peers, tests=summaries.tests_made(tested, peers))
    focus = reference.offence(offence).slug if offence else TOTAL
    found = [*_league(context, focus), *_national(context, focus)]
    found += [*_changes(context), *_peers(context), *_extremes(context)]
    if offence is not None:
        keep = reference.offence_descendants(focus)
        found = [f for f in found if f.offence in keep]
    found.sort(key=lambda f: (KIND_ORDER[f.kind], f.offence != TOTAL, -f.strength))
    found = _group_described_once(context, found)
    return Findings(area.code, area.name, format_period(month), period_label(month), group, tuple(found))


def _group_described_once(c: _Context, found: list[Finding]) -> list[Finding]:
    """The first peer finding says what the peer group is; the others call it 'its peer group'."""
    first = next((i for i, f in enumerate(found) if f.kind == "peer"), None)
    if first is None:
        return found
    slug = found[first].offence
    row = c.own[slug]
    assert row is not None
    return [*found[:first], _peer(c, slug, row, c.peers[slug], described=True), *found[first + 1 :]]


def _row_of(rows: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    return next((row for row in rows if row["area_code"] == code), None)


def _peer_group(
    store: Store, area: reference.Area, period: str, groups: PeerGroups | None, covariates: dict[str, list[float]]
) -> PeerGroup | None:
    """The force's group, or None where a comparison of rates means nothing (City of London, BTP, no data)."""
    if area.kind != "force" or area.rate_suppressed or (groups is None and area.code not in covariates):
        return None
    return peer_group(store, area.code, period, groups, covariates)


@dataclass(frozen=True)
class _Context:
    area: reference.Area
    figures: PeriodFigures
    own: dict[str, dict[str, Any] | None]
    group: PeerGroup | None
    peers: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # offence → the force against its group
    tests: int = 0  # significance tests made for the force (changes and peer gaps), for the borderline note

    @property
    def month(self) -> Any:
        return self.figures.month

    def offences(self, levels: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
        wanted = [o.slug for o in reference.offences() if o.level in levels]
        return [(slug, row) for slug in wanted if (row := self.own.get(slug)) is not None and row["count"] is not None]

    def caveats(
        self, slug: str, *, comparison: bool = False, rate: bool = False, test: bool = False
    ) -> tuple[str, ...]:
        found = caveats.caveats_for(
            area_code=self.area.code, offence=slug, period_end=self.month, comparison=comparison, rate=rate, test=test
        )
        return tuple(item.id for item in found)


# --- wording -----------------------------------------------------------------------------------------------


def _name(slug: str) -> str:
    """'Violence against the person' → 'violence against the person'."""
    name = reference.offence(slug).name
    return name[0].lower() + name[1:]


def _subject(slug: str) -> str:
    """What a sentence about counts starts with."""
    return "Total recorded crime (excluding fraud)" if slug == TOTAL else f"Recorded {_name(slug)}"


def _rate_of(slug: str) -> str:
    """What "X's rate of …" is a rate of: 'recorded crime', 'robbery'."""
    return "recorded crime" if slug == TOTAL else _name(slug)


def _p_text(p: float | None, c: _Context) -> str:
    """'p = 0.0062'; 'p = 0.047, borderline: with 42 differences tested for Wiltshire, a few this close are
    expected by chance alone' when 0.01 <= p < 0.05: many differences are tested for a force at the 5% level,
    none adjusted for the others (the multiple-comparisons caveat says more)."""
    text = fmt.p_value(p)
    if p is None or not BORDERLINE_BELOW <= p < ALPHA:
        return text
    tested = f"with {c.tests} differences tested for {c.area.name}"
    return f"{text}, borderline: {tested}, a few this close are expected by chance alone"


def _rank_range(row: Mapping[str, Any]) -> str:
    low, high = row.get("rank_low"), row.get("rank_high")
    if low is None or high is None:
        return ""
    return f"plausible rank {low}" if low == high else f"plausible rank {low}–{high}"


def _position(row: Mapping[str, Any], shared: bool = False) -> str:
    """'the lowest of 42 forces (plausible rank 1–3)', 'ranked 12th of 41 forces, 1st being the lowest rate
    (plausible rank 10–14)'; ranks always count from the lowest rate, as in the league table, and a rank
    shared at the published precision is 'joint'."""
    rank, of = row["rank"], row["ranked_of"]
    joint = "joint " if shared else ""
    if rank == 1:
        return f"the {joint}lowest of {of} forces ({_rank_range(row)})"
    if rank == of:
        return f"the {joint}highest of {of} forces ({_rank_range(row)} of {of})"
    return f"ranked {joint}{fmt.ordinal(rank)} of {of} forces, 1st being the lowest rate ({_rank_range(row)})"


def _funnel_clause(row: Mapping[str, Any]) -> str:
    """Where the rate stands against the rate of all forces together, by both judgements of the funnel plot:
    chance alone (Poisson limits), and chance plus the usual differences between forces (widened limits)."""
    widened, poisson, target = row["funnel_position"], row["funnel_position_poisson"], row["funnel_target"]
    if target is None or widened is None:
        return ""
    together = f"the rate of all forces together ({fmt.rate(target)})"
    if widened != "within":
        return f"; that is {widened} {together} by more than chance and the usual differences between forces explain"
    if poisson in ("above", "below"):
        word = "higher" if poisson == "above" else "lower"
        return (
            f"; that is {word} than {together} by more than chance alone explains, but within the usual "
            "differences between forces"
        )
    return f"; that is within what chance alone explains around {together}"


# --- the findings ------------------------------------------------------------------------------------------


def _league(c: _Context, slug: str = TOTAL) -> list[Finding]:
    """The force's rate of the offence and its league position (the opening finding)."""
    row, name, label = c.own.get(slug), c.area.name, period_label(c.month)
    if row is None or row["count"] is None:
        text = f"No figures for {_name(slug)} are available for {name} for the {label}."
        return [Finding("missing", slug, _offence_name(slug), text, None, "offences", "", None)]
    if row["rate_per_1000"] is None:
        why = row["note"] or "no rate is published"
        text = f"{name} recorded {count_text(row['count'], slug)} in the {label}; {why}."
        league = Finding("league", slug, _offence_name(slug), text, row["count"], "offences", why, None)
        return [dataclasses.replace(league, caveats=c.caveats(slug, rate=True), numbers={"count": row["count"]})]
    target = row["funnel_target"]
    rate = fmt.rate(row["rate_per_1000"])
    if slug == TOTAL:
        text = f"{name} recorded {rate} crimes per 1,000 residents in the {label}"
    else:
        text = f"{name}'s rate of {_name(slug)} was {rate} per 1,000 residents in the {label}"
        text += f" ({fmt.count(row['count'])} offences)"
    if row["rank"] is not None:
        text += f", {_position(row, bool(row['rank_joint']))}"
    text += _funnel_clause(row) + "."
    return [
        Finding(
            "league",
            slug,
            _offence_name(slug),
            text,
            row["rate_per_1000"],
            "per 1,000 residents",
            f"the {row['ranked_of']} forces with a published rate; rate of all forces together {fmt.rate(target)}",
            None,  # the funnel plot's judgements are worded, not a significance test with a p-value
            caveats=c.caveats(slug, rate=True),
            numbers=_numbers(row, **_funnel_numbers(row)),
        )
    ]


def count_text(count: int, slug: str) -> str:
    """'43,831 crimes', '3,016 offences of burglary', '1,370 drug offences'."""
    if slug == TOTAL:
        return f"{fmt.count(count)} crimes"
    name = _name(slug)
    return f"{fmt.count(count)} {name}" if name.endswith("offences") else f"{fmt.count(count)} offences of {name}"


def _missing(area: reference.Area, month: Any) -> Finding:
    """The force's figures for the period are not available ('..' in the ONS tables)."""
    text = f"No figures are available for {area.name} for the {period_label(month)}."
    found = caveats.caveats_for(area_code=area.code, period_end=month)
    return Finding(
        "missing",
        TOTAL,
        _offence_name(TOTAL),
        text,
        None,
        "offences",
        "",
        None,
        caveats=tuple(item.id for item in found if item.kind == "missing" or item.area is None),
    )


def _national(c: _Context, slug: str = TOTAL) -> list[Finding]:
    """England and Wales' rate of the offence, against the force's."""
    row, own = c.figures.national.get(slug), c.own.get(slug)
    if row is None or row["rate_per_1000"] is None or own is None:
        return []
    rate = fmt.rate(row["rate_per_1000"])
    recorded = f"the police recorded {rate} crimes" if slug == TOTAL else f"the rate of {_name(slug)} was {rate}"
    text = f"Across {row['area']} {recorded} per 1,000 residents ({fmt.count(row['count'])} offences)"
    if own["rate_per_1000"] is not None:
        text += f", against {fmt.rate(own['rate_per_1000'])} in {c.area.name}"
    return [
        Finding(
            "national",
            slug,
            _offence_name(slug),
            " ".join(filter(None, [text + ".", all_forces_difference(row, c.figures.leagues.get(slug, []))])),
            row["rate_per_1000"],
            "per 1,000 residents",
            row["area"],
            None,
            caveats=tuple(
                i.id for i in caveats.caveats_for(area_code=None, offence=slug, period_end=c.month, rate=True)
            ),
            numbers={"count": row["count"], "population": row["population"], "rate_per_1000": row["rate_per_1000"]},
        )
    ]


def all_forces_difference(national: Mapping[str, Any], league: list[dict[str, Any]]) -> str:
    """Why the rate of all forces together (the funnel plot's, which forces are judged against) differs from
    the national rate: 'The rate of all forces together, 87.5, is lower because it leaves out British Transport
    Police (68,701 offences; no residents of its own) and City of London (8,278 offences; rate not published),
    which England and Wales (excluding Greater Manchester) counts.' Empty when nothing is left out."""
    target = summaries.funnel_summary(league)["target"]
    left_out = summaries.not_compared(league)
    if target is None or not left_out or national.get("rate_per_1000") is None:
        return ""
    comparison = "lower" if target < national["rate_per_1000"] else "higher"
    names = " and ".join(
        f"{row['area_name']} ({fmt.count(row['count'])} offences; {_why_not_compared(row)})" for row in left_out
    )
    return (
        f"The rate of all forces together that each force is compared with, {fmt.rate(target)}, is {comparison} "
        f"because it leaves out {names}, which {national['area']} counts."
    )


def _why_not_compared(row: Mapping[str, Any]) -> str:
    return "no residents of its own" if row.get("kind") == "transport" else "rate not published"


def _changes(c: _Context) -> list[Finding]:
    found = []
    for slug, row in c.offences(("total", *DETAIL_LEVELS)):
        if row.get("previous_count") is None:
            continue
        significant = row["change_significant"]
        if slug != TOTAL and not significant:
            continue
        found.append(_change(c, slug, row))
    return found


def _change(c: _Context, slug: str, row: dict[str, Any]) -> Finding:
    count, previous, p = row["count"], row["previous_count"], row["change_p_value"]
    pct = row["change_pct"]
    significant = row["change_significant"]
    counts = f"{fmt.count(previous)} to {fmt.count(count)} offences"
    if significant is None:
        reason = row["change_verdict"] or "no test of the change"
        text = f"{_subject(slug)}: {fmt.count(count)} offences, against {fmt.count(previous)} a year earlier; "
        text += "too few to judge a change." if reason.startswith("too few") else f"{reason}, so no test of the change."
    elif not significant:
        text = (
            f"{_subject(slug)} was not statistically significantly different from a year earlier "
            f"({counts}; {_p_text(p, c)})."
        )
    else:
        rise = "significant rise" in row["change_verdict"]
        word = "rose" if rise else "fell"
        agrees = pct is not None and (pct > 0) == rise
        change = f"{word} {fmt.percent(pct)} on a year earlier" if agrees else f"{word} on a year earlier, as a rate"
        by_rate = row.get("rate_per_1000") is not None and "counts compared" not in row["change_verdict"]
        measure = "rate" if by_rate else "number of offences"
        text = f"{_subject(slug)} {change} ({counts}); the change in the {measure} is statistically significant"
        text += f" ({_p_text(p, c)})."
    strength = summaries.change_strength(p)
    return Finding(
        "change",
        slug,
        _offence_name(slug),
        text,
        pct if significant else None,
        "% change in offences",
        f"the {period_label(_year_before(c.month))} ({fmt.count(previous)} offences)",
        significant,
        p,
        c.caveats(slug, comparison=True, test=p is not None),
        _numbers(row),
        strength,
    )


def _peers(c: _Context) -> list[Finding]:
    if c.group is None:
        return []
    found = []
    for slug, row in c.offences(("total", *DETAIL_LEVELS)):
        result = c.peers.get(slug)
        if result is None or row["rate_per_1000"] is None or result["simple_mean"] is None:
            continue
        if slug != TOTAL and not result["significant"]:
            continue
        found.append(_peer(c, slug, row, result))
    return found


def _peer(c: _Context, slug: str, row: dict[str, Any], result: dict[str, Any], described: bool = False) -> Finding:
    """A gap to the peer group's average; ``described`` says what the group is (the first peer finding)."""
    assert c.group is not None
    rated = summaries.rated_members(result)
    others = rated - 1
    group = "its peer group"
    if described and c.group.computed:
        group = (
            f"{c.area.name} and its {others} peer forces, the forces most like it in population, density and "
            "offence mix (chosen by crimestats, not the Home Office most similar group)"
        )
    elif described:
        group = f"{c.area.name} and the {others} other forces in its most similar group"
    mean, rate = result["simple_mean"], row["rate_per_1000"]
    side = "close to" if not result["significant"] else ("above" if rate > mean else "below")
    text = (
        f"At {fmt.rate(rate)} per 1,000 residents, {c.area.name}'s rate of {_rate_of(slug)} is {side} the "
        f"{fmt.rate(mean)} average of {group}"
    )
    if result["p_value"] is not None:
        verdict = "statistically significant" if result["significant"] else "not statistically significant"
        text += f"; the difference from the rest of the group is {verdict} ({_p_text(result['p_value'], c)})"
    text += "."
    return Finding(
        "peer",
        slug,
        _offence_name(slug),
        text,
        result["difference"],
        "difference in rate per 1,000 residents",
        f"simple mean of the rates of {rated} {'force' if rated == 1 else 'forces'} including {c.area.name} "
        f"({c.group.method})",
        result["significant"],
        result["p_value"],
        c.caveats(slug, rate=True, test=result["p_value"] is not None),
        {**_numbers(row), "simple_mean": mean, "weighted_mean": result["weighted_mean"]},
        summaries.peer_strength(rate, mean),
    )


def _extremes(c: _Context) -> list[Finding]:
    found = []
    for slug, row in c.offences(DETAIL_LEVELS):
        rank, of = row["rank"], row["ranked_of"]
        if rank is None or of < MIN_LEAGUE or rank not in (1, of) or row["rank_joint"]:
            continue  # a rank shared at the published precision (e.g. every homicide rate is 0.0) is no extreme
        word = "lowest" if rank == 1 else "highest"
        text = (
            f"Among the {of} forces, {c.area.name} had the {word} rate of {_name(slug)}: "
            f"{fmt.rate(row['rate_per_1000'])} per 1,000 residents ({_rank_range(row)} of {of})"
            + _funnel_clause(row)
            + "."
        )
        found.append(
            Finding(
                "extreme",
                slug,
                _offence_name(slug),
                text,
                row["rate_per_1000"],
                "per 1,000 residents",
                f"the {of} forces with a published rate",
                None,  # as for the league finding: no significance test
                caveats=c.caveats(slug, rate=True),
                numbers=_numbers(row, **_funnel_numbers(row)),
                strength=summaries.extreme_strength(row),
            )
        )
    return found


def _numbers(row: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {**{key: row.get(key) for key in analytics.FIGURE_COLUMNS}, **extra}


def _funnel_numbers(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "funnel_position": row["funnel_position"],
        "funnel_position_poisson": row["funnel_position_poisson"],
        "all_forces_rate": row["funnel_target"],
    }


def _offence_name(slug: str) -> str:
    return reference.offence(slug).name


def _year_before(month: Any) -> Any:
    return month.replace(year=month.year - 1)
