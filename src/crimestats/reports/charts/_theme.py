"""The look every chart shares (installed sans-serif fonts, never web fonts; colours with enough contrast), and
:func:`finish`, which turns a view or a layer into a finished, themed Vega-Lite spec."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

from crimestats.reports.charts._spec import Spec

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
WIDTH = 640
RATE_TITLE = "Crimes per 1,000 residents"

#: The Vega-Lite version the specs are written for; the tests validate them against the schema Altair ships.
SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.4.1.json"

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


def finish(chart: dict[str, Any], title: str, description: str, notes: Sequence[str] = ()) -> Spec:
    """The chart with its title, subtitle notes, accessible description and the shared theme.

    A finished spec is a top-level one: it cannot be put inside another layer or concatenation. Each inline data
    set moves to the top-level ``datasets`` under a name made from its content, so layers drawing the same rows
    share one copy (as Altair lays a spec out).
    """
    spec: dict[str, Any] = {"$schema": SCHEMA_URL, "config": copy.deepcopy(THEME), **chart}
    if title:
        spec["title"] = {"text": title, "subtitle": list(notes)} if notes else {"text": title}
    elif notes:  # no title: the notes alone, in the subtitle style
        spec["title"] = {"text": list(notes), "fontSize": 13, "fontWeight": "normal", "color": MUTED}
    spec["description"] = description
    datasets: dict[str, str] = {}
    for view in [spec, *spec.get("layer", [])]:
        data = view.get("data")
        if data is not None and "values" in data:
            name = "data-" + hashlib.sha256(data["values"].encode()).hexdigest()[:32]
            datasets[name] = data["values"]
            view["data"] = {"name": name, "format": data["format"]}
    if datasets:
        spec["datasets"] = datasets
    return Spec(spec)
