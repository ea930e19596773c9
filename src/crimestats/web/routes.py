"""The routes: every page ``/X`` also answers ``/X.json`` and ``/X.csv`` (``/`` answers ``/index.json`` and
``/index.csv``), the figures of :mod:`crimestats.documents`, exactly as the CLI prints them.

Each path and query value is checked against the reference data and the store (a force, an offence, a period)
before it reaches the library, whose queries bind values as parameters: an unknown value is 404, one that is
not written right 400, with a message saying what would do. The ``.json`` routes are in the OpenAPI schema.
"""

from __future__ import annotations

import functools
import mimetypes
import pathlib
import re
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, BeforeValidator
from starlette.exceptions import HTTPException

from crimestats import analytics, documents, reference
from crimestats.analytics.options import Options, Population, Source, options_for
from crimestats.analytics.peers import not_a_force
from crimestats.documents import Document
from crimestats.errors import CrimestatsError, NoDataError, UnknownAreaError
from crimestats.periods import format_period
from crimestats.store import Store
from crimestats.web import pages, schemas
from crimestats.web.app import Site, url_of

__all__ = ["router"]

router = APIRouter()
E = TypeVar("E", bound=Callable[..., Response])

#: The longest value a path or query parameter may have (a force's name, an offence's, a period).
LONGEST = 80
#: At most this many forces side by side on /compare.
MOST_COMPARED = 8

ForcePath = Annotated[
    str, Path(max_length=LONGEST, description="A force: slug (`devon-and-cornwall`), name or ONS code (E23000038).")
]
PeriodPath = Annotated[
    str, Path(max_length=LONGEST, description="A 12-month period by its last quarter, e.g. `2019-09`, or `latest`.")
]
OffencePath = Annotated[
    str, Path(max_length=LONGEST, description="An offence slug or name, e.g. `burglary` (`/about` lists the rest).")
]
OffenceQuery = Annotated[
    str | None,
    Query(max_length=LONGEST, description="An offence slug or name (default: total recorded crime excluding fraud)."),
]
PeriodQuery = Annotated[
    str | None, Query(max_length=LONGEST, description="A period such as `2019-09` (default: the latest in the store).")
]


def _blank_is_none(value: Any) -> Any:
    """An empty choice of a form (``source=``) is no choice: the default."""
    return None if value == "" else value


Blank = BeforeValidator(_blank_is_none)
SourceQuery = Annotated[
    Source | None,
    Blank,
    Query(description="Use only this source (default: ONS force tables, then ONS CSP table, then Home Office)."),
]
PopulationQuery = Annotated[
    Population | None,
    Blank,
    Query(description="Population for rates: `published` (ONS Table P3) or `ons-mye` (mid-year estimates)."),
]
PopulationYearQuery = Annotated[
    int | None,
    Blank,
    Query(description="The mid-year estimate for rates, e.g. 2018: one the store holds (default: the one ONS uses)."),
]
SuppressQuery = Annotated[
    bool, Query(description="`false` shows and ranks City of London's rate, which ONS suppresses (`--no-suppress`).")
]
_SourceKept = Annotated[Source | None, Blank, Query(include_in_schema=False)]
_PopulationKept = Annotated[Population | None, Blank, Query(include_in_schema=False)]
_PopulationYearKept = Annotated[int | None, Blank, Query(include_in_schema=False)]
_SuppressKept = Annotated[bool, Query(include_in_schema=False)]


def query_options(
    request: Request,
    source: SourceQuery = None,
    population: PopulationQuery = None,
    population_year: PopulationYearQuery = None,
    suppress: SuppressQuery = True,
) -> Options:
    """The options of the CLI's questions, from the query, checked as the CLI checks them."""
    site: Site = request.app.state.site
    options: Options = site.read(
        lambda store: site.admit(options_for(store, source, population, population_year, suppress))
    )
    return options


