"""Counts, populations, rates, ranks and year-on-year change as Ibis expressions over the store.

Periods are 12-month periods identified by their last month (``period_end``). Every function takes an
Ibis backend holding the store's tables and returns an unexecuted Ibis table, so the same code can run on
DuckDB here or on a distributed engine.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from crimestats.analytics import _reference
from crimestats.analytics.engines import staged
from crimestats.analytics.options import SOURCE_PRIORITY, Options

__all__ = [
    "SOURCE_PRIORITY",
    "Options",
    "annual_counts",
    "best_counts",
    "force_land_areas",
    "force_populations",
    "ons_population_year",
    "area_totals",
    "force_statistics",
]

#: Why a 12-month count below zero is shown as missing.
NEGATIVE_TOTAL = "the 12-month total of the quarters is below zero (adjustments outweigh the offences recorded)"

#: ONS does not show a percentage change when the earlier year's count is below this (Table P2 notes).
CHANGE_BASE_MINIMUM = 50


def ons_population_year(period_end: ir.DateValue) -> ir.IntegerValue:
    """The mid-year estimate ONS uses for a 12-month period: the latest published when the table came out.

    Visible in the Table P3 headers: years ending March use mid-(year-2), June to December mid-(year-1);
    e.g. year ending March 2018 → mid-2016, year ending September 2019 → mid-2018.
    """
    return period_end.year() - ibis.ifelse(period_end.month() >= 6, 1, 2)


def _left_lookup(left: ir.Table, right: ir.Table, keys: list[str]) -> ir.Table:
    """Left join on equal-named keys, keeping the left key columns only."""
    renamed = right.rename({f"{key}__key": key for key in keys})
    predicates = [left[key] == renamed[f"{key}__key"] for key in keys]
    return left.left_join(renamed, predicates).drop(*[f"{key}__key" for key in keys])


def _all_or_null(value: ir.NumericColumn) -> ir.NumericScalar:
    """A sum that is NULL when any part is NULL (a missing force is not a zero)."""
    return ibis.ifelse(value.count() == _.count(), value.sum(), ibis.null("float64"))


def _twelve_month_from_quarters(figures: ir.Table) -> ir.Table:
    """12-month totals to every quarter end from quarterly counts (Home Office open data).

    A total exists only where the area has figures for all four quarters in the same file.
    """
    quarters = figures.filter(_.measure == "count", _.months == 3)
    leaf = quarters.group_by("file_id", "area_code", "offence", "period_end").agg(value=_all_or_null(_.value))
    present = quarters.select("file_id", "area_code", "period_end").distinct()
    shifts = ibis.memtable({"shift": [0, 3, 6, 9]}, schema={"shift": "int64"})
    windows = (
        present.cross_join(shifts)
        .mutate(target=_.period_end + _.shift.as_interval("M"))
        .group_by("file_id", "area_code", "target")
        .agg(quarters=_.count())
        .filter(_.quarters == 4)
    )
    contributions = leaf.cross_join(shifts).mutate(target=_.period_end + _.shift.as_interval("M"))
    joined = contributions.join(windows, ["file_id", "area_code", "target"])
    return joined.group_by("file_id", "area_code", "offence", period_end=_.target).agg(
        value=_all_or_null(_.value), symbol=ibis.null("string"), reason=ibis.null("string")
    )


def _roll_up(rows: ir.Table) -> ir.Table:
    """Counts at every level of the offence classification.

    Each file's finest offences (those with no finer offence present in the same file) are summed into all
    their ancestors; where the file itself publishes a level (e.g. ONS "Burglary"), the published figure wins.
    """
    ancestors = _reference.offence_ancestors()
    proper = ancestors.filter(ancestors.offence != ancestors.ancestor)
    present = rows.select("file_id", "offence").distinct()
    coarser = present.join(proper, "offence").select("file_id", offence=_.ancestor).distinct()
    finest = rows.anti_join(coarser, ["file_id", "offence"])
    rolled = (
        finest.join(ancestors, "offence")
        .group_by("file_id", "area_code", "period_end", offence=_.ancestor)
        .agg(value=_all_or_null(_.value), symbol=_.symbol.max(), reason=_.reason.max())
    )
    both = rows.mutate(derived=0).union(rolled.mutate(derived=1))
    order = ibis.row_number().over(group_by=["file_id", "area_code", "period_end", "offence"], order_by="derived")
    return both.mutate(pick=order).filter(_.pick == 0).drop("pick")


def annual_counts(backend: ibis.BaseBackend) -> ir.Table:
    """12-month counts from every stored file, at every level of the offence classification.

    A total below zero (Home Office quarters whose downward adjustments outweigh the offences recorded; ingest
    warns of each) is no count: its value is missing, with :data:`NEGATIVE_TOTAL` as the reason.

    Columns: file_id, area_code, offence, period_end, value, symbol, reason, derived (1 if summed here).
    """
    figures = backend.table("figures")
    published = figures.filter(_.measure == "count", _.months == 12).select(
        "file_id", "area_code", "offence", "period_end", "value", "symbol", "reason"
    )
    counts = _roll_up(staged(backend, published.union(_twelve_month_from_quarters(figures))))
    negative = counts.value < 0
    return counts.mutate(
        value=ibis.ifelse(negative, ibis.null("float64"), counts.value),
        reason=ibis.ifelse(negative, NEGATIVE_TOTAL, counts.reason),
    )


def best_counts(backend: ibis.BaseBackend, source: str | None = None) -> ir.Table:
    """One count per (area, offence, period): the first source in :data:`SOURCE_PRIORITY` with a value.

    Adds the provenance columns source, vintage, revision and file_name.
    """
    files = backend.table("files").select("file_id", "file_name", "source", "vintage", "revision")
    counts = annual_counts(backend).join(files, "file_id")
    if source is not None:
        counts = counts.filter(_.source == source)
    priority = ibis.cases(*[(counts.source == name, rank) for rank, name in enumerate(SOURCE_PRIORITY)], else_=99)
    order = ibis.row_number().over(
        group_by=["area_code", "offence", "period_end"],
        order_by=[
            counts.value.isnull(),
            priority,
            counts.vintage.desc(),
            counts.revision.desc(),
            counts.file_id.desc(),
        ],
    )
    return counts.mutate(pick=order).filter(_.pick == 0).drop("pick")


def force_populations(backend: ibis.BaseBackend) -> ir.Table:
    """Mid-year population estimates for force areas, regions and countries, by year.

    Local authorities are summed to police force areas through the latest official LA → CSP → PFA lookup;
    regions and countries are read as published. Uses the latest stored release of the estimates.
    Columns: area_code, year, population, population_vintage.
    """
    files = backend.table("files")
    pops = backend.table("populations").join(files.select("file_id", "source", "vintage"), "file_id")
    mye = pops.filter(_.source == "ons-mye", _.denominator == "residents")
    mye = mye.filter(mye.file_id == _latest_file(backend, mye))  # one file, even if a release is stored twice
    lookup = _latest_lookup(backend)
    by_force = (
        mye.join(lookup, mye.area_code == lookup.lad_code)
        .group_by(area_code=_.pfa_code, year=_.year)
        .agg(population=_.value.sum(), population_vintage=_.vintage.max())
    )
    totals = _reference.areas().filter(_.kind.isin(["region", "country", "national"])).select("area_code")
    published = mye.join(totals, "area_code").select(
        "area_code", "year", population=_.value, population_vintage=_.vintage
    )
    return by_force.union(published)


def _latest_file(backend: ibis.BaseBackend, rows: ir.Table) -> ir.IntegerScalar:
    """The file, among those ``rows`` came from, of the latest release (vintage, then revision, then last stored)."""
    files = backend.table("files")
    files = files.filter(files.file_id.isin(rows.file_id))
    files = files.filter(files.vintage == files.vintage.max())
    files = files.filter(files.revision == files.revision.max())
    return files.file_id.max()


def _latest_lookup(backend: ibis.BaseBackend) -> ir.Table:
    """LA → PFA pairs of the latest stored LA → CSP → PFA lookup, whatever order the files were ingested in."""
    lookup = backend.table("lookup")
    lookup = lookup.filter(lookup.file_id == _latest_file(backend, lookup))
    return lookup.select("lad_code", "pfa_code").distinct()


def force_land_areas(backend: ibis.BaseBackend) -> ir.Table:
    """Land area in sq km of each force area: local authorities (ONS MYE5) summed through the latest lookup.

    Columns: area_code, area_sq_km. Empty when no estimates workbook with sheet MYE5 is stored.
    """
    land = backend.table("populations").filter(_.denominator == "area_sq_km")
    land = land.filter(land.file_id == _latest_file(backend, land))
    lookup = _latest_lookup(backend)
    return (
        land.join(lookup, land.area_code == lookup.lad_code)
        .group_by(area_code=_.pfa_code)
        .agg(area_sq_km=_.value.sum().round(6))  # the same sum whatever order DuckDB adds the parts in
    )


def _published_populations(backend: ibis.BaseBackend) -> ir.Table:
    """The populations printed in ONS Table P3 (rounded to 100 by ONS), by area and the period of the release.

    Columns: area_code, period_end, p3_year, p3_population, p3_vintage. A corrected re-issue wins.
    """
    files = backend.table("files").filter(_.source == "ons-pfa")
    pops = backend.table("populations").filter(_.denominator == "residents").join(files, "file_id")
    pops = pops.mutate(period_end=(pops.vintage + "-01").cast("date"))
    latest = ibis.row_number().over(
        group_by=["area_code", "period_end"], order_by=[pops.revision.desc(), pops.file_id.desc()]
    )
    return (
        pops.mutate(pick=latest)
        .filter(_.pick == 0)
        .select("area_code", "period_end", p3_year=_.year, p3_population=_.value, p3_vintage=_.vintage)
    )


def force_statistics(backend: ibis.BaseBackend, options: Options = Options()) -> ir.Table:
    """Every force (and British Transport Police) × offence × 12-month period: count, rate, rank, change.

    Regional and national totals are :func:`area_totals`, summed from these rows like for like.

    Columns: area_code, area_name, kind, offence, period_end, count, symbol, reason, source, vintage,
    file_name, population, population_year, population_source, population_older (the rate uses an older
    mid-year estimate than ONS would, that one not being in the store), rate_per_1000, rate_note, rank, ranked_of,
    previous_count, previous_population, change, change_pct, change_note, change_source ("ONS Table P2" when
    the change is the published one).
    """
    counts = staged(backend, best_counts(backend, options.source))
    mye = staged(backend, force_populations(backend))
    counts = _with_population_year(counts, mye, options)
    p3 = _published_populations(backend)
    joined = _left_lookup(counts, p3, ["area_code", "period_end"])
    joined = _left_lookup(joined, mye.rename(wanted_year="year"), ["area_code", "wanted_year"])
    use_published = (
        ibis.literal(options.population == "published") if options.population else joined.source == "ons-pfa"
    )
    if options.population_year and not options.population:
        use_published = use_published & (joined.p3_year == options.population_year)
    with_population = joined.mutate(
        population=ibis.ifelse(use_published, joined.p3_population, joined.population),
        population_year=ibis.ifelse(use_published, joined.p3_year, joined.wanted_year),
        population_source=ibis.ifelse(
            use_published,
            "ONS Table P3, " + joined.p3_vintage.fill_null("not in store"),
            "ONS mid-year estimates, mid-"
            + joined.wanted_year.cast("string")
            + " (release "
            + joined.population_vintage.fill_null("not in store")
            + ibis.ifelse(
                joined.older_year,
                "; the latest in the store: ONS would use mid-" + joined.ons_year.cast("string"),
                "",
            )
            + ")",
        ),
        population_older=joined.older_year & ~use_published,
    ).drop("p3_population", "p3_year", "p3_vintage", "wanted_year", "ons_year", "older_year", "population_vintage")
    areas = _reference.areas()
    rated = with_population.join(areas.filter(_.kind.isin(["force", "transport"])), "area_code").drop("parent")
    suppressed = rated.rate_suppressed.notnull() & ibis.literal(options.suppress)
    raw_rate = rated.value / rated.population * 1000
    rated = rated.mutate(
        rate_per_1000=ibis.ifelse(suppressed, ibis.null("float64"), raw_rate),
        rate_note=ibis.cases(
            (suppressed, rated.rate_suppressed),
            (
                rated.rate_suppressed.notnull() & rated.value.notnull(),
                "shown on request (--no-suppress), though " + rated.rate_suppressed,
            ),
            (
                rated.population.isnull() & rated.value.notnull() & rated.population_source.startswith("ONS Table P3"),
                "no ONS Table P3 population for this period in the store (drop --population published)",
            ),
            (
                rated.population.isnull() & rated.value.notnull(),
                "no population for mid-"
                + rated.population_year.cast("string")
                + " in the store (see --population-year)",
            ),
            else_=ibis.null("string"),
        ),
    ).drop("rate_suppressed")
    return _with_change(staged(backend, _with_rank(rated)), backend).rename(count="value")


def _with_population_year(counts: ir.Table, mye: ir.Table, options: Options) -> ir.Table:
    """The mid-year estimate each count's rate uses (``wanted_year``): the one asked for, else the one ONS would
    use (``ons_year``) or, when the store does not hold it yet (a release newer than the estimates), the latest
    the store holds for the area (``older_year`` is then true).
    """
    if options.population_year:
        year = ibis.literal(options.population_year)
        return counts.mutate(wanted_year=year, ons_year=year, older_year=ibis.literal(False))
    latest = mye.group_by("area_code").agg(latest_year=_.year.max())
    counts = _left_lookup(counts.mutate(ons_year=ons_population_year(counts.period_end)), latest, ["area_code"])
    older = (counts.latest_year < counts.ons_year).fill_null(False)
    return counts.mutate(wanted_year=ibis.ifelse(older, counts.latest_year, counts.ons_year), older_year=older).drop(
        "latest_year"
    )


def rate_as_printed(rate: ir.FloatingValue) -> ir.FloatingValue:
    """A rate rounded as crimestats prints and ranks it (:func:`crimestats.formatting.rate_places`): one decimal
    place, as ONS Table P3 prints rates per 1,000, but two significant figures below 1 (homicide 0.012, not 0.0)."""
    places = ibis.ifelse((rate >= 1) | (rate <= 0), 1, ibis.greatest(1, 1 - rate.log10().floor()))
    scale = ibis.literal(10.0) ** places  # round(x, places) as DuckDB computes it; Spark needs constant places
    return (rate * scale).round() / scale


def _with_rank(table: ir.Table) -> ir.Table:
    """Rank forces by rate within each offence and period: 1 = lowest rate, equal published rates share a rank."""
    rankable = (table.kind == "force") & table.rate_per_1000.notnull()
    key = ibis.ifelse(rankable, rate_as_printed(table.rate_per_1000), ibis.null("float64"))
    window = ibis.window(group_by=[table.offence, table.period_end, rankable], order_by=key)
    return table.mutate(
        rank=ibis.ifelse(rankable, ibis.rank().over(window) + 1, ibis.null("int64")),
        ranked_of=ibis.ifelse(
            rankable, key.count().over(group_by=[table.offence, table.period_end, rankable]), ibis.null("int64")
        ),
    )


def _with_change(table: ir.Table, backend: ibis.BaseBackend) -> ir.Table:
    """Year-on-year change against the area's count for the same offence twelve months earlier.

    Where the count comes from an ONS release that also prints the change (Table P2), the published change is
    used and the earlier year's count is the one it implies: ONS revises the earlier year between releases,
    and P2 compares with the revised figure. Where P2 withholds the change ('-', '..'), so does crimestats, and
    the earlier year's count is left blank (the stored one is the earlier year as first published, not the one
    P2 withheld). A count crimestats sums gets the sum of its parts' revised earlier years
    (:func:`_with_revised_sums`). Otherwise the change is against the best count twelve months earlier in the
    store, not shown on a base under 50.
    """
    earlier = table.select(
        "area_code",
        "offence",
        stored_previous="value",
        previous_population="population",
        period_end=_.period_end.add(ibis.interval(months=12)),
    )
    joined = _left_lookup(table, earlier, ["area_code", "offence", "period_end"])
    published = (
        backend.table("figures")
        .filter(_.measure == "change_pct", _.months == 12)
        .select("file_id", "area_code", "offence", "period_end", published_change="value", withheld="reason")
    )
    joined = _left_lookup(joined, published, ["file_id", "area_code", "offence", "period_end"])
    revised = joined.published_change.notnull() & joined.value.notnull() & (joined.published_change != -100)
    joined = joined.mutate(
        previous_count=ibis.cases(
            (revised, (joined.value / (1 + joined.published_change / 100)).round(0)),
            (joined.withheld.notnull(), ibis.null("float64")),  # P2's earlier year is not the stored one
            else_=joined.stored_previous,
        ),
        change_source=ibis.ifelse(revised, "ONS Table P2", ibis.null("string")),
    )
    joined = _with_revised_sums(staged(backend, joined), backend)
    change = joined.value - joined.previous_count
    published_as = (joined.change_source == "ONS Table P2").fill_null(False)
    small = ~published_as & (joined.previous_count < CHANGE_BASE_MINIMUM)
    return joined.mutate(
        change=change,
        change_pct=ibis.cases(
            (published_as, joined.published_change),
            (small | joined.withheld.notnull() | joined.revision_gap, ibis.null("float64")),
            else_=change / joined.previous_count * 100,
        ),
        change_note=ibis.cases(
            (published_as, ibis.null("string")),
            (joined.withheld.notnull(), "not shown in ONS Table P2: " + joined.withheld),
            (
                joined.revision_gap,
                "not shown: ONS revised the earlier year, and Table P2 withholds the change of a part"
                " (base under 50), so the revised earlier total is not known",
            ),
            (small, f"not shown: the base number is fewer than {CHANGE_BASE_MINIMUM}"),
            else_=ibis.null("string"),
        ),
    ).drop("stored_previous", "published_change", "withheld", "revision_gap")


def _with_revised_sums(table: ir.Table, backend: ibis.BaseBackend) -> ir.Table:
    """Give a count crimestats sums from published offences (ONS "Victim-based crime" and "Other crimes against
    society", summed from their offence groups) the revised earlier year its parts and its total are compared with.

    That is the sum of its parts' revised earlier years when every part has one; otherwise, when its total and
    every sibling have one, the total's less the siblings' (P2 withholds a part's change on a base under 50, and
    the earlier year as first published would not add up). Without this, a total could rise less than both of
    its parts.
    """
    keys = ["file_id", "area_code", "period_end"]
    revised = _.change_source.notnull()
    parts = (
        table.filter(_.derived == 0)
        .join(_reference.offence_parents(), "offence")
        .group_by(*keys, offence=_.parent)
        .agg(parts_previous=_.previous_count.sum(), parts=_.count(), parts_revised=revised.sum())
    )
    joined = _left_lookup(table, parts, [*keys, "offence"])
    from_parts = (joined.derived == 1) & (joined.parts == joined.parts_revised) & joined.parts_previous.notnull()
    table = joined.mutate(
        previous_count=ibis.ifelse(from_parts, joined.parts_previous, joined.previous_count),
        change_source=ibis.ifelse(from_parts, "ONS Table P2, summed", joined.change_source),
        partly_revised=(joined.derived == 1) & (joined.parts_revised > 0),
    ).drop("parts_previous", "parts", "parts_revised")
    table = staged(backend, table)

    children = table.join(_reference.offence_parents(), "offence")
    family = children.group_by(*keys, "parent").agg(
        children=_.count(), children_revised=revised.sum(), revised_previous=_.previous_count.sum(where=revised)
    )
    totals = table.filter(revised).select(*keys, parent="offence", parent_previous="previous_count")
    family = family.join(totals, [*keys, "parent"])
    joined = _left_lookup(
        table.join(_reference.offence_parents(), "offence", how="left").drop("offence_right"),
        family,
        [*keys, "parent"],
    )
    by_difference = (
        (joined.derived == 1)
        & joined.change_source.isnull()
        & (joined.children - joined.children_revised == 1)
        & joined.parent_previous.notnull()
    )
    joined = joined.mutate(
        previous_count=ibis.ifelse(
            by_difference, joined.parent_previous - joined.revised_previous.fill_null(0), joined.previous_count
        ),
        change_source=ibis.ifelse(by_difference, "ONS Table P2, by difference", joined.change_source),
    ).drop("parent", "children", "children_revised", "revised_previous", "parent_previous")
    unknown = joined.partly_revised & joined.change_source.isnull()
    return joined.mutate(
        previous_count=ibis.ifelse(unknown, ibis.null("float64"), joined.previous_count),
        revision_gap=unknown.fill_null(False),
    ).drop("partly_revised")


def area_totals(backend: ibis.BaseBackend, options: Options = Options(), forces: ir.Table | None = None) -> ir.Table:
    """Regional, country and England and Wales totals summed from force figures, like for like.

    A force with no figure (e.g. Greater Manchester from July 2019) is left out of the count, the population
    and both years of the change, and named in ``excluded``, as ONS does ("England and Wales (excluding
    Greater Manchester Police)"). England and Wales includes British Transport Police offences, which have
    no resident population, as in the ONS tables. ``forces`` is :func:`force_statistics` (computed here when
    not given: pass the materialised rows to sum them instead of computing them again).

    The year-earlier count (``previous_count``) is always that of the same forces as ``count``: the one ONS
    Table P2's change for the total implies, when the total comes from one ONS release that prints it; else
    the sum of the forces' own year-earlier counts. When a force's is not known (P2 withholds a change on a
    base under 50; the store has no year-earlier figures), the total's is blank too, and so is its change,
    with the reason in ``change_note``.
    """
    forces = force_statistics(backend, options) if forces is None else forces
    members = _reference.total_members()
    rows = forces.join(members, "area_code")
    has = rows["count"].notnull()
    totals = rows.group_by("total_code", "offence", "period_end").agg(
        count=rows["count"].sum(where=has),
        population=rows.population.sum(where=has & (rows.kind == "force")),
        population_year=rows.population_year.max(where=has & (rows.kind == "force")),
        population_older=rows.population_older.any(where=has & (rows.kind == "force")),
        summed=has.sum(),
        parts_previous=rows.previous_count.sum(where=has),
        previous_unknown=_collected(rows.area_name, has & rows.previous_count.isnull()),
        excluded=_collected(rows.area_name, ~has & (rows.kind == "force")),
        sources=_collected(rows.source, has, distinct=True),
        vintages=_collected(rows.vintage, has, distinct=True),
    )
    areas = _reference.areas().select("area_code", "area_name", "kind")
    totals = totals.join(areas, totals.total_code == areas.area_code).drop("total_code")
    totals = _left_lookup(
        totals.mutate(vintage=_.vintages[0], single=(_.sources.length() == 1) & (_.vintages.length() == 1)),
        _published_total_changes(backend),
        ["area_code", "offence", "period_end", "vintage"],
    )
    return _with_total_change(totals).drop(
        "vintage", "single", "published_change", "withheld", "summed", "parts_previous", "previous_unknown"
    )


def _collected(values: ir.StringColumn, where: ir.BooleanValue, distinct: bool = False) -> ir.ArrayValue:
    """The values of a group's rows where ``where`` holds, sorted; NULL when there are none. Sorted after
    collecting, as Spark cannot order an aggregate's input; NULL, not empty, on every engine (DuckDB collects
    no rows into NULL, Spark into an empty list)."""
    collected = values.collect(where=where, distinct=distinct).sort()
    return ibis.ifelse(collected.length() > 0, collected, ibis.null(collected.type()))


def _with_total_change(totals: ir.Table) -> ir.Table:
    """A total's year-earlier count and change (see :func:`area_totals`), and ``change_note`` when not shown."""
    from_p2 = totals.single & (totals.sources[0] == "ons-pfa")
    published = from_p2 & totals.published_change.notnull() & (totals.published_change != -100)
    withheld = from_p2 & totals.published_change.isnull() & totals.withheld.notnull()
    unknown = totals.previous_unknown.length().fill_null(0)  # collect() of no rows is NULL
    previous = ibis.cases(
        (published, (totals["count"] / (1 + totals.published_change / 100)).round(0)),
        (~withheld & (unknown == 0), totals.parts_previous),
        else_=ibis.null("float64"),
    )
    small = ~published & (previous < CHANGE_BASE_MINIMUM)
    change = totals["count"] - previous
    return totals.mutate(
        rate_per_1000=totals["count"] / totals.population * 1000,
        previous_count=previous,
        change=change,
        change_pct=ibis.cases(
            (published, totals.published_change),
            (small | withheld, ibis.null("float64")),
            else_=change / previous * 100,
        ),
        change_note=ibis.cases(
            (published | totals["count"].isnull(), ibis.null("string")),
            (withheld, "not shown in ONS Table P2: " + totals.withheld),
            (unknown == totals.summed, "not shown: the year-earlier count is not known for any of the forces it sums"),
            (
                unknown > 0,
                "not shown: the year-earlier count is not known for "
                + totals.previous_unknown.join(", ")
                + " (see their notes)",
            ),
            (small, f"not shown: the base number is fewer than {CHANGE_BASE_MINIMUM}"),
            else_=ibis.null("string"),
        ),
    )


def _published_total_changes(backend: ibis.BaseBackend) -> ir.Table:
    """The % changes ONS Table P2 prints for regions, countries and England and Wales, by release, and why
    P2 withholds one (``withheld``: "the base number is fewer than 50").

    Used for a total summed entirely from that release's force figures: P2 compares with the earlier year as
    revised, which the forces' own published changes cannot always recover (a force's change is withheld on
    a base under 50). Columns: area_code, offence, period_end, vintage, published_change, withheld.
    """
    files = backend.table("files").filter(_.source == "ons-pfa").select("file_id", "vintage")
    figures = backend.table("figures").filter(_.measure == "change_pct", _.months == 12)
    totals = _reference.areas().filter(_.kind.isin(["region", "country", "national"])).select("area_code")
    return (
        figures.join(totals, "area_code")
        .join(files, "file_id")
        .group_by("area_code", "offence", "period_end", "vintage")
        .agg(published_change=_.value.max(), withheld=_.reason.max())
    )
