"""Queries over the store, returning Arrow tables (``.to_pandas()`` for pandas).

These are the functions the CLI, reports and web app call, so a figure is the same everywhere it appears.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from crimestats import reference
from crimestats.analytics import _reference
from crimestats.analytics.comparisons import funnel_rows, with_change_tests, with_intervals, with_rank_ranges
from crimestats.analytics.figures import (
    SOURCE_PRIORITY,
    Options,
    annual_counts,
    area_totals,
    best_counts,
    statistics,
)
from crimestats.errors import CrimestatsError, NoDataError, UnknownAreaError
from crimestats.periods import format_period, parse_period, period_label
from crimestats.store import Store

__all__ = [
    "FIGURE_COLUMNS",
    "SOURCE_PRIORITY",
    "Options",
    "area_totals",
    "available_periods",
    "best_counts",
    "force_boundaries",
    "force_profile",
    "funnel",
    "league_table",
    "national_figures",
    "period_leagues",
    "rate_trends",
    "statistics",
    "totals_table",
]

LEAGUE_COLUMNS = [
    "force_code",
    "force",
    "count",
    "population",
    "rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "rank",
    "ranked_of",
    "rank_low",
    "rank_high",
    "previous_count",
    "change_pct",
    "change_p_value",
    "change_significant",
    "change_verdict",
    "source",
    "vintage",
    "file_name",
    "population_source",
    "note",
]


#: The figure columns of every league-table row: counts, rate and interval, rank and range, change and test.
FIGURE_COLUMNS = LEAGUE_COLUMNS[LEAGUE_COLUMNS.index("count") :]


def _check_source(options: Options) -> None:
    if options.source is not None and options.source not in SOURCE_PRIORITY:
        raise CrimestatsError(f"unknown source {options.source!r}; choose one of {', '.join(SOURCE_PRIORITY)}")


def _note(row: dict[str, Any]) -> str | None:
    notes = [row.get("reason"), row.get("rate_note"), row.get("change_note")]
    return "; ".join(n for n in notes if n) or None


def _whole(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def _named(row: dict[str, Any]) -> dict[str, Any]:
    """A statistics row with domain names, whole numbers for counts and ranks, and one note."""
    whole = {key: _whole(row[key]) for key in ("count", "previous_count", "rank", "ranked_of")}
    return {**row, **whole, "force_code": row["area_code"], "force": row["area_name"], "note": _note(row)}


def _with_uncertainty(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One offence and period, every force: add rate intervals, plausible rank ranges and change tests."""
    return with_change_tests(with_rank_ranges(with_intervals(_named(row) for row in rows)))


def league_table(store: Store, period: str, offence: str | None = None, options: Options = Options()) -> pa.Table:
    """Every force's count, rate per 1,000 residents, rank (1 = lowest rate) and change for one offence.

    Each rate has its 95% interval (``rate_ci_low``, ``rate_ci_high``), each rank its plausible range
    (``rank_low``, ``rank_high``) and each change a test of whether the rate changed (``change_p_value``,
    ``change_significant``, ``change_verdict``); see :mod:`crimestats.analytics.uncertainty`.

    Sorted by rank; forces without a rate (City of London, suppressed; a force with no data) and British
    Transport Police (no resident population) follow, unranked.
    """
    _check_source(options)
    month = parse_period(period)
    slug = reference.offence(offence or "total-excluding-fraud").slug
    expr = statistics(store.backend, options).filter(_.offence == slug, _.period_end == month)
    expr = expr.order_by([_.rank.isnull(), _.rank, _.kind, _.area_name])
    result = expr.to_pyarrow()
    if result.num_rows == 0:
        raise _no_data(store, slug, month, options)
    rows = _with_uncertainty(result.to_pylist())
    return pa.Table.from_pylist([{column: row[column] for column in LEAGUE_COLUMNS} for row in rows])


