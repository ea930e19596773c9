"""A verdict for each resolved claim, against the materialised statistics (:mod:`crimestats.analytics`), at the
precision the story quotes: ``correct`` (with the figure's file, table and cell), ``incorrect`` (with the
published figure and, when one fits, the likely slip), ``needs context`` or ``cannot check`` (and why).

Nothing is computed here: each figure, interval, rank range and test is read from analytics and only compared
and worded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crimestats import analytics, reference
from crimestats import formatting as fmt
from crimestats.analytics import materialised
from crimestats.analytics.lookups import area_total, count_position, figure_cells, national_share, rate_league
from crimestats.check.model import CheckedClaim, Claim
from crimestats.check.vocabulary import NATIONAL
from crimestats.periods import format_period, parse_period, period_label, shift_months
from crimestats.store import Store

__all__ = ["Figures", "about", "verdict"]

_DOWNLOAD = "crimestats data download ons-pfa-tables"
_CELL_OF = {"rate": "rate_per_1000", "count": "count", "change": "change_pct", "rank": "rate_per_1000"}


class Figures:
    """The statistics a story's claims are checked against, read once per (area, offence, period)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.periods = {format_period(p) for p in analytics.store_periods(store)}
        self._rows: dict[tuple[str, str, str], dict[str, Any] | None] = {}
        self._cells: dict[tuple[str | None, str, str, str], dict[str, Any]] = {}
        self._leagues: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}

    def row(self, area: str, offence: str, period: str) -> dict[str, Any] | None:
        """The force's statistics row (or England and Wales', from ``league_national``), None without one."""
        key = (area, offence, period)
        if key not in self._rows:
            month = parse_period(period)
            if area == NATIONAL:
                self._rows[key] = analytics.league_national(self.store, month, offence)
            elif reference.area(area).kind in ("country", "region"):
                self._rows[key] = area_total(self.store, month, offence, area)
            else:
                rows = materialised.forces(self.store, period_end=month, area_code=area, offence=offence).to_pylist()
                self._rows[key] = rows[0] if rows else None
        return self._rows[key]

    def earlier(self, claim: Claim) -> dict[str, Any] | None:
        """The same statistic a year earlier."""
        assert claim.force and claim.offence and claim.period
        before = format_period(shift_months(parse_period(claim.period), -12))
        return self.row(claim.force, claim.offence, before) if before in self.periods else None

    def league(self, claim: Claim) -> list[dict[str, Any]]:
        """The forces ranked by rate (within the claim's country or region, if it names one)."""
        assert claim.offence and claim.period
        key = (claim.offence, claim.period, claim.words.get("within"))
        if key not in self._leagues:
            self._leagues[key] = rate_league(self.store, parse_period(claim.period), *key[0:1], key[2])
        return self._leagues[key]

    def national(self, claim: Claim) -> dict[str, Any] | None:
        assert claim.offence and claim.period
        return self.row(NATIONAL, claim.offence, claim.period)

    def source(self, claim: Claim, row: dict[str, Any], measure: str) -> dict[str, Any] | None:
        assert claim.force and claim.offence and claim.period
        key = (row.get("file_name"), claim.force, claim.offence, claim.period)
        if key not in self._cells:
            self._cells[key] = figure_cells(self.store, key[0], claim.force, claim.offence, parse_period(claim.period))
        return self._cells[key].get(measure)


def verdict(figures: Figures, claim: Claim) -> CheckedClaim:
    """The verdict on one claim, with the published figure and where it is published."""
    why_not = _cannot_check(figures, claim)
    if why_not is not None:
        return CheckedClaim(claim, "cannot check", why_not)
    assert claim.force and claim.offence and claim.period
    row = figures.row(claim.force, claim.offence, claim.period)
    if row is None or row.get("count") is None:
        note = f": {row['note']}" if row and row.get("note") else ""
        return CheckedClaim(claim, "cannot check", f"{about(claim)} has no published figure{note}.")
    return _CHECKS[claim.measure](figures, claim, row)


def about(claim: Claim) -> str:
    """'Wiltshire, stalking and harassment, year ending September 2019'."""
    assert claim.force and claim.offence and claim.period
    offence = reference.offence(claim.offence).name
    return f"{_area(claim.force)}, {offence[0].lower()}{offence[1:]}, {period_label(parse_period(claim.period))}"


