"""Vega-Lite building blocks as plain dicts: a spec is data, so building one validates nothing and copies nothing
(the tests validate every kind of chart against the Vega-Lite schema instead)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

TYPES = {"N": "nominal", "O": "ordinal", "Q": "quantitative", "T": "temporal"}


class Spec(dict[str, Any]):
    """A finished Vega-Lite spec: a dict, with Altair's ``to_dict`` so callers may treat it as a chart."""

    def to_dict(self, validate: bool = False) -> dict[str, Any]:
        """The spec as a plain dict; ``validate=True`` checks it against the Vega-Lite schema Altair ships
        (slow, imports Altair: for tests)."""
        spec = dict(self)
        if validate:
            import altair as alt

            alt.TopLevelSpec.validate(spec)
        return spec


def field(shorthand: str, **properties: Any) -> dict[str, Any]:
    """A field definition from Altair-style shorthand: ``field("force:N", title=None)``."""
    name, _, kind = shorthand.rpartition(":")
    return {"field": name, "type": TYPES[kind], **properties}


def tooltip(shorthand: str, title: str, number_format: str | None = None) -> dict[str, Any]:
    return field(shorthand, title=title, **({"format": number_format} if number_format else {}))


def when(test: str, then: Any, otherwise: Any) -> dict[str, Any]:
    """A value that is ``then`` where the Vega expression ``test`` holds, else ``otherwise``."""
    return {"condition": [{"test": test, "value": then}], "value": otherwise}


def inline(values: list[dict[str, Any]]) -> dict[str, Any]:
    """Data embedded in the spec as one JSON string, so a chart never fetches anything and vl-convert parses the
    rows in one go."""
    return inline_text(json.dumps(values, separators=(",", ":"), allow_nan=False))


def inline_text(text: str) -> dict[str, Any]:
    """Data already written as a JSON array."""
    return {"values": text, "format": {"type": "json"}}


def focus_test(row: Mapping[str, Any]) -> str:
    """A Vega expression true for the rows of this force."""
    return f"datum.force_code === {json.dumps(str(row['force_code']))}"


def bold_label(name: str | None) -> dict[str, Any] | Literal["normal"]:
    """Axis label weight: bold for the force in focus."""
    if name is None:
        return "normal"
    return {"condition": {"test": f"datum.value === {json.dumps(name)}", "value": "bold"}, "value": "normal"}
