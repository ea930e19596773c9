"""Street-level data from data.police.uk: counts, coverage, outcomes, stop-and-search and the reconciliation
with the recorded crime statistics, as Ibis expressions over the store's police.uk tables.

The crimes are counted once per store state by force × month × crime type × LSOA × last outcome
(:func:`detail`, materialised as ``stats_street_<key>``); every count is a sum over that table. Anti-social
behaviour is in the files but is not a crime: counts keep it as its own crime type, and totals and the
reconciliation leave it out (:data:`ASB`). Months are the first day of the month.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
from ibis import _

from crimestats import caveats, reference
from crimestats.analytics import _reference
from crimestats.errors import NoDataError
from crimestats.periods import format_period, shift_months

if TYPE_CHECKING:
    import pyarrow as pa

    from crimestats.store import Store

__all__ = [
    "ASB",
    "COUNT_GROUPINGS",
    "STOP_GROUPINGS",
    "counts",
    "coverage",
    "density",
    "detail",
    "hex_bins",
    "months_between",
    "outcome_shares",
    "reconciliation",
    "stop_shares",
    "street_caveats",
    "street_counts",
    "street_coverage",
    "street_density",
    "street_outcomes",
    "street_reconciliation",
    "street_stops",
    "street_totals",
    "twelve_month_totals",
]

ASB = "Anti-social behaviour"
#: ``--by`` of ``street counts`` → the column it groups by.
COUNT_GROUPINGS = {
    "force": "force_code",
    "crime-type": "crime_type",
    "month": "month",
    "lsoa": "lsoa_code",
    "outcome": "last_outcome_category",
}
#: ``--by`` of ``street stops`` → the column it groups by.
STOP_GROUPINGS = {
    "object": "object_of_search",
    "outcome": "outcome",
    "age": "age_range",
    "ethnicity": "self_defined_ethnicity",
    "legislation": "legislation",
    "gender": "gender",
    "type": "type",
}
DETAIL = ("force_code", "month", "crime_type", "lsoa_code", "last_outcome_category")
KIND_COLUMNS = {"street": "street", "outcomes": "outcomes", "stop-and-search": "stop_and_search"}


def street_caveats() -> list[caveats.Caveat]:
    """The caveats printed with every figure from the street-level files."""
    return [item for item in caveats.caveats() if item.measure == "police-uk"]


def detail(backend: ibis.BaseBackend) -> ir.Table:
    """Street crimes (and anti-social behaviour) by force × month × crime type × LSOA × last outcome: what is
    materialised, and what every count sums."""
    return backend.table("street_crimes").group_by(list(DETAIL)).agg(count=_.count())


def _within(rows: ir.Table, force_code: str | None, start: dt.date | None, end: dt.date | None) -> ir.Table:
    if force_code is not None:
        rows = rows.filter(_.force_code == force_code)
    if start is not None:
        rows = rows.filter(_.month >= start)
    if end is not None:
        rows = rows.filter(_.month <= end)
    return rows


def counts(
    detailed: ir.Table,
    by: list[str],
    force_code: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> ir.Table:
    """Counts of the months from ``start`` to ``end`` (either open), grouped by the ``by`` columns."""
    rows = _within(detailed, force_code, start, end)
    return rows.group_by(by).agg(count=_["count"].sum().cast("int64")).order_by(by)


def outcome_shares(
    detailed: ir.Table, force_code: str | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> ir.Table:
    """Each crime type's crimes by last outcome, with the share of the type's crimes (anti-social behaviour,
    which has no outcome, left out)."""
    rows = _within(detailed, force_code, start, end).filter(_.crime_type != ASB)
    grouped = rows.group_by("crime_type", "last_outcome_category").agg(count=_["count"].sum().cast("int64"))
    share = grouped["count"] / grouped["count"].sum().over(group_by="crime_type")
    return grouped.mutate(share=share).order_by("crime_type", ibis.desc("count"), "last_outcome_category")


def stop_shares(
    backend: ibis.BaseBackend,
    by: str,
    force_code: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> ir.Table:
    """Stop-and-search counts by one column, each with its share of the searches and the share of those with
    an outcome whose outcome was linked to the object searched for (where the force says)."""
    rows = _within(backend.table("stop_and_search"), force_code, start, end)
    linked = _.outcome_linked_to_object_of_search
    grouped = rows.group_by(by).agg(
        count=_.count(),
        linked=linked.cast("int64").sum(),
        linked_known=linked.count(),
    )
    return (
        grouped.mutate(
            share=grouped["count"] / grouped["count"].sum().over(),
            linked_share=ibis.ifelse(
                grouped.linked_known > 0, grouped.linked / grouped.linked_known, ibis.null("float64")
            ),
        )
        .select(by, "count", "share", "linked_share")
        .order_by(ibis.desc("count"), by)
    )


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from ``first`` to ``last``, both included."""
    months = [first]
    while months[-1] < last:
        months.append(shift_months(months[-1], 1))
    return months


