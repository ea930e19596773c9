"""The web app: a FastAPI application on one read-only store.

FastAPI (on Starlette) rather than bare Starlette because it generates the OpenAPI description of every JSON
route from the route functions themselves: ``/openapi.json`` is served from it, the documentation page
(``/docs``, drawn by the vendored Swagger UI) reads it, and the schemathesis tests generate requests from it.
Pages are rendered with Jinja2 (:mod:`crimestats.web.pages`); the routes are in :mod:`crimestats.web.routes`.

The app computes nothing: every number comes from the materialised statistics through the library. The store
never changes while the app runs, so an answer (a page, a document, a chart's drawing, a file under ``/static``)
is made once per URL and kept (:class:`Site`), gzipped once, with an ETag from the store's state and the body; a
request that sends it back gets 304. A repeated request is answered from the kept answers before routing
(:class:`KeptAnswers`), through the same :meth:`Answer.send` as the route's first answer.

Every response carries a Content-Security-Policy allowing only the app's own scripts, styles and images (page
scripts are files under ``/static``; chart data are ``<script type="application/json">`` blocks, which are
read, never run), and the related headers. Errors have one shape: ``{"error": {"status", "message"}}`` on
``.json`` URLs, one line of text on ``.csv`` URLs, a page otherwise.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException
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

__all__ = ["Answer", "Site", "create_app"]

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


#: Bodies from this size on are kept gzipped too (smaller ones gain little from it), and sent so to a client that
#: accepts gzip.
GZIP_FROM = 1000


@dataclass(frozen=True)
class Answer:
    """A response body made once: its bytes (and gzipped, when it is large enough), media type, ETag and any
    headers of its own (a chart's Content-Security-Policy)."""

    body: bytes
    media_type: str
    etag: str
    gzipped: bytes | None = None
    headers: tuple[tuple[bytes, bytes], ...] = ()

    @classmethod
    def made(cls, body: bytes, media_type: str, etag: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> Answer:
        """The answer of ``body``, gzipped once here (at the highest level: it is kept) if that makes it smaller."""
        packed = gzip.compress(body, mtime=0) if len(body) >= GZIP_FROM else None
        return cls(body, media_type, etag, packed if packed and len(packed) < len(body) else None, headers)

    def reply(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The status, headers and body that answer the request of ``scope``: 304 when it sends this ETag back,
        the gzipped body when it accepts gzip, no body for a HEAD request."""
        asked = dict(scope["headers"])
        headers = [(b"etag", self.etag.encode()), (b"cache-control", b"no-cache"), *self.headers]  # revalidate: 304s
        if self.gzipped is not None:
            headers.append((b"vary", b"Accept-Encoding"))
        if self.etag in _etags(asked.get(b"if-none-match", b"").decode("latin-1")):
            return 304, headers, b""
        body = self.body
        if self.gzipped is not None and b"gzip" in asked.get(b"accept-encoding", b""):
            body = self.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers += [(b"content-type", self.media_type.encode()), (b"content-length", str(len(body)).encode())]
        return 200, headers, b"" if scope["method"] == "HEAD" else body

    async def send(self, scope: Scope, send: Send) -> None:
        """Answer the request of ``scope``: the one way an answer is sent, by a route or by :class:`KeptAnswers`."""
        status, headers, body = self.reply(scope)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def response(self) -> Response:
        """The answer as a route returns it."""
        return AnswerResponse(self)


class AnswerResponse(Response):
    """A route's response that sends a kept :class:`Answer` as :meth:`Answer.send` does."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(status_code=200)
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.answer.send(scope, send)
        if self.background is not None:
            await self.background()


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def url_of(scope: Scope) -> str:
    """The path and query of a request as written (``/league/2019-09/burglary.json?suppress=false``): what an
    answer is kept by."""
    return f"{scope['path']}?{scope['query_string'].decode('latin-1')}"


#: Option sets beyond the default that one server computes (in memory: the store is read-only) before it says
#: it is busy: each takes seconds and holds the store, so a stranger cannot make the server compute them all.
MOST_OPTION_SETS = 4


class BusyError(CrimestatsError):
    """An option set the store does not keep, after the server has computed its share of them (503)."""


class Site:
    """The app's store (read-only, one connection, used under a lock: a DuckDB connection is not safe to share
    between threads), the peer groups it was given, and the answers made so far."""

    def __init__(self, db: Path | None, groups: PeerGroups | None, engine: str | None = None) -> None:
        path = db or default_path()
        if not path.exists():
            raise StoreError(f"no store at {path}: run `crimestats ingest PATH` first")
        self.store = Store(path, read_only=True, engine=engine)
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
        #: The option sets other than the default computed so far (see :meth:`admit`).
        self.computed: set[Options] = set()
        self.most_option_sets = MOST_OPTION_SETS
        #: The store's state: its files, the definitions of the statistics and the options (ETags derive from it).
        self.state = name

    def close(self) -> None:
        self.store.close()

    def admit(self, options: Options) -> Options:
        """``options``, if the store keeps their statistics or the server may still compute them; else
        :class:`BusyError`. Call under the lock (inside :meth:`read`)."""
        if options == Options() or options in self.computed:
            return options
        if not materialised.is_materialised(self.store, options) and len(self.computed) >= self.most_option_sets:
            raise BusyError(
                f"this server has computed the statistics of {len(self.computed)} other option sets already and "
                f"keeps no more: to serve these, run the same question once with the CLI on the store (e.g. "
                f"`crimestats --db {self.store.path} table -p latest` with the same options), then restart the server"
            )
        self.computed.add(options)
        return options

    def read(self, question: Callable[[Store], Any]) -> Any:
        """Ask the store one question, under the lock."""
        with self.lock:
            return question(self.store)

    def kept(self, url: str) -> Answer | None:
        """The answer kept for ``url`` (see :func:`url_of`), if it has been made."""
        return self._answers.get(url)

    def answer(
        self, url: str, make: Callable[[], tuple[bytes, str]], options: str = "", headers: dict[str, str] | None = None
    ) -> Answer:
        """The answer kept for ``url``, else ``make()``'s (body, media type) with ``headers``, kept; its ETag
        derives from the store's state, the options it is made with (as text) and the body. The options are a
        function of the URL's query, so the URL alone says which answer it is."""
        found = self._answers.get(url)
        if found is not None:
            return found
        body, media_type = make()
        tag = hashlib.sha256(f"{self.state}\n{options}\n".encode() + body).hexdigest()[:32]
        own = tuple((name.lower().encode(), value.encode()) for name, value in (headers or {}).items())
        made = Answer.made(body, media_type, f'"{tag}"', own)
        with self._answers_lock:
            for kept, most in ((self._answers, KEPT_ANSWERS), (self.charts, 4 * KEPT_ANSWERS)):  # pages' charts
                while len(kept) >= most:
                    kept.pop(next(iter(kept)))
            self._answers[url] = made
        return made


class KeptAnswers:
    """ASGI middleware sending a GET or HEAD whose answer the site keeps straight from it, before routing.

    The route of the URL would return the very same answer, through the same :meth:`Answer.send`: it checked
    the request's values when the answer was made, and they are the same values again. This layer only spares
    a repeated request FastAPI's routing, validation and thread pool, which cost many times the sending."""

    def __init__(self, app: ASGIApp, site: Site) -> None:
        self.app = app
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            kept = self.site.kept(url_of(scope))
            if kept is not None:
                await kept.send(scope, send)
                return
        await self.app(scope, receive, send)


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
    """404 for what the store or reference data do not hold, 503 when the server is busy, 400 for what is not
    written right."""
    if isinstance(error, UnknownAreaError | UnknownOffenceError | NoDataError):
        return 404
    return 503 if isinstance(error, BusyError) else 400


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


def create_app(
    db: Path | None = None, *, most_similar_group: Path | None = None, cors: bool = False, engine: str | None = None
) -> FastAPI:
    """The app on the store at ``db`` (default: as the CLI), opened read-only; ``most_similar_group`` is a
    Home Office most similar groups CSV (``force,peer``) for the force pages' peer comparison (default: a
    computed group); ``cors`` lets pages of other sites read the JSON and CSV; ``engine`` computes the option
    sets the store does not keep (default: as the CLI).

    :class:`StoreError` when there is no store, or its statistics are not computed."""
    from crimestats.web import check, routes

    groups = None
    if most_similar_group is not None:
        from crimestats.sources.peer_groups import read_peer_groups

        groups = read_peer_groups(most_similar_group)
    site = Site(db, groups, engine)
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
    _handlers(app)
    app.add_middleware(KeptAnswers, site=site)
    if cors:
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST"])
    app.add_middleware(SecurityHeaders)
    app.router.on_shutdown.append(site.close)
    return app
