"""Build report models from the store: the force report for one period, and the parts the national report
(:mod:`crimestats.reports.national`) shares with it.

Build first, render second: these functions gather figures, findings, tables, charts (as Vega-Lite specs),
caveats and provenance into a frozen :class:`~crimestats.reports.model.Report`; the renderers turn that into
Markdown, HTML or JSON without computing anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crimestats import analytics, caveats, reference
from crimestats import formatting as fmt
from crimestats.analytics import Options, summaries
from crimestats.analytics.comparisons import funnel_rows
from crimestats.analytics.peers import PeerGroup, group_averages
from crimestats.periods import parse_month, period_label
from crimestats.reports import charts
from crimestats.reports.findings import TOTAL, Finding, PeriodFigures, build_findings
from crimestats.reports.model import Chart, Column, Report, ReportTable, SourceFile
from crimestats.store import Store

if TYPE_CHECKING:  # the readers are not loaded to word a report
    from crimestats.sources.peer_groups import PeerGroups

__all__ = ["METHODS", "ReportData", "force_report"]

#: How the figures were made, printed at the end of every report.
METHODS = (
    "Rates are offences per 1,000 residents. Figures from the ONS force tables use the population printed in "
    "their Table P3; other figures use ONS mid-year estimates summed to police force areas.",
    "95% intervals treat each count as Poisson: the exact interval below 10 offences, Byar's approximation from "
    "10 (OHID Fingertips technical guidance; PHE Technical Guide: Confidence Intervals, 2018).",
    "Plausible rank: the range holding 95% of a force's ranks in 2,000 simulations that redraw every force's "
    "count from a Poisson distribution (Goldstein and Spiegelhalter, 1996). Rank 1 is the lowest rate.",
    "Change: the two-sided E-test of Krishnamoorthy and Thomson (2004) on the two years' rates, significant at "
    "the 5% level. As in the ONS tables, no percentage change is shown on a base under 50 offences.",
    "Funnel plot: Spiegelhalter (2005) control limits at 95% and 99.8% around the pooled rate of the forces "
    "compared (the rate of all forces together). A force is judged twice. 'Chance alone' uses exact Poisson "
    "limits: the random variation in counts from year to year. 'Allowing for the usual spread' widens the "
    "limits for over-dispersion, the differences between forces that are always there (in the places they "
    "police and how they record crime), by an additive random effect estimated from 10% winsorised z-scores. "
    "Above or below means outside the 99.8% limits. The plots draw the widened limits.",
    "The rate of all forces together is that of the forces compared, which leave out British Transport Police "
    "(no residents of its own) and any force whose rate is not published (City of London); the England and "
    "Wales rate counts their offences too, so it is a little higher.",
    "About 40 differences are tested for each force (changes and peer gaps), each at the 5% level without "
    "adjustment for the others, so a few results with p between 0.01 and 0.05 are expected by chance alone: "
    "those are called borderline.",
    "Peer average: the simple mean of the group's rates including the force itself (as the HMIC Crime and "
    "Policing Comparator); the weighted average (total offences / total residents, as the HMICFRS value for "
    "money dashboards) is shown beside it.",
)

HEADLINE_FINDINGS = 5
NATIONAL = reference.area("England and Wales").code


@dataclass(frozen=True)
class ReportData:
    """What reports for many forces of the same store share: read once, passed to every report."""

    offence: str
    trends: dict[str, list[dict[str, Any]]]
    boundaries: dict[str, Any] | None
    files: tuple[dict[str, Any], ...]

    @classmethod
    def read(cls, store: Store, options: Options = Options(), offence: str | None = None) -> ReportData:
        """Read the trends of one offence (England and Wales named as the area totals name it, e.g. "England
        and Wales (excluding Greater Manchester)" where a force has no figures), the boundaries and the files."""
        slug = reference.offence(offence or TOTAL).slug
        trends = analytics.rate_trends(store, slug, options)
        if NATIONAL in trends:
            trends[NATIONAL] = [_national_point(row, tuple(row["excluded"])) for row in trends[NATIONAL]]
        boundaries = charts.prepared_boundaries(analytics.force_boundaries(store))
        return cls(slug, trends, boundaries, tuple(store.files()))


def national_trend(data: ReportData, period: str) -> list[dict[str, Any]]:
    """England and Wales up to ``period``; where the period's total leaves forces out (Greater Manchester from
    the year ending September 2019), that total like for like in every period too, so the two lines can be
    compared (:func:`crimestats.analytics.summaries.like_for_like_trend`)."""
    rows = [r for r in data.trends.get(NATIONAL, []) if r["period"] <= period]
    excluded = rows[-1]["excluded"] if rows else []
    if not excluded:
        return rows
    codes = [reference.area(name).code for name in excluded]
    same = summaries.like_for_like_trend(rows, data.trends, codes)
    others = [r for r in rows if r["excluded"] != excluded]
    return others + [_national_point(r, tuple(excluded)) for r in same]


def _national_point(row: dict[str, Any], excluded: tuple[str, ...]) -> dict[str, Any]:
    """A point of the England and Wales trend, its series named like the area totals, so that a total leaving
    out a force is a series of its own and is never joined to the full total."""
    named = not excluded or "(excluding" in row["series"]
    series = row["series"] + ("" if named else f" (excluding {', '.join(excluded)})")
    return {**row, "series": series, "excluded": list(excluded)}


# --- the force report -------------------------------------------------------------------------------------------


def force_report(
    store: Store,
    force: str,
    period: str,
    groups: PeerGroups | None = None,
    options: Options = Options(),
    figures: PeriodFigures | None = None,
    data: ReportData | None = None,
    offence: str | None = None,
) -> Report:
    """The report for one force and period: headline findings, league position, offence table, peer
    comparison, charts, caveats, methods and the files the figures come from.

    ``offence`` (default total recorded crime) is what the report is about: its title, headline and findings,
    league table, peer table, trend, funnel plot and map. The offence table always lists every offence.
    """
    area = reference.area(force)
    figures = figures or PeriodFigures.read(store, period, options)
    data = data_for(store, options, offence, data)
    focus = None if data.offence == TOTAL else data.offence
    findings = build_findings(store, area.code, period, groups, options, figures, offence=focus)
    found = list(findings.findings)
    league = figures.leagues.get(data.offence, [])
    group = findings.peer_group
    own = [(slug, row) for slug, rows in figures.leagues.items() if (row := _row(rows, area.code)) is not None]
    tables = [_offence_table(figures, group, own), league_report_table(league, data.offence)]
    if group is not None:
        tables.append(_peer_table(group, figures, data.offence))
    used = [row for _, row in own] + [r for r in league if r["area_code"] in _group_codes(group)]
    used += [r for r in data.trends.get(area.code, []) if r["period"] <= findings.period]
    return Report(
        kind="force",
        title=f"{area.name}: police recorded {subject(data.offence)}, {findings.period_label}",
        period=findings.period,
        period_label=findings.period_label,
        force_code=area.code,
        headline=tuple(f.text for f in found[:HEADLINE_FINDINGS]),
        findings=tuple(f.to_dict() for f in found),
        tables=tuple(tables),
        charts=(
            *_force_charts(area, findings.period, group, figures, data, league),
            *_density(store, area, findings.period),
        ),
        caveats=_caveats(found, area.code, figures, data.offence, league),
        sources=source_files(data, used),
        methods=METHODS,
        notes=_notes(group),
        offence=data.offence,
        subtitle=(
            f"How the {subject(data.offence)} the police recorded in {area.name} compares with other forces, "
            f"with a year earlier and with similar forces. Rates are per 1,000 residents."
        ),
    )


def subject(offence: str) -> str:
    """What the police recorded: 'crime' for the total, else the offence ('burglary')."""
    return "crime" if offence == TOTAL else _lower(reference.offence(offence).name)


def _lower(name: str) -> str:
    """'Violence against the person' → 'violence against the person'."""
    return name[0].lower() + name[1:]


def data_for(store: Store, options: Options, offence: str | None, data: ReportData | None) -> ReportData:
    slug = reference.offence(offence or TOTAL).slug
    return data if data is not None and data.offence == slug else ReportData.read(store, options, slug)


def _row(rows: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    return next((row for row in rows if row["area_code"] == code), None)


def _group_codes(group: PeerGroup | None) -> set[str]:
    return set() if group is None else {group.force_code, *group.members}


def _offence_columns(national: str) -> tuple[Column, ...]:
    """The offence table's columns; the last is headed by the national total's name, e.g. 'England and Wales
    (excluding Greater Manchester)' when a force's figures are missing."""
    return (*OFFENCE_COLUMNS[:-1], Column("national_rate", national, "rate"))


OFFENCE_COLUMNS = (
    Column("offence_name", "Offence"),
    Column("count", "Offences", "count"),
    Column("rate_per_1000", "Rate per 1,000", "rate"),
    Column("rate_ci", "95% interval", "interval"),
    Column("rank", "Rank", "rank"),
    Column("change_pct", "Change %", "percent"),
    Column("change_verdict", "Change in rate", "verdict"),
    Column("peer_mean", "Peer average", "rate"),
    Column("national_rate", "England and Wales", "rate"),
)


def _offence_table(
    figures: PeriodFigures, group: PeerGroup | None, own: list[tuple[str, dict[str, Any]]]
) -> ReportTable:
    results = figures.peer_results(group, [slug for slug, _ in own]) if group else {}
    rows = []
    for slug, row in own:
        peers = results.get(slug)
        national = figures.national.get(slug) or {}
        rows.append(
            {
                "offence": slug,
                "offence_name": row["offence_name"],
                "level": row["level"],
                **{key: row[key] for key in _FIGURE_KEYS},
                "peer_mean": peers["simple_mean"] if peers else None,
                "peer_weighted_mean": peers["weighted_mean"] if peers else None,
                "national_rate": national.get("rate_per_1000"),
            }
        )
    notes = ("Rank: 1 = lowest rate; plausible rank range in brackets. '..' = not available.",)
    columns = _offence_columns((figures.national.get(TOTAL) or {}).get("area", "England and Wales"))
    return ReportTable("offences", "Offences by group and subgroup", columns, tuple(rows), notes)


_FIGURE_KEYS = analytics.FIGURE_COLUMNS


def _by_code(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["area_code"]: row for row in rows}


LEAGUE_COLUMNS = (
    Column("rank", "Rank", "rank"),
    Column("force", "Force"),
    Column("count", "Offences", "count"),
    Column("rate_per_1000", "Rate per 1,000", "rate"),
    Column("rate_ci", "95% interval", "interval"),
    Column("change_pct", "Change %", "percent"),
    Column("funnel_position_poisson", "Against all forces: chance alone", "text"),
    Column("funnel_position", "Against all forces: allowing for the usual spread", "text"),
)
FUNNEL_WORDS = {"above": "above", "below": "below", "within": "within limits"}


def league_report_table(league: list[dict[str, Any]], offence: str) -> ReportTable:
    rows = tuple(
        {
            "force_code": row["area_code"],
            "force": row["area_name"],
            **{key: row[key] for key in _FIGURE_KEYS},
            "funnel_position_poisson": FUNNEL_WORDS.get(row["funnel_position_poisson"] or ""),
            "funnel_position": FUNNEL_WORDS.get(row["funnel_position"] or ""),
        }
        for row in sorted(league, key=_league_order)
    )
    notes = (
        "Against all forces: whether a force's rate is further above or below the rate of all forces together "
        f"({fmt.rate(summaries.funnel_summary(league)['target'])} per 1,000) than 99.8% of forces of its size "
        "would be. 'Chance alone' allows only for random variation in the counts; 'allowing for the usual "
        "spread' also allows for the differences between forces that are always there, so fewer forces are "
        "outside those limits.",
    )
    title = f"{reference.offence(offence).name}: all forces"
    return ReportTable("league", title, LEAGUE_COLUMNS, rows, notes)


def _league_order(row: dict[str, Any]) -> tuple[bool, int, str]:
    return (row["rank"] is None, row["rank"] or 0, row["area_name"])


PEER_COLUMNS = (
    Column("force", "Force"),
    Column("count", "Offences", "count"),
    Column("rate_per_1000", "Rate per 1,000", "rate"),
    Column("rate_ci", "95% interval", "interval"),
)


def _peer_table(group: PeerGroup, figures: PeriodFigures, offence: str = TOTAL) -> ReportTable:
    """The peer group's rates of the report's offence (the group itself is chosen on total recorded crime)."""
    league = _by_code(figures.leagues.get(offence, []))
    result = figures.peer_results(group, [offence]).get(offence) or group_averages(group, league)
    rows = tuple(
        {
            **member,
            "rate_ci_low": (league.get(member["force_code"]) or {}).get("rate_ci_low"),
            "rate_ci_high": (league.get(member["force_code"]) or {}).get("rate_ci_high"),
        }
        for member in result["members"]
    )
    notes = (
        group.method,
        f"Simple mean of the rates: {fmt.rate(result['simple_mean'])}; weighted average (total offences / total "
        f"residents): {fmt.rate(result['weighted_mean'])}. Reports print the simple mean.",
    )
    title = f"{reference.offence(offence).name}: the peer group"
    return ReportTable("peers", title, PEER_COLUMNS, rows, notes)


def _force_charts(
    area: reference.Area,
    period: str,
    group: PeerGroup | None,
    figures: PeriodFigures,
    data: ReportData,
    league: list[dict[str, Any]],
) -> list[Chart]:
    measure = rate_title(data.offence)
    label = f"{measure}, {period_label(figures.month)}"
    rows = [chart_row(r) for r in league]
    rated = any(r["rate_per_1000"] is not None for r in rows)
    focus = area.code if any(r["force_code"] == area.code and r["rate_per_1000"] is not None for r in rows) else None
    made: list[Chart] = []
    if rated:
        made.append(as_chart("league", charts.league_chart(rows, focus, label, measure=measure)))
    trend = _force_trend(area, period, data, league)
    if trend is not None:
        made.append(trend)
    funnel = funnel_data(league)
    if funnel is not None:
        title = f"Against the size of each force: {label}"
        made.append(
            as_chart("funnel", charts.funnel_chart(funnel, focus, title, measure=measure, by_chance=by_chance(league)))
        )
    if group is not None:
        mix, what = _offence_mix(group, figures, data.offence)
        title = f"{what[0].upper()}{what[1:]}: {area.name} and its peers"
        chart = charts.offence_mix_chart(mix, area.name, "Peer average", title, what=what)
        made.append(as_chart("offence_mix", chart))
    if data.boundaries is not None and rated:
        made.append(
            as_chart("map", charts.choropleth(data.boundaries, rows, "force_code", focus, label, measure=measure))
        )
    return made


def _density(store: Store, area: reference.Area, period: str) -> list[Chart]:
    """The point-density map of the force's street-level crimes in the 12 months to ``period``, when the store
    holds data.police.uk street files of the force for those months."""
    if not analytics.holds_street_files(store, area):
        return []
    from crimestats.analytics import street

    found = street.street_density(store, area, parse_month(period))
    if found is None:
        return []
    months = found["months_covered"]
    notes = [] if months == 12 else [f"The store holds street-level files for {months} of the 12 months."]
    notes.append("Anti-social behaviour is left out; map points are approximate (data.police.uk's anonymised points).")
    title = f"Where crimes were recorded in {area.name}, {period_label(parse_month(period))} (data.police.uk)"
    chart = charts.density_map(
        found["bins"].to_pylist(), found["radius_km"], found["mid_latitude"], title, notes=tuple(notes)
    )
    return [as_chart("density", chart)]


def _force_trend(area: reference.Area, period: str, data: ReportData, league: list[dict[str, Any]]) -> Chart | None:
    """The force's rate and England and Wales' over every period up to the report's; a force with no rate in
    any of them (City of London, British Transport Police) is named in a note, not in the title."""
    own = [r for r in data.trends.get(area.code, []) if r["period"] <= period]
    national = national_trend(data, period)
    if own:
        return trend_report_chart(own + national, f"{area.name} and England and Wales", data.offence)
    why = (_row(league, area.code) or {}).get("note") or "no rate is published for it"
    return trend_report_chart(national, "England and Wales", data.offence, [f"{area.name} is not plotted; {why}."])


def trend_report_chart(rows: list[dict[str, Any]], who: str, offence: str, notes: Iterable[str] = ()) -> Chart | None:
    """The trend chart, or None with fewer than two periods. England and Wales excluding a force is a series
    of its own (see :func:`_national_point`), said in a note; a series missing a period is broken there."""
    if len({r["period"] for r in rows}) < 2:
        return None
    measure = rate_title(offence)
    notes = [*notes, *_break_notes(rows)]
    chart = charts.trend_chart(_with_gaps(rows), f"{measure}: {who} over time", measure=measure, notes=notes)
    return as_chart("trend", chart)


def _break_notes(rows: list[dict[str, Any]]) -> list[str]:
    """'From the year ending September 2019, Greater Manchester had no figures, so England and Wales is also
    drawn without Greater Manchester in every period: England and Wales (excluding Greater Manchester).'"""
    first: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["period"]):
        if row.get("excluded") and not row.get("like_for_like"):
            first.setdefault(row["series"], row)
    notes = []
    for series, row in first.items():
        names = " and ".join(row["excluded"])
        every = any(r.get("like_for_like") and r["series"] == series for r in rows)
        drawn = f"also drawn without {names} in every period" if every else "drawn as a separate line"
        notes.append(
            f"From the {row['period_label']}, {names} had no figures, so England and Wales is {drawn}: {series}."
        )
    return notes


def _with_gaps(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows plus an empty point wherever a series skips a period, so its line breaks there instead of
    joining across the gap."""
    periods = sorted({r["period"] for r in rows})
    have: dict[str, set[str]] = {}
    for row in rows:
        have.setdefault(row["series"], set()).add(row["period"])
    gaps = [
        {"period": p, "series": series, "rate_per_1000": None}
        for series, held in have.items()
        for p in periods
        if min(held) < p < max(held) and p not in held
    ]
    return rows + gaps


def rate_title(offence: str) -> str:
    """'Crimes per 1,000 residents' or 'Robbery per 1,000 residents'."""
    return (
        "Crimes per 1,000 residents" if offence == TOTAL else f"{reference.offence(offence).name} per 1,000 residents"
    )


def as_chart(name: str, chart: Any) -> Chart:
    spec = chart.to_dict(validate=False)  # the chart functions' specs are validated in their tests
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return Chart(name, str(text or name), spec, str(spec.get("description") or ""))


def chart_row(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("rate_per_1000", "rate_ci_low", "rate_ci_high", "count", "population", "rank", "ranked_of")
    return {"force_code": row["area_code"], "force": row["area_name"], **{k: row.get(k) for k in keys}}


def by_chance(league: list[dict[str, Any]]) -> tuple[int, int]:
    """How many forces of the league are above and below the funnel limits of chance alone."""
    summary = summaries.funnel_summary(league)
    return summary["poisson_above"], summary["poisson_below"]


def funnel_data(league: list[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return funnel_rows([chart_row(r) for r in league])
    except ValueError:
        return None


def _offence_mix(group: PeerGroup, figures: PeriodFigures, offence: str = TOTAL) -> tuple[list[dict[str, Any]], str]:
    """The force's and its peers' rates of the offences the report's offence is made of (burglary: residential
    and non-residential), or of every offence group for the total and for offences not broken down; and what
    the rows are ('types of burglary', 'offence groups')."""
    children = [o for o in reference.offences() if o.parent == offence and o.slug in figures.leagues]
    shown = [o for o in reference.offences() if o.level == "group" and o.slug in figures.leagues]
    what = "offence groups"
    if offence != TOTAL and len(children) > 1:
        shown, what = children, f"types of {_lower(reference.offence(offence).name)}"
    mix = summaries.offence_mix(figures.peer_results(group, [item.slug for item in shown]))
    return [{**row, "offence": row["offence_name"]} for row in mix], what


def _caveats(
    found: Iterable[Finding],
    area_code: str | None,
    figures: PeriodFigures,
    offence: str = TOTAL,
    league: Iterable[dict[str, Any]] = (),
) -> tuple[dict[str, Any], ...]:
    """The findings' caveats and those of the report's rates (with the older-population one when the league's
    rates use an older estimate than ONS would)."""
    older = any(r.get("population_older") for r in league)
    ids = {i for finding in found for i in finding.caveats}
    ids |= {
        c.id
        for c in caveats.caveats_for(
            area_code=area_code, offence=offence, period_end=figures.month, rate=True, older_population=older
        )
    }
    return tuple(caveat_entry(c) for c in caveats.caveats() if c.id in ids)


def caveat_entry(item: caveats.Caveat) -> dict[str, Any]:
    return {"id": item.id, "text": item.text, "source": item.source_title, "source_url": item.source_url}


def source_files(data: ReportData, rows: Iterable[dict[str, Any]]) -> tuple[SourceFile, ...]:
    rows = list(rows)
    names = {row.get("file_name") for row in rows}
    wanted = {"ons-lookup", "ons-mye"} if any(_uses_mye(r) for r in rows) else set()
    if data.boundaries is not None:
        wanted.add("ons-boundaries")
    latest = {f["source"]: f for f in data.files if f["source"] in wanted}  # files() is in vintage order
    chosen = [f for f in data.files if f["file_name"] in names] + list(latest.values())
    return tuple(
        SourceFile(f["file_name"], f["source"], f["vintage"], f["sha256"], str(f["ingested_at"])[:19])
        for f in {f["file_id"]: f for f in chosen}.values()
    )


def _uses_mye(row: dict[str, Any]) -> bool:
    return str(row.get("population_source") or "").startswith("ONS mid-year")


def _notes(group: PeerGroup | None) -> tuple[str, ...]:
    if group is None:
        return ("No peer comparison: rates are not published for this force or period.",)
    if group.computed:
        return (
            "The peer group is computed by crimestats from population, density and offence mix; it is not the Home "
            "Office most similar group. Pass --msg FILE to use the Home Office groups.",
        )
    return ("The peer group is the Home Office most similar group from the file supplied.",)
