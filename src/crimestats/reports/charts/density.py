"""The point-density map: a force's crimes counted in hexagons, darker where more were recorded."""

from __future__ import annotations

import json
import math
from typing import Any

from crimestats.errors import NoDataError
from crimestats.reports.charts._geometry import rewind
from crimestats.reports.charts._spec import Spec, field, inline_text, tooltip
from crimestats.reports.charts._theme import finish

#: Kilometres in a degree of latitude, as the hexagons were binned (:data:`crimestats.analytics.street.KM_PER_DEGREE`).
KM_PER_DEGREE = 111.32


def density_map(
    bins: list[dict[str, Any]], radius_km: float, mid_latitude: float, title: str = "", *, notes: tuple[str, ...] = ()
) -> Spec:
    """Hexagons filled by how many crimes each holds (sequential blues; darker is more).

    ``bins`` are the hexagons :func:`crimestats.analytics.street.hex_bins` counted (centre ``longitude`` and
    ``latitude``, ``count``, ``outlying``), ``radius_km`` their size (centre to corner) and ``mid_latitude``
    the latitude the plane they were counted on is true at. The chart only draws each hexagon's six corners
    around its centre; outlying hexagons (far from the rest) are not drawn, and a note says how many crimes
    they hold.
    """
    shown = [row for row in bins if not row.get("outlying")]
    if not shown:
        raise NoDataError("no crime with a map point to draw")
    features = [_hexagon(row, radius_km, mid_latitude) for row in shown]
    total = sum(int(row["count"]) for row in shown)
    away = sum(int(row["count"]) for row in bins) - total
    busiest = max(shown, key=lambda row: int(row["count"]))
    chart = {
        "data": inline_text(json.dumps(features, separators=(",", ":"), allow_nan=False)),
        "mark": {"type": "geoshape", "stroke": "white", "strokeWidth": 0.3},
        "encoding": {
            "color": field(
                "properties.count:Q",
                title="Crimes in the hexagon",
                scale={"scheme": {"name": "blues", "extent": [0.15, 1]}, "type": "sqrt"},
                legend={"orient": "top-left", "direction": "horizontal", "gradientLength": 180, "format": ",~f"},
            ),
            "description": field("properties.summary:N"),
            "tooltip": [tooltip("properties.count:Q", "Crimes", ",d")],
        },
        "projection": {"type": "mercator"},
        "width": 520,
        "height": 520,
    }
    across = _distance(radius_km * math.sqrt(3))
    if away:
        notes = (*notes, f"Not shown: {away:,} crime{'s' if away != 1 else ''} placed far from the others.")
    description = (
        f"Map of {total:,} crimes with a map point, counted in {len(shown):,} hexagons about {across} across;"
        f" darker hexagons hold more. The busiest holds {int(busiest['count']):,}, around latitude"
        f" {busiest['latitude']:.4f}, longitude {busiest['longitude']:.4f}."
    )
    return finish(chart, title, description, [f"Each hexagon is about {across} across.", *notes])


def _hexagon(row: dict[str, Any], radius_km: float, mid_latitude: float) -> dict[str, Any]:
    """A pointy-top hexagon around the bin's centre, as a GeoJSON feature in longitude and latitude."""
    east = KM_PER_DEGREE * math.cos(math.radians(mid_latitude))
    corners = [
        [
            round(row["longitude"] + radius_km * math.cos(math.radians(angle)) / east, 6),
            round(row["latitude"] + radius_km * math.sin(math.radians(angle)) / KM_PER_DEGREE, 6),
        ]
        for angle in range(30, 390, 60)
    ]
    count = int(row["count"])
    return {
        "type": "Feature",
        "geometry": rewind({"type": "Polygon", "coordinates": [[*corners, corners[0]]]}),
        "properties": {"count": count, "summary": f"{count:,} crime{'s' if count != 1 else ''}"},
    }


def _distance(km: float) -> str:
    """'250 m' or '3.2 km'."""
    return f"{round(km * 1000, -1):,.0f} m" if km < 1 else f"{km:,.1f} km"