def _area(code: str) -> str:
    return reference.area(code).name


def _cannot_check(figures: Figures, claim: Claim) -> str | None:
    if claim.not_crime:
        return f"This is about {claim.not_crime}, not police recorded crime, which is all crimestats holds."
    if claim.words.get("unpublished"):
        return f"crimestats cannot check this: {claim.words['unpublished']}."
    if claim.period is None:
        return "The story does not say which 12 months this figure covers."
    if claim.period not in figures.periods:
        label = period_label(parse_period(claim.period))
        return (
            f"The {label} is not in the store: its figures are in the ONS police force area data tables for the "
            f"{label} (release {claim.period}); fetch them with `{_DOWNLOAD}`, then `crimestats ingest` them."
        )
    if claim.offence is None:
        return "The story does not say which offence this figure is about."
    if claim.force is None:
        return "The story does not say which police force this figure is about."
    if claim.measure == "rank" and claim.words.get("direction") == "top":
        return "'Top performing' is not a figure the recorded crime statistics publish."
    if claim.measure == "average" and claim.words.get("average") == "regional":
        return "crimestats checks a force against England and Wales, not against its region's average."
    return None


def _places(claim: Claim, least: int) -> int:
    return max(int(claim.words.get("decimals", 0)), least)


def _same(value: float | None, claimed: float, places: int) -> bool:
    return value is not None and float(fmt.half_up(value, places)) == float(fmt.half_up(claimed, places))


def _slip(
    figures: Figures, claim: Claim, key: str, matches: Callable[[float | None], bool], count_for: str | None = None
) -> str:
    """The likely reason a figure is wrong, when another published figure is what the story printed."""
    earlier = figures.earlier(claim)
    if earlier is not None and matches(earlier.get(key)):
        assert claim.period
        before = period_label(shift_months(parse_period(claim.period), -12))
        return f" The story's figure is the one for the {before}, a year earlier."
    national = figures.national(claim) if claim.force != NATIONAL else None
    if national is not None and matches(national.get(key)):
        return " The story's figure is England and Wales', not the force's."
    row = figures.row(claim.force or "", claim.offence or "", claim.period or "")
    if count_for and row is not None and matches(row.get(count_for)):
        return " The story's figure is the " + (
            "number of offences, not the rate." if count_for == "count" else "rate, not the number of offences."
        )
    return ""


def _rate(figures: Figures, claim: Claim, row: dict[str, Any]) -> CheckedClaim:
    places = _places(claim, 1)
    rate = row["rate_per_1000"]
    if rate is None:
        return CheckedClaim(claim, "cannot check", f"{about(claim)}: no published rate ({row.get('note')}).")
    actual = float(fmt.half_up(rate, places))
    source = figures.source(claim, row, "rate_per_1000")
    claimed = float(claim.claimed or 0)
    if _same(rate, claimed, places):
        return CheckedClaim(
            claim, "correct", f"{about(claim)}: {fmt.rate(rate, places)} per 1,000 residents.", actual, source
        )
    slip = _slip(figures, claim, "rate_per_1000", lambda v: _same(v, claimed, places), "count")
    text = f"{about(claim)}: the published rate is {fmt.rate(rate, places)} per 1,000 residents.{slip}"
    return CheckedClaim(claim, "incorrect", text, actual, source)


def _count_matches(value: float | None, claim: Claim) -> bool:
    assert isinstance(claim.claimed, float)
    if value is None:
        return False
    claimed, hedge = claim.claimed, claim.words.get("hedge")
    unit = 10 ** (len(str(int(claimed))) - len(str(int(claimed)).rstrip("0"))) if claimed >= 1000 else 1
    if hedge in ("more than", "over", "just over"):
        return claimed < value < claimed + unit
    if hedge in ("almost", "nearly", "just under", "under"):
        return claimed - unit < value < claimed
    return abs(value - claimed) <= unit / 2