def _street_months(backend: ibis.BaseBackend, start: dt.date, end: dt.date, force_code: str | None = None) -> ir.Table:
    """The street files the store holds for the months ``start`` to ``end``, of one force or every force."""
    return _within(backend.table("police_uk_months").filter(_.kind == "street"), force_code, start, end)


def coverage(backend: ibis.BaseBackend) -> ir.Table | None:
    """Rows stored for each force × month from the store's first month to its last, by kind (street, outcomes,
    stop_and_search): NULL where the store has no file for it (a missing month). None if nothing is stored."""
    parts = backend.table("police_uk_months")
    span = parts.aggregate(first=_.month.min(), last=_.month.max()).to_pyarrow().to_pylist()[0]
    if span["first"] is None:
        return None
    months = ibis.memtable({"month": months_between(span["first"], span["last"])}, schema={"month": "date"})
    grid = parts.select("force_code").distinct().cross_join(months)
    kinds = parts.group_by("force_code", "month").agg(
        **{column: _.rows.sum(where=_.kind == kind) for kind, column in KIND_COLUMNS.items()}
    )
    names = _reference.areas().select(force_code=_.area_code, force=_.area_name)
    keys = ["force_code", "month"]
    joined = grid.left_join(kinds, [grid[k] == kinds[k] for k in keys]).drop(*[f"{k}_right" for k in keys])
    return joined.join(names, "force_code").order_by("force", "month")


def twelve_month_totals(backend: ibis.BaseBackend, detailed: ir.Table, period_end: dt.date) -> ir.Table:
    """Each force's street crimes (anti-social behaviour left out) and anti-social behaviour incidents in the
    12 months to ``period_end``, with the months it has files for and, for a force with all 12, the rate per
    1,000 residents on the latest mid-year estimate the store holds up to the one ONS would use."""
    from crimestats.analytics.figures import force_populations, ons_population_year

    start = shift_months(period_end, -11)
    rows = _within(detailed, None, start, period_end)
    months = _street_months(backend, start, period_end).group_by("force_code").agg(months=_.month.nunique())
    crimes = rows.group_by("force_code").agg(
        count=_["count"].sum(where=_.crime_type != ASB).cast("int64"),
        anti_social_behaviour=_["count"].sum(where=_.crime_type == ASB).cast("int64"),
    )
    populations = force_populations(backend).filter(_.year <= ons_population_year(ibis.literal(period_end)))
    latest = populations.group_by("area_code").agg(year=_.year.max())
    populations = populations.join(latest, ["area_code", "year"]).select(
        force_code=_.area_code, population=_.population, population_year=_.year
    )
    totals = crimes.join(months, "force_code")
    totals = totals.left_join(populations, totals.force_code == populations.force_code).drop("force_code_right")
    rate = ibis.ifelse(totals.months == 12, totals["count"] / totals.population * 1000, ibis.null("float64"))
    names = _reference.areas().select(force_code=_.area_code, force=_.area_name)
    return totals.mutate(rate_per_1000=rate).join(names, "force_code").order_by("force")


def reconciliation(
    backend: ibis.BaseBackend, detailed: ir.Table, force: reference.Area, period_end: dt.date
) -> dict[str, Any]:
    """The police.uk count of a force's crimes in the 12 months to ``period_end`` (anti-social behaviour left
    out) beside the recorded crime count for the same force and months (total recorded crime excluding fraud,
    from the best source the store holds: ONS Table C2 for a year ending June), their ratio, the months the
    street files cover and the documented reasons the two differ."""
    from crimestats.analytics.figures import best_counts

    start = shift_months(period_end, -11)
    rows = _within(detailed, force.code, start, period_end)
    street = rows.aggregate(
        count=_["count"].sum(where=_.crime_type != ASB).cast("int64"),
        anti_social_behaviour=_["count"].sum(where=_.crime_type == ASB).cast("int64"),
    )
    [found] = street.to_pyarrow().to_pylist()
    months = int(_street_months(backend, start, period_end, force.code).month.nunique().to_pyarrow().as_py())
    recorded = best_counts(backend).filter(
        _.area_code == force.code, _.offence == "total-excluding-fraud", _.period_end == period_end
    )
    official = recorded.select("value", "source", "vintage", "file_name").to_pyarrow().to_pylist()
    figure = official[0] if official else {"value": None, "source": None, "vintage": None, "file_name": None}
    count, recorded_count = found["count"] or 0, figure["value"]
    recorded_name = "Police recorded crime" + (f" ({figure['source']} {figure['vintage']})" if figure["source"] else "")
    return {
        "force_code": force.code,
        "force": force.name,
        "first_month": format_period(start),
        "period_end": format_period(period_end),
        "months_covered": months,
        "police_uk_count": count,
        "anti_social_behaviour": found["anti_social_behaviour"] or 0,
        "recorded_count": None if recorded_count is None else int(recorded_count),
        "recorded_source": figure["source"],
        "recorded_vintage": figure["vintage"],
        "recorded_file": figure["file_name"],
        "ratio": None if not recorded_count or months < 12 else count / recorded_count,
        "rows": [
            {"series": "data.police.uk street-level crimes", "count": count},
            {"series": recorded_name, "count": None if recorded_count is None else int(recorded_count)},
        ],
        "reasons": [item.text for item in street_caveats() if item.id != "police-uk-outcomes"],
    }