def funnel(
    store: Store, period: str, offence: str | None = None, options: Options = Options(), overdispersion: bool = True
) -> dict[str, Any]:
    """Funnel-plot data for one offence and period: every force with a rate against the pooled rate.

    Returns ``{"period", "period_label", "offence", "offence_name", "target", "overdispersion", "method",
    "rows", "curve"}``; see :func:`crimestats.analytics.comparisons.funnel_rows`.
    """
    rows = league_table(store, period, offence, options).to_pylist()
    month = parse_period(period)
    item = reference.offence(offence or "total-excluding-fraud")
    try:
        data = funnel_rows(rows, overdispersion)
    except ValueError as error:
        raise NoDataError(f"no funnel plot for {item.name} in the {period_label(month)}: {error}") from error
    header = {
        "period": format_period(month),
        "period_label": period_label(month),
        "offence": item.slug,
        "offence_name": item.name,
    }
    return {**header, **data}


def period_leagues(store: Store, period: str, options: Options = Options()) -> dict[str, list[dict[str, Any]]]:
    """Every offence's league table for one period, in the order of the offence classification.

    offence slug → rows for every force (and British Transport Police) with the statistics columns,
    ``force_code``, ``force``, ``offence_name``, ``level``, ``note`` and the uncertainty columns of
    :func:`league_table`.
    """
    _check_source(options)
    month = parse_period(period)
    expr = statistics(store.backend, options).filter(_.period_end == month)
    expr = expr.join(_reference.offences(), "offence").order_by("offence_order", "area_name")
    by_offence: dict[str, list[dict[str, Any]]] = {}
    for row in expr.to_pyarrow().to_pylist():
        by_offence.setdefault(row["offence"], []).append(row)
    return {slug: _with_uncertainty(rows) for slug, rows in by_offence.items()}


def force_profile(store: Store, force: str, period: str, options: Options = Options()) -> dict[str, Any]:
    """One force across every level of the offence classification for one period.

    Returns ``{"force_code", "force", "period", "period_label", "rows": Arrow table}``; rows carry offence,
    offence_slug, level and the league-table columns from ``count`` on (with intervals, rank ranges and
    change tests), ranks being among all forces.
    """
    _check_source(options)
    area = reference.area(force)
    if area.kind not in ("force", "transport"):
        raise UnknownAreaError(f"{area.name} is a {area.kind}, not a police force; see `crimestats totals`")
    month = parse_period(period)
    leagues = period_leagues(store, period, options)
    own = [row for rows in leagues.values() for row in rows if row["area_code"] == area.code]
    if not own:
        raise NoDataError(f"no figures for {area.name} in the {period_label(month)}; try `crimestats periods`")
    rows = [
        {
            "offence": row["offence_name"],
            "offence_slug": row["offence"],
            "level": row["level"],
            **{column: row[column] for column in FIGURE_COLUMNS},
        }
        for row in own
    ]
    return {
        "force_code": area.code,
        "force": area.name,
        "period": format_period(month),
        "period_label": period_label(month),
        "rows": pa.Table.from_pylist(rows),
    }


def totals_table(store: Store, period: str, offence: str | None = None, options: Options = Options()) -> pa.Table:
    """England and Wales, England, Wales and regional totals for one offence, like for like."""
    _check_source(options)
    month = parse_period(period)
    slug = reference.offence(offence or "total-excluding-fraud").slug
    order = {"national": 0, "country": 1, "region": 2}
    result = area_totals(store.backend, options).filter(_.offence == slug, _.period_end == month).to_pyarrow()
    if result.num_rows == 0:
        raise _no_data(store, slug, month, options)
    rows = sorted(map(_total_row, result.to_pylist()), key=lambda r: (order[r["kind"]], r["area_code"]))
    keep = [
        "area_code",
        "area",
        "count",
        "population",
        "rate_per_1000",
        "previous_count",
        "change_pct",
        "excluded",
        "sources",
        "vintages",
    ]
    return pa.Table.from_pylist([{k: r[k] for k in keep} for r in rows])


def national_figures(store: Store, period: str, options: Options = Options()) -> dict[str, dict[str, Any]]:
    """England and Wales for one period, every offence: offence slug → the :func:`totals_table` columns."""
    _check_source(options)
    month = parse_period(period)
    expr = area_totals(store.backend, options).filter(_.period_end == month, _.kind == "national")
    return {row["offence"]: row for row in map(_total_row, expr.to_pyarrow().to_pylist())}


