"""Queries over the store, returning Arrow tables (``.to_pandas()`` for pandas).

These are the functions the CLI, reports and web app call, so a figure is the same everywhere it appears.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyarrow as pa

from crimestats import reference
from crimestats.analytics import materialised
from crimestats.analytics.materialised import materialise
from crimestats.analytics.options import SOURCE_PRIORITY, Options
from crimestats.errors import CrimestatsError, NoDataError, PeriodError, UnknownAreaError
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
    "force_statistics",
    "funnel",
    "find_forces",
    "holds_street_files",
    "league_table",
    "league_national",
    "national_figures",
    "materialise",
    "offence_periods",
    "population_years",
    "period_leagues",
    "rate_trends",
    "resolve_period",
    "store_periods",
    "totals_table",
]

#: The Ibis expressions that define the statistics, imported on first use (a question reads the materialised
#: statistics, and need not load Ibis).
_EXPRESSIONS = ("annual_counts", "area_totals", "best_counts", "force_populations", "force_statistics")


def __getattr__(name: str) -> Any:
    if name in _EXPRESSIONS:
        from crimestats.analytics import figures

        return getattr(figures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "population_year",
    "population_older",
    "note",
]


#: The figure columns of every league-table row: counts, rate and interval, rank and range, change and test.
FIGURE_COLUMNS = LEAGUE_COLUMNS[LEAGUE_COLUMNS.index("count") :]


def _check_source(options: Options) -> None:
    if options.source is not None and options.source not in SOURCE_PRIORITY:
        raise CrimestatsError(f"unknown source {options.source!r}; choose one of {', '.join(SOURCE_PRIORITY)}")


def league_table(
    store: Store, period: str | dt.date, offence: str | reference.Offence | None = None, options: Options = Options()
) -> pa.Table:
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
    columns = ", ".join(LEAGUE_COLUMNS)
    result = materialised.forces(store, options, columns, order_by=None, offence=slug, period_end=month)  # as stored
    if result.num_rows == 0:
        raise _no_data(store, slug, month, options)
    return result


def funnel(
    store: Store,
    period: str | dt.date,
    offence: str | reference.Offence | None = None,
    options: Options = Options(),
    overdispersion: bool = True,
) -> dict[str, Any]:
    """Funnel-plot data for one offence and period: every force with a rate against the pooled rate.

    Returns ``{"period", "period_label", "offence", "offence_name", "target", "overdispersion", "method",
    "rows", "curve"}``; see :func:`crimestats.analytics.comparisons.funnel_rows`.
    """
    from crimestats.analytics.comparisons import funnel_rows

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


def period_leagues(
    store: Store, period: str | dt.date, options: Options = Options()
) -> dict[str, list[dict[str, Any]]]:
    """Every offence's league table for one period, in the order of the offence classification.

    offence slug → rows for every force (and British Transport Police), by name, with the statistics columns,
    ``force_code``, ``force``, ``offence_name``, ``level``, ``note`` and the uncertainty columns of
    :func:`league_table`.
    """
    _check_source(options)
    month = parse_period(period)
    by_offence: dict[str, list[dict[str, Any]]] = {}
    for row in materialised.forces(store, options, period_end=month).to_pylist():
        by_offence.setdefault(row["offence"], []).append(row)
    return by_offence


def force_profile(
    store: Store, force: str | reference.Area, period: str | dt.date, options: Options = Options()
) -> dict[str, Any]:
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
    columns = ", ".join(["offence_name AS offence", "offence AS offence_slug", "level", *FIGURE_COLUMNS])
    rows = materialised.forces(store, options, columns, period_end=month, area_code=area.code)
    if rows.num_rows == 0:
        raise NoDataError(f"no figures for {area.name} in the {period_label(month)}; try `crimestats periods`")
    return {
        "force_code": area.code,
        "force": area.name,
        "period": format_period(month),
        "period_label": period_label(month),
        "rows": rows,
    }


TOTALS_COLUMNS = [
    "area_code",
    "area",
    "count",
    "population",
    "population_year",
    "population_older",
    "rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "previous_count",
    "change_pct",
    "change_note",
    "excluded",
    "sources",
    "vintages",
]
_TOTALS_ORDER = "CASE kind WHEN 'national' THEN 0 WHEN 'country' THEN 1 ELSE 2 END, area_code"


def totals_table(
    store: Store, period: str | dt.date, offence: str | reference.Offence | None = None, options: Options = Options()
) -> pa.Table:
    """England and Wales, England, Wales and regional totals for one offence, like for like."""
    _check_source(options)
    month = parse_period(period)
    slug = reference.offence(offence or "total-excluding-fraud").slug
    columns = ", ".join(TOTALS_COLUMNS)
    result = materialised.totals(store, options, columns, _TOTALS_ORDER, offence=slug, period_end=month)
    if result.num_rows == 0:
        raise _no_data(store, slug, month, options)
    return result


def league_national(
    store: Store, period: str | dt.date, offence: str | reference.Offence | None = None, options: Options = Options()
) -> dict[str, Any] | None:
    """England and Wales for a league table: the :func:`totals_table` row summed from the same forces' figures
    (those without one left out, and named in ``area``), as ONS prints it at the foot of its tables; None
    when no force has a figure."""
    _check_source(options)
    slug = reference.offence(offence or "total-excluding-fraud").slug
    columns = ", ".join(TOTALS_COLUMNS)
    rows = materialised.totals(store, options, columns, offence=slug, period_end=parse_period(period), kind="national")
    return rows.to_pylist()[0] if rows.num_rows else None


def national_figures(store: Store, period: str | dt.date, options: Options = Options()) -> dict[str, dict[str, Any]]:
    """England and Wales for one period, every offence: offence slug → the :func:`totals_table` columns."""
    _check_source(options)
    month = parse_period(period)
    rows = materialised.totals(store, options, period_end=month, kind="national")
    return {row["offence"]: row for row in rows.to_pylist()}


def rate_trends(
    store: Store, offence: str | reference.Offence | None = None, options: Options = Options()
) -> dict[str, list[dict[str, Any]]]:
    """Every force's and England and Wales' rate for one offence in every period the store holds.

    area code → rows of period, period_label, series (the area's name; England and Wales named with the forces
    its total leaves out, as the area totals name it), count, population, rate_per_1000,
    rate_ci_low, rate_ci_high and source, oldest first; England and Wales rows also name the forces its
    total leaves out (``excluded``). Periods without a rate are left out.
    """
    _check_source(options)
    slug = reference.offence(offence or "total-excluding-fraud").slug
    national = materialised.totals(store, options, offence=slug, kind="national")
    forces = materialised.forces(store, options, offence=slug)
    national_rows = [
        {**r, "source": ", ".join(r["sources"]), "file_name": None, "excluded": r["excluded"] or []}
        for r in national.to_pylist()
    ]
    trends: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(
        (r for r in [*national_rows, *forces.to_pylist()] if r["rate_per_1000"] is not None),
        key=lambda r: r["period_end"],
    ):
        keys = ("rate_per_1000", "rate_ci_low", "rate_ci_high", "source", "file_name", "excluded")
        trends.setdefault(row["area_code"], []).append(
            {
                "period": format_period(row["period_end"]),
                "period_label": period_label(row["period_end"]),
                "series": row.get("area") or row["area_name"],  # "England and Wales (excluding …)" where it is
                "count": row["count"],
                "population": row["population"],
                **{key: row[key] for key in keys if key in row},
            }
        )
    return trends


def offence_periods(
    store: Store, offence: str | reference.Offence | None = None, options: Options = Options()
) -> list[dict[str, Any]]:
    """The periods with a count of an offence for some force: period_end, source and vintage, oldest first."""
    slug = reference.offence(offence or "total-excluding-fraud").slug
    rows = materialised.forces(store, options, offence=slug).to_pylist()
    found = {(r["period_end"], r["source"], r["vintage"]) for r in rows if r["count"] is not None}
    return [{"period_end": p, "source": s, "vintage": v} for p, s, v in sorted(found)]


def holds_street_files(store: Store, area: reference.Area) -> bool:
    """Whether the store holds any data.police.uk street-level file of the force: asked before anything that
    loads Ibis for the street data (a force report of a store without them does not)."""
    query = "SELECT 1 FROM police_uk_months WHERE kind = 'street' AND force_code = ? LIMIT 1"
    return bool(store.con.execute(query, [area.code]).fetchall())


def population_years(store: Store, published_too: bool = False) -> list[int]:
    """Years of the mid-year estimates in the store (and, if ``published_too``, of ONS Table P3 populations)."""
    from ibis import _

    from crimestats.analytics.figures import force_populations

    years = {r["year"] for r in force_populations(store.backend).select("year").distinct().to_pyarrow().to_pylist()}
    if published_too:
        files = store.backend.table("files").filter(_.source == "ons-pfa").select("file_id")
        p3 = store.backend.table("populations").filter(_.denominator == "residents").join(files, "file_id")
        years |= {r["year"] for r in p3.select("year").distinct().to_pyarrow().to_pylist()}
    return sorted(int(year) for year in years)


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


def find_forces(store: Store, text: str) -> list[dict[str, str]]:
    """The police forces a name finds: forces whose name or alias contains ``text``, then the forces of the
    councils (local authority districts) and community safety partnerships whose names contain it, from the
    latest ONS lookup in the store ('Swindon' → Wiltshire). Case, '&' and punctuation are ignored (see
    :func:`crimestats.reference.normalise_name`); fewer than two letters find nothing.

    Each match is ``{"force_code", "force", "slug", "matched", "kind"}``: the name found and whether it is a
    ``force``, ``council`` or ``community safety partnership``; a force found several ways is listed once.
    """
    key = reference.normalise_name(text)
    if len(key) < 2:
        return []
    named = [(a.code, name, "force") for a in reference.forces() for name in (a.name, *a.aliases)]
    lookup = store.con.execute(
        """SELECT DISTINCT pfa_code, lad_name, csp_name FROM lookup
           WHERE file_id = (SELECT max(file_id) FROM lookup) ORDER BY pfa_code, lad_name"""
    ).fetchall()
    named += [(code, lad, "council") for code, lad, _ in lookup]
    named += [(code, csp, "community safety partnership") for code, _, csp in lookup]
    found: dict[str, dict[str, str]] = {}
    for code, name, kind in named:
        area = reference.find_area(code)
        if area is not None and code not in found and key in reference.normalise_name(name):
            found[code] = {"force_code": code, "force": area.name, "slug": area.slug, "matched": name, "kind": kind}
    return list(found.values())


def available_periods(store: Store, options: Options = Options()) -> pa.Table:
    """The 12-month periods the store holds, each source and release that covers them, and how many forces
    have a total recorded crime figure there."""
    from ibis import _

    from crimestats.analytics import _reference
    from crimestats.analytics.figures import annual_counts

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
    """Why a period has no figures for an offence, in one line: fraud is not counted by force; or the periods
    the store holds (an empty store says how to fill it); or, for an offence that only some of them have, its
    own periods and releases."""
    from crimestats import caveats

    item = reference.offence(offence)
    if item.level == "fraud":
        why = caveats.caveat("fraud-national-only").text
        return NoDataError(f"no {item.slug} figures by police force: {why[0].lower()}{why[1:]}")
    source = f" from {options.source}" if options.source else ""
    missing = f"no {item.slug} figures{source} for the {period_label(month)}"
    periods = sorted({r["period"] for r in available_periods(store, options).to_pylist()})
    if not periods:
        return NoDataError(f"{missing}; the store is empty: run `crimestats ingest PATH` first")
    found = offence_periods(store, item, options)
    if not found:
        return NoDataError(
            f"no {item.slug} figures{source} in the store for any period; `crimestats periods` lists what it holds"
        )
    if sorted({format_period(r["period_end"]) for r in found}) == periods:
        return NoDataError(f"{missing}; periods in the store: {', '.join(periods)}")
    listed = ", ".join(f"{format_period(r['period_end'])} ({r['source']} {r['vintage']})" for r in found)
    return NoDataError(f"{missing}; {item.slug} figures: {listed}")


def resolve_period(store: Store, text: str | dt.date) -> dt.date:
    """A period as a user writes it (``2019-09``, ``Sep 2019``, ``year ending September 2019``: see
    :func:`crimestats.periods.parse_period`) or ``latest``, the newest period in the store. A period that cannot
    be one is a :class:`PeriodError` naming the periods the store holds."""
    if isinstance(text, str) and text.strip().lower() == "latest":
        held = store_periods(store)
        if not held:
            raise NoDataError("no periods in the store for 'latest': run `crimestats ingest PATH` first")
        return held[-1]
    try:
        return parse_period(text)
    except PeriodError as error:
        listed = ", ".join(format_period(month) for month in store_periods(store)) or "none (the store is empty)"
        raise PeriodError(f"{error}; periods in the store: {listed}") from error


def store_periods(store: Store) -> list[dt.date]:
    """The periods with England and Wales figures in the store, oldest first."""
    rows = materialised.totals(store, Options(), "period_end", "period_end", kind="national")
    return sorted(set(rows.column("period_end").to_pylist()))


#: The columns of a row of :func:`force_trend`, in order.
TREND_COLUMNS = [
    "period",
    "count",
    "rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "rank",
    "ranked_of",
    "change_pct",
    "england_and_wales_rate",
    "source",
    "vintage",
]


def force_trend(
    store: Store,
    force: str | reference.Area,
    offence: str | reference.Offence | None = None,
    options: Options = Options(),
) -> dict[str, Any]:
    """One force for one offence in every period the store holds, oldest first, beside England and Wales.

    Returns ``{"force_code", "force", "offence", "rows"}``; each row holds the :data:`TREND_COLUMNS`: the
    force's count, rate and 95% interval, rank "n of N", change on a year earlier, source and vintage, and
    ``england_and_wales_rate``, the national rate of that period like for like (the forces with figures that
    year: :func:`totals_table`). A period without a count for the force (Greater Manchester, July–December
    2019) has its row, with the count missing.
    """
    _check_source(options)
    area = reference.area(force)
    if area.kind not in ("force", "transport"):
        raise UnknownAreaError(f"{area.name} is a {area.kind}, not a police force; see `crimestats totals`")
    slug = reference.offence(offence or "total-excluding-fraud").slug
    national = materialised.totals(store, options, "period_end, rate_per_1000", offence=slug, kind="national")
    national_rate = dict(zip(*national.to_pydict().values(), strict=True))
    columns = ", ".join(["period_end", *(c for c in TREND_COLUMNS if c not in ("period", "england_and_wales_rate"))])
    found = materialised.forces(store, options, columns, "period_end", offence=slug, area_code=area.code)
    if found.num_rows == 0:
        raise NoDataError(f"no {slug} figures for {area.name} in the store; `crimestats periods` lists what it holds")
    rows = [_trend_row(row, national_rate) for row in found.to_pylist()]
    return {"force_code": area.code, "force": area.name, "offence": slug, "rows": rows}


def _trend_row(row: dict[str, Any], national_rate: dict[dt.date, float | None]) -> dict[str, Any]:
    """A force's statistics row as a :func:`force_trend` row, with England and Wales' rate of its period."""
    month = row["period_end"]
    found = {**row, "period": format_period(month), "england_and_wales_rate": national_rate.get(month)}
    return {key: found[key] for key in TREND_COLUMNS}
