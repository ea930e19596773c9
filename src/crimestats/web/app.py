"""The web app: a FastAPI application on one read-only store.

FastAPI (on Starlette) rather than bare Starlette because it generates the OpenAPI description of every JSON
route from the route functions themselves: ``/openapi.json`` is served from it, the documentation page
(``/docs``, drawn by the vendored Swagger UI) reads it, and the schemathesis tests generate requests from it.
Pages are rendered with Jinja2 (:mod:`crimestats.web.pages`); the routes are in :mod:`crimestats.web.routes`.

The app computes nothing: every number comes from the materialised statistics through the library. The store
never changes while the app runs, so an answer is made once per URL and kept (:class:`Site`), with an ETag
from the store's state and the body; a request that sends it back gets 304.

Every response carries a Content-Security-Policy allowing only the app's own scripts, styles and images (page
scripts are files under ``/static``; chart data are ``<script type="application/json">`` blocks, which are
read, never run), and the related headers. Errors have one shape: ``{"error": {"status", "message"}}`` on
``.json`` URLs, one line of text on ``.csv`` URLs, a page otherwise.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crimestats import __version__
from crimestats.analytics import materialised
from crimestats.analytics.options import Options
from crimestats.errors import (
    CrimestatsError,
    NoDataError,
    StoreError,
    UnknownAreaError,
    UnknownOffenceError,
)
from crimestats.store import Store, default_path

if TYPE_CHECKING:
    from crimestats.sources.peer_groups import PeerGroups

__all__ = ["Site", "create_app"]

log = logging.getLogger("crimestats.web")

#: What a page may load: only the app's own files; no frames, plugins or other sites, ever.
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
#: How many answers (pages, documents, chart drawings) are kept; the oldest goes first.
KEPT_ANSWERS = 512


@dataclass(frozen=True)
class Answer:
    """A response body made once: its bytes, media type and ETag."""

    body: bytes
    media_type: str
    etag: str

    def response(self, request: Request) -> Response:
        headers = {"ETag": self.etag, "Cache-Control": "no-cache"}  # revalidate each time: cheap, with 304s
        if self.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


class Site:
    """The app's store (read-only, one connection, used under a lock: a DuckDB connection is not safe to share
    between threads), the peer groups it was given, and the answers made so far."""

    def __init__(self, db: Path | None, groups: PeerGroups | None) -> None:
        path = db or default_path()
        if not path.exists():
            raise StoreError(f"no store at {path}: run `crimestats ingest PATH` first")
        self.store = Store(path, read_only=True)
        self.groups = groups
        self.lock = threading.Lock()
        self._answers: dict[str, Answer] = {}
        #: The Vega-Lite specs of the charts on the pages made so far, by id (their SVG is drawn on request).
        self.charts: dict[str, dict[str, Any]] = {}
        self._answers_lock = threading.Lock()
        name = materialised.statistics_key(self.store, "forces", Options())[0]
        if not materialised.is_materialised(self.store, Options()):
            self.store.close()
            raise StoreError(
                f"the statistics of {path} are not computed for this version of crimestats: "
                f"run `crimestats --db {path} ingest PATH` (or any question, e.g. `crimestats table -p latest`) once"
            )
        #: The store's state: its files, the definitions of the statistics and the options (ETags derive from it).
        self.state = name

    def close(self) -> None:
        self.store.close()

    def read(self, question: Callable[[Store], Any]) -> Any:
        """Ask the store one question, under the lock."""
        with self.lock:
            return question(self.store)

    def answer(self, key: str, make: Callable[[], tuple[bytes, str]], options: str = "") -> Answer:
        """The answer kept for ``key`` and ``options`` (the options it is made with, as text), else
        ``make()``'s (body, media type), kept; its ETag derives from the store's state, the options and the body."""
        found = self._answers.get(f"{key}\n{options}")
        if found is not None:
            return found
        body, media_type = make()
        tag = hashlib.sha256(f"{self.state}\n{options}\n".encode() + body).hexdigest()[:32]
        made = Answer(body, media_type, f'"{tag}"')
        with self._answers_lock:
            for kept, most in ((self._answers, KEPT_ANSWERS), (self.charts, 4 * KEPT_ANSWERS)):  # pages' charts
                while len(kept) >= most:
                    kept.pop(next(iter(kept)))
            self._answers[f"{key}\n{options}"] = made
        return made


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response (an SVG drawing may style itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def status_of(error: CrimestatsError) -> int:
    """404 for what the store or reference data do not hold, 400 for what is not written right."""
    if isinstance(error, UnknownAreaError | UnknownOffenceError | NoDataError):
        return 404
    return 400


def error_response(request: Request, status: int, message: str) -> Response:
    """The one error shape: JSON on ``.json`` URLs, a line of text on ``.csv`` URLs, else a page."""
    path = request.url.path
    if path.endswith(".json"):
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    if path.endswith(".csv"):
        return PlainTextResponse(f"error: {message}\n", status_code=status)
    from crimestats.web import pages

    return pages.error_page(status, message)


def _validation_message(error: RequestValidationError) -> str:
    """'query parameter q: String should have at most 100 characters'."""
    parts = []
    for item in error.errors():
        where = [str(part) for part in item.get("loc", ())]
        place = f"{where[0]} parameter {' '.join(where[1:])}" if where and where[0] in ("path", "query") else "request"
        parts.append(f"{place}: {item.get('msg', 'not valid')}")
    return "; ".join(parts) or "the request is not valid"


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(CrimestatsError)
    async def crimestats_error(request: Request, error: CrimestatsError) -> Response:
        return error_response(request, status_of(error), str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        return error_response(request, 400, _validation_message(error))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        message = {
            404: f"no page at {request.url.path}; see / or /docs",
            405: "only GET and HEAD are answered here (POST a story to /check)",
        }
        response = error_response(request, error.status_code, message.get(error.status_code, str(error.detail)))
        response.headers.update(error.headers or {})
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:  # a bug: logged, and said plainly
        log.exception("error answering %s", request.url.path)
        return error_response(request, 500, "the server could not answer this request (a bug: please report it)")


def create_app(db: Path | None = None, *, most_similar_group: Path | None = None, cors: bool = False) -> FastAPI:
    """The app on the store at ``db`` (default: as the CLI), opened read-only; ``most_similar_group`` is a
    Home Office most similar groups CSV (``force,peer``) for the force pages' peer comparison (default: a
    computed group); ``cors`` lets pages of other sites read the JSON and CSV.

    :class:`StoreError` when there is no store, or its statistics are not computed."""
    from crimestats.web import check, routes

    groups = None
    if most_similar_group is not None:
        from crimestats.sources.peer_groups import read_peer_groups

        groups = read_peer_groups(most_similar_group)
    site = Site(db, groups)
    app = FastAPI(
        title="crimestats",
        version=__version__,
        summary="Police recorded crime statistics for England and Wales: the figures of the crimestats store.",
        description=(
            "Every page of the dashboard has the same figures as JSON (`.json`) and CSV (`.csv`) at the same URL, "
            "exactly as the `crimestats` command prints them with `--format json` or `--format csv`. "
            "Rates are per 1,000 residents; missing values are null. Errors are "
            '`{"error": {"status": 404, "message": "…"}}`.'
        ),
        docs_url=None,  # FastAPI's docs pages load scripts from a CDN: /docs is the app's own
        redoc_url=None,
    )
    app.state.site = site
    app.include_router(routes.router)
    app.include_router(check.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("crimestats.web") / "static")), name="static")
    _handlers(app)
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    if cors:
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST"])
    app.add_middleware(SecurityHeaders)
    app.router.on_shutdown.append(site.close)
    return app