#: Hexagons across the wider side of a force's crimes on the density map.
HEX_ACROSS = 24
#: Kilometres in a degree of latitude (and of longitude on the equator): WGS84, near enough for binning.
KM_PER_DEGREE = 111.32


def located(backend: ibis.BaseBackend, force_code: str, start: dt.date, end: dt.date) -> ir.Table:
    """A force's street crimes (anti-social behaviour left out) from ``start`` to ``end`` that have a map point."""
    rows = _within(backend.table("street_crimes"), force_code, start, end)
    return rows.filter(_.crime_type != ASB, _.longitude.notnull(), _.latitude.notnull())


def hex_bins(rows: ir.Table, radius_km: float, mid_latitude: float) -> ir.Table:
    """The points counted in pointy-top hexagons of ``radius_km`` (centre to corner) on a plane that keeps
    distances true at ``mid_latitude`` (x = longitude × cos(mid latitude)), each hexagon by its axial
    coordinates (q, r) and centre; a point goes to the hexagon whose centre is nearest (cube rounding, Red Blob
    Games, "Hexagonal grids", 2013)."""
    x = rows.longitude.cast("float64") * (KM_PER_DEGREE * math.cos(math.radians(mid_latitude)))
    y = rows.latitude.cast("float64") * KM_PER_DEGREE
    cube_q = (x * (math.sqrt(3) / 3) - y / 3) / radius_km
    cube_r = y * (2 / 3) / radius_km
    axial = rows.select(cube_q=cube_q, cube_r=cube_r).mutate(round_q=_.cube_q.round(), round_r=_.cube_r.round())
    axial = axial.mutate(round_s=(-_.cube_q - _.cube_r).round())
    off_q, off_r = (axial.round_q - axial.cube_q).abs(), (axial.round_r - axial.cube_r).abs()
    off_s = (axial.round_s + axial.cube_q + axial.cube_r).abs()
    q = ibis.ifelse((off_q > off_r) & (off_q > off_s), -axial.round_r - axial.round_s, axial.round_q)
    r = ibis.ifelse((off_r >= off_q) & (off_r > off_s), -axial.round_q - axial.round_s, axial.round_r)
    bins = axial.select(q=q.cast("int64"), r=r.cast("int64")).group_by("q", "r").agg(count=_.count())
    centre_x = (bins.q + bins.r / 2) * (radius_km * math.sqrt(3))
    centre_y = bins.r * (radius_km * 1.5)
    return bins.mutate(
        longitude=centre_x / (KM_PER_DEGREE * math.cos(math.radians(mid_latitude))),
        latitude=centre_y / KM_PER_DEGREE,
    ).order_by("q", "r")


def density(
    backend: ibis.BaseBackend, force_code: str, start: dt.date, end: dt.date, across: int = HEX_ACROSS
) -> dict[str, Any] | None:
    """A force's crimes with a map point counted in hexagons (:func:`hex_bins`), or None if there are none.

    The hexagons are sized so that about ``across`` fit across the wider side of the area holding the middle
    98% of the points (1st to 99th percentile of longitude and of latitude): a few crimes are placed far from
    the force (City of London's files have points in Cornwall and Scotland), and they must not make the map a
    country wide. A hexagon whose centre is outside that area, with a margin of a tenth of its side, is marked
    ``outlying``; every hexagon is kept, so their counts add up to ``count``."""
    rows = located(backend, force_code, start, end)
    [extent] = (
        rows.aggregate(
            count=_.count(),
            west=_.longitude.quantile(0.01),
            east=_.longitude.quantile(0.99),
            south=_.latitude.quantile(0.01),
            north=_.latitude.quantile(0.99),
        )
        .to_pyarrow()
        .to_pylist()
    )
    if not extent["count"]:
        return None
    mid_latitude = (extent["south"] + extent["north"]) / 2
    wide = (extent["east"] - extent["west"]) * math.cos(math.radians(mid_latitude))
    side = max(wide, extent["north"] - extent["south"])
    radius_km = max(side * KM_PER_DEGREE / (across * math.sqrt(3)), 0.05)
    margin = max(side / 10, radius_km / KM_PER_DEGREE)
    bins = hex_bins(rows, radius_km, mid_latitude)
    outlying = (
        (bins.longitude < extent["west"] - margin)
        | (bins.longitude > extent["east"] + margin)
        | (bins.latitude < extent["south"] - margin)
        | (bins.latitude > extent["north"] + margin)
    )
    table = bins.mutate(outlying=outlying).to_pyarrow()
    return {"bins": table, "count": int(extent["count"]), "radius_km": radius_km, "mid_latitude": mid_latitude}


