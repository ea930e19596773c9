"""Reading the rows a chart is given: numbers that may be missing, rates written as tables print them, the force
to highlight."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from crimestats import formatting as fmt
from crimestats.errors import UnknownAreaError


def number(value: object) -> float | None:
    """A finite float, or None for missing, non-numeric (``..``) and NaN values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        found = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return found if math.isfinite(found) else None


def rate_text(value: float | None, digits: int | None = None) -> str:
    """A rate as tables print it (:func:`crimestats.formatting.rate`), or to ``digits`` decimal places."""
    return "no rate published" if value is None else fmt.rate(value, digits)


def interval(low: float | None, high: float | None) -> str:
    """A 95% interval with its ends printed as rates are."""
    return "not published" if low is None or high is None else f"{fmt.rate(low)} to {fmt.rate(high)}"


def find_force(rows: Sequence[Mapping[str, Any]], highlight: str | None) -> Mapping[str, Any] | None:
    """The row whose force code or name is ``highlight`` (any case); None when nothing is highlighted."""
    if highlight is None:
        return None
    key = highlight.strip().casefold()
    for row in rows:
        if key in (str(row.get("force_code", "")).casefold(), str(row.get("force", "")).casefold()):
            return row
    raise UnknownAreaError(f"cannot highlight {highlight!r}: it is not one of the forces in the chart data")


def force_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every chart row of a force starts with: its code, name and rate."""
    return {
        "force_code": str(row["force_code"]),
        "force": str(row["force"]),
        "rate_per_1000": number(row.get("rate_per_1000")),
    }
