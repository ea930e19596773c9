"""Charts as Altair (Vega-Lite) specs built from plain rows, and static SVG/PNG rendering with vl-convert.

Every chart carries its data inline, shares one theme (installed sans-serif fonts, never web fonts), has titles and
axis labels in plain words and a ``description`` for screen readers. Rendering never touches the network.

Charts with an interval or limit lines are layered, so :func:`league_chart`, :func:`trend_chart` and
:func:`funnel_chart` return ``alt.LayerChart``. The theme is applied with ``configure``, so a chart is finished:
it cannot be put inside another layer or concatenation.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

import altair as alt
import vl_convert as vlc

from crimestats import formatting as fmt
from crimestats.errors import NoDataError, UnknownAreaError
from crimestats.periods import parse_period, period_label

__all__ = [
    "ACCENT",
    "FONT",
    "GREY",
    "NEUTRAL",
    "NO_DATA",
    "THEME",
    "WIDTH",
    "choropleth",
    "funnel_chart",
    "league_chart",
    "offence_mix_chart",
    "rewind",
    "to_png",
    "to_svg",
    "trend_chart",
]

# Installed fonts only (no web fonts). Arial-metric faces first: vl-convert lays text out with Liberation Sans
# (metric-compatible with Arial), so labels measured there fit the same way in a browser.
FONT = "Arial, 'Liberation Sans', Helvetica, 'Helvetica Neue', sans-serif"
ACCENT = "#c4501f"  # the force in focus (4.6:1 against white)
NEUTRAL = "#4f6d8a"  # every bar when no force is in focus
GREY = "#8c939b"  # the other forces (3.1:1 against white, enough for shapes)
INK = "#1f2328"
MUTED = "#59636e"
GRID = "#e6e8eb"
NO_DATA = "#d6d8db"  # areas without a rate: neutral, unlike any shade of the blue scale
SERIES = [ACCENT, "#3d4852", "#2f7fbf", "#8c6bb1", "#5b8c3a", "#b8860b"]
POSITIONS = {  # funnel position (judged at 99.8%) → (legend label, colour)
    "above": ("Above the 99.8% limit", "#b2182b"),
    "within": ("Within the limits", "#9aa1a9"),
    "below": ("Below the 99.8% limit", "#2166ac"),
}
WIDTH = 640
RATE_TITLE = "Crimes per 1,000 residents"

THEME: dict[str, Any] = {
    "font": FONT,
    "background": "white",
    "padding": 12,
    "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": 360},
    "title": {
        "anchor": "start",
        "fontSize": 17,
        "fontWeight": "bold",
        "color": INK,
        "subtitleFontSize": 13,
        "subtitleColor": MUTED,
        "subtitlePadding": 6,
        "offset": 14,
    },
    "axis": {
        "labelFontSize": 12,
        "labelColor": INK,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
        "titleColor": MUTED,
        "gridColor": GRID,
        "domainColor": GREY,
        "tickColor": GREY,
    },
    "axisBand": {"domain": False, "ticks": False, "grid": False, "labelPadding": 6},
    "legend": {
        "orient": "top",
        "labelFontSize": 12,
        "labelColor": INK,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
        "titleColor": MUTED,
    },
    "range": {"category": SERIES},
}


# ---------------------------------------------------------------------------------------------------------------
# Small helpers


def _number(value: object) -> float | None:
    """A finite float, or None for missing, non-numeric (``..``) and NaN values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt(value: float | None, digits: int | None = None) -> str:
    """A rate as tables print it (:func:`crimestats.formatting.rate`), or to ``digits`` decimal places."""
    return "no rate published" if value is None else fmt.rate(value, digits)


def _interval(low: float | None, high: float | None) -> str:
    return "not published" if low is None or high is None else f"{low:,.1f} to {high:,.1f}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _find_force(rows: Sequence[Mapping[str, Any]], highlight: str | None) -> Mapping[str, Any] | None:
    """The row whose force code or name is ``highlight`` (any case); None when nothing is highlighted."""
    if highlight is None:
        return None
    key = highlight.strip().casefold()
    for row in rows:
        if key in (str(row.get("force_code", "")).casefold(), str(row.get("force", "")).casefold()):
            return row
    raise UnknownAreaError(f"cannot highlight {highlight!r}: it is not one of the forces in the chart data")


