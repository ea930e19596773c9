"""Numbers as the ONS prints them: counts with thousands separators, rates to one decimal place (two
significant figures below 1 per 1,000), changes to a whole per cent, rounded half away from zero (Excel's display,
not Python's round-half-to-even), and ``..`` where a figure is not available.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "NOT_AVAILABLE",
    "count",
    "half_up",
    "ordinal",
    "p_value",
    "percent",
    "rate",
    "rate_places",
    "signed_percent",
]

#: ONS symbol for a figure that is not available.
NOT_AVAILABLE = ".."


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def half_up(value: float, places: int) -> Decimal:
    """Round half away from zero, as the ONS tables display."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def count(value: float | None) -> str:
    """45123 → '45,123'."""
    return NOT_AVAILABLE if _missing(value) else f"{value:,.0f}"


def rate_places(value: float) -> int:
    """Decimal places of a rate per 1,000: one, as ONS Table P3 prints them, but at least two significant figures
    below 1, where one decimal place would print most homicide rates as 0.0 and rank every force equal."""
    if value >= 1 or value <= 0:
        return 1
    return max(1, 1 - math.floor(math.log10(value)))


def rate(value: float | None, places: int | None = None) -> str:
    """52.66 → '52.7', 0.01234 → '0.012': see :func:`rate_places`; ``places`` fixes the decimal places."""
    if _missing(value):
        return NOT_AVAILABLE
    assert value is not None
    return f"{half_up(value, rate_places(value) if places is None else places):,}"


def percent(value: float | None) -> str:
    """12.4 → '12%' (magnitude only: the words say rise or fall)."""
    return NOT_AVAILABLE if _missing(value) else f"{half_up(abs(value), 0)}%"  # type: ignore[arg-type]


def signed_percent(value: float | None) -> str:
    """12.4 → '+12', -12.4 → '-12', and anything that rounds to zero (-0.3, 0.4) → '0', as ONS prints it."""
    if _missing(value):
        return NOT_AVAILABLE
    rounded = half_up(value, 0)  # type: ignore[arg-type]
    return "0" if rounded == 0 else f"{rounded:+}"


def p_value(value: float | None) -> str:
    """0.00001 → 'p < 0.001', 0.0432 → 'p = 0.043', 0.0497 → 'p = 0.0497' (never rounded across 0.05)."""
    if _missing(value):
        return ""
    assert value is not None
    if value < 0.001:
        return "p < 0.001"
    return f"p = {value:.3g}" if 0.04 < value < 0.06 else f"p = {value:.2g}"


def ordinal(number: int) -> str:
    """1 → '1st', 12 → '12th', 22 → '22nd'."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def interval(low: float | None, high: float | None) -> str:
    """A rate interval as printed: '4.0–4.3', or '..' without one."""
    return NOT_AVAILABLE if low is None or high is None else f"{rate(low)}–{rate(high)}"


def rank(rank: int | None, of: int | None, low: int | None = None, high: int | None = None) -> str:
    """A league position with its plausible range: '3 of 41 (2–6)', '1 of 41 (1)', or '..' when unranked."""
    if rank is None:
        return NOT_AVAILABLE
    plausible = "" if low is None else f" ({low}–{high})" if low != high else f" ({low})"
    return f"{rank} of {of}{plausible}"