# ---- the questions, on the store ----------------------------------------------------------------------------


def _detailed(store: Store) -> ir.Table:
    """The materialised counts (built on first use after the store changes)."""
    from crimestats.analytics import materialised

    if not store.con.execute("SELECT 1 FROM police_uk_months LIMIT 1").fetchall():
        raise NoDataError(
            "the store holds no data.police.uk street-level files: run `crimestats ingest` on a folder of monthly"
            " files or an archive (`crimestats data download police-uk-archive` fetches one)"
        )
    name = materialised.street(store)  # first: keeping the table may reopen the store's connection
    return store.backend.table(name).drop("row_order")


def _months_as_text(table: ir.Table) -> ir.Table:
    """Months written ``YYYY-MM``, as data.police.uk writes them."""
    return table.mutate(month=table.month.strftime("%Y-%m")) if "month" in table.columns else table


def _named(table: ir.Table) -> ir.Table:
    """The force's name beside its code."""
    names = _reference.areas().select(force_code=_.area_code, force=_.area_name)
    joined = table.join(names, "force_code")
    return joined.select("force_code", "force", *[c for c in table.columns if c != "force_code"])


def street_counts(
    store: Store,
    by: list[str],
    force: reference.Area | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pa.Table:
    """Street crimes and anti-social behaviour counted by the groupings ``by`` (keys of :data:`COUNT_GROUPINGS`)
    over the months ``start`` to ``end``, for one force or every force in the store."""
    columns = [COUNT_GROUPINGS[item] for item in by]
    table = counts(_detailed(store), columns, None if force is None else force.code, start, end)
    table = _named(table) if "force_code" in columns else table
    return _months_as_text(table).to_pyarrow()


def street_coverage(store: Store) -> pa.Table:
    """Rows stored for every force × month × kind, NULL where the force has no file (see :func:`coverage`)."""
    _detailed(store)  # the error when nothing is stored
    table = coverage(store.backend)
    assert table is not None
    return _months_as_text(table.select("force_code", "force", "month", *KIND_COLUMNS.values())).to_pyarrow()


def street_outcomes(
    store: Store, force: reference.Area | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> pa.Table:
    """Crimes by crime type and last outcome, with each outcome's share of the type (:func:`outcome_shares`)."""
    return outcome_shares(_detailed(store), None if force is None else force.code, start, end).to_pyarrow()


def street_stops(
    store: Store,
    by: str,
    force: reference.Area | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pa.Table:
    """Stop-and-search by one grouping (a key of :data:`STOP_GROUPINGS`), with shares (:func:`stop_shares`)."""
    _detailed(store)
    table = stop_shares(store.backend, STOP_GROUPINGS[by], None if force is None else force.code, start, end)
    result = table.to_pyarrow()
    if not result.num_rows:
        raise NoDataError("the store holds no stop-and-search files for the force and months asked for")
    return result


def street_totals(store: Store, period_end: dt.date) -> pa.Table:
    """Every force's 12-month street crime count and rate per 1,000 residents (:func:`twelve_month_totals`)."""
    return twelve_month_totals(store.backend, _detailed(store), period_end).to_pyarrow()


def street_reconciliation(store: Store, force: reference.Area, period_end: dt.date) -> dict[str, Any]:
    """police.uk against recorded crime for one force and 12 months (:func:`reconciliation`)."""
    return reconciliation(store.backend, _detailed(store), force, period_end)


def street_density(store: Store, force: reference.Area, period_end: dt.date) -> dict[str, Any] | None:
    """A force's crimes in the 12 months to ``period_end`` counted in hexagons for the density map
    (:func:`density`), with the months the street files cover; None when the store has no street file of the
    force in those months."""
    start = shift_months(period_end, -11)
    months = _street_months(store.backend, start, period_end, force.code).month.nunique().to_pyarrow().as_py()
    found = density(store.backend, force.code, start, period_end) if months else None
    if found is None:
        return None
    return found | {"months_covered": int(months), "first_month": format_period(start)}