def kept_options(
    request: Request,
    source: _SourceKept = None,
    population: _PopulationKept = None,
    population_year: _PopulationYearKept = None,
    suppress: _SuppressKept = True,
) -> Options:
    """:func:`query_options` on a route whose answer they do not change, only its links (not in the schema)."""
    return query_options(request, source, population, population_year, suppress)


QueryOptions = Annotated[Options, Depends(query_options)]
KeptOptions = Annotated[Options, Depends(kept_options)]


class ErrorDetail(BaseModel):
    status: int
    message: str


class ErrorBody(BaseModel):
    """The one error shape."""

    error: ErrorDetail


def _responses(what: str, shape: Any) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": what, "model": shape},
        400: {"description": "A value not written right (e.g. the period `abc`).", "model": ErrorBody},
        404: {"description": "A force, offence or period the store does not hold.", "model": ErrorBody},
        503: {
            "description": "Options whose statistics the store does not keep, once the server has computed its "
            "share of other option sets (it keeps a few in memory).",
            "model": ErrorBody,
        },
    }


def page(path: str, summary: str, what: str, shape: Any) -> Callable[[E], E]:
    """Register an endpoint at ``path`` (a page), ``path.json`` (in the OpenAPI schema, its 200 answer of the
    ``shape`` of :mod:`crimestats.web.schemas`) and ``path.csv``."""

    def register(endpoint: E) -> E:
        stem = "/index" if path == "/" else path
        name = endpoint.__name__
        router.add_api_route(
            f"{stem}.json",
            endpoint,
            summary=summary,
            description=what,
            responses=_responses(what, shape),
            name=f"{name}_json",
        )
        router.add_api_route(f"{stem}.csv", endpoint, include_in_schema=False, name=f"{name}_csv")
        router.add_api_route(path, endpoint, include_in_schema=False, name=name)
        return endpoint

    return register


def respond(
    request: Request,
    document: Callable[[Store], Document],
    html: Callable[[Site], str],
    options: Options = Options(),
) -> Response:
    """The answer for the URL, made once: the document as JSON or CSV, or the page ``html`` renders; kept,
    and tagged, by the URL and the options it was made with."""
    site: Site = request.app.state.site
    path = request.url.path

    def make() -> tuple[bytes, str]:
        if path.endswith(".json"):
            return site.read(document).json().encode(), "application/json"
        if path.endswith(".csv"):
            return site.read(document).csv().encode(), "text/csv; charset=utf-8"
        return html(site).encode(), "text/html; charset=utf-8"

    return site.answer(url_of(request.scope), make, repr(options)).response()


# ---- values from the URL ------------------------------------------------------------------------------------


def police_force(text: str) -> reference.Area:
    """The force (or British Transport Police) a slug, name or ONS code denotes; else :class:`UnknownAreaError`
    saying which forces were perhaps meant."""
    found = reference.find_area(text)
    if found is None:
        candidates = [*reference.forces(), reference.area("BTP")]
        hint = reference.did_you_mean(reference.suggest_areas(text, candidates)) or reference.AREA_HINT
        raise UnknownAreaError(f"unknown force {text!r} ({hint})")
    error = not_a_force(found, transport=True)
    if error is not None:
        raise error
    return found


def period_in(store: Store, text: str | None) -> str:
    """A period the store holds, as ``2019-09`` (default the latest): PeriodError (400) if it cannot be one,
    NoDataError (404) if the store does not hold it."""
    month = analytics.resolve_period(store, text or "latest")
    held = analytics.store_periods(store)
    if month not in held:
        listed = ", ".join(format_period(m) for m in held)
        raise NoDataError(f"no figures for the period {format_period(month)}; periods in the store: {listed}")
    return format_period(month)


def offence_slug(text: str | None) -> str:
    """The slug of the offence a slug or name denotes (default the total); else UnknownOffenceError (404)."""
    return reference.offence(text or "total-excluding-fraud").slug


# ---- pages ---------------------------------------------------------------------------------------------------


