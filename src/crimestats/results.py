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

__all__ = ["ForceProfile", "ForceTrend", "Funnel", "LeagueTable", "PeerComparison", "Result", "Totals", "Trend"]


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
