"""Two small lookups the story checker (:mod:`crimestats.check`) needs: where a published figure sits in its
file (table and cell), and a force's position by number of offences (the league tables rank by rate).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crimestats import formatting as fmt
from crimestats import reference
from crimestats.analytics import materialised
from crimestats.analytics.options import Options
from crimestats.store import Store

__all__ = ["area_total", "count_position", "figure_cells", "national_share", "rate_league"]


def figure_cells(
    store: Store, file_name: str | None, area_code: str, offence: str, period_end: dt.date
) -> dict[str, Any]:
    """measure (``count``, ``change_pct``, ``rate_per_1000``) → ``{"file", "table", "cell"}``: the cells of a
    stored file (``None``: the newest holding them) that hold an area's 12-month figures for an offence
    ("Table P3", "F56"), as the file shows them."""
    rows = store.con.execute(
        """SELECT f.measure, f.sheet, f.table_id, f.source_row, f.source_column, files.file_name
           FROM figures f JOIN files USING (file_id)
           WHERE coalesce(?, files.file_name) = files.file_name AND f.area_code = ? AND f.offence = ?
             AND f.period_end = ? AND f.months = 12 AND f.value IS NOT NULL
           ORDER BY f.file_id""",
        [file_name, area_code, offence, period_end],
    ).fetchall()
    return {
        measure: {"file": name, "table": (sheet or table_id).strip(), "cell": f"{column or ''}{row or ''}" or None}
        for measure, sheet, table_id, row, column, name in rows
    }


def count_position(
    store: Store, period_end: dt.date, offence: str, area_code: str, options: Options = Options()
) -> tuple[int, int] | None:
    """(position, of): where a force stands among the forces with a count, fewest offences first (ties share
    the lower position), or None when it has no count. Counts, unlike rates, do not allow for population."""
    rows = materialised.forces(store, options, "force_code, count, kind", offence=offence, period_end=period_end)
    counts = {r["force_code"]: r["count"] for r in rows.to_pylist() if r["kind"] == "force" and r["count"] is not None}
    if area_code not in counts:
        return None
    return 1 + sum(count < counts[area_code] for count in counts.values()), len(counts)


def rate_league(
    store: Store, period_end: dt.date, offence: str, within: str | None = None, options: Options = Options()
) -> list[dict[str, Any]]:
    """The forces ranked by rate, lowest first: ``force_code``, ``force``, ``rate_per_1000`` and ``position``
    (forces whose rates are the same at one decimal place, as published, share the lower position). ``within``:
    only the forces of that country or region ('the highest rate in Wales'), ranked among themselves."""
    columns = "force_code, force, rate_per_1000, rank, kind"
    rows = materialised.forces(store, options, columns, offence=offence, period_end=period_end).to_pylist()
    ranked = [r for r in rows if r["kind"] == "force" and r["rank"] is not None and r["rate_per_1000"] is not None]
    if within is not None:
        ranked = [r for r in ranked if within in _parents(r["force_code"])]
    printed = {r["force_code"]: fmt.half_up(r["rate_per_1000"], 1) for r in ranked}
    league = [
        {**r, "position": 1 + sum(p < printed[r["force_code"]] for p in printed.values()), "of": len(ranked)}
        for r in ranked
    ]
    return sorted(league, key=lambda r: (r["position"], r["rate_per_1000"]))


def _parents(code: str) -> list[str]:
    """A force's region, country and England and Wales."""
    found, area = [], reference.area(code)
    while area.parent:
        found.append(area.parent)
        area = reference.area(area.parent)
    return found


def area_total(
    store: Store, period_end: dt.date, offence: str, area_code: str, options: Options = Options()
) -> dict[str, Any] | None:
    """A country's, region's or England and Wales' row of :func:`materialised.totals` (summed like for like
    from its forces), None when there is none."""
    rows = materialised.totals(store, options, offence=offence, period_end=period_end, area_code=area_code)
    return rows.to_pylist()[0] if rows.num_rows else None


def national_share(
    store: Store, period_end: dt.date, offence: str, area_code: str, options: Options = Options()
) -> tuple[int, int, float] | None:
    """(count, England and Wales' count, the force's share of it in per cent), None without both counts."""
    rows = materialised.forces(store, options, "count", offence=offence, period_end=period_end, force_code=area_code)
    national = area_total(store, period_end, offence, "K04000001", options)
    count = rows.to_pylist()[0]["count"] if rows.num_rows else None
    if count is None or national is None or not national.get("count"):
        return None
    return int(count), int(national["count"]), 100 * count / national["count"]
