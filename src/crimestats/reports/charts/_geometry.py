"""Boundaries made ready for d3-geo (which Vega draws maps with): coordinates rounded, rings rewound."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any


class Prepared(str):
    """A geometry already rounded and rewound, as compact JSON: what :func:`prepared_boundaries` holds."""


def prepared_boundaries(geojson: dict[str, Any] | None) -> dict[str, Any] | None:
    """A FeatureCollection with every geometry prepared (:func:`geometry_json`) once, for the many maps drawn
    of it (a report for every force): the map splices the prepared text in as it is."""
    if geojson is None:
        return None
    features = [
        {**feature, "geometry": Prepared(geometry_json(feature["geometry"]))} for feature in geojson["features"]
    ]
    return {**geojson, "features": features}


def geometry_json(geometry: Any) -> str:
    """A GeoJSON geometry rounded and rewound, as compact JSON; one prepared before, as it is."""
    return geometry if isinstance(geometry, Prepared) else prepared(json.dumps(geometry))


@functools.lru_cache(maxsize=256)
def prepared(geometry: str) -> str:
    """A geometry (as JSON) rounded and rewound, as compact JSON: computed once per distinct geometry, since maps
    are drawn for many reports."""
    return json.dumps(rewind(_rounded(json.loads(geometry))), separators=(",", ":"))


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