def _inline(values: list[dict[str, Any]]) -> alt.InlineData:
    """Data embedded in the spec as one JSON string, so a chart never fetches anything and Altair passes the
    rows through without walking (and copying) them — building a report's charts stays fast."""
    text = json.dumps(values, separators=(",", ":"), allow_nan=False)
    return alt.InlineData(values=text, format=alt.DataFormat(type="json"))  # type: ignore[no-untyped-call]


def _bold_label(name: str | None) -> dict[str, Any] | Literal["normal"]:
    """Axis label weight: bold for the force in focus."""
    if name is None:
        return "normal"
    return {"condition": {"test": f"datum.value === {json.dumps(name)}", "value": "bold"}, "value": "normal"}


ChartT = TypeVar("ChartT", alt.Chart, alt.LayerChart)


def _finish(chart: ChartT, title: str, description: str, notes: Sequence[str] = ()) -> ChartT:
    """Title, subtitle notes, accessible description and the shared theme."""
    if title:
        chart = chart.properties(title=alt.Title(title, subtitle=list(notes)) if notes else alt.Title(title))
    elif notes:  # no title: the notes alone, in the subtitle style
        chart = chart.properties(title=alt.Title(list(notes), fontSize=13, fontWeight="normal", color=MUTED))
    themed: ChartT = chart.properties(description=description).configure(**THEME)
    return themed


# ---------------------------------------------------------------------------------------------------------------
# League table


def league_chart(
    rows: list[dict[str, Any]], highlight: str | None = None, title: str = "", *, measure: str = RATE_TITLE
) -> alt.LayerChart:
    """Horizontal bars of the rate per force, lowest at the top, with 95% intervals as lines.

    Rows without a rate are left out. ``highlight`` (force code or name) is drawn in the accent colour.
    ``measure`` names the rate on the axis and in the description (e.g. 'Burglary per 1,000 residents').
    """
    focus = _find_force(rows, highlight)
    ranked = sorted(
        (row for row in rows if _number(row.get("rate_per_1000")) is not None),
        key=lambda row: (_number(row["rate_per_1000"]), str(row["force"])),
    )
    if not ranked:
        raise NoDataError("no force in the league table has a published rate")
    records = [_league_record(row, rank, len(ranked)) for rank, row in enumerate(ranked, 1)]
    order = [record["force"] for record in records]
    y = alt.Y(
        "force:N", sort=order, title=None, axis=alt.Axis(labelFontWeight=_bold_label(_name(focus)), labelLimit=240)
    )
    x = alt.X("rate_per_1000:Q", title=measure, axis=alt.Axis(format=",.0f"))
    if focus is None:
        colour: Any = alt.value(NEUTRAL)
    else:
        colour = (
            alt.when(alt.datum.force_code == str(focus["force_code"]))
            .then(alt.value(ACCENT))
            .otherwise(alt.value(GREY))
        )
    base = alt.Chart(_inline(records))
    bars = base.mark_bar(height={"band": 0.72}).encode(
        x=x,
        y=y,
        color=colour,
        description="summary:N",
        tooltip=[
            alt.Tooltip("force:N", title="Police force area"),
            alt.Tooltip("rate_per_1000:Q", title=measure, format=",.1f"),
            alt.Tooltip("interval:N", title="95% interval"),
            alt.Tooltip("rank:N", title="Position"),
        ],
    )
    intervals = (
        base.transform_filter("isValid(datum.rate_ci_low) && isValid(datum.rate_ci_high)")
        .mark_rule(color=INK, strokeWidth=1.2, aria=False)
        .encode(x=alt.X("rate_ci_low:Q", title=measure), x2="rate_ci_high:Q", y=y)
    )
    chart = alt.LayerChart(layer=[bars, intervals]).properties(width=WIDTH, height=alt.Step(18))
    return _finish(chart, title, _league_description(records, focus, len(rows) - len(ranked), measure))


def _name(row: Mapping[str, Any] | None) -> str | None:
    return None if row is None else str(row["force"])


def _league_record(row: Mapping[str, Any], rank: int, count: int) -> dict[str, Any]:
    low, high = _number(row.get("rate_ci_low")), _number(row.get("rate_ci_high"))
    rate, position = _number(row["rate_per_1000"]), f"{_ordinal(rank)} lowest of {count}"
    return {
        "force_code": str(row["force_code"]),
        "force": str(row["force"]),
        "rate_per_1000": rate,
        "rate_ci_low": low,
        "rate_ci_high": high,
        "interval": _interval(low, high),
        "rank": position,
        "summary": f"{row['force']}: {_fmt(rate)} (95% interval {_interval(low, high)}), {position}",
    }


