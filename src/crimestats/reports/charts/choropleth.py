"""The map: police force areas shaded by rate, areas without one in light grey, the force in focus outlined."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crimestats.errors import UnknownAreaError
from crimestats.reports.charts._geometry import geometry_json
from crimestats.reports.charts._rows import find_force, number, rate_text
from crimestats.reports.charts._spec import Spec, field, inline_text, tooltip, when
from crimestats.reports.charts._theme import INK, NO_DATA, RATE_TITLE, finish


def choropleth(
    geojson: dict[str, Any],
    rows: list[dict[str, Any]],
    code_property: str,
    highlight: str | None = None,
    title: str = "",
    *,
    measure: str = RATE_TITLE,
) -> Spec:
    """Police force areas filled by rate; areas without a rate in light grey; ``highlight`` outlined.

    ``geojson`` is a FeatureCollection in WGS84 whose features carry the ONS force code in
    ``properties[code_property]``. Rings are rewound for d3-geo and coordinates rounded to 5 decimals (about 1 m).
    The description names the lowest and highest by the rows' ``rank`` (1 = lowest rate), all of them where the
    rank is joint.
    """
    if geojson.get("type") != "FeatureCollection" or not isinstance(geojson.get("features"), list):
        raise ValueError("choropleth needs a GeoJSON FeatureCollection")
    by_code = {str(row["force_code"]): row for row in rows}
    areas = [(_properties(feature, code_property, by_code), feature["geometry"]) for feature in geojson["features"]]
    focus_code = _map_focus([properties for properties, _ in areas], rows, highlight)
    areas.sort(key=lambda area: area[0]["code"] == focus_code)  # focus drawn last, on top
    for properties, _ in areas:
        properties["focus"] = properties["code"] == focus_code
    features = [properties for properties, _ in areas]
    chart = {
        "data": inline_text(_feature_collection(areas)),
        # keep areas without a rate: the colour condition greys them
        "mark": {"type": "geoshape", "strokeJoin": "round", "invalid": "show"},
        "encoding": {
            "color": _map_colour(features, measure),
            "stroke": when("datum.properties.focus", INK, "white"),
            "strokeWidth": when("datum.properties.focus", 2.5, 0.6),
            "description": field("properties.summary:N"),
            "tooltip": [
                tooltip("properties.force:N", "Police force area"),
                tooltip("properties.rate_text:N", measure),
            ],
        },
        "projection": {"type": "transverseMercator", "rotate": [2, 0, 0]},
        "width": 520,
        "height": 600,
    }
    missing = sum(properties["rate_per_1000"] is None for properties in features)
    notes = [f"Light grey: no rate published ({missing} area{'s' if missing > 1 else ''})"] if missing else []
    ranks = {code: row.get("rank") for code, row in by_code.items()}
    return finish(chart, title, _map_description(features, focus_code, ranks, measure), notes)


def _feature_collection(areas: list[tuple[dict[str, Any], Any]]) -> str:
    """The features as one JSON array, each geometry spliced in as prepared (and cached) JSON text."""
    features = (
        f'{{"type":"Feature","geometry":{geometry_json(geometry)},'
        f'"properties":{json.dumps(properties, separators=(",", ":"), allow_nan=False)}}}'
        for properties, geometry in areas
    )
    return f"[{','.join(features)}]"


def _map_colour(features: list[dict[str, Any]], measure: str = RATE_TITLE) -> Any:
    """Sequential blues for the rate; light grey where no rate is published (or for everything, if none is)."""
    if all(properties["rate_per_1000"] is None for properties in features):
        return {"value": NO_DATA}
    scale = {"scheme": {"name": "blues", "extent": [0.2, 1]}, "zero": False}
    legend = {"orient": "top-left", "direction": "horizontal", "gradientLength": 180, "format": ",~f"}
    # The grey condition must test for the missing rate: with `invalid="show"` a field condition that holds
    # for valid rates would still colour null rates as the lowest shade.
    return {
        "condition": {"test": "!isValid(datum.properties.rate_per_1000)", "value": NO_DATA},
        **field("properties.rate_per_1000:Q", title=measure, scale=scale, legend=legend),
    }


def _properties(
    feature: Mapping[str, Any], code_property: str, by_code: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    properties = feature.get("properties") or {}
    code = str(properties.get(code_property, ""))
    row = by_code.get(code)
    rate = None if row is None else number(row.get("rate_per_1000"))
    # ONS names sit beside codes: PFA16CD → PFA16NM.
    name = row["force"] if row is not None else properties.get(code_property[:-2] + "NM", code)
    return {
        "code": code,
        "force": str(name),
        "rate_per_1000": rate,
        "rate_text": rate_text(rate),
        "summary": f"{name}: {rate_text(rate)}",
    }


def _map_focus(features: list[dict[str, Any]], rows: list[dict[str, Any]], highlight: str | None) -> str | None:
    if highlight is None:
        return None
    key = highlight.strip().casefold()
    for properties in features:
        if key in (properties["code"].casefold(), properties["force"].casefold()):
            return str(properties["code"])
    row = find_force(rows, highlight)  # raises when the force is in neither
    raise UnknownAreaError(f"cannot highlight {highlight!r}: no boundary has the code {row['force_code']}")  # type: ignore[index]


def _map_description(
    features: list[dict[str, Any]], focus_code: str | None, ranks: Mapping[str, Any], measure: str = RATE_TITLE
) -> str:
    text = f"Map of {len(features)} police force areas shaded by {measure.lower()}; darker is higher."
    ranked = [p for p in features if p["rate_per_1000"] is not None and ranks.get(p["code"]) is not None]
    if ranked:
        first, last = min(ranks[p["code"]] for p in ranked), max(ranks[p["code"]] for p in ranked)
        lowest = [p for p in ranked if ranks[p["code"]] == first]
        highest = [p for p in ranked if ranks[p["code"]] == last]
        text += f" Lowest {_named(lowest)}, highest {_named(highest)}."
    missing = [p["force"] for p in features if p["rate_per_1000"] is None]
    if missing:
        text += f" No rate published for {', '.join(missing)}."
    focus = [p for p in features if p["code"] == focus_code]
    if focus:
        text += f" {focus[0]['force']} is outlined: {focus[0]['rate_text']}."
    return text


def _named(areas: list[dict[str, Any]]) -> str:
    """'Dorset (61.5)'; areas sharing a rank: 'Dorset and Wiltshire (joint, 61.5)'."""
    names = sorted(str(p["force"]) for p in areas)
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{listed} ({'joint, ' if len(names) > 1 else ''}{areas[0]['rate_text']})"