def _previous_count(figures: Figures, claim: Claim, row: dict[str, Any]) -> CheckedClaim:
    """'Compared with 162,819 the year before': the year-earlier count this release compares with (revised),
    or the one first published in the earlier release."""
    assert claim.period
    before = period_label(shift_months(parse_period(claim.period), -12))
    revised, earlier = row.get("previous_count"), figures.earlier(claim)
    said = f"{about(claim)}: the {before} count this release compares with is {fmt.count(revised)}"
    if _count_matches(revised, claim):
        return CheckedClaim(claim, "correct", f"{said}.", revised, figures.source(claim, row, "count"))
    if earlier is not None and _count_matches(earlier.get("count"), claim):
        text = (
            f"{said}. The story's {fmt.count(earlier['count'])} is the {before} figure as first published "
            f"({earlier.get('file_name')}), since revised: compare like with like, or say the figure was revised."
        )
        source = figures.source(claim._replace(period=earlier["vintage"]), earlier, "count")
        return CheckedClaim(claim, "needs context", text, earlier["count"], source)
    return CheckedClaim(claim, "incorrect", f"{said}.", revised, figures.source(claim, row, "count"))


def _count(figures: Figures, claim: Claim, row: dict[str, Any]) -> CheckedClaim:
    if claim.words.get("previous"):
        return _previous_count(figures, claim, row)
    source = figures.source(claim, row, "count")
    if _count_matches(row["count"], claim):
        return CheckedClaim(
            claim, "correct", f"{about(claim)}: {fmt.count(row['count'])} offences.", row["count"], source
        )
    slip = _slip(figures, claim, "count", lambda v: _count_matches(v, claim), "rate_per_1000")
    text = f"{about(claim)}: the published number is {fmt.count(row['count'])} offences.{slip}"
    return CheckedClaim(claim, "incorrect", text, row["count"], source)


def _change_matches(value: float | None, claim: Claim) -> bool:
    assert isinstance(claim.claimed, float)
    if value is None:
        return False
    if claim.words.get("fraction"):  # 'a fifth' is 17.5-22.5%; 'almost a third' 28.3-33.3%
        size, hedge = abs(value), claim.words.get("hedge")
        if (value < 0) != (claim.claimed < 0):
            return False
        if hedge in ("almost", "nearly", "just under", "under"):
            return abs(claim.claimed) - 5 <= size <= abs(claim.claimed)
        if hedge in ("more than", "over", "just over"):
            return abs(claim.claimed) <= size <= abs(claim.claimed) + 5
        return abs(size - abs(claim.claimed)) <= 2.5
    places = _places(claim, 0)
    if claim.words.get("hedge") in ("more than", "over", "just over"):
        return value > claim.claimed if claim.claimed > 0 else value < claim.claimed
    return _same(value, claim.claimed, places)


def _change(figures: Figures, claim: Claim, row: dict[str, Any]) -> CheckedClaim:
    change = row.get("change_pct")
    if change is None:
        return CheckedClaim(claim, "cannot check", f"{about(claim)}: no published change on a year earlier.")
    places = _places(claim, 0)
    actual = float(fmt.half_up(change, places))
    source = figures.source(claim, row, "change_pct")
    said = f"{about(claim)}: {'up' if change >= 0 else 'down'} {fmt.half_up(abs(change), places)}% on a year earlier"
    if not _change_matches(change, claim):
        slip = _slip(figures, claim, "change_pct", lambda v: _change_matches(v, claim))
        claimed = float(claim.claimed or 0)
        wrong_way = (
            " It fell, not rose." if change < 0 < claimed else " It rose, not fell." if claimed < 0 <= change else ""
        )
        if not slip and _same(row.get("rate_per_1000"), abs(claimed), places):
            slip = f" The story's {fmt.half_up(abs(claimed), places)} is the rate per 1,000 residents, not the change."
        return CheckedClaim(claim, "incorrect", f"{said}.{wrong_way}{slip}", actual, source)
    if row.get("change_significant") is False:
        p = fmt.p_value(row.get("change_p_value"))
        text = f"{said}, but the change is not statistically significant ({p}): it may be chance."
        return CheckedClaim(claim, "needs context", text, actual, source)
    tested = (
        f" (statistically significant, {fmt.p_value(row['change_p_value'])})" if row.get("change_significant") else ""
    )
    return CheckedClaim(claim, "correct", f"{said}{tested}.", actual, source)