def _league_description(
    records: list[dict[str, Any]], focus: Mapping[str, Any] | None, dropped: int, measure: str = RATE_TITLE
) -> str:
    first, last = records[0], records[-1]
    parts = [
        f"Bar chart of {measure.lower()} in {len(records)} police force areas, lowest first:"
        f" lowest {first['force']} ({_fmt(first['rate_per_1000'])}),"
        f" highest {last['force']} ({_fmt(last['rate_per_1000'])})."
        " Lines show 95% intervals."
    ]
    if focus is not None:
        match = [record for record in records if record["force_code"] == str(focus["force_code"])]
        if match:
            parts.append(f"{match[0]['force']} is highlighted: {_fmt(match[0]['rate_per_1000'])}, {match[0]['rank']}.")
        else:
            parts.append(f"No rate is published for {focus['force']}.")
    if dropped:
        parts.append(f"{dropped} force{'s' if dropped > 1 else ''} with no published rate left out.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# Trend


def trend_chart(
    rows: list[dict[str, Any]],
    title: str = "",
    *,
    measure: str = RATE_TITLE,
    notes: Sequence[str] = (),
) -> alt.LayerChart:
    """Lines with points per series over quarter-end periods, with the 95% interval as a band.

    The first series in ``rows`` is the one in focus (accent colour). A missing rate breaks the line, and
    different series are never joined: an area whose definition changes (England and Wales excluding a force
    with no figures) is given a series of its own by the caller. ``notes`` go in the subtitle and the
    description.
    """
    records = [_trend_record(row) for row in rows]
    if not any(record["rate_per_1000"] is not None for record in records):
        raise NoDataError("no period in the trend has a published rate")
    series = list(dict.fromkeys(record["series"] for record in records))
    dates = sorted({record["date"] for record in records})
    step = math.ceil(len(dates) / 8)
    ticks = [_datetime(date) for date in dates[::-1][::step][::-1]]
    x = alt.X(
        "date:T",
        timeUnit="utcyearmonth",
        title="Year ending",
        axis=alt.Axis(values=ticks, format="%b %Y", labelAngle=0, grid=False),
    )
    y_title = alt.Y("rate_per_1000:Q", title=measure, scale=alt.Scale(zero=True))
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=series, range=_series_colours(len(series))),
        legend=alt.Legend(symbolType="stroke", symbolOpacity=1, symbolStrokeWidth=3),
    )
    base = alt.Chart(_inline(records))
    band = base.mark_area(opacity=0.14, invalid="break-paths-show-domains", aria=False).encode(
        x=x, y=alt.Y("rate_ci_low:Q", title=measure), y2="rate_ci_high:Q", color=colour
    )
    line = base.mark_line(strokeWidth=2.5, invalid="break-paths-show-domains", aria=False).encode(
        x=x, y=y_title, color=colour
    )
    points = base.mark_circle(size=42, opacity=1).encode(
        x=x,
        y=y_title,
        color=colour,
        description="summary:N",
        tooltip=[
            alt.Tooltip("series:N", title="Area"),
            alt.Tooltip("period_label:N", title="Period"),
            alt.Tooltip("rate_per_1000:Q", title=measure, format=",.1f"),
            alt.Tooltip("interval:N", title="95% interval"),
        ],
    )
    chart = alt.LayerChart(layer=[band, line, points]).properties(width=WIDTH, height=320)
    description = " ".join([_trend_description(records, series, measure), *notes])
    return _finish(chart, title, description, _wrapped(notes))


def _wrapped(notes: Sequence[str], width: int = 96) -> list[str]:
    """Subtitle lines short enough for the chart's width (Vega does not wrap titles)."""
    return [line for note in notes for line in textwrap.wrap(note, width)]


def _trend_record(row: Mapping[str, Any]) -> dict[str, Any]:
    month = parse_period(str(row["period"]))
    low, high = _number(row.get("rate_ci_low")), _number(row.get("rate_ci_high"))
    label, rate = str(row.get("period_label") or period_label(month)), _number(row.get("rate_per_1000"))
    return {
        "date": month.isoformat(),
        "period_label": label,
        "series": str(row["series"]),
        "rate_per_1000": rate,
        "rate_ci_low": low,
        "rate_ci_high": high,
        "interval": _interval(low, high),
        "summary": f"{row['series']}, {label}: {_fmt(rate)}",
    }


