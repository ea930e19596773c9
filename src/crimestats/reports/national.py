"""The national report: England and Wales for one period (headline, league of forces, countries and regions,
every offence, charts, caveats, methods, sources), from the same parts as the force report in
:mod:`crimestats.reports.build`."""

from __future__ import annotations

from typing import Any

from crimestats import analytics, caveats, reference
from crimestats import formatting as fmt
from crimestats.analytics import Options, summaries
from crimestats.errors import NoDataError
from crimestats.periods import format_period, period_label
from crimestats.reports import charts
from crimestats.reports.build import (
    METHODS,
    NATIONAL,
    ReportData,
    as_chart,
    by_chance,
    caveat_entry,
    chart_row,
    data_for,
    funnel_data,
    league_report_table,
    national_trend,
    rate_title,
    source_files,
    subject,
    trend_report_chart,
)
from crimestats.reports.findings import TOTAL, PeriodFigures, all_forces_difference, count_text
from crimestats.reports.model import Column, Report, ReportTable
from crimestats.store import Store

__all__ = ["national_report"]


TOTALS_COLUMNS = (
    Column("area", "Area"),
    Column("count", "Offences", "count"),
    Column("population", "Population", "count"),
    Column("rate_per_1000", "Rate per 1,000", "rate"),
    Column("change_pct", "Change %", "percent"),
)
NATIONAL_OFFENCE_COLUMNS = (
    Column("offence_name", "Offence"),
    Column("count", "Offences", "count"),
    Column("rate_per_1000", "Rate per 1,000", "rate"),
    Column("previous_count", "A year earlier", "count"),
    Column("change_pct", "Change %", "percent"),
)


def national_report(
    store: Store,
    period: str,
    options: Options = Options(),
    figures: PeriodFigures | None = None,
    data: ReportData | None = None,
    offence: str | None = None,
) -> Report:
    """The national picture for one period: England and Wales, regions, every force's rate with its interval
    and funnel position, offences nationally, charts, caveats and sources. ``offence`` (default total
    recorded crime) is what the report is about: its title, headline, regional table, league table, trend,
    funnel plot and map. The table of offences nationally always lists every offence."""
    figures = figures or PeriodFigures.read(store, period, options)
    data = data_for(store, options, offence, data)
    national, focus = figures.national.get(TOTAL), figures.national.get(data.offence)
    league = figures.leagues.get(data.offence, [])
    if national is None or focus is None or not league:
        raise NoDataError(f"no national figures for the period ending {period}; try `crimestats periods`")
    measure = rate_title(data.offence)
    label = f"{measure}, {period_label(figures.month)}"
    totals = analytics.totals_table(store, period, data.offence, options).to_pylist()
    offences = [
        {"offence": slug, "offence_name": reference.offence(slug).name, **row}
        for slug, row in figures.national.items()
        if reference.offence(slug).level in ("total", "category", "group", "subgroup")
    ]
    offences.sort(key=lambda r: [o.slug for o in reference.offences()].index(r["offence"]))
    tables = (
        ReportTable(
            "totals", f"{reference.offence(data.offence).name}: countries and regions", TOTALS_COLUMNS, tuple(totals)
        ),
        league_report_table(league, data.offence),
        ReportTable("offences", f"{national['area']} by offence", NATIONAL_OFFENCE_COLUMNS, tuple(offences)),
    )
    rows = [chart_row(r) for r in league]
    rated = any(r["rate_per_1000"] is not None for r in rows)
    made = [as_chart("league", charts.league_chart(rows, None, label, measure=measure))] if rated else []
    trend = national_trend(data, format_period(figures.month))
    chart = trend_report_chart(trend, "England and Wales", data.offence)
    made += [chart] if chart is not None else []
    funnel = funnel_data(league)
    if funnel is not None:
        title = f"Against the size of each force: {label}"
        made.append(
            as_chart("funnel", charts.funnel_chart(funnel, None, title, measure=measure, by_chance=by_chance(league)))
        )
    if data.boundaries is not None and rated:
        made.append(
            as_chart("map", charts.choropleth(data.boundaries, rows, "force_code", None, label, measure=measure))
        )
    headline = _national_headline(focus, league, figures, data.offence)
    found = caveats.caveats_for(
        area_code=None,
        offence=data.offence,
        period_end=figures.month,
        comparison=True,
        rate=True,
        older_population=any(r.get("population_older") for r in league),
    )
    return Report(
        kind="national",
        title=f"Police recorded {subject(data.offence)} in England and Wales, {period_label(figures.month)}",
        period=format_period(figures.month),
        period_label=period_label(figures.month),
        force_code=None,
        headline=headline,
        findings=(),
        tables=tables,
        charts=tuple(made),
        caveats=tuple(caveat_entry(c) for c in found),
        sources=source_files(data, [*league, *_trend_rows(data, format_period(figures.month))]),
        methods=METHODS,
        offence=data.offence,
        subtitle=(
            f"How the {subject(data.offence)} the police recorded compares across the police forces of England and "
            "Wales, its regions, and with a year earlier. Rates are per 1,000 residents."
        ),
    )


