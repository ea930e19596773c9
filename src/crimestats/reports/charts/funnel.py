"""The funnel plot (Spiegelhalter 2005): rate against population, with the average and its control limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crimestats.errors import NoDataError
from crimestats.reports.charts._rows import find_force, force_fields, number, rate_text
from crimestats.reports.charts._spec import Spec, field, inline, tooltip
from crimestats.reports.charts._theme import INK, MUTED, NO_DATA, RATE_TITLE, WIDTH, finish

POSITIONS = {  # funnel position (judged at 99.8%) → (legend label, colour)
    "above": ("Above the 99.8% limit", "#b2182b"),
    "within": ("Within the limits", "#9aa1a9"),
    "below": ("Below the 99.8% limit", "#2166ac"),
}
LIMITS = (
    ("lower_95", "95% limits", "lower"),
    ("upper_95", "95% limits", "upper"),
    ("lower_998", "99.8% limits", "lower"),
    ("upper_998", "99.8% limits", "upper"),
)


def funnel_chart(
    funnel: dict[str, Any],
    highlight: str | None = None,
    title: str = "",
    *,
    measure: str = RATE_TITLE,
    by_chance: tuple[int, int] | None = None,
) -> Spec:
    """Rate against population with the target line and the 95% (dashed) and 99.8% (solid) control limits.

    Points are coloured by their position against the limits; ``highlight`` is ringed and labelled.
    ``by_chance`` (how many forces are above and below the limits of chance alone, when the limits drawn are
    widened for the usual differences between forces) goes in the description, so both judgements are told.
    """
    rows = [row for row in funnel["rows"] if number(row.get("rate_per_1000")) is not None]
    if not rows:
        raise NoDataError("no force in the funnel plot has a published rate")
    focus = find_force(funnel["rows"], highlight)
    target = float(funnel["target"])
    points = [_funnel_record(row) for row in rows]
    limits = [number(c.get(key)) for c in funnel["curve"] for key in ("lower_998", "upper_998")]
    rates = [point["rate_per_1000"] for point in points] + [target] + [v for v in limits if v is not None]
    pad = (max(rates) - min(rates)) * 0.08 or 1.0
    y_scale = {"domain": [max(0.0, min(rates) - pad), max(rates) + pad], "nice": False}
    x_max = max([point["population"] for point in points] + [number(c.get("population")) or 0 for c in funnel["curve"]])
    x = field(
        "population:Q",
        title="Residents (millions)",
        scale={"domain": [0, x_max * 1.04], "nice": False},
        axis={"labelExpr": "format(datum.value / 1000000, '~g')", "tickCount": 8},
    )
    y = field("rate_per_1000:Q", title=measure, scale=y_scale)
    layers = [
        _funnel_limits(funnel["curve"], x, y_scale, measure),
        *_funnel_target(target, x_max * 1.03, x, y_scale, measure),
        {
            "data": inline(points),
            "mark": {"type": "circle", "size": 70, "opacity": 0.9, "stroke": "white", "strokeWidth": 0.8},
            "encoding": {
                "x": x,
                "y": y,
                "color": _position_colour(points),
                "description": field("summary:N"),
                "tooltip": [
                    tooltip("force:N", "Police force area"),
                    tooltip("rate_per_1000:Q", measure, ",.1f"),
                    tooltip("population:Q", "Residents", ",.0f"),
                    tooltip("position:N", "Compared with the limits"),
                ],
            },
        },
    ]
    focus_point = (
        None if focus is None else next((p for p in points if p["force_code"] == str(focus["force_code"])), None)
    )
    if focus_point is not None:
        layers += _funnel_focus(focus_point, x_max, x, y)
    adjusted = bool((funnel.get("overdispersion") or {}).get("adjusted"))
    note = f"Average {rate_text(target)}. Dashed lines: 95% limits; solid lines: 99.8% limits"
    note += ", widened for the usual differences between forces." if adjusted else "."
    description = _funnel_description(points, target, focus, focus_point, measure) + " " + _limits_text(adjusted)
    if adjusted and by_chance is not None:
        description += (
            f" Allowing for chance alone (limits not drawn), {by_chance[0]} would be above and {by_chance[1]} below."
        )
    return finish({"layer": layers, "width": WIDTH, "height": 400}, title, description, [note])


def _funnel_record(row: Mapping[str, Any]) -> dict[str, Any]:
    position = str(row.get("position") or "").strip()
    key = position.casefold().replace("_", " ").split(" ")[0] if position else ""
    label = POSITIONS[key][0] if key in POSITIONS else (position or "Not assessed")
    fields, population = force_fields(row), number(row.get("population")) or 0.0
    rate = fields["rate_per_1000"]
    return {
        **fields,
        "population": population,
        "position": label,
        "summary": f"{row['force']}: {rate_text(rate)}, {population:,.0f} residents, {label.lower()}",
    }


def _position_colour(points: list[dict[str, Any]]) -> dict[str, Any]:
    labels = [label for label, _ in POSITIONS.values()]
    colours = [colour for _, colour in POSITIONS.values()]
    extra = sorted({point["position"] for point in points} - set(labels))
    return field(
        "position:N",
        title=None,
        scale={"domain": labels + extra, "range": colours + [NO_DATA] * len(extra)},
        legend={"orient": "top", "symbolType": "circle"},
    )


def _funnel_limits(
    curve: Sequence[Mapping[str, Any]], x: dict[str, Any], y_scale: dict[str, Any], measure: str
) -> dict[str, Any]:
    """The four limit lines, long format: dashed 95%, solid 99.8%, clipped to the plot."""
    records = []
    for point in curve:
        population = number(point.get("population"))
        for key, level, side in LIMITS:
            value = number(point.get(key))
            if population is not None and value is not None:
                records.append({"population": population, "value": value, "level": level, "line": f"{level} {side}"})
    return {
        "data": inline(records),
        "mark": {"type": "line", "color": MUTED, "strokeWidth": 1.2, "clip": True, "aria": False},
        "encoding": {
            "x": x,
            "y": field("value:Q", scale=y_scale, title=measure),
            "detail": field("line:N"),
            "order": field("population:Q"),
            "strokeDash": field(
                "level:N",
                title=None,
                scale={"domain": ["95% limits", "99.8% limits"], "range": [[5, 4], [1, 0]]},
                legend={"orient": "top", "symbolStrokeColor": MUTED},
            ),
        },
    }


def _funnel_target(
    target: float, right: float, x: dict[str, Any], y_scale: dict[str, Any], measure: str
) -> list[dict[str, Any]]:
    """The average as a horizontal line, labelled at its right end."""
    data = inline([{"target": target, "population": right, "label": f"Average {rate_text(target)}"}])
    y = field("target:Q", scale=y_scale, title=measure)
    rule = {"data": data, "mark": {"type": "rule", "color": INK, "strokeWidth": 1, "aria": False}, "encoding": {"y": y}}
    text = {"type": "text", "align": "right", "baseline": "bottom", "dy": -4, "fontSize": 11, "color": INK}
    label = {"data": data, "mark": {**text, "aria": False}, "encoding": {"x": x, "y": y, "text": field("label:N")}}
    return [rule, label]


def _funnel_focus(point: dict[str, Any], x_max: float, x: dict[str, Any], y: dict[str, Any]) -> list[dict[str, Any]]:
    """A ring and a name label for the highlighted force (label to the left near the right edge)."""
    right = point["population"] > 0.7 * x_max
    data = inline([point])
    ring = {
        "data": data,
        "mark": {"type": "point", "size": 220, "stroke": INK, "strokeWidth": 2, "filled": False, "aria": False},
        "encoding": {"x": x, "y": y},
    }
    text = {"align": "right" if right else "left", "dx": -11 if right else 11, "fontSize": 13, "fontWeight": "bold"}
    label = {
        "data": data,
        "mark": {"type": "text", **text, "color": INK},
        "encoding": {"x": x, "y": y, "text": field("force:N")},
    }
    return [ring, label]


def _limits_text(adjusted: bool) -> str:
    """What being outside the limits means, in plain words (the method is in the report's methods section)."""
    text = "A force outside the solid lines is further from the average than 998 in 1,000 forces of its size would be"
    return (
        f"{text} by chance, even allowing for the usual differences between forces."
        if adjusted
        else f"{text} by chance."
    )


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
        f" around an average of {rate_text(target)}, with 95% (dashed) and 99.8% (solid) control limits.",
        " ".join(f"{label}: {count}." for label, count in counts.items()),
    ]
    if focus_point is not None:
        rate, position = rate_text(focus_point["rate_per_1000"]), focus_point["position"].lower()
        parts.append(f"{focus_point['force']} is highlighted: {rate}, {position}.")
    elif focus is not None:
        parts.append(f"No rate is published for {focus['force']}.")
    return " ".join(parts)