def _datetime(iso_date: str) -> dict[str, Any]:
    year, month, _ = iso_date.split("-")
    return {"year": int(year), "month": int(month), "date": 1, "utc": True}


def _series_colours(count: int) -> list[str]:
    return [SERIES[i % len(SERIES)] for i in range(count)]


def _trend_description(records: list[dict[str, Any]], series: list[str], measure: str = RATE_TITLE) -> str:
    dated = sorted(records, key=lambda record: record["date"])
    latest = []
    for name in series:
        points = [record for record in dated if record["series"] == name and record["rate_per_1000"] is not None]
        if points:
            latest.append(f"{name} {_fmt(points[-1]['rate_per_1000'])}")
    return (
        f"Line chart of {measure.lower()} from the {dated[0]['period_label']} to the {dated[-1]['period_label']}"
        f" for {', '.join(series)}. Shaded bands show 95% intervals. Latest: {'; '.join(latest)}."
    )


# ---------------------------------------------------------------------------------------------------------------
# Funnel plot


def funnel_chart(
    funnel: dict[str, Any], highlight: str | None = None, title: str = "", *, measure: str = RATE_TITLE
) -> alt.LayerChart:
    """Rate against population with the target line and the 95% (dashed) and 99.8% (solid) control limits.

    Points are coloured by their position against the limits; ``highlight`` is ringed and labelled.
    """
    rows = [row for row in funnel["rows"] if _number(row.get("rate_per_1000")) is not None]
    if not rows:
        raise NoDataError("no force in the funnel plot has a published rate")
    focus = _find_force(funnel["rows"], highlight)
    target = float(funnel["target"])
    points = [_funnel_record(row) for row in rows]
    limits = [_number(c.get(key)) for c in funnel["curve"] for key in ("lower_998", "upper_998")]
    rates = [point["rate_per_1000"] for point in points] + [target] + [v for v in limits if v is not None]
    pad = (max(rates) - min(rates)) * 0.08 or 1.0
    y_scale = alt.Scale(domain=[max(0.0, min(rates) - pad), max(rates) + pad], nice=False)
    x_max = max(
        [point["population"] for point in points] + [_number(c.get("population")) or 0 for c in funnel["curve"]]
    )
    x_scale = alt.Scale(domain=[0, x_max * 1.04], nice=False)
    x_axis = alt.Axis(labelExpr="format(datum.value / 1000000, '~g')", tickCount=8)
    x = alt.X("population:Q", title="Residents (millions)", scale=x_scale, axis=x_axis)
    layers = [
        _funnel_limits(funnel["curve"], x, y_scale, measure),
        *_funnel_target(target, x_max * 1.03, x, y_scale, measure),
        alt.Chart(_inline(points))
        .mark_circle(size=70, opacity=0.9, stroke="white", strokeWidth=0.8)
        .encode(
            x=x,
            y=alt.Y("rate_per_1000:Q", title=measure, scale=y_scale),
            color=_position_colour(points),
            description="summary:N",
            tooltip=[
                alt.Tooltip("force:N", title="Police force area"),
                alt.Tooltip("rate_per_1000:Q", title=measure, format=",.1f"),
                alt.Tooltip("population:Q", title="Residents", format=",.0f"),
                alt.Tooltip("position:N", title="Compared with the limits"),
            ],
        ),
    ]
    focus_point = (
        None if focus is None else next((p for p in points if p["force_code"] == str(focus["force_code"])), None)
    )
    if focus_point is not None:
        layers += _funnel_focus(focus_point, x_max, x, y_scale, measure)
    chart = alt.LayerChart(layer=layers).properties(width=WIDTH, height=400)
    adjusted = bool((funnel.get("overdispersion") or {}).get("adjusted"))
    note = f"Average {target:,.1f}. Dashed lines: 95% limits; solid lines: 99.8% limits"
    note += ", widened for over-dispersion." if adjusted else "."
    description = _funnel_description(points, target, focus, focus_point, measure)
    if funnel.get("method"):
        description += f" Method: {funnel['method']}."
    return _finish(chart, title, description, [note])