def _trend_rows(data: ReportData, period: str) -> list[dict[str, Any]]:
    """Every force's trend rows up to the period: the files behind the England and Wales trend."""
    return [row for code, rows in data.trends.items() if code != NATIONAL for row in rows if row["period"] <= period]


def _national_headline(
    national: dict[str, Any], league: list[dict[str, Any]], figures: PeriodFigures, offence: str = TOTAL
) -> tuple[str, ...]:
    """The national picture of one offence (``national`` and ``league`` are that offence's)."""
    lowest, highest, ranked = summaries.league_ends(league)
    funnel = summaries.funnel_summary(league)
    rate = national["rate_per_1000"]
    recorded = (
        f"{fmt.count(national['count'])} crimes (excluding fraud)"
        if offence == TOTAL
        else count_text(national["count"], offence)
    )
    lines = [
        f"The police in {national['area']} recorded {recorded} in the {period_label(figures.month)}"
        + (f": {fmt.rate(rate)} per 1,000 residents." if rate is not None else "; no population is held for a rate.")
    ]
    if national.get("change_pct") is not None:
        word = "up" if national["change_pct"] >= 0 else "down"
        lines.append(f"That is {word} {fmt.percent(national['change_pct'])} on a year earlier, like for like.")
    if ranked:
        low, high = lowest[0], highest[-1]
        lines.append(
            f"Rates ranged from {fmt.rate(low['rate_per_1000'])} per 1,000 in {low['area_name']} to "
            f"{fmt.rate(high['rate_per_1000'])} in {high['area_name']}, across {ranked} forces with a "
            f"published rate{_times(funnel['highest_to_lowest'])}."
        )
    lines += _funnel_lines(funnel)
    difference = all_forces_difference(national, league)
    return (*lines, difference) if difference and funnel["compared"] else tuple(lines)


def _times(ratio: float | None) -> str:
    """': the highest is 2.2 times the lowest', when it is at least 1.5 times."""
    return "" if ratio is None or ratio < 1.5 else f": the highest is {ratio:.1f} times the lowest"


def _funnel_lines(funnel: dict[str, Any]) -> list[str]:
    """Both judgements of the funnel plot, in plain words; never 'no force stands out'."""
    compared, higher, lower = funnel["compared"], funnel["poisson_above"], funnel["poisson_below"]
    if not compared:
        return []
    chance = (
        f"Against the rate of all forces together ({fmt.rate(funnel['target'])} per 1,000), {higher} of the "
        f"{compared} forces compared were higher and {lower} lower than chance alone would explain."
    )
    usual = "Forces always differ by more than chance, in the places they police and how they record crime; "
    usual += "allowing for that usual spread, "
    if funnel["above"] or funnel["below"]:
        usual += f"{funnel['above']} were above and {funnel['below']} below the limits."
    else:
        usual += "no force was outside the limits: large as they are, the gaps between forces are of the usual size."
    return [chance, usual]
