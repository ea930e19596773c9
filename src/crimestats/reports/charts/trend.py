"""Rates over time: a line with points per series, and the 95% interval as a band."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from crimestats.errors import NoDataError
from crimestats.periods import parse_period, period_label
from crimestats.reports.charts._rows import interval, number, rate_text
from crimestats.reports.charts._spec import Spec, field, inline, tooltip
from crimestats.reports.charts._theme import RATE_TITLE, SERIES, WIDTH, finish

HEIGHT = 320
#: A band narrower than this (in pixels) hardly shows either side of the line drawn over it (2.5 pixels wide).
VISIBLE_BAND = 8.0


def trend_chart(
    rows: list[dict[str, Any]],
    title: str = "",
    *,
    measure: str = RATE_TITLE,
    notes: Sequence[str] = (),
) -> Spec:
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
    x = field(
        "date:T",
        timeUnit="utcyearmonth",
        title="Year ending",
        axis={"values": ticks, "format": "%b %Y", "labelAngle": 0, "grid": False},
    )
    y = field("rate_per_1000:Q", title=measure, scale={"zero": True})
    colour = field(
        "series:N",
        title=None,
        scale={"domain": series, "range": [SERIES[i % len(SERIES)] for i in range(len(series))]},
        legend={"symbolType": "stroke", "symbolOpacity": 1, "symbolStrokeWidth": 3},
    )
    lines = {"invalid": "break-paths-show-domains", "aria": False}
    band = {
        "mark": {"type": "area", "opacity": 0.22, **lines},
        "encoding": {
            "x": x,
            "y": field("rate_ci_low:Q", title=measure),
            "y2": {"field": "rate_ci_high"},
            "color": colour,
        },
    }
    line = {"mark": {"type": "line", "strokeWidth": 2.5, **lines}, "encoding": {"x": x, "y": y, "color": colour}}
    points = {
        "mark": {"type": "circle", "size": 42, "opacity": 1},
        "encoding": {
            "x": x,
            "y": y,
            "color": colour,
            "description": field("summary:N"),
            "tooltip": [
                tooltip("series:N", "Area"),
                tooltip("period_label:N", "Period"),
                tooltip("rate_per_1000:Q", measure, ",.1f"),
                tooltip("interval:N", "95% interval"),
            ],
        },
    }
    chart = {"data": inline(records), "layer": [band, line, points], "width": WIDTH, "height": HEIGHT}
    description = " ".join([_trend_description(records, series, measure), *notes])
    return finish(chart, title, description, _wrapped(notes))


def _wrapped(notes: Sequence[str], width: int = 96) -> list[str]:
    """Subtitle lines short enough for the chart's width (Vega does not wrap titles)."""
    return [line for note in notes for line in textwrap.wrap(note, width)]


def _trend_record(row: Mapping[str, Any]) -> dict[str, Any]:
    month = parse_period(str(row["period"]))
    low, high = number(row.get("rate_ci_low")), number(row.get("rate_ci_high"))
    label, rate = str(row.get("period_label") or period_label(month)), number(row.get("rate_per_1000"))
    return {
        "date": month.isoformat(),
        "period_label": label,
        "series": str(row["series"]),
        "rate_per_1000": rate,
        "rate_ci_low": low,
        "rate_ci_high": high,
        "interval": interval(low, high),
        "summary": f"{row['series']}, {label}: {rate_text(rate)}",
    }


def _datetime(iso_date: str) -> dict[str, Any]:
    year, month, _ = iso_date.split("-")
    return {"year": int(year), "month": int(month), "date": 1, "utc": True}


def _trend_description(records: list[dict[str, Any]], series: list[str], measure: str = RATE_TITLE) -> str:
    """What the chart shows, its bands as drawn, and every series' rate in the last period (the report's)."""
    dated = sorted(records, key=lambda record: record["date"])
    last = dated[-1]
    latest = [
        f"{record['series']} {rate_text(record['rate_per_1000'])}"
        for name in series
        for record in dated
        if record["series"] == name and record["date"] == last["date"] and record["rate_per_1000"] is not None
    ]
    return (
        f"Line chart of {measure.lower()} from the {dated[0]['period_label']} to the {last['period_label']}"
        f" for {', '.join(series)}. {_bands_text(records)} Latest, {last['period_label']}: {'; '.join(latest)}."
    )


def _bands_text(records: list[dict[str, Any]]) -> str:
    """'Shaded bands show 95% intervals.', or, where every band is thinner than a line (large counts), that
    they are too narrow to see."""
    widths = [
        r["rate_ci_high"] - r["rate_ci_low"]
        for r in records
        if r["rate_ci_low"] is not None and r["rate_ci_high"] is not None
    ]
    top = max([r["rate_ci_high"] or 0.0 for r in records] + [r["rate_per_1000"] or 0.0 for r in records])
    if not widths:
        return "No 95% intervals are available."
    if top > 0 and max(widths) / top * HEIGHT < VISIBLE_BAND:
        most = rate_text(max(widths) / 2)
        return f"The 95% intervals are too narrow to show at this scale (at most {most} either side of the rate)."
    return "Shaded bands show 95% intervals."