def _funnel_record(row: Mapping[str, Any]) -> dict[str, Any]:
    position = str(row.get("position") or "").strip()
    key = position.casefold().replace("_", " ").split(" ")[0] if position else ""
    label = POSITIONS[key][0] if key in POSITIONS else (position or "Not assessed")
    rate, population = _number(row["rate_per_1000"]), _number(row.get("population")) or 0.0
    return {
        "force_code": str(row["force_code"]),
        "force": str(row["force"]),
        "rate_per_1000": rate,
        "population": population,
        "position": label,
        "summary": f"{row['force']}: {_fmt(rate)}, {population:,.0f} residents, {label.lower()}",
    }


def _position_colour(points: list[dict[str, Any]]) -> alt.Color:
    labels = [label for label, _ in POSITIONS.values()]
    colours = [colour for _, colour in POSITIONS.values()]
    extra = sorted({point["position"] for point in points} - set(labels))
    return alt.Color(
        "position:N",
        title=None,
        scale=alt.Scale(domain=labels + extra, range=colours + [NO_DATA] * len(extra)),
        legend=alt.Legend(orient="top", symbolType="circle"),
    )


def _funnel_limits(curve: Sequence[Mapping[str, Any]], x: alt.X, y_scale: alt.Scale, measure: str) -> alt.Chart:
    """The four limit lines, long format: dashed 95%, solid 99.8%, clipped to the plot."""
    records = []
    for point in curve:
        population = _number(point.get("population"))
        for key, level, side in (
            ("lower_95", "95% limits", "lower"),
            ("upper_95", "95% limits", "upper"),
            ("lower_998", "99.8% limits", "lower"),
            ("upper_998", "99.8% limits", "upper"),
        ):
            value = _number(point.get(key))
            if population is not None and value is not None:
                records.append({"population": population, "value": value, "level": level, "line": f"{level} {side}"})
    lines: alt.Chart = (
        alt.Chart(_inline(records))
        .mark_line(color=MUTED, strokeWidth=1.2, clip=True, aria=False)
        .encode(
            x=x,
            y=alt.Y("value:Q", scale=y_scale, title=measure),
            detail="line:N",
            order="population:Q",
            strokeDash=alt.StrokeDash(
                "level:N",
                title=None,
                scale=alt.Scale(domain=["95% limits", "99.8% limits"], range=[[5, 4], [1, 0]]),
                legend=alt.Legend(orient="top", symbolStrokeColor=MUTED),
            ),
        )
    )
    return lines


def _funnel_target(target: float, right: float, x: alt.X, y_scale: alt.Scale, measure: str) -> list[alt.Chart]:
    """The average as a horizontal line, labelled at its right end."""
    base = alt.Chart(_inline([{"target": target, "population": right, "label": f"Average {target:,.1f}"}]))
    y = alt.Y("target:Q", scale=y_scale, title=measure)
    rule = base.mark_rule(color=INK, strokeWidth=1, aria=False).encode(y=y)
    label = base.mark_text(align="right", baseline="bottom", dy=-4, fontSize=11, color=INK, aria=False).encode(
        x=x, y=y, text="label:N"
    )
    return [rule, label]


def _funnel_focus(point: dict[str, Any], x_max: float, x: alt.X, y_scale: alt.Scale, measure: str) -> list[alt.Chart]:
    """A ring and a name label for the highlighted force (label to the left near the right edge)."""
    right = point["population"] > 0.7 * x_max
    base = alt.Chart(_inline([point])).encode(x=x, y=alt.Y("rate_per_1000:Q", scale=y_scale, title=measure))
    ring = base.mark_point(size=220, stroke=INK, strokeWidth=2, filled=False, aria=False)
    label = base.mark_text(
        align="right" if right else "left", dx=-11 if right else 11, fontSize=13, fontWeight="bold", color=INK
    ).encode(text="force:N")
    return [ring, label]