def _rank_of(row: dict[str, Any], claim: Claim) -> bool:
    """Whether the force's rank (``rank`` of ``ranked_of``, 1st the lowest) is the position the claim gives."""
    rank, of = row.get("rank"), row.get("ranked_of")
    if rank is None or of is None:
        return False
    lowest = claim.words.get("direction") == "lowest"
    if claim.words.get("among"):
        return bool(rank <= of / 4) if lowest else bool(rank > of * 3 / 4)
    return bool(rank == _lowest_terms(claim, of))


def _lowest_terms(claim: Claim, of: int) -> int:
    """The claim's position counted from the lowest: 'the second highest' of 41 is 40th lowest."""
    position = int(claim.words.get("position", 1))
    return position if claim.words.get("direction") == "lowest" else of - position + 1


def _place(claim: Claim, entry: dict[str, Any], tied: list[dict[str, Any]]) -> str:
    """Where the force stands, in the story's terms: 'joint 3rd highest rate of 41 forces, tied with
    Northumbria at 9.9 per 1,000'."""
    lowest = claim.words.get("direction") != "highest"
    position = entry["position"] if lowest else entry["of"] - entry["position"] - len(tied) + 1
    within = f" in {_area(claim.words['within'])}" if claim.words.get("within") else ""
    joint = "joint " if tied else ""
    name = "lowest" if lowest else "highest"
    text = f"{about(claim)}: {joint}{fmt.ordinal(position)} {name} rate of {entry['of']} forces{within}"
    if tied:
        others = " and ".join(r["force"] for r in tied)
        text += f", tied with {others} at {fmt.rate(entry['rate_per_1000'], 1)} per 1,000 as published"
    return text


def _rank(figures: Figures, claim: Claim, row: dict[str, Any]) -> CheckedClaim:
    if row.get("rank") is None:
        return CheckedClaim(claim, "cannot check", f"{about(claim)} is not ranked ({row.get('note')}).")
    league = figures.league(claim)
    entry = next((r for r in league if r["force_code"] == claim.force), None)
    if entry is None:
        where = _area(claim.words.get("within") or NATIONAL)
        return CheckedClaim(claim, "cannot check", f"{_area(claim.force or '')} is not one of the forces of {where}.")
    tied = [r for r in league if r["position"] == entry["position"] and r["force_code"] != claim.force]
    rank, of = entry["position"], entry["of"]
    actual = f"{rank} of {of}"
    source = figures.source(claim, row, "rate_per_1000")
    place = _place(claim, entry, tied)
    assert claim.force and claim.offence and claim.period
    by_rate = _rank_of({"rank": rank, "ranked_of": of}, claim)
    if claim.words.get("within"):
        return _rank_within(claim, by_rate, place, actual, source)
    by_count = count_position(figures.store, parse_period(claim.period), claim.offence, claim.force)
    if claim.words.get("by") == "count":
        counted = by_count is not None and _rank_of({"rank": by_count[0], "ranked_of": by_count[1]}, claim)
        if not counted:
            n = f"{fmt.ordinal(by_count[0])} fewest of {by_count[1]}" if by_count else "not known"
            extra = " The rate is; the number of offences is not." if by_rate else ""
            return CheckedClaim(claim, "incorrect", f"{place}; by number of offences {n}.{extra}", actual, source)
    elif tied and not claim.words.get("among") and rank <= _lowest_terms(claim, of) <= rank + len(tied):
        text = f"{place}: which of them is '{claim.claimed}' depends on decimals ONS does not publish. Say 'joint'."
        return CheckedClaim(claim, "needs context", text, actual, source)
    elif not by_rate:
        return CheckedClaim(claim, "incorrect", f"{place}.", actual, source)
    elif claim.words.get("by") is None and by_count is not None:
        counted = _rank_of({"rank": by_count[0], "ranked_of": by_count[1]}, claim)
        if not counted:
            text = (
                f"{place}; that is by rate per resident: by number of offences it is "
                f"{fmt.ordinal(by_count[0])} fewest of {by_count[1]}. Say that it is the rate."
            )
            return CheckedClaim(claim, "needs context", text, actual, source)
    low, high = row.get("rank_low"), row.get("rank_high")
    if not claim.words.get("among") and low is not None and high is not None and low != high:
        text = f"{place}, but its plausible rank is {low}–{high} (1st the lowest): chance alone could change its place."
        return CheckedClaim(claim, "needs context", text, actual, source)
    return CheckedClaim(claim, "correct", f"{place} (plausible rank {low}–{high}, 1st the lowest).", actual, source)