@page(
    "/",
    "The national picture",
    "Every force's count, rate per 1,000 residents, rank and change for one offence and period (default the "
    "latest), and England and Wales: the same object as `crimestats table --period P --offence O --format json`.",
    schemas.League,
)
def home(request: Request, options: QueryOptions, period: PeriodQuery = None, offence: OffenceQuery = None) -> Response:
    site: Site = request.app.state.site
    month, slug = site.read(lambda store: period_in(store, period)), offence_slug(offence)
    return respond(
        request,
        lambda store: documents.league_document(store, month, slug, options),
        lambda site: pages.home_page(site, month, slug, options),
        options,
    )


@page(
    "/league/{period}/{offence}",
    "A league table",
    "Every force for one offence and period, with intervals, plausible ranks and tested changes, and England "
    "and Wales like for like: the object `crimestats table --period P --offence O --format json` prints.",
    schemas.League,
)
def league(request: Request, period: PeriodPath, offence: OffencePath, options: QueryOptions) -> Response:
    site: Site = request.app.state.site
    month, slug = site.read(lambda store: period_in(store, period)), offence_slug(offence)
    return respond(
        request,
        lambda store: documents.league_document(store, month, slug, options),
        lambda site: pages.league_page(site, month, slug, options),
        options,
    )


@router.get("/league", include_in_schema=False)
def league_chosen(
    request: Request, options: QueryOptions, period: PeriodQuery = None, offence: OffenceQuery = None
) -> Response:
    """The selectors of a league page, without JavaScript: to the league chosen (with the options kept)."""
    site: Site = request.app.state.site
    month, slug = site.read(lambda store: period_in(store, period)), offence_slug(offence)
    return RedirectResponse(pages.link(f"/league/{month}/{slug}", options), status_code=303)


def _suffix(request: Request) -> str:
    path = request.url.path
    return ".json" if path.endswith(".json") else ".csv" if path.endswith(".csv") else ""


@page(
    "/forces/{force}/{period}",
    "A force in one period",
    "One force across every level of the offence classification for one period: counts, rates with intervals, "
    "ranks and changes: the object `crimestats force NAME --period P --format json` prints.",
    schemas.Force,
)
def force_period(request: Request, force: ForcePath, period: PeriodPath, options: QueryOptions) -> Response:
    site: Site = request.app.state.site
    area = police_force(force)
    month = site.read(lambda store: period_in(store, period))
    return respond(
        request,
        lambda store: documents.force_document(store, area.code, month, options),
        lambda site: pages.force_page(site, area, month, options),
        options,
    )


@page(
    "/forces/{force}",
    "A force over time",
    "One force for one offence in every period the store holds, beside England and Wales: the object "
    "`crimestats trend NAME --offence O --format json` prints.",
    schemas.Trend,
)
def force_over_time(
    request: Request,
    force: ForcePath,
    options: QueryOptions,
    offence: OffenceQuery = None,
    period: Annotated[str | None, Query(max_length=LONGEST, include_in_schema=False)] = None,
) -> Response:
    area, slug = police_force(force), offence_slug(offence)
    if period is not None:  # the period selector of a force's page, without JavaScript
        site: Site = request.app.state.site
        month = site.read(lambda store: period_in(store, period))
        return RedirectResponse(pages.link(f"/forces/{area.slug}/{month}{_suffix(request)}", options), status_code=303)
    return respond(
        request,
        lambda store: documents.trend_document(store, area, slug, options),
        lambda site: pages.force_trend_page(site, area, slug, options),
        options,
    )


@page(
    "/compare",
    "Forces side by side",
    "Several forces' rates per 1,000 residents, with 95% intervals, in every period the store holds, and "
    "England and Wales'.",
    schemas.Compare,
)
def compare(
    request: Request,
    options: QueryOptions,
    forces: Annotated[
        str,
        Query(
            max_length=MOST_COMPARED * (LONGEST + 1),
            description=f"Up to {MOST_COMPARED} forces, comma-separated: `wiltshire,dorset,gloucestershire`.",
        ),
    ] = "",
    offence: OffenceQuery = None,
) -> Response:
    names = [name.strip() for name in forces.split(",") if name.strip()]
    if len(names) > MOST_COMPARED:
        raise CrimestatsError(f"at most {MOST_COMPARED} forces can be compared; {len(names)} were given")
    areas, slug = [police_force(name) for name in names], offence_slug(offence)
    return respond(
        request,
        lambda store: documents.compare_document(store, areas, slug, options),
        lambda site: pages.compare_page(site, areas, slug, options),
        options,
    )


