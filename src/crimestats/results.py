"""What a question returns: frozen, typed results with ``to_arrow()``, ``to_pandas()`` and ``to_dict()``.

Each holds the rows the CLI prints (``rows``, an Arrow table) and what they are about. ``to_dict()`` is the
object the CLI's ``--format json`` prints for that command, so a notebook and a script see the same numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import pyarrow as pa

from crimestats.periods import format_period, period_label

if TYPE_CHECKING:
    import pandas as pd

    from crimestats.reference import Offence

__all__ = [
    "ForceProfile",
    "ForceTrend",
    "Funnel",
    "LeagueTable",
    "PeerComparison",
    "Reconciliation",
    "Result",
    "StopAndSearch",
    "StreetCounts",
    "StreetCoverage",
    "StreetOutcomes",
    "StreetTotals",
    "Totals",
    "Trend",
]


@dataclass(frozen=True)
class Result:
    """Rows of figures for one question."""

    rows: pa.Table

    def to_arrow(self) -> pa.Table:
        return self.rows

    def to_pandas(self) -> pd.DataFrame:
        return self.rows.to_pandas()

    def to_dict(self) -> dict[str, Any]:
        """The result as the CLI's JSON: its fields, and ``rows`` as a list of dicts."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "rows"}
        return {**fields, "rows": self.rows.to_pylist()}

    def _replace(self, **changes: Any) -> Result:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class _OnePeriod(Result):
    period: str
    period_label: str
    offence: str
    offence_name: str

    @classmethod
    def of(cls, rows: pa.Table, month: dt.date, offence: Offence, **fields: Any) -> Self:
        return cls(rows, format_period(month), period_label(month), offence.slug, offence.name, **fields)


@dataclass(frozen=True)
class LeagueTable(_OnePeriod):
    """Every force's count, rate per 1,000, rank (1 = lowest) and change for one offence and period, with the
    rate's 95% interval, the rank's plausible range and the change's test (see ``analytics.league_table``),
    and ``national``: England and Wales summed from the same forces, like for like (``analytics.league_national``).
    """

    national: dict[str, Any] | None = None


@dataclass(frozen=True)
class Totals(_OnePeriod):
    """England and Wales, the countries and the regions for one offence and period, like for like."""


@dataclass(frozen=True)
class ForceProfile(Result):
    """One force across every level of the offence classification for one period."""

    force_code: str
    force: str
    period: str
    period_label: str


@dataclass(frozen=True)
class ForceTrend(Result):
    """One force for one offence in every period: count, rate, interval, rank, change, source and vintage, beside
    England and Wales' rate (``crimestats trend FORCE``; see ``analytics.force_trend``)."""

    force_code: str
    force: str
    offence: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> Self:
        """From ``analytics.force_trend``'s document."""
        return cls(pa.Table.from_pylist(data["rows"]), data["force_code"], data["force"], data["offence"])


@dataclass(frozen=True)
class Trend:
    """Every force's and England and Wales' rate for one offence in every period: area code → rows."""

    offence: str
    series: dict[str, list[dict[str, Any]]]

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist([{"area_code": code, **row} for code, rows in self.series.items() for row in rows])

    def to_pandas(self) -> pd.DataFrame:
        return self.to_arrow().to_pandas()

    def to_dict(self) -> dict[str, Any]:
        return {"offence": self.offence, "series": self.series}


@dataclass(frozen=True)
class _Document:
    """A result whose JSON is a document (peer comparison, funnel) rather than a table."""

    data: dict[str, Any]
    table: str  # the key of the data holding its rows

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist(self.data[self.table])

    def to_pandas(self) -> pd.DataFrame:
        return self.to_arrow().to_pandas()

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


class PeerComparison(_Document):
    """A force against its peer group: members, both averages and the test of the gap."""


class Funnel(_Document):
    """Funnel-plot data: each force's rate against 95% and 99.8% limits around the pooled rate."""


@dataclass(frozen=True)
class _Months(Result):
    """Rows of data.police.uk street-level figures over the months ``first_month`` to ``last_month`` (None: open)
    for one force (``force_code``; None: every force in the store), with the caveats that go with them."""

    force_code: str | None
    first_month: str | None
    last_month: str | None
    caveats: tuple[str, ...]


@dataclass(frozen=True)
class StreetCounts(_Months):
    """Street crimes and anti-social behaviour incidents counted by ``by`` (crime type, month, LSOA, outcome)."""

    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreetOutcomes(_Months):
    """Crimes by crime type and last outcome, with the outcome's share of the type's crimes."""


@dataclass(frozen=True)
class StopAndSearch(_Months):
    """Stop-and-search counts and shares by ``by`` (object of search, outcome, age, ethnicity, legislation …),
    with the share whose outcome was linked to the object searched for."""

    by: str = "object"


@dataclass(frozen=True)
class StreetCoverage(Result):
    """Rows stored for every force × month × kind (street, outcomes, stop_and_search), NULL where missing."""

    caveats: tuple[str, ...]

    @property
    def missing(self) -> list[dict[str, Any]]:
        """The force-months with no street file."""
        return [row for row in self.rows.to_pylist() if row["street"] is None]


@dataclass(frozen=True)
class StreetTotals(Result):
    """Each force's street crimes in 12 months and rate per 1,000 residents."""

    period: str
    caveats: tuple[str, ...]


class Reconciliation(_Document):
    """A force's police.uk count beside its recorded crime count for the same 12 months, the ratio and the
    documented reasons they differ."""
