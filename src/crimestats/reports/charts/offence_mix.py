"""The force's rate of each offence group beside its peers' average, as paired bars."""

from __future__ import annotations

from typing import Any

from crimestats.errors import NoDataError
from crimestats.reports.charts._rows import number, rate_text
from crimestats.reports.charts._spec import Spec, field, inline, tooltip
from crimestats.reports.charts._theme import ACCENT, GREY, RATE_TITLE, WIDTH, finish


def offence_mix_chart(
    rows: list[dict[str, Any]], force: str, peer_label: str, title: str = "", *, what: str = "offence groups"
) -> Spec:
    """Paired horizontal bars per offence group: the force (accent) against its peers' average (grey).

    ``what`` says what the rows are, for the description ('offence groups', 'types of burglary'). The row whose
    ``largest_difference`` is true (:func:`crimestats.analytics.summaries.offence_mix` marks it) is named in the
    description as the largest difference.
    """
    records: list[dict[str, Any]] = []
    offences: list[str] = []
    for row in rows:
        pair = ((force, number(row.get("force_rate"))), (peer_label, number(row.get("peer_rate"))))
        if all(rate is None for _, rate in pair):
            continue
        offences.append(str(row["offence"]))
        records += [
            {
                "offence": str(row["offence"]),
                "group": group,
                "rate": rate,
                "summary": f"{row['offence']}, {group}: {rate:,.2f}",
            }
            for group, rate in pair
            if rate is not None
        ]
    if not records:
        raise NoDataError(f"no offence group has a published rate for {force} or {peer_label}")
    groups = [force, peer_label]
    chart = {
        "data": inline(records),
        "mark": {"type": "bar", "height": {"band": 0.9}},
        "encoding": {
            "x": field("rate:Q", title=RATE_TITLE, axis={"format": ",~f"}),
            "y": field("offence:N", sort=offences, title=None, axis={"labelLimit": 260}),
            "yOffset": field("group:N", sort=groups),
            "color": field("group:N", title=None, scale={"domain": groups, "range": [ACCENT, GREY]}),
            "description": field("summary:N"),
            "tooltip": [
                tooltip("offence:N", "Offence group"),
                tooltip("group:N", "Area"),
                tooltip("rate:Q", RATE_TITLE, ",.2f"),
            ],
        },
        "width": WIDTH,
        "height": {"step": 14},
    }
    return finish(chart, title, _mix_description(rows, force, peer_label, offences, what))


def _mix_description(
    rows: list[dict[str, Any]], force: str, peer_label: str, offences: list[str], what: str = "offence groups"
) -> str:
    text = f"Paired bar chart of {RATE_TITLE.lower()} in {len(offences)} {what}, comparing {force} with {peer_label}."
    largest = next((row for row in rows if row.get("largest_difference")), None)
    if largest is not None:
        force_rate, peer_rate = (rate_text(number(largest.get(key)), 2) for key in ("force_rate", "peer_rate"))
        text += f" Largest difference: {largest['offence']}, {force_rate} against {peer_rate}."
    return text
