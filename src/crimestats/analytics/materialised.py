"""Materialised statistics: every statistic computed once per store state and option set, kept in the store.

The Ibis expressions in :mod:`crimestats.analytics.figures` are the one definition of each statistic, and
:mod:`crimestats.analytics.comparisons` adds the uncertainty (intervals, rank ranges, change tests). Running
them for every question took seconds; here they are run once, over every area, offence and period, into a
table in the store (``stats_forces_<key>``, ``stats_totals_<key>``, listed in ``materialised``). A question is
then a filtered read of that table, so a number is the same in every view and every view is fast.

The key is a digest of the stored files (their sha256s), the definitions (the crimestats version and the
source of the analytics modules) and the options. A new file, a new version or another option set gives a
new key and a new table; ingesting an unchanged file changes nothing. On a read-only store a missing table is
built in a temporary table of the connection instead (or in the store, when no other process holds it).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from crimestats.analytics import engines
from crimestats.analytics.options import Options
from crimestats.store import Store

__all__ = [
    "CATALOGUE",
    "compute_forces",
    "compute_totals",
    "forces",
    "materialise",
    "peers",
    "statistics_key",
    "street",
    "totals",
]

CATALOGUE = """
CREATE TABLE IF NOT EXISTS materialised (
    table_name VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    options VARCHAR NOT NULL,
    files_digest VARCHAR NOT NULL,
    definitions_digest VARCHAR NOT NULL,
    built_at TIMESTAMP NOT NULL,
    rows INTEGER NOT NULL
)
"""

#: Columns added to the statistics rows here, with their types (the rest come typed from the Ibis expression).
FORCE_EXTRAS = pa.schema(
    [
        ("force_code", pa.string()),
        ("force", pa.string()),
        ("note", pa.string()),
        ("offence_name", pa.string()),
        ("level", pa.string()),
        ("offence_order", pa.int64()),
        ("rate_ci_low", pa.float64()),
        ("rate_ci_high", pa.float64()),
        ("rate_ci998_low", pa.float64()),
        ("rate_ci998_high", pa.float64()),
        ("rank_low", pa.int64()),
        ("rank_high", pa.int64()),
        ("change_p_value", pa.float64()),
        ("change_significant", pa.bool_()),
        ("change_verdict", pa.string()),
        ("funnel_position", pa.string()),
        ("funnel_position_poisson", pa.string()),
        ("funnel_target", pa.float64()),
        ("rank_joint", pa.bool_()),
    ]
)
TOTAL_EXTRAS = pa.schema(
    [
        ("area", pa.string()),
        ("rate_ci_low", pa.float64()),
        ("rate_ci_high", pa.float64()),
        ("rate_ci998_low", pa.float64()),
        ("rate_ci998_high", pa.float64()),
    ]
)
#: The columns of the materialised peer comparisons (:func:`peers`).
PEERS = pa.schema(
    [
        ("force_code", pa.string()),
        ("offence", pa.string()),
        (
            "members",
            pa.list_(
                pa.struct(
                    [
                        ("force_code", pa.string()),
                        ("force", pa.string()),
                        ("is_force", pa.bool_()),
                        ("count", pa.int64()),
                        ("population", pa.int64()),
                        ("rate_per_1000", pa.float64()),
                    ]
                )
            ),
        ),
        ("rate_per_1000", pa.float64()),
        ("simple_mean", pa.float64()),
        ("weighted_mean", pa.float64()),
        ("average_printed", pa.string()),
        ("average_note", pa.string()),
        ("difference", pa.float64()),
        ("p_value", pa.float64()),
        ("significant", pa.bool_()),
        ("verdict", pa.string()),
    ]
)
#: The store tables the force and area statistics are computed from.
FIGURE_TABLES = ("figures", "files", "populations", "lookup")
#: A league's order: ranked forces by rank, then the unranked (BTP, City of London, forces without data) by kind
#: and name.
LEAGUE_ORDER = "rank IS NULL, rank, kind, area_name"
#: How a kind of statistics is laid out in its table, where not in the order computed: the force statistics
#: league by league, each in :data:`LEAGUE_ORDER`, so that a league is read as stored, without sorting (DuckDB
#: keeps a table's order for a filtered read of it). ``row_order`` keeps the order computed.
STORED_ORDER = {"forces": f"period_end, offence, {LEAGUE_ORDER}"}
_WHOLE_FORCE = ("count", "previous_count", "rank", "ranked_of")
_WHOLE_TOTAL = ("count", "population", "previous_count")


@functools.cache
def _definitions_digest() -> str:
    """The crimestats version and the source of the modules that define the statistics."""
    from crimestats import __version__

    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def statistics_key(store: Store, kind: str, options: Options) -> tuple[str, str, str]:
    """(table name, files digest, options as JSON) of one kind of materialised statistics. The engine that
    computes them is one of the options: statistics asked of Spark are Spark's, never DuckDB's kept ones."""
    files = store.files_digest()
    options_json = json.dumps({**asdict(options), "engine": store.engine}, sort_keys=True)
    key = hashlib.sha256(f"{kind}\n{files}\n{_definitions_digest()}\n{options_json}".encode()).hexdigest()[:20]
    return f"stats_{kind}_{key}", files, options_json


def forces(
    store: Store, options: Options = Options(), columns: str = "*", order_by: str | None = "row_order", **equal: Any
) -> pa.Table:
    """Every force (and British Transport Police) × offence × period, with every statistic and its uncertainty.

    The rows of :func:`crimestats.analytics.figures.force_statistics` with, in addition, ``force_code`` and
    ``force`` (the area), ``note`` (why a figure is missing or qualified), the offence's name, level and order
    in the classification, the force area's land area (``area_sq_km``, ONS MYE5, for peer groups), 95% and
    99.8% rate intervals, plausible rank ranges, the test of the change, the force's position on the funnel
    plot of its league (``funnel_position``, ``funnel_target``) and whether its rank is shared
    (``rank_joint``; :func:`crimestats.analytics.summaries.with_league_positions`).
    See :func:`read` for ``columns``, ``order_by`` and the filters.
    """
    return read(store, _ensured(store, "forces", options, compute_forces), columns, order_by, **equal)


def totals(
    store: Store, options: Options = Options(), columns: str = "*", order_by: str = "row_order", **equal: Any
) -> pa.Table:
    """Regions, countries and England and Wales × offence × period, like for like, with rate intervals.

    The rows of :func:`crimestats.analytics.figures.area_totals` (summed from :func:`forces`), with
    ``area`` naming the forces a total leaves out ("England and Wales (excluding Greater Manchester)").
    See :func:`read` for ``columns``, ``order_by`` and the filters.
    """
    return read(store, _ensured(store, "totals", options, compute_totals), columns, order_by, **equal)


def peers(
    store: Store,
    period_end: dt.date,
    options: Options = Options(),
    columns: str = "*",
    order_by: str = "row_order",
    **equal: Any,
) -> pa.Table:
    """Every force with a computed peer group × offence, in one period, against its group: the members, both
    averages, the difference and the test of the gap (:func:`crimestats.analytics.peers.group_averages`).

    Kept one period to a table (``stats_peers_<yyyymm>_<key>``), computed when a period is first asked for:
    the gap tests of every force and offence of a period take about a second, of every period several.
    See :func:`read` for ``columns``, ``order_by`` and the filters.
    """
    name = _ensured(store, f"peers_{period_end:%Y%m}", options, functools.partial(compute_peers, period_end=period_end))
    return read(store, name, columns, order_by, **equal)


def street(store: Store) -> str:
    """The name of the materialised street-level counts (:func:`crimestats.analytics.street.detail`: force ×
    month × crime type × LSOA × last outcome), computed first if need be: every street count sums it."""
    return _ensured(store, "street", Options(), compute_street)


def materialise(store: Store, options: Options = Options()) -> None:
    """Compute and keep the statistics of an option set now (the CLI does this for the defaults after ingest)."""
    _ensured(store, "forces", options, compute_forces)
    _ensured(store, "totals", options, compute_totals)


def is_materialised(store: Store, options: Options = Options()) -> bool:
    """Whether the store keeps the statistics of an option set for its files and these definitions."""
    return all(_exists(store, statistics_key(store, kind, options)[0]) for kind in ("forces", "totals"))


def read(store: Store, name: str, columns: str = "*", order_by: str | None = "row_order", **equal: Any) -> pa.Table:
    """A filtered read of a materialised table: the rows whose columns equal the values given
    (``offence="burglary"``), the ``columns`` and ``order_by`` SQL expressions chosen by the caller (never by
    a user: values are bound as parameters); ``order_by=None`` reads them in the order stored
    (:data:`STORED_ORDER`). This is the one place a question meets the engine."""
    select = "* EXCLUDE (row_order)" if columns == "*" else columns
    where = " AND ".join(f"{column} = ?" for column in equal) or "true"
    query = f"SELECT {select} FROM {name} WHERE {where}" + (f" ORDER BY {order_by}" if order_by else "")
    return store.con.sql(query, params=list(equal.values())).to_arrow_table()


def _ensured(store: Store, kind: str, options: Options, compute: Callable[[Store, Options], pa.Table | str]) -> str:
    """The name of the materialised table of a kind and option set, computing it first if need be."""
    name, files, options_json = statistics_key(store, kind, options)
    if name not in store.memo:
        if not _exists(store, name):
            _store(store, name, kind, files, options_json, compute(store, options))
        store.memo[name] = True
    return name


def _exists(store: Store, name: str) -> bool:
    found = store.con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
    return bool(found)


def _store(store: Store, name: str, kind: str, files: str, options_json: str, table: pa.Table | str) -> None:
    """Keep the table in the store with its catalogue entry, dropping tables built from other files or
    definitions; on a store that cannot be written, in a temporary table of this connection. ``table`` is the
    rows, or a query (SQL) that computes them in the engine, so that millions of rows never pass through
    Python (the street-level counts)."""
    if isinstance(table, str):
        incoming = f"(SELECT *, row_number() OVER () - 1 AS row_order FROM ({table}))"
    else:
        incoming = "incoming_statistics"
        table = table.append_column("row_order", pa.array(range(table.num_rows), pa.int64()))
    if kind in STORED_ORDER:
        incoming = f"(SELECT * FROM {incoming} ORDER BY {STORED_ORDER[kind]})"
    writable = store.writable()  # may reopen the connection
    con = store.con
    if not isinstance(table, str):
        con.register("incoming_statistics", table)
    try:
        if not writable:
            con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {incoming}")
            return
        with store.transaction(f"cannot keep the statistics in {store.path}"):
            con.execute(CATALOGUE)
            stale = con.execute(
                "DELETE FROM materialised WHERE files_digest <> ? OR definitions_digest <> ? RETURNING table_name",
                [files, _definitions_digest()],
            ).fetchall()
            for (old,) in stale:
                con.execute(f"DROP TABLE IF EXISTS {old}")
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM {incoming}")
            [(rows,)] = con.execute(f"SELECT count(*) FROM {name}").fetchall()
            con.execute(
                "INSERT INTO materialised VALUES (?, ?, ?, ?, ?, ?, ?)",
                [name, kind, options_json, files, _definitions_digest(), dt.datetime.now(dt.UTC), rows],
            )
    finally:
        if not isinstance(table, str):
            con.unregister("incoming_statistics")


# ---- the computations materialised -------------------------------------------------------------------------


def compute_forces(store: Store, options: Options = Options()) -> pa.Table:
    """:func:`forces`, computed from the stored figures (what is materialised)."""
    from crimestats.analytics import _reference
    from crimestats.analytics.comparisons import with_change_tests, with_intervals, with_rank_ranges
    from crimestats.analytics.figures import _left_lookup, force_land_areas, force_statistics
    from crimestats.analytics.summaries import with_league_positions

    backend = engines.backend(store, *FIGURE_TABLES)
    expr = force_statistics(backend, options).join(_reference.offences(), "offence")
    expr = _left_lookup(expr, force_land_areas(backend), ["area_code"])
    expr = expr.order_by("period_end", "offence_order", "area_name")
    result = engines.to_arrow(backend, expr)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in result.to_pylist():
        groups.setdefault((row["offence"], row["period_end"]), []).append(_named(row))
    ranked = [row for rows in groups.values() for row in with_league_positions(with_rank_ranges(rows))]
    rows = with_change_tests(with_intervals(ranked))
    return _typed(rows, result.schema, FORCE_EXTRAS, _WHOLE_FORCE)


def compute_totals(store: Store, options: Options = Options()) -> pa.Table:
    """:func:`totals`, computed from the materialised force statistics (what is materialised)."""
    import ibis

    from crimestats.analytics.comparisons import with_intervals
    from crimestats.analytics.figures import area_totals

    rows = ibis.memtable(forces(store, options))
    backend = engines.backend(store, *FIGURE_TABLES)
    expr = area_totals(backend, options, rows).order_by("period_end", "offence", "area_code")
    result = engines.to_arrow(backend, expr)
    rows = with_intervals(_total_row(row) for row in result.to_pylist())
    return _typed(rows, result.schema, TOTAL_EXTRAS, _WHOLE_TOTAL)


def compute_street(store: Store, options: Options = Options()) -> pa.Table | str:
    """:func:`street`, computed from the stored street-level crimes (what is materialised). On DuckDB, as the
    query that computes it in the store: millions of groups at national scale, kept without passing through
    Python. On Spark, as the rows Spark returns."""
    from crimestats.analytics.street import DETAIL, detail

    backend = engines.backend(store, "street_crimes")
    expr = detail(backend).order_by(*DETAIL)
    return str(backend.compile(expr)) if store.engine == "duckdb" else engines.to_arrow(backend, expr)


def compute_peers(store: Store, options: Options = Options(), *, period_end: dt.date) -> pa.Table:
    """:func:`peers` of one period, computed from the materialised force statistics (what is materialised)."""
    from crimestats.analytics.peers import computed_peer_comparisons
    from crimestats.periods import format_period

    rows = computed_peer_comparisons(store, format_period(period_end), options)
    return pa.Table.from_pylist(rows, schema=PEERS)


def _typed(rows: list[dict[str, Any]], schema: pa.Schema, extras: pa.Schema, whole: tuple[str, ...]) -> pa.Table:
    """The rows as Arrow with the expression's column types, the extras' and whole numbers as integers."""
    fields = [pa.field(f.name, pa.int64()) if f.name in whole else f for f in schema]
    fields += [f for f in extras if f.name not in schema.names]
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))


def _note(row: dict[str, Any]) -> str | None:
    notes = [row.get("reason"), row.get("rate_note"), row.get("change_note")]
    return "; ".join(n for n in notes if n) or None


def _whole(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def _named(row: dict[str, Any]) -> dict[str, Any]:
    """A statistics row with domain names, whole numbers for counts and ranks, and one note."""
    whole = {key: _whole(row[key]) for key in _WHOLE_FORCE}
    return {**row, **whole, "force_code": row["area_code"], "force": row["area_name"], "note": _note(row)}


def _total_row(row: dict[str, Any]) -> dict[str, Any]:
    """Whole numbers, and the area named with the forces it leaves out: "England and Wales (excluding …)"."""
    excluded = row["excluded"] or []
    whole = {key: _whole(row[key]) for key in _WHOLE_TOTAL}
    return {**row, **whole, "area": row["area_name"] + (f" (excluding {', '.join(excluded)})" if excluded else "")}
