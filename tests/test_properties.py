"""Invariants of the analytics, checked by hypothesis on small generated stores.

rate × population / 1000 = count; 12-month totals are sums of quarters and roll up the offence hierarchy;
ranks are a permutation (ties shared); change is consistent with the two counts.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crimestats import reference
from crimestats.analytics import Options, force_statistics
from crimestats.formatting import rate_places
from crimestats.periods import shift_months
from crimestats.sources._base import FIGURES_SCHEMA, LOOKUP_SCHEMA, POPULATIONS_SCHEMA, Batch
from crimestats.store import Store

FORCES = [f.code for f in reference.forces()]
CODES = {
    "8N": "violence-with-injury",
    "46": "shoplifting",
    "28E": "residential-burglary",
    "92A": "trafficking-of-drugs",
}
QUARTERS = [shift_months(dt.date(2016, 6, 1), 3 * i) for i in range(8)]


@st.composite
def stores(draw: st.DrawFn) -> dict[str, object]:
    forces = draw(st.lists(st.sampled_from(FORCES), min_size=2, max_size=6, unique=True))
    counts = {
        (force, code, quarter): draw(st.integers(0, 400)) for force in forces for code in CODES for quarter in QUARTERS
    }
    populations = {force: draw(st.integers(5_000, 3_000_000)) for force in forces}
    return {"forces": forces, "counts": counts, "populations": populations}


def _write(store: Store, data: dict) -> None:
    """Replace the store's figures, populations and lookup with the generated ones."""
    figures = [
        {"sheet": None, "source_row": i, "source_column": None, "table_id": "open-data", "area_code": force,
         "offence": CODES[code], "offence_code": code, "period_end": quarter, "months": 3, "measure": "count",
         "value": float(value), "symbol": None, "reason": None}
        for i, ((force, code, quarter), value) in enumerate(data["counts"].items())
    ]  # fmt: skip
    lads = {force: f"E0{9000000 + n}" for n, force in enumerate(data["forces"])}
    populations = [
        {"sheet": "MYE4", "source_row": 1, "source_column": "D", "area_code": lads[force], "year": year,
         "denominator": "residents", "value": float(people), "symbol": None, "reason": None}
        for force, people in data["populations"].items()
        for year in range(2014, 2020)
    ]  # fmt: skip
    lookup = [{"source_row": 1, "lad_code": lad, "lad_name": lad, "csp_code": None, "csp_name": None, "pfa_code": force}
              for force, lad in lads.items()]  # fmt: skip
    for table in ("figures", "populations", "lookup", "files"):
        store.con.execute(f"DELETE FROM {table}")
    path = store.path
    store._write(
        path, "figures", Batch("home-office", "2018-03", figures=pa.Table.from_pylist(figures, FIGURES_SCHEMA))
    )
    store._write(
        path, "pops", Batch("ons-mye", "mid-2019", populations=pa.Table.from_pylist(populations, POPULATIONS_SCHEMA))
    )
    store._write(path, "lookup", Batch("ons-lookup", "2023", lookup=pa.Table.from_pylist(lookup, LOOKUP_SCHEMA)))


class _Statistics:
    """One store and one compiled statistics query for every example: an example replaces the store's rows and
    runs the query again (compiling the Ibis expression takes far longer than running it on a small store)."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.store = Store(Path(self.folder.name) / "p.duckdb")
        self.expression = force_statistics(self.store.backend, Options())
        self.sql: str | None = None
        self.schema = self.expression.schema().to_pyarrow()

    def __call__(self, data: dict) -> list[dict]:
        _write(self.store, data)
        if self.sql is None:  # the first run through Ibis registers the reference tables the query reads
            self.sql = str(self.store.backend.compile(self.expression))
            return self.expression.to_pyarrow().to_pylist()
        return self.store.con.sql(self.sql).to_arrow_table().cast(self.schema).to_pylist()  # types as Ibis gives


_statistics = _Statistics()


PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(stores())
def test_invariants(data: dict) -> None:
    rows = _statistics(data)
    # No 12-month total is made for a period ending before the fourth quarter on file.
    assert {r["period_end"] for r in rows} == set(QUARTERS[3:])
    by_key = {(r["area_code"], r["offence"], r["period_end"]): r for r in rows}
    twelve_month_ends = QUARTERS[3:]
    for force in data["forces"]:
        for end in twelve_month_ends:
            window = [q for q in QUARTERS if shift_months(q, 12) > end >= q]
            assert len(window) == 4
            # 12-month totals are sums of the four quarters, at the finest level and rolled up.
            for code, offence in CODES.items():
                expected = sum(data["counts"][(force, code, q)] for q in window)
                assert by_key[(force, offence, end)]["count"] == expected
            total = sum(data["counts"][(force, code, q)] for code in CODES for q in window)
            assert by_key[(force, "total-excluding-fraud", end)]["count"] == total
            theft = sum(data["counts"][(force, c, q)] for c in ("46", "28E") for q in window)
            assert by_key[(force, "theft-offences", end)]["count"] == theft
    for row in rows:
        # rate × population / 1000 = count (City of London's rate is suppressed, as ONS does).
        if row["rate_per_1000"] is not None:
            assert math.isclose(
                row["rate_per_1000"] * row["population"] / 1000, row["count"], rel_tol=1e-9, abs_tol=1e-9
            )
        # change is consistent with the two counts.
        if row["previous_count"] is not None:
            assert row["change"] == row["count"] - row["previous_count"]
            if row["change_pct"] is not None:
                assert row["previous_count"] >= 50
                assert math.isclose(row["change_pct"], row["change"] / row["previous_count"] * 100)
    # ranks: 1 = lowest rate as printed, ties shared, and "n of N" counts every ranked force.
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["rank"] is not None:
            groups.setdefault((row["offence"], row["period_end"]), []).append(row)
    for group in groups.values():
        rounded = [round(r["rate_per_1000"], rate_places(r["rate_per_1000"])) for r in group]  # as printed
        for row, rate in zip(group, rounded, strict=True):
            assert row["ranked_of"] == len(group)
            assert row["rank"] == 1 + sum(other < rate for other in rounded)
        if len(set(rounded)) == len(rounded):
            assert sorted(r["rank"] for r in group) == list(range(1, len(group) + 1))