def _funnel_description(
    points: list[dict[str, Any]],
    target: float,
    focus: Mapping[str, Any] | None,
    focus_point: dict[str, Any] | None,
    measure: str = RATE_TITLE,
) -> str:
    counts = {label: sum(point["position"] == label for point in points) for label, _ in POSITIONS.values()}
    parts = [
        f"Funnel plot of {measure.lower()} against number of residents for {len(points)} police force areas,"
        f" around an average of {target:,.1f}, with 95% (dashed) and 99.8% (solid) control limits.",
        " ".join(f"{label}: {count}." for label, count in counts.items()),
    ]
    if focus_point is not None:
        rate, position = _fmt(focus_point["rate_per_1000"]), focus_point["position"].lower()
        parts.append(f"{focus_point['force']} is highlighted: {rate}, {position}.")
    elif focus is not None:
        parts.append(f"No rate is published for {focus['force']}.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# Offence mix


def offence_mix_chart(
    rows: list[dict[str, Any]], force: str, peer_label: str, title: str = "", *, what: str = "offence groups"
) -> alt.Chart:
    """Paired horizontal bars per offence group: the force (accent) against its peers' average (grey).

    ``what`` says what the rows are, for the description ('offence groups', 'types of burglary').
    """
    records: list[dict[str, Any]] = []
    offences: list[str] = []
    for row in rows:
        pair = ((force, _number(row.get("force_rate"))), (peer_label, _number(row.get("peer_rate"))))
        if all(rate is None for _, rate in pair):
            continue
        offences.append(str(row["offence"]))
        records += [
            {
                "offence": str(row["offence"]),
                "group": group,
                "rate": rate,
                "summary": f"{row['offence']}, {group}: {rate:,.2f}",
            }
            for group, rate in pair
            if rate is not None
        ]
    if not records:
        raise NoDataError(f"no offence group has a published rate for {force} or {peer_label}")
    groups = [force, peer_label]
    chart: alt.Chart = (
        alt.Chart(_inline(records))
        .mark_bar(height={"band": 0.9})
        .encode(
            x=alt.X("rate:Q", title=RATE_TITLE, axis=alt.Axis(format=",~f")),
            y=alt.Y("offence:N", sort=offences, title=None, axis=alt.Axis(labelLimit=260)),
            yOffset=alt.YOffset("group:N", sort=groups),
            color=alt.Color("group:N", title=None, scale=alt.Scale(domain=groups, range=[ACCENT, GREY])),
            description="summary:N",
            tooltip=[
                alt.Tooltip("offence:N", title="Offence group"),
                alt.Tooltip("group:N", title="Area"),
                alt.Tooltip("rate:Q", title=RATE_TITLE, format=",.2f"),
            ],
        )
        .properties(width=WIDTH, height=alt.Step(14))
    )
    return _finish(chart, title, _mix_description(rows, force, peer_label, offences, what))


def _mix_description(
    rows: list[dict[str, Any]], force: str, peer_label: str, offences: list[str], what: str = "offence groups"
) -> str:
    text = f"Paired bar chart of {RATE_TITLE.lower()} in {len(offences)} {what}, comparing {force} with {peer_label}."
    gaps = [
        (force_rate / peer_rate, str(row["offence"]), force_rate, peer_rate)
        for row in rows
        if (force_rate := _number(row.get("force_rate"))) is not None
        and (peer_rate := _number(row.get("peer_rate"))) is not None
        and peer_rate > 0
    ]
    if gaps:
        ratio, offence, force_rate, peer_rate = max(gaps, key=lambda gap: abs(math.log(gap[0])) if gap[0] > 0 else 0)
        text += f" Largest difference: {offence}, {_fmt(force_rate, 2)} against {_fmt(peer_rate, 2)}."
    return text


# ---------------------------------------------------------------------------------------------------------------
# Map


def choropleth(
    geojson: dict[str, Any],
    rows: list[dict[str, Any]],
    code_property: str,
    highlight: str | None = None,
    title: str = "",
    *,
    measure: str = RATE_TITLE,
) -> alt.Chart:
    """Police force areas filled by rate; areas without a rate in light grey; ``highlight`` outlined.

    ``geojson`` is a FeatureCollection in WGS84 whose features carry the ONS force code in
    ``properties[code_property]``. Rings are rewound for d3-geo and coordinates rounded to 5 decimals (about 1 m).
    """
    if geojson.get("type") != "FeatureCollection" or not isinstance(geojson.get("features"), list):
        raise ValueError("choropleth needs a GeoJSON FeatureCollection")
    by_code = {str(row["force_code"]): row for row in rows}
    features = [_map_feature(feature, code_property, by_code) for feature in geojson["features"]]
    focus_code = _map_focus(features, rows, highlight)
    features.sort(key=lambda feature: feature["properties"]["code"] == focus_code)  # focus drawn last, on top
    for feature in features:
        feature["properties"]["focus"] = feature["properties"]["code"] == focus_code
    chart: alt.Chart = (
        alt.Chart(_inline(features))
        .mark_geoshape(strokeJoin="round", invalid="show")  # keep areas without a rate: the colour condition greys them
        .encode(
            color=_map_colour(features, measure),
            stroke=alt.when("datum.properties.focus").then(alt.value(INK)).otherwise(alt.value("white")),
            strokeWidth=alt.when("datum.properties.focus").then(alt.value(2.5)).otherwise(alt.value(0.6)),
            description="properties.summary:N",
            tooltip=[
                alt.Tooltip("properties.force:N", title="Police force area"),
                alt.Tooltip("properties.rate_text:N", title=measure),
            ],
        )
        .project(type="transverseMercator", rotate=[2, 0, 0])
        .properties(width=520, height=600)
    )
    missing = sum(feature["properties"]["rate_per_1000"] is None for feature in features)
    notes = [f"Light grey: no rate published ({missing} area{'s' if missing > 1 else ''})"] if missing else []
    return _finish(chart, title, _map_description(features, focus_code, measure), notes)


def _map_colour(features: list[dict[str, Any]], measure: str = RATE_TITLE) -> Any:
    """Sequential blues for the rate; light grey where no rate is published (or for everything, if none is)."""
    if all(feature["properties"]["rate_per_1000"] is None for feature in features):
        return alt.value(NO_DATA)
    scale = alt.Scale(scheme={"name": "blues", "extent": [0.2, 1]}, zero=False)
    legend = alt.Legend(orient="top-left", direction="horizontal", gradientLength=180, format=",~f")
    # The grey condition must test for the missing rate: with `invalid="show"` a field condition that holds
    # for valid rates would still colour null rates as the lowest shade.
    return (
        alt.when("!isValid(datum.properties.rate_per_1000)")
        .then(alt.value(NO_DATA))
        .otherwise(alt.Color("properties.rate_per_1000:Q", title=measure, scale=scale, legend=legend))
    )


def _map_feature(
    feature: Mapping[str, Any], code_property: str, by_code: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    properties = feature.get("properties") or {}
    code = str(properties.get(code_property, ""))
    row = by_code.get(code)
    rate = None if row is None else _number(row.get("rate_per_1000"))
    # ONS names sit beside codes: PFA16CD → PFA16NM.
    name = row["force"] if row is not None else properties.get(code_property[:-2] + "NM", code)
    return {
        "type": "Feature",
        "geometry": _prepared(json.dumps(feature["geometry"])),
        "properties": {
            "code": code,
            "force": str(name),
            "rate_per_1000": rate,
            "rate_text": _fmt(rate),
            "summary": f"{name}: {_fmt(rate)}",
        },
    }


def _map_focus(features: list[dict[str, Any]], rows: list[dict[str, Any]], highlight: str | None) -> str | None:
    if highlight is None:
        return None
    key = highlight.strip().casefold()
    for feature in features:
        if key in (feature["properties"]["code"].casefold(), feature["properties"]["force"].casefold()):
            return str(feature["properties"]["code"])
    row = _find_force(rows, highlight)  # raises when the force is in neither
    raise UnknownAreaError(f"cannot highlight {highlight!r}: no boundary has the code {row['force_code']}")  # type: ignore[index]


def _map_description(features: list[dict[str, Any]], focus_code: str | None, measure: str = RATE_TITLE) -> str:
    rated = sorted(
        (f["properties"] for f in features if f["properties"]["rate_per_1000"] is not None),
        key=lambda p: p["rate_per_1000"],
    )
    text = f"Map of {len(features)} police force areas shaded by {measure.lower()}; darker is higher."
    if rated:
        text += (
            f" Lowest {rated[0]['force']} ({_fmt(rated[0]['rate_per_1000'])}),"
            f" highest {rated[-1]['force']} ({_fmt(rated[-1]['rate_per_1000'])})."
        )
    missing = [f["properties"]["force"] for f in features if f["properties"]["rate_per_1000"] is None]
    if missing:
        text += f" No rate published for {', '.join(missing)}."
    focus = [f["properties"] for f in features if f["properties"]["code"] == focus_code]
    if focus:
        text += f" {focus[0]['force']} is outlined: {focus[0]['rate_text']}."
    return text


@functools.lru_cache(maxsize=256)
def _prepared_text(geometry: str) -> str:
    return json.dumps(rewind(_rounded(json.loads(geometry))))


def _prepared(geometry: str) -> Any:
    """A geometry rounded and rewound, computed once per distinct geometry (maps are drawn for many reports)."""
    return json.loads(_prepared_text(geometry))


def _rounded(value: Any, digits: int = 5) -> Any:
    """Coordinates rounded (5 decimals of a degree is about 1 m), recursively."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, list | tuple):
        return [_rounded(item, digits) for item in value]
    if isinstance(value, Mapping):
        return {key: _rounded(item, digits) for key, item in value.items()}
    return value


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    """Shoelace area on longitude/latitude: positive when the ring runs anticlockwise."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:], strict=False)) / 2


def _wound(ring: list[Any], clockwise: bool) -> list[Any]:
    area = _ring_area(ring)
    return ring[::-1] if area != 0 and (area < 0) != clockwise else ring


def rewind(geometry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a (Multi)Polygon with exterior rings clockwise and holes anticlockwise, as d3-geo expects.

    RFC 7946 GeoJSON uses the opposite order; d3 reads such a polygon as the whole globe minus the area, which
    draws as a filled rectangle. Other geometry types are returned unchanged.
    """
    kind = geometry.get("type")
    if kind == "Polygon":
        return {"type": kind, "coordinates": _rewind_polygon(geometry["coordinates"])}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [_rewind_polygon(polygon) for polygon in geometry["coordinates"]]}
    return dict(geometry)


def _rewind_polygon(rings: Sequence[list[Any]]) -> list[list[Any]]:
    return [_wound(list(ring), clockwise=index == 0) for index, ring in enumerate(rings)]


# ---------------------------------------------------------------------------------------------------------------
# Rendering


def to_svg(chart: alt.TopLevelMixin | Mapping[str, Any]) -> str:
    """A self-contained SVG (no external fonts, images or data), labelled for screen readers.

    ``chart`` is an Altair chart or its Vega-Lite spec as a dict (``chart.to_dict()``).
    """
    spec = _spec(chart)
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    return _label_svg(_unique_ids(svg), _title_text(spec), str(spec.get("description") or ""))


def to_png(chart: alt.TopLevelMixin | Mapping[str, Any], scale: float = 1.0) -> bytes:
    """A PNG image (of a chart or its spec); ``scale=2`` for high-density screens and print."""
    return vlc.vegalite_to_png(_spec(chart), scale=scale, allowed_base_urls=[])


def _spec(chart: alt.TopLevelMixin | Mapping[str, Any]) -> dict[str, Any]:
    return dict(chart) if isinstance(chart, Mapping) else chart.to_dict()


def _unique_ids(svg: str) -> str:
    """Prefix the SVG's ids (clip paths, gradients) so several charts can sit inline in one HTML page.

    Vega numbers them from 1 in every chart, so without this the second chart would borrow the first one's clips.
    The prefix is a hash of the SVG, so output stays deterministic.
    """
    ids = sorted(set(re.findall(r'\bid="([^"]+)"', svg)), key=len, reverse=True)
    if not ids:
        return svg
    prefix = "c" + hashlib.sha1(svg.encode()).hexdigest()[:10]
    pattern = re.compile(r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, ids)) + r')(?=["\)])')
    return pattern.sub(lambda match: f"{match.group(1)}{prefix}-{match.group(2)}", svg)


def _title_text(spec: Mapping[str, Any]) -> str:
    title = spec.get("title") or ""
    text = title.get("text", "") if isinstance(title, Mapping) else title
    return " ".join(text) if isinstance(text, list) else str(text)


def _label_svg(svg: str, title: str, description: str) -> str:
    """Give the root ``<svg>`` an image role, an accessible name and ``<title>``/``<desc>`` children."""
    start = svg.index("<svg")
    end = svg.index(">", start)
    label = html.escape(title or description, quote=True)
    children = (f"<title>{html.escape(title)}</title>" if title else "") + (
        f"<desc>{html.escape(description)}</desc>" if description else ""
    )
    return f'{svg[:end]} role="img" aria-label="{label}">{children}{svg[end + 1 :]}'
