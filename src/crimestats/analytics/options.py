"""The options every statistic takes: which source, which population, whether to suppress."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SOURCE_PRIORITY", "Options"]

#: When several sources give the same figure, the first in this order that has a value is used; within a
#: source, the latest vintage, then a corrected re-issue, then the file ingested last.
SOURCE_PRIORITY = ("ons-pfa", "ons-csp", "home-office")


@dataclass(frozen=True)
class Options:
    """How figures are chosen and compared.

    - ``source``: use only this source (``ons-pfa``, ``ons-csp``, ``home-office``); default all, by priority.
    - ``population``: ``published`` (the population printed in ONS Table P3 of the same release) or
      ``ons-mye`` (mid-year estimates summed to force areas); default: published for ONS force table
      figures, mid-year estimates for everything else.
    - ``population_year``: the mid-year estimate to use; default the one ONS would use (see
      :func:`ons_population_year`).
    - ``suppress``: follow ONS and publish no rate (or rank) for City of London.
    """

    source: str | None = None
    population: str | None = None
    population_year: int | None = None
    suppress: bool = True
