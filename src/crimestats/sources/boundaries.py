"""ONS Open Geography police force area boundaries, as GeoJSON (for maps).

A FeatureCollection whose features carry ``PFAyyCD`` and ``PFAyyNM`` properties (e.g. ``PFA16CD``, the
December 2016 boundaries). Each feature's geometry is stored as GeoJSON text with its force code; the
boundary year (``2016``) is the vintage. A force has one feature, and every coordinate is a finite longitude
and latitude.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from crimestats import reference
from crimestats.errors import SourceError
from crimestats.sources._base import BOUNDARIES_SCHEMA, Batch, Probe, load_json, path_of, table

NAME = "ons-boundaries"
_CODE = re.compile(r"^PFA(\d\d)CD$")


def recognise(probe: Probe) -> bool:
    """A GeoJSON file whose opening mentions a FeatureCollection and PFAyyCD properties."""
    return '"featurecollection"' in probe.text and re.search(r'"pfa\d\dcd"', probe.text) is not None


def read(file: Path | Probe) -> Batch:
    path = path_of(file)
    collection = load_json(path, "GeoJSON")
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list) or not features:
        raise SourceError("has no 'features' list", file=path.name)
    rows = [_feature_row(path, number, feature) for number, feature in enumerate(features, start=1)]
    first: dict[str, int] = {}
    for row in rows:
        earlier = first.setdefault(row["area_code"], row["feature"])
        if earlier != row["feature"]:
            message = f"a second boundary for {row['area_name']} (the first is feature {earlier})"
            raise SourceError(message, file=path.name, row=row["feature"])
    year = _CODE.match(_code_property(path, 1, features[0])).group(1)  # type: ignore[union-attr]
    return Batch(NAME, f"20{year}", boundaries=table(rows, BOUNDARIES_SCHEMA))


def _code_property(path: Path, number: int, feature: Any) -> str:
    properties = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(properties, dict):
        raise SourceError(f"feature {number} has no 'properties' object", file=path.name, row=number)
    found = [str(key) for key in properties if _CODE.match(str(key))]
    if not found:
        raise SourceError(f"feature {number} has no PFAyyCD property", file=path.name, row=number)
    return found[0]


def _feature_row(path: Path, number: int, feature: Any) -> dict[str, Any]:
    key = _code_property(path, number, feature)
    code = str(feature["properties"][key]).strip()
    area = reference.find_area(code)
    if area is None or area.kind != "force":
        raise SourceError(f"{code!r} is not a police force area code", file=path.name, row=number, column=key)
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise SourceError("geometry is not a Polygon or MultiPolygon", file=path.name, row=number, column="geometry")
    if not _positions_valid(geometry.get("coordinates"), 3 if geometry["type"] == "Polygon" else 4):
        message = "coordinates are not lists of finite longitude, latitude pairs"
        raise SourceError(message, file=path.name, row=number, column="geometry")
    return {"feature": number, "area_code": area.code, "area_name": area.name, "geometry": json.dumps(geometry)}


def _positions_valid(coordinates: Any, depth: int) -> bool:
    """Whether coordinates nest ``depth`` lists deep (3 for a Polygon's rings of positions, 4 for a
    MultiPolygon) down to positions of a finite longitude (-180 to 180) and latitude (-90 to 90)."""
    if not isinstance(coordinates, list) or not coordinates:
        return False
    if depth == 1:
        return len(coordinates) in (2, 3) and _is_position(coordinates)
    return all(_positions_valid(item, depth - 1) for item in coordinates)


def _is_position(position: list[Any]) -> bool:
    numbers = all(isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n) for n in position)
    return numbers and -180 <= position[0] <= 180 and -90 <= position[1] <= 90
