"""The options every statistic takes: which source, which population, whether to suppress; and the one check
of them against the store that the CLI's options and the web app's query parameters both make."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from crimestats.errors import CrimestatsError

if TYPE_CHECKING:
    from crimestats.store import Store

__all__ = [
    "SOURCE_PRIORITY",
    "Options",
    "Population",
    "Source",
    "check_population_year",
    "options_for",
    "options_of",
    "year_list",
]

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


class Source(StrEnum):
    """The sources ``source`` may name."""

    ons_pfa = "ons-pfa"
    ons_csp = "ons-csp"
    home_office = "home-office"


class Population(StrEnum):
    """The populations ``population`` may name."""

    published = "published"
    ons_mye = "ons-mye"


def options_for(
    store: Store,
    source: Source | None = None,
    population: Population | None = None,
    population_year: int | None = None,
    suppress: bool = True,
    year_option: str = "population_year",
) -> Options:
    """The options of a question, checked against the store (see :func:`check_population_year`, whose
    message names the population year as ``year_option`` does)."""
    if population_year is not None:
        check_population_year(store, population, population_year, year_option)
    return options_of(source, population, population_year, suppress)


def options_of(
    source: Source | None, population: Population | None, population_year: int | None, suppress: bool
) -> Options:
    """The options, unchecked (:func:`options_for` checks the population year against the store)."""
    return Options(
        source=source.value if source else None,
        population=population.value if population else None,
        population_year=population_year,
        suppress=suppress,
    )


def check_population_year(store: Store, population: Population | None, year: int, year_option: str) -> None:
    """A population year must name an estimate in the store, and only goes with mid-year estimates: else a
    :class:`CrimestatsError` saying which years the store holds."""
    from crimestats.analytics import population_years

    if population is Population.published:
        raise CrimestatsError(
            f"{year_option} applies to mid-year estimates; published P3 populations are those of the release"
        )
    memo = f"population_years {population is None}"
    if memo not in store.memo:  # read once per connection (the store forgets it when a file is stored)
        store.memo[memo] = population_years(store, population is None)
    years: list[int] = store.memo[memo]
    if year not in years:
        known = f"the store holds {year_list(years)}" if years else "the store holds none: ingest the ONS estimates"
        raise CrimestatsError(f"no population estimates for mid-{year}; {known}")


def year_list(years: list[int]) -> str:
    """'mid-2011 to mid-2023' for consecutive years, else 'mid-2011, mid-2016 and mid-2023'."""
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"mid-{years[0]} to mid-{years[-1]}"
    named = [f"mid-{year}" for year in years]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
