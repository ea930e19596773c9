"""The league table as horizontal bars, lowest rate at the top, with 95% intervals as lines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from crimestats import formatting as fmt
from crimestats.errors import NoDataError
from crimestats.reports.charts._rows import find_force, force_fields, interval, number, rate_text
from crimestats.reports.charts._spec import Spec, bold_label, field, focus_test, inline, tooltip, when
from crimestats.reports.charts._theme import ACCENT, GREY, INK, NEUTRAL, RATE_TITLE, WIDTH, finish


def league_chart(
    rows: list[dict[str, Any]], highlight: str | None = None, title: str = "", *, measure: str = RATE_TITLE
) -> Spec:
    """Horizontal bars of the rate per force, lowest at the top, with 95% intervals as lines.

    Rows are the league table's: each bar's position is the row's ``rank`` of ``ranked_of`` ('joint' where forces
    share it), never recounted here. Rows without a rate are left out. ``highlight`` (force code or name) is drawn
    in the accent colour. ``measure`` names the rate on the axis and in the description (e.g. 'Burglary per 1,000
    residents').
    """
    focus = find_force(rows, highlight)
    rated = sorted((row for row in rows if number(row.get("rate_per_1000")) is not None), key=_order)
    if not rated:
        raise NoDataError("no force in the league table has a published rate")
    ranks = Counter(row.get("rank") for row in rated)
    records = [_league_record(row, ranks[row.get("rank")] > 1) for row in rated]
    name = None if focus is None else str(focus["force"])
    y = field(
        "force:N",
        sort=[record["force"] for record in records],
        title=None,
        axis={"labelFontWeight": bold_label(name), "labelLimit": 240},
    )
    x = field("rate_per_1000:Q", title=measure, axis={"format": ",.0f"})
    bars = {
        "mark": {"type": "bar", "height": {"band": 0.72}},
        "encoding": {
            "x": x,
            "y": y,
            "color": {"value": NEUTRAL} if focus is None else when(focus_test(focus), ACCENT, GREY),
            "description": field("summary:N"),
            "tooltip": [
                tooltip("force:N", "Police force area"),
                tooltip("rate_per_1000:Q", measure, ",.1f"),
                tooltip("interval:N", "95% interval"),
                tooltip("rank:N", "Position"),
            ],
        },
    }
    intervals = {
        "mark": {"type": "rule", "color": INK, "strokeWidth": 1.2, "aria": False},
        "transform": [{"filter": "isValid(datum.rate_ci_low) && isValid(datum.rate_ci_high)"}],
        "encoding": {"x": field("rate_ci_low:Q", title=measure), "x2": {"field": "rate_ci_high"}, "y": y},
    }
    chart = {"data": inline(records), "layer": [bars, intervals], "width": WIDTH, "height": {"step": 18}}
    return finish(chart, title, _league_description(records, focus, len(rows) - len(rated), measure))


def _order(row: Mapping[str, Any]) -> tuple[bool, int, float, str]:
    """Bars in the league table's order: by its rank (1 = lowest rate), forces sharing a rank by rate and name."""
    rank = row.get("rank")
    return rank is None, rank or 0, number(row["rate_per_1000"]) or 0.0, str(row["force"])


def _position(row: Mapping[str, Any], joint: bool) -> str:
    """'2nd lowest of 41', 'joint 3rd lowest of 41' (another force shares the rank): the table's rank, as given."""
    rank, of = row.get("rank"), row.get("ranked_of")
    if rank is None:
        return "not ranked"
    return f"{'joint ' if joint else ''}{fmt.ordinal(int(rank))} lowest" + ("" if of is None else f" of {of}")


def _league_record(row: Mapping[str, Any], joint: bool) -> dict[str, Any]:
    low, high = number(row.get("rate_ci_low")), number(row.get("rate_ci_high"))
    fields, position = force_fields(row), _position(row, joint)
    rate = fields["rate_per_1000"]
    return {
        **fields,
        "rate_ci_low": low,
        "rate_ci_high": high,
        "interval": interval(low, high),
        "rank": position,
        "summary": f"{row['force']}: {rate_text(rate)} (95% interval {interval(low, high)}), {position}",
    }


def _league_description(
    records: list[dict[str, Any]], focus: Mapping[str, Any] | None, dropped: int, measure: str = RATE_TITLE
) -> str:
    first, last = records[0], records[-1]
    parts = [
        f"Bar chart of {measure.lower()} in {len(records)} police force areas, lowest first:"
        f" lowest {first['force']} ({rate_text(first['rate_per_1000'])}),"
        f" highest {last['force']} ({rate_text(last['rate_per_1000'])})."
        " Lines show 95% intervals."
    ]
    if focus is not None:
        match = [record for record in records if record["force_code"] == str(focus["force_code"])]
        if match:
            parts.append(
                f"{match[0]['force']} is highlighted: {rate_text(match[0]['rate_per_1000'])}, {match[0]['rank']}."
            )
        else:
            parts.append(f"No rate is published for {focus['force']}.")
    if dropped:
        parts.append(f"{dropped} force{'s' if dropped > 1 else ''} with no published rate left out.")
    return " ".join(parts)