@page(
    "/search",
    "Find a force",
    "The forces a name finds: by force name, or by the name of a council or community safety partnership in "
    "the force's area (`Swindon` finds Wiltshire), from the ONS lookup in the store.",
    schemas.Search,
)
def search(
    request: Request,
    options: KeptOptions,
    q: Annotated[str, Query(max_length=LONGEST, description="A force, council or community safety partnership.")] = "",
) -> Response:
    site: Site = request.app.state.site
    path = request.url.path
    if not path.endswith((".json", ".csv")):
        found = site.read(lambda store: documents.search_document(store, q)).rows
        if len(found) == 1:  # straight to the force's page for the latest period, with the reader's options
            latest = site.read(lambda store: period_in(store, None))
            return RedirectResponse(pages.link(f"/forces/{found[0]['slug']}/{latest}", options), status_code=303)
    return respond(
        request,
        lambda store: documents.search_document(store, q),
        lambda site: pages.search_page(site, q, options),
        options,
    )


@page(
    "/files",
    "The files behind the figures",
    "Every official file in the store: name, sha256, source and release, rows, and when it was read in: what "
    "`crimestats files --format json` prints.",
    list[schemas.FileRow],
)
def files(request: Request) -> Response:
    return respond(request, documents.files_document, pages.files_page)


@page(
    "/about",
    "Methods and caveats",
    "How the figures are made, and every caveat crimestats prints beside figures it applies to.",
    schemas.About,
)
def about(request: Request) -> Response:
    return respond(request, lambda store: documents.about_document(), pages.about_page)


@functools.cache
def static_files() -> dict[str, pathlib.Path]:
    """The app's own files (its scripts and styles, the vendored builds and their licences) by their path under
    ``/static/``: only these are served there."""
    folder = pathlib.Path(str(resources.files("crimestats.web") / "static"))
    return {file.relative_to(folder).as_posix(): file for file in sorted(folder.rglob("*")) if file.is_file()}


def static_media_type(file: pathlib.Path) -> str:
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


@router.get("/static/{name:path}", include_in_schema=False)
def static(request: Request, name: Annotated[str, Path(max_length=200)]) -> Response:
    """A file of the app's own, read once and kept (gzipped once) like every answer."""
    file = static_files().get(name)
    if file is None:
        raise HTTPException(404)
    site: Site = request.app.state.site
    return site.answer(url_of(request.scope), lambda: (file.read_bytes(), static_media_type(file))).response()


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> Response:
    site: Site = request.app.state.site
    return site.answer(
        url_of(request.scope), lambda: (pages.docs_page(request.app.openapi()).encode(), "text/html")
    ).response()


_CHART_ID = re.compile(r"^[0-9a-f]{20}$")
#: A chart's drawing may style itself, and loads nothing.
SVG_POLICY = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


@router.get("/charts/{chart}.svg", include_in_schema=False)
def chart_svg(request: Request, chart: Annotated[str, Path(max_length=40)]) -> Response:
    """A chart of a page drawn as SVG (the page without JavaScript shows it), drawn once."""
    site: Site = request.app.state.site
    spec = site.charts.get(chart) if _CHART_ID.match(chart) else None
    if spec is None:
        raise NoDataError(f"no chart {chart!r}: open the page that shows it first")
    drawn = site.answer(
        url_of(request.scope), lambda: (pages.chart_svg(spec).encode(), "image/svg+xml"), headers=SVG_POLICY
    )
    return drawn.response()
