"""Two small lookups the story checker (:mod:`crimestats.check`) needs: where a published figure sits in its
file (table and cell), and a force's position by number of offences (the league tables rank by rate).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crimestats.analytics import materialised
from crimestats.analytics.options import Options
from crimestats.store import Store

__all__ = ["count_position", "figure_cells"]


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