def _total_row(row: dict[str, Any]) -> dict[str, Any]:
    """Whole numbers, and the area named with the forces it leaves out: "England and Wales (excluding …)"."""
    excluded = row["excluded"] or []
    whole = {key: _whole(row[key]) for key in ("count", "population", "previous_count")}
    return {**row, **whole, "area": row["area_name"] + (f" (excluding {', '.join(excluded)})" if excluded else "")}


def rate_trends(
    store: Store, offence: str | None = None, options: Options = Options()
) -> dict[str, list[dict[str, Any]]]:
    """Every force's and England and Wales' rate for one offence in every period the store holds.

    area code → rows of period, period_label, series (the area's name), count, population, rate_per_1000,
    rate_ci_low, rate_ci_high and source, oldest first. Periods without a rate are left out.
    """
    _check_source(options)
    slug = reference.offence(offence or "total-excluding-fraud").slug
    national = area_totals(store.backend, options).filter(_.kind == "national", _.offence == slug)
    national = national.mutate(source=_.sources.join(", "), file_name=ibis.null("string"))
    forces = statistics(store.backend, options).filter(_.offence == slug)
    columns = ["area_code", "period_end", "area_name", "count", "population", "rate_per_1000", "source", "file_name"]
    rows = [*national.select(*columns).to_pyarrow().to_pylist(), *forces.select(*columns).to_pyarrow().to_pylist()]
    trends: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(with_intervals(r for r in rows if r["rate_per_1000"] is not None), key=lambda r: r["period_end"]):
        trends.setdefault(row["area_code"], []).append(
            {
                "period": format_period(row["period_end"]),
                "period_label": period_label(row["period_end"]),
                "series": row["area_name"],
                "count": _whole(row["count"]),
                "population": _whole(row["population"]),
                **{key: row[key] for key in ("rate_per_1000", "rate_ci_low", "rate_ci_high", "source", "file_name")},
            }
        )
    return trends


def force_boundaries(store: Store) -> dict[str, Any] | None:
    """Police force area boundaries as a GeoJSON FeatureCollection (property ``force_code``), from the latest
    boundaries file in the store; None when none is stored."""
    con = store.con
    rows = con.execute(
        """SELECT area_code, area_name, geometry FROM boundaries
           WHERE file_id = (SELECT max(file_id) FROM boundaries) ORDER BY feature"""
    ).fetchall()
    if not rows:
        return None
    features = [
        {"type": "Feature", "properties": {"force_code": code, "force": name}, "geometry": json.loads(geometry)}
        for code, name, geometry in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def available_periods(store: Store, options: Options = Options()) -> pa.Table:
    """The 12-month periods the store holds, each source and release that covers them, and how many forces
    have a total recorded crime figure there."""
    files = store.backend.table("files").select("file_id", "source", "vintage")
    forces = _reference.areas().filter(_.kind == "force").select("area_code")
    counts = annual_counts(store.backend).filter(_.offence == "total-excluding-fraud", _.value.notnull())
    counts = counts.join(files, "file_id").join(forces, "area_code")
    if options.source is not None:
        counts = counts.filter(_.source == options.source)
    expr = counts.group_by("period_end", "source", "vintage").agg(forces=_.area_code.nunique())
    rows = expr.order_by("period_end", "source", "vintage").to_pyarrow().to_pylist()
    return pa.Table.from_pylist(
        [
            {
                "period": format_period(r["period_end"]),
                "label": period_label(r["period_end"]),
                "source": r["source"],
                "vintage": r["vintage"],
                "forces": r["forces"],
            }
            for r in rows
        ]
    )


def _no_data(store: Store, offence: str, month: dt.date, options: Options) -> NoDataError:
    periods = sorted({r["period"] for r in available_periods(store, options).to_pylist()})
    known = (
        f"periods in the store: {', '.join(periods)}"
        if periods
        else "the store is empty: run `crimestats ingest PATH` first"
    )
    source = f" from {options.source}" if options.source else ""
    return NoDataError(f"no {offence} figures{source} for the {period_label(month)}; {known}")