def _rank_within(claim: Claim, by_rate: bool, place: str, actual: str, source: dict[str, Any] | None) -> CheckedClaim:
    """'The highest rate in Wales': ranked among that country's (or region's) forces only."""
    return CheckedClaim(claim, "correct" if by_rate else "incorrect", f"{place}.", actual, source)


def _share(figures: Figures, claim: Claim, row: dict[str, Any]) -> CheckedClaim:
    """'One in ten of all the robberies in England and Wales': the force's count against England and Wales'."""
    assert claim.force and claim.offence and claim.period
    found = national_share(figures.store, parse_period(claim.period), claim.offence, claim.force)
    if found is None:
        return CheckedClaim(claim, "cannot check", f"{about(claim)}: no count for the force and England and Wales.")
    count, total, share = found
    out_of, hedge = int(claim.words["out_of"]), claim.words.get("hedge")
    nearest = round(total / count) if count else 0
    matches = nearest == out_of and not (
        (hedge in ("almost", "nearly") and share > 100 / out_of)
        or (hedge in ("more than", "over") and share < 100 / out_of)
    )
    text = (
        f"{about(claim)}: {fmt.count(count)} of England and Wales' {fmt.count(total)} offences, "
        f"{fmt.half_up(share, 1)}% (about one in {nearest})."
    )
    return CheckedClaim(
        claim,
        "correct" if matches else "incorrect",
        text,
        float(fmt.half_up(share, 1)),
        figures.source(claim, row, "count"),
    )


_SIMILAR = (
    "The average of 'similar forces' depends on which forces are in the group (the Home Office most similar group, "
    "which crimestats holds only when given with --msg) and on which average is meant (the simple mean of their "
    "rates or their combined rate): say which."
)
_BELOW = ("below", "lower than", "less than", "under")
_ABOVE = ("above", "higher than", "more than", "over")


def _average(figures: Figures, claim: Claim, row: dict[str, Any]) -> CheckedClaim:
    if claim.words.get("average") == "similar":
        return CheckedClaim(claim, "needs context", _SIMILAR)
    national = figures.national(claim)
    if national is None or national.get("rate_per_1000") is None:
        return CheckedClaim(claim, "cannot check", f"No England and Wales rate for {about(claim)}.")
    rate, places = national["rate_per_1000"], _places(claim, 1)
    actual = float(fmt.half_up(rate, places))
    nat_claim = claim._replace(force=NATIONAL)
    source = figures.source(nat_claim, {"file_name": row.get("file_name")}, "rate_per_1000")
    said = f"England and Wales: {fmt.rate(rate, places)} per 1,000 residents"
    if isinstance(claim.claimed, float) and not _same(rate, claim.claimed, places):
        target = row.get("funnel_target")
        slip = (
            " The story's figure is the rate of all forces together (leaving out British Transport Police and "
            "City of London)."
            if _same(target, claim.claimed, places)
            else ""
        )
        return CheckedClaim(claim, "incorrect", f"{said}.{slip}", actual, source)
    direction, force_rate = claim.words.get("direction"), row.get("rate_per_1000")
    if claim.force != NATIONAL and force_rate is not None and direction in (*_BELOW, *_ABOVE):
        below = force_rate < rate
        if below != (direction in _BELOW):
            side = "below" if below else "above"
            text = f"{said}; {_area(claim.force or '')}'s is {fmt.rate(force_rate, places)}, {side} it."
            return CheckedClaim(claim, "incorrect", text, actual, source)
        said += f"; {_area(claim.force or '')}'s is {fmt.rate(force_rate, places)}"
        if claim.words.get("significantly") and row.get("funnel_position") not in ("below", "above"):
            text = (
                f"{said}. 'Significantly' is not supported: the gap is within the usual differences between forces "
                "(funnel plot with overdispersion)."
            )
            return CheckedClaim(claim, "needs context", text, actual, source)
    return CheckedClaim(claim, "correct", f"{said}.", actual, source)


_CHECKS: dict[str, Callable[[Figures, Claim, dict[str, Any]], CheckedClaim]] = {
    "rate": _rate,
    "count": _count,
    "change": _change,
    "rank": _rank,
    "average": _average,
    "share": _share,
}
