"""``crimestats.open()``: one object that answers every question the CLI answers, on the store the CLI filled.

>>> import crimestats
>>> with crimestats.open() as stats:                                      # doctest: +SKIP
...     league = stats.league_table("2019-09", "stalking-and-harassment")
...     league.to_pandas().head()

Periods, offences and forces are parsed once, here, where they enter; the library inside receives the parsed
values. Every method returns a frozen result (:mod:`crimestats.results`) or a report model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crimestats import analytics, reference
from crimestats.analytics.options import Options
from crimestats.errors import CrimestatsError
from crimestats.periods import format_period, parse_month, parse_period
from crimestats.results import (
    ForceProfile,
    ForceTrend,
    Funnel,
    LeagueTable,
    PeerComparison,
    Reconciliation,
    StopAndSearch,
    StreetCounts,
    StreetCoverage,
    StreetOutcomes,
    StreetTotals,
    Totals,
    Trend,
)
from crimestats.store import IngestReport, Store

if TYPE_CHECKING:
    import pyarrow as pa

    from crimestats.reports.findings import Findings
    from crimestats.reports.model import Report
    from crimestats.sources.peer_groups import PeerGroups

__all__ = ["Crimestats", "open"]

TOTAL = "total-excluding-fraud"


def open(  # noqa: A001 (as io.open)
    path: str | Path | None = None, read_only: bool = True, engine: str | None = None
) -> Crimestats:
    """Open the store at ``path`` (default: ``$CRIMESTATS_DB`` or the user data directory, as the CLI).

    Read-only by default, so a notebook can read while the CLI or a server does too; statistics the store has
    not materialised for an option set are then computed in memory for this session, by ``engine``: "duckdb"
    (in the store) or "spark" (default ``$CRIMESTATS_ENGINE``, else duckdb; see ``--engine`` in the README).
    """
    return Crimestats(Store(path, read_only=read_only, engine=engine))


def league_table(
    store: Store, period: str | dt.date, offence: str | reference.Offence | None, options: Options
) -> LeagueTable:
    """Every force for one offence (default total recorded crime) and period, and England and Wales like for
    like: what ``crimestats table`` prints and :meth:`Crimestats.league_table` returns."""
    month, item = parse_period(period), reference.offence(offence or TOTAL)
    rows = analytics.league_table(store, month, item, options)
    return LeagueTable.of(rows, month, item, national=analytics.league_national(store, month, item, options))


class Crimestats:
    """An open store and the questions it answers. Use as a context manager, or call :meth:`close`.

    The option arguments of every method: ``source`` (``ons-pfa``, ``ons-csp``, ``home-office``; default all,
    by priority), ``population`` (``published`` or ``ons-mye``), ``population_year`` (a mid-year estimate),
    ``suppress`` (False shows and ranks City of London's rate, which ONS suppresses).
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Crimestats:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    # ---- the store --------------------------------------------------------------------------------------------

    def ingest(self, paths: Iterable[str | Path]) -> IngestReport:
        """Read official files into the store (one transaction each) and materialise the statistics."""
        report = self.store.ingest(paths)
        if report.with_status("ingested"):
            analytics.materialise(self.store)
        return report

    def files(self) -> list[dict[str, object]]:
        """Provenance of every stored file."""
        return self.store.files()

    def periods(self, source: str | None = None) -> pa.Table:
        """The 12-month periods the store holds, by source and release."""
        return analytics.available_periods(self.store, Options(source=source))

    # ---- questions --------------------------------------------------------------------------------------------

    def _period(self, period: str | dt.date) -> dt.date:
        """A period as people write it ('2019-09', 'Sep 2019', 'year ending September 2019') or 'latest'."""
        return analytics.resolve_period(self.store, period)

    def league_table(self, period: str, offence: str | None = None, **options: Any) -> LeagueTable:
        """Every force for one offence and period: count, rate, rank, change, with their uncertainty, and England
        and Wales like for like (``national``)."""
        return league_table(self.store, self._period(period), offence, Options(**options))

    def force(self, force: str, period: str, **options: Any) -> ForceProfile:
        """One force across every level of the offence classification for one period."""
        profile = analytics.force_profile(self.store, reference.area(force), self._period(period), Options(**options))
        return ForceProfile(**profile)

    def totals(self, period: str, offence: str | None = None, **options: Any) -> Totals:
        """England and Wales, the countries and the regions for one offence and period, like for like."""
        month, item = self._period(period), reference.offence(offence or TOTAL)
        rows = analytics.totals_table(self.store, month, item, Options(**options))
        return Totals.of(rows, month, item)

    def trend(self, offence: str | None = None, **options: Any) -> Trend:
        """Every force's and England and Wales' rate for one offence in every period the store holds."""
        item = reference.offence(offence or TOTAL)
        return Trend(item.slug, analytics.rate_trends(self.store, item, Options(**options)))

    def force_trend(self, force: str, offence: str | None = None, **options: Any) -> ForceTrend:
        """One force for one offence in every period the store holds, beside England and Wales' rate."""
        item = reference.offence(offence or TOTAL)
        return ForceTrend.of(analytics.force_trend(self.store, reference.area(force), item, Options(**options)))

    def funnel(self, period: str, offence: str | None = None, overdispersion: bool = True, **options: Any) -> Funnel:
        """Funnel-plot data for one offence and period (Spiegelhalter 2005)."""
        month, item = self._period(period), reference.offence(offence or TOTAL)
        data = analytics.funnel(self.store, month, item, Options(**options), overdispersion)
        return Funnel(data, "rows")

    def peers(
        self,
        force: str,
        period: str,
        offence: str | None = None,
        most_similar_group: str | Path | None = None,
        **options: Any,
    ) -> PeerComparison:
        """A force against its Home Office most similar group (a CSV file ``force,peer``) or a computed group."""
        from crimestats.analytics.peers import peer_comparison

        month = format_period(self._period(period))  # a bad period fails here, before the peer group is read
        groups = _groups(most_similar_group)
        data = peer_comparison(self.store, force, month, offence, groups, Options(**options))
        return PeerComparison(data, "members")

    def findings(
        self,
        force: str,
        period: str,
        offence: str | None = None,
        most_similar_group: str | Path | None = None,
        **options: Any,
    ) -> Findings:
        """The notable, true statements about a force in a period, most notable first, with their caveats."""
        from crimestats.reports.findings import build_findings

        month = format_period(self._period(period))
        groups = _groups(most_similar_group)
        return build_findings(self.store, force, month, groups, Options(**options), None, offence)

    def report(
        self,
        force: str | None,
        period: str,
        offence: str | None = None,
        most_similar_group: str | Path | None = None,
        **options: Any,
    ) -> Report:
        """The report for a force, or for England and Wales when ``force`` is None (render it with
        :mod:`crimestats.reports.render`)."""
        from crimestats.reports.build import force_report
        from crimestats.reports.national import national_report

        month = format_period(self._period(period))
        if force is None:
            return national_report(self.store, month, Options(**options), None, None, offence)
        groups = _groups(most_similar_group)
        return force_report(self.store, force, month, groups, Options(**options), None, None, offence)

    # ---- data.police.uk street-level data ----------------------------------------------------------------------

    def street_counts(
        self,
        by: str | Iterable[str] = "crime-type",
        force: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> StreetCounts:
        """Street crimes and anti-social behaviour counted by ``by``: any of ``crime-type``, ``month``, ``lsoa``,
        ``outcome``, ``force``; over the months ``start`` to ``end`` (``'2024-01'``; either open)."""
        from crimestats.analytics import street

        groups = (by,) if isinstance(by, str) else tuple(by)
        area, first, last = _street_filters(force, start, end)
        _known(groups, street.COUNT_GROUPINGS)
        rows = street.street_counts(self.store, list(groups), area, first, last)
        return StreetCounts(rows, *_described(area, first, last), by=groups)

    def street_coverage(self) -> StreetCoverage:
        """Rows stored for every force × month × kind; None (JSON null) where the store has no file."""
        from crimestats.analytics import street

        return StreetCoverage(street.street_coverage(self.store), _street_caveats())

    def street_outcomes(
        self, force: str | None = None, start: str | None = None, end: str | None = None
    ) -> StreetOutcomes:
        """Crimes by crime type and last outcome, with each outcome's share of the type's crimes."""
        from crimestats.analytics import street

        area, first, last = _street_filters(force, start, end)
        return StreetOutcomes(street.street_outcomes(self.store, area, first, last), *_described(area, first, last))

    def stops(
        self, by: str = "object", force: str | None = None, start: str | None = None, end: str | None = None
    ) -> StopAndSearch:
        """Stop-and-search by ``object``, ``outcome``, ``age``, ``ethnicity``, ``legislation``, ``gender`` or ``type``:
        counts, shares, and the share whose outcome was linked to the object of the search."""
        from crimestats.analytics import street

        area, first, last = _street_filters(force, start, end)
        _known((by,), street.STOP_GROUPINGS)
        rows = street.street_stops(self.store, by, area, first, last)
        return StopAndSearch(rows, *_described(area, first, last), by=by)

    def street_totals(self, period: str) -> StreetTotals:
        """Every force's street crimes in the 12 months to ``period`` (a month) and rate per 1,000 residents."""
        from crimestats.analytics import street

        month = parse_month(period)
        return StreetTotals(street.street_totals(self.store, month), format_period(month), _street_caveats())

    def reconcile(self, force: str, period: str) -> Reconciliation:
        """A force's police.uk count against its recorded crime count for the 12 months to ``period``, the ratio
        and the documented reasons they differ."""
        from crimestats.analytics import street

        return Reconciliation(
            street.street_reconciliation(self.store, reference.area(force), parse_month(period)), "rows"
        )


def _street_filters(
    force: str | None, start: str | None, end: str | None
) -> tuple[reference.Area | None, dt.date | None, dt.date | None]:
    """A force and the first and last months, parsed where they enter (None: every force, open months)."""
    area = None if force is None else reference.area(force)
    return area, None if start is None else parse_month(start), None if end is None else parse_month(end)


def _described(
    area: reference.Area | None, first: dt.date | None, last: dt.date | None
) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
    shown = [None if month is None else format_period(month) for month in (first, last)]
    return None if area is None else area.code, shown[0], shown[1], _street_caveats()


def _street_caveats() -> tuple[str, ...]:
    from crimestats.analytics.street import street_caveats

    return tuple(item.text for item in street_caveats())


def _known(groups: Iterable[str], allowed: dict[str, str]) -> None:
    unknown = [group for group in groups if group not in allowed]
    if unknown:
        raise CrimestatsError(f"cannot group by {', '.join(map(repr, unknown))}: choose from {', '.join(allowed)}")


def _groups(path: str | Path | None) -> PeerGroups | None:
    from crimestats.sources.peer_groups import read_peer_groups

    return None if path is None else read_peer_groups(Path(path))
