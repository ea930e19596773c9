"""The shapes of the JSON documents (:mod:`crimestats.documents`) as the OpenAPI description declares them.

These models describe, they never build: the routes send the documents' own JSON, and the API tests check every
generated response against these shapes (schemathesis's response conformance). A figure that is not available
(ONS's ``..``) is null, so every figure may be null; every key is always there.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["About", "Compare", "FileRow", "Force", "League", "Search", "Trend"]


class Figures(BaseModel):
    """A rate per 1,000 residents with its 95% interval, its rank and its change on a year earlier."""

    count: int | None = Field(description="Recorded offences in the 12 months.")
    population: float | None = Field(description="Residents the rate is per.")
    rate_per_1000: float | None = Field(description="Offences per 1,000 residents.")
    rate_ci_low: float | None = Field(description="Lower end of the rate's 95% interval.")
    rate_ci_high: float | None = Field(description="Upper end of the rate's 95% interval.")
    rank: int | None = Field(description="Rank by rate, 1 the lowest.")
    ranked_of: int | None = Field(description="How many forces are ranked.")
    rank_low: int | None = Field(description="Best plausible rank (95%).")
    rank_high: int | None = Field(description="Worst plausible rank (95%).")
    previous_count: int | None = Field(description="Offences in the 12 months a year earlier.")
    change_pct: float | None = Field(description="Change in the count on a year earlier, per cent.")
    change_p_value: float | None = Field(description="p-value of the test of the change in rate.")
    change_significant: bool | None = Field(description="Whether the change in rate is significant at 5%.")
    change_verdict: str | None = Field(description="The change in words.")
    source: str | None
    vintage: str | None
    file_name: str | None
    population_source: str | None
    population_year: int | None
    population_older: bool | None
    note: str | None


class LeagueRow(Figures):
    force_code: str
    force: str


class National(BaseModel):
    """England and Wales, like for like with the forces ranked."""

    area_code: str
    area: str
    count: int | None
    population: float | None
    population_year: int | None
    population_older: bool | None
    rate_per_1000: float | None
    rate_ci_low: float | None
    rate_ci_high: float | None
    previous_count: int | None
    change_pct: float | None
    change_note: str | None
    excluded: list[str] | None = Field(description="Forces left out of England and Wales for lack of figures.")
    sources: list[str]
    vintages: list[str]


class League(BaseModel):
    """A league table: what `crimestats table --format json` prints."""

    period: str
    period_label: str
    offence: str
    offence_name: str
    national: National | None
    rows: list[LeagueRow]


class ForceRow(Figures):
    offence: str
    offence_slug: str
    level: str


class Force(BaseModel):
    """A force in one period: what `crimestats force NAME --format json` prints."""

    force_code: str
    force: str
    period: str
    period_label: str
    rows: list[ForceRow]


class TrendRow(BaseModel):
    period: str
    count: int | None
    rate_per_1000: float | None
    rate_ci_low: float | None
    rate_ci_high: float | None
    rank: int | None
    ranked_of: int | None
    change_pct: float | None
    england_and_wales_rate: float | None
    source: str | None
    vintage: str | None


class Trend(BaseModel):
    """A force over time: what `crimestats trend NAME --format json` prints."""

    force_code: str
    force: str
    offence: str
    rows: list[TrendRow]


class Named(BaseModel):
    force_code: str
    force: str


class CompareRow(BaseModel):
    area_code: str
    series: str
    period: str
    period_label: str
    count: int | None
    population: float | None
    rate_per_1000: float | None
    rate_ci_low: float | None
    rate_ci_high: float | None
    source: str | None
    excluded: list[str] | None = Field(description="For England and Wales: the forces it leaves out; null for a force.")


class Compare(BaseModel):
    """Forces side by side over time."""

    offence: str
    offence_name: str
    forces: list[Named]
    rows: list[CompareRow]


class Found(Named):
    slug: str
    matched: str = Field(description="The name that matched: the force's, a council's or a partnership's.")
    kind: str


class Search(BaseModel):
    query: str
    forces: list[Found]


class FileRow(BaseModel):
    """An official file in the store: what `crimestats files --format json` prints, a row a file."""

    file_id: int
    file_name: str
    sha256: str
    source: str
    vintage: str | None
    revision: int | None
    ingested_at: str
    rows: int


class Caveat(BaseModel):
    id: str
    kind: str
    area: str | None
    offence: str | None
    scope: str | None
    start: str | None
    end: str | None
    text: str
    source_title: str | None
    source_url: str | None
    measure: str | None


class About(BaseModel):
    methods: list[str]
    caveats: list[Caveat]
