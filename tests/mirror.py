"""A misbehaving mirror of the official publishers, for download tests: a threaded HTTP server on 127.0.0.1.

It serves the real files from ``../shared/data`` under the official paths the catalogue lists (hosts dropped,
paths and queries kept, as ``--mirror`` asks for them), the publishers' discovery responses (ONS dataset JSON,
the gov.uk content API, data.police.uk's dates, ArcGIS hub items), ``ETag``/``Last-Modified`` with 304s and
``Range`` with 206s, and logs every request. Each test injects its own faults per official URL::

    mirror.fault(url, Fault("status", status=429, retry_after="2"))   # once, then normal service
    mirror.fault(url, Fault("drop", after=50_000))                     # connection reset mid-body
    mirror.fault(url, Fault("truncate", after=1_000, times=None))      # every time: short body, full Content-Length
    mirror.fault(url, Fault("serve", ranges=False, validators=False))  # no Range support, no ETag/Last-Modified
    mirror.fault(url, Fault("trickle", after=30))                      # one body byte a second, 30 at most

Two files in the shared data are one-sheet CSV extracts of official workbooks (the Home Office open data 2017/18
sheet and ONS Table C2 for the year ending June 2025); the discovery responses list them, as CSV downloads, in
place of the workbooks, so discovery leads to exactly the files in the shared data.
"""

from __future__ import annotations

import copy
import email.utils
import hashlib
import io
import json
import socket
import struct
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ONS = "https://www.ons.gov.uk"
PFA_URI = "/peoplepopulationandcommunity/crimeandjustice/datasets/policeforceareadatatables"
MYE_URI = (
    "/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets"
    "/estimatesofthepopulationforenglandandwales"
)
MYE_EDITION = "mid20232023localauthorityboundarieseditionofthisdataset"
GOVUK_API = "https://www.gov.uk/api/content/government/statistics/police-recorded-crime-open-data-tables"
ASSETS = "https://assets.publishing.service.gov.uk/media"
HUB = "https://hub.arcgis.com/api/v3/datasets"
LOOKUP_ITEM = "a90c5fce795e4df7af9f40d41f479405_0"
BOUNDARY_ITEM = "3e5a096a8c7c456fb6d3164a3f44b005_3"
POLICE_UK_DATES = "https://data.police.uk/api/crimes-street-dates"
LAST_MODIFIED = email.utils.formatdate(1_700_000_000, usegmt=True)

# ONS edition folder → file in ../shared/data/ons-pfa-tables (the June 2025 file is the C2 extract)
PFA_EDITIONS = {
    "yearendingmarch2018": "ons-pfa-tables/policeforceareatablesyearendingmarch2018v2.xlsx",
    "yearendingjune2018": "ons-pfa-tables/policeforceareadatatablesyearendingjune2018corrected.xlsx",
    "yearendingseptember2018": "ons-pfa-tables/policeforceareatablesyearendingsep18corrected.xlsx",
    "yearendingdecember2018": "ons-pfa-tables/policeforceareatablesyearendingdecember2018.xlsx",
    "yearendingmarch2019": "ons-pfa-tables/policeforceareatablesyeendingmarch2019.xlsx",
    "yearendingjune2019": "ons-pfa-tables/policeforceareatablesyearendingjune2019.xlsx",
    "yearendingseptember2019": "ons-pfa-tables/policeforceareatablesyearendingseptember2019.xlsx",
    "yearendingdecember2019": "ons-pfa-tables/pfatablesdec19.xlsx",
    "yearendingjune2025": "ons-csp-tables/policeforceareatablesyejune25final.csv",
}
HOME_OFFICE_CSV = f"{ASSETS}/5b3f1c2ae5274a6b6a1d0c3e/prc-pfa-mar2013-onwards-tables201718.csv"
MYE_URL = f"{ONS}/file?uri={MYE_URI}/{MYE_EDITION}/mye23tablesew.xlsx"
LOOKUP_URL = f"{HUB}/{LOOKUP_ITEM}/downloads/data?format=csv&spatialRefId=4326&where=1%3D1"
BOUNDARIES_LEGACY_URL = f"https://opendata.arcgis.com/datasets/{BOUNDARY_ITEM}.geojson"
BOUNDARIES_URL = f"{HUB}/{BOUNDARY_ITEM}/downloads/data?format=geojson&spatialRefId=4326"
ARCHIVE_URL = "https://data.police.uk/data/archive/2025-12.zip"


def pfa_url(edition: str) -> str:
    return f"{ONS}/file?uri={PFA_URI}/{edition}/{Path(PFA_EDITIONS[edition]).name}"


def key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A URL's path and decoded query, without the host: how the mirror recognises an official URL."""
    parts = urlsplit(url)
    return parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


@dataclass
class Route:
    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = LAST_MODIFIED
    status: int = 200
    location: str | None = None


@dataclass
class Fault:
    """One misbehaviour: ``status`` (with ``retry_after``), ``redirect`` (to ``location``), ``drop`` (reset the
    connection after ``after`` body bytes), ``truncate`` (close cleanly after ``after`` bytes), ``content-type``
    (serve the file under another type), ``html`` (a 200 HTML error page), ``trickle`` (one body byte a second,
    ``after`` bytes at most, until the client hangs up) or ``serve`` (as normal); with
    ``validators=False`` no ETag/Last-Modified is sent, with ``ranges=False`` Range is ignored."""

    kind: str
    status: int = 500
    retry_after: str | None = None
    location: str | None = None
    after: int = 0
    content_type: str | None = None
    validators: bool = True
    ranges: bool = True
    times: int | None = 1  # None: every request


@dataclass
class Logged:
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body_bytes: int


@dataclass
class Mirror:
    """The running server: ``base`` for ``--mirror``, ``log`` of requests, ``fault()`` and ``reset()``."""

    routes: dict[Any, Route]
    base: str = ""
    log: list[Logged] = field(default_factory=list)
    faults: dict[Any, list[Fault]] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)
    in_flight: int = 0
    _original: dict[Any, Route] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def fault(self, url: str, *faults: Fault) -> None:
        with self.lock:
            self.faults.setdefault(key(url), []).extend(faults)

    def set_json(self, url: str, document: Any) -> None:
        """Replace (or add) a discovery response until :meth:`reset`."""
        self.routes[key(url)] = _json_route(document)

    def set_file(self, url: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.routes[key(url)] = _file_route(body, content_type)

    def reset(self) -> None:
        """Forget faults, routes set by a test and the log, once the requests being answered are finished
        (a response the client gave up on can still be logged after its test has ended)."""
        with self.lock:
            self.lock.wait_for(lambda: self.in_flight == 0, timeout=5)
            self.log.clear()
            self.faults.clear()
            self.routes.clear()
            self.routes.update(self._original)

    def requests_for(self, url: str) -> list[Logged]:
        wanted = key(url)
        return [entry for entry in self.log if key(entry.path) == wanted]

    def start(self) -> Mirror:
        self._original = dict(self.routes)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.mirror = self  # type: ignore[attr-defined]
        self._server = server
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- serving

    def serve(self, handler: _Handler) -> None:
        route_key = key(handler.path)
        with self.lock:
            self.in_flight += 1
            pending = self.faults.get(route_key, [])
            fault = pending[0] if pending else None
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    pending.pop(0)
            route = self.routes.get(route_key)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            status, sent = _respond(handler, route, fault, headers)
            with self.lock:
                self.log.append(Logged("GET", handler.path, status, headers, sent))
        finally:
            with self.lock:
                self.in_flight -= 1
                self.lock.notify_all()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.mirror.serve(self)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _send_head(handler: _Handler, status: int, headers: dict[str, str]) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()


def _html(handler: _Handler, status: int, message: str) -> tuple[int, int]:
    body = f"<!DOCTYPE html><html><head><title>{message}</title></head><body><h1>{message}</h1></body></html>"
    data = body.encode()
    _send_head(handler, status, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(data))})
    handler.wfile.write(data)
    return status, len(data)


def _respond(handler: _Handler, route: Route | None, fault: Fault | None, request: dict[str, str]) -> tuple[int, int]:
    kind = fault.kind if fault else None
    if fault is not None and kind == "status":
        extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        body = b"busy" if fault.status == 429 else b"server error"
        _send_head(handler, fault.status, {"Content-Type": "text/plain", "Content-Length": str(len(body)), **extra})
        handler.wfile.write(body)
        return fault.status, len(body)
    if fault is not None and kind == "redirect":
        _send_head(handler, 302, {"Location": fault.location or "/", "Content-Length": "0"})
        return 302, 0
    if kind == "html":
        return _html(handler, 200, "Service unavailable - please try again later")
    if route is None:
        return _html(handler, 404, "Page not found")
    if route.location is not None:
        _send_head(handler, route.status, {"Location": route.location, "Content-Length": "0"})
        return route.status, 0
    send_validators = fault is None or fault.validators
    validators = {"ETag": route.etag or "", "Last-Modified": route.last_modified or ""} if send_validators else {}
    validators = {k: v for k, v in validators.items() if v}
    if send_validators and _not_modified(route, request):
        _send_head(handler, 304, validators)
        return 304, 0
    body, status = route.body, 200
    headers = {"Content-Type": (fault.content_type if fault and kind == "content-type" else None) or route.content_type}
    headers.update(validators)
    headers["Accept-Ranges"] = "bytes"
    start = _range_start(route, request) if fault is None or (fault.ranges and fault.validators) else None
    if start is not None:
        if start >= len(body):
            _send_head(handler, 416, {"Content-Range": f"bytes */{len(body)}", "Content-Length": "0"})
            return 416, 0
        headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        body, status = body[start:], 206
    headers["Content-Length"] = str(len(body))
    _send_head(handler, status, headers)
    if fault is not None and kind == "trickle":
        return status, _trickle(handler, body[: fault.after])
    if fault is not None and kind in ("drop", "truncate"):
        handler.wfile.write(body[: fault.after])
        handler.wfile.flush()
        handler.close_connection = True
        if kind == "drop":  # an abortive close once the client has read what was sent: a reset, not an end
            time.sleep(0.2)
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return status, min(len(body), fault.after)
    handler.wfile.write(body)
    return status, len(body)


def _trickle(handler: _Handler, body: bytes) -> int:
    """Send ``body`` one byte a second, stopping when the client hangs up; the bytes sent."""
    handler.close_connection = True
    for sent in range(len(body)):
        try:
            handler.wfile.write(body[sent : sent + 1])
            handler.wfile.flush()
        except OSError:
            return sent
        time.sleep(1)
    return len(body)


def _not_modified(route: Route, request: dict[str, str]) -> bool:
    if "if-none-match" in request:
        return route.etag is not None and request["if-none-match"] == route.etag
    if "if-modified-since" in request and route.last_modified:
        since = email.utils.parsedate_to_datetime(request["if-modified-since"])
        return email.utils.parsedate_to_datetime(route.last_modified) <= since
    return False


def _range_start(route: Route, request: dict[str, str]) -> int | None:
    value = request.get("range", "")
    if not value.startswith("bytes=") or not value.endswith("-"):
        return None
    if_range = request.get("if-range")
    if if_range is not None and if_range not in (route.etag, route.last_modified):
        return None  # changed since the partial download: send it all
    return int(value[len("bytes=") : -1])


# ---- the official layout --------------------------------------------------------------------------------------


def _file_route(body: bytes, content_type: str) -> Route:
    return Route(body, content_type, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def _json_route(document: Any) -> Route:
    return _file_route(json.dumps(document, indent=1).encode(), "application/json; charset=utf-8")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ons_landing(editions: list[str]) -> dict[str, Any]:
    """An ONS dataset landing page's ``/data`` JSON, shaped like the real one (newest edition first)."""
    return {
        "type": "dataset_landing_page",
        "uri": PFA_URI,
        "description": {
            "title": "Police force area data tables",
            "summary": "Police recorded crime and outcomes by police force area, England and Wales.",
            "keywords": ["crime", "police force area"],
            "metaDescription": "Crime in England and Wales: police force area data tables.",
            "nationalStatistic": False,
            "contact": {"email": "crime.statistics@ons.gov.uk", "name": "Crime Statistics and Analysis team"},
            "releaseDate": "2025-10-22T23:00:00.000Z",
            "nextRelease": "22 January 2026",
            "datasetId": "",
        },
        "datasets": [{"uri": f"{PFA_URI}/{edition}"} for edition in editions],
        "relatedDatasets": [],
        "relatedDocuments": [{"uri": "/peoplepopulationandcommunity/crimeandjustice/bulletins/crimeinenglandandwales"}],
        "relatedMethodology": [],
        "relatedMethodologyArticle": [],
        "versions": [],
        "alerts": [],
        "timeseriesDatasets": [],
        "links": [],
    }


def ons_edition(uri: str, edition_label: str, files: list[tuple[str, int]], corrected: bool = False) -> dict[str, Any]:
    """An ONS edition's ``/data`` JSON: ``downloads[].file`` (and ``size`` as a string, as ONS sends it)."""
    versions = (
        [
            {
                "uri": f"{uri}/previous/v1",
                "updateDate": "2019-02-06T09:30:00.000Z",
                "correctionNotice": "A small error occurred in the data in Table P5. We have corrected this error.",
            }
        ]
        if corrected
        else []
    )
    return {
        "type": "dataset",
        "uri": uri,
        "description": {
            "title": "Police force area data tables",
            "edition": edition_label,
            "releaseDate": "2019-01-24T09:30:00.000Z",
            "nextRelease": "",
            "versionLabel": "",
        },
        "downloads": [{"file": name, "size": str(size)} for name, size in files],
        "supplementaryFiles": [],
        "versions": versions,
        "relatedDatasets": [],
        "relatedDocuments": [],
    }


def govuk_content(attachments: list[dict[str, Any]]) -> dict[str, Any]:
    """The gov.uk content API item for the Home Office open data tables page."""
    return {
        "base_path": "/government/statistics/police-recorded-crime-open-data-tables",
        "content_id": "0e6f4b1c-5d3a-4a70-9c42-2b0a2f1d6e11",
        "document_type": "official_statistics",
        "schema_name": "publication",
        "title": "Police recorded crime and outcomes open data tables",
        "description": "Open data tables of police recorded crime and outcomes by police force area and CSP.",
        "locale": "en",
        "first_published_at": "2016-01-21T09:30:00.000+00:00",
        "public_updated_at": "2025-01-30T09:30:00.000+00:00",
        "details": {
            "attachments": attachments,
            "body": '<div class="govspeak"><p>Police recorded crime open data tables.</p></div>',
            "change_history": [{"note": "Tables updated to September 2024.", "public_timestamp": "2025-01-30"}],
            "documents": [],
        },
        "links": {"organisations": [{"title": "Home Office", "base_path": "/government/organisations/home-office"}]},
    }


def _attachment(url: str, title: str, content_type: str, size: int) -> dict[str, Any]:
    return {
        "attachment_type": "file",
        "id": hashlib.md5(url.encode()).hexdigest()[:7],  # noqa: S324 (an id, not security)
        "title": title,
        "url": url,
        "filename": url.rsplit("/", 1)[-1],
        "content_type": content_type,
        "file_size": size,
        "accessible": False,
        "alternative_format_contact_email": "crimestats@homeoffice.gov.uk",
    }


def police_uk_archive(data_dir: Path) -> bytes:
    """A data.police.uk monthly archive (``YYYY-MM/YYYY-MM-<force>-street.csv``) of the City of London files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((data_dir / "police-uk" / "street").glob("*.csv")):
            info = zipfile.ZipInfo(f"{path.name[:7]}/{path.name}", date_time=(2026, 1, 29, 0, 0, 0))
            archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def official_routes(data_dir: Path) -> dict[Any, Route]:
    """Every official URL the catalogue and discovery lead to, served from the shared data."""
    routes: dict[Any, Route] = {}

    def serve(url: str, relative: str, content_type: str) -> int:
        body = (data_dir / relative).read_bytes()
        routes[key(url)] = _file_route(body, content_type)
        return len(body)

    # ONS police force area tables: landing page, editions (an old .xls one that `since` leaves out), files
    editions = list(reversed(PFA_EDITIONS)) + ["yearendingmarch2016"]
    routes[key(f"{ONS}{PFA_URI}/data")] = _json_route(ons_landing(editions))
    for edition, relative in PFA_EDITIONS.items():
        kind = XLSX if relative.endswith(".xlsx") else "text/csv"
        size = serve(pfa_url(edition), relative, kind)
        label = edition.replace("yearending", "Year ending ").title()
        document = ons_edition(f"{PFA_URI}/{edition}", label, [(Path(relative).name, size)], "corrected" in relative)
        routes[key(f"{ONS}{PFA_URI}/{edition}/data")] = _json_route(document)

    # ONS mid-year estimates (the shared copy was renamed by the repository that saved it)
    size = serve(MYE_URL, "population/LAD23_Mid_Year_pop_2011_to_2023.xlsx", XLSX)
    landing = ons_landing([MYE_EDITION, "mid2011tomid2022detailedtimeseries"])
    landing["uri"] = MYE_URI
    landing["datasets"] = [{"uri": f"{MYE_URI}/{e}"} for e in (MYE_EDITION, "mid2011tomid2022detailedtimeseries")]
    routes[key(f"{ONS}{MYE_URI}/data")] = _json_route(landing)
    edition = ons_edition(
        f"{MYE_URI}/{MYE_EDITION}", "Mid-2023: 2023 local authority boundaries", [("mye23tablesew.xlsx", size)]
    )
    routes[key(f"{ONS}{MYE_URI}/{MYE_EDITION}/data")] = _json_route(edition)

    # Home Office open data tables on gov.uk (the 2017/18 sheet stands in for the .ods)
    size = serve(HOME_OFFICE_CSV, "home-office/prc-pfa-mar2013-onwards-tables201718.csv", "text/csv")
    attachments = [
        _attachment(HOME_OFFICE_CSV, "Police force area data tables, year ending March 2013 onwards", "text/csv", size),
        _attachment(
            f"{ASSETS}/6977916e3fd50ac304b79765/prc-csp-mar21-sep25-tables-290126.ods",
            "Community safety partnership data tables, year ending March 2021 onwards",
            "application/vnd.oasis.opendocument.spreadsheet",
            48_000_000,
        ),
        _attachment(
            f"{ASSETS}/5c3e5a8e40f0b636b2c0a1b4/user-guide-police-recorded-crime-open-data.odt",
            "User guide to police recorded crime open data tables",
            "application/vnd.oasis.opendocument.text",
            90_000,
        ),
        {
            "attachment_type": "html",
            "id": "7d5e6f1",
            "title": "Police recorded crime and outcomes open data tables user guide",
            "url": "/government/statistics/police-recorded-crime-open-data-tables/user-guide",
        },
    ]
    routes[key(GOVUK_API)] = _json_route(govuk_content(attachments))

    # ONS Open Geography Portal: the lookup and the boundaries (the legacy address redirects to the hub)
    serve(
        LOOKUP_URL,
        "population/Local_Authority_District_to_CSPs_to_Police_Force_Areas_(December__2023)_Lookup_.csv",
        "text/csv",
    )
    serve(BOUNDARIES_URL, "boundaries/force_boundaries_ugc.geojson", "application/geo+json")
    routes[key(BOUNDARIES_LEGACY_URL)] = Route(b"", "", status=301, location=BOUNDARIES_URL)
    for item, name, modified in (
        (LOOKUP_ITEM, "LAD23_CSP23_PFA23_EW_LU", 1_706_140_800_000),
        (BOUNDARY_ITEM, "Police_Force_Areas_December_2016_UGC", 1_520_000_000_000),
    ):
        routes[key(f"{HUB}/{item}")] = _json_route(
            {
                "data": {
                    "id": item,
                    "type": "dataset",
                    "attributes": {
                        "name": name,
                        "type": "Feature Service",
                        "modified": modified,
                        "source": "Office for National Statistics",
                        "licenseInfo": "Open Government Licence v3.0",
                        "url": f"https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/{name}/FeatureServer/0",
                    },
                },
                "meta": {"request": {"id": item}},
            }
        )

    # data.police.uk: the months published and the newest archive
    months = [f"{year}-{month:02d}" for year in (2025, 2024, 2023) for month in range(12, 0, -1)]
    routes[key(POLICE_UK_DATES)] = _json_route(
        [{"date": month, "stop-and-search": ["avon-and-somerset", "city-of-london"]} for month in months]
    )
    routes[key(ARCHIVE_URL)] = _file_route(police_uk_archive(data_dir), "application/zip")
    return routes


def start_mirror(data_dir: Path) -> Mirror:
    """Build the official layout from ``data_dir`` and start serving it on 127.0.0.1 (a free port)."""
    return Mirror(routes=copy.copy(official_routes(data_dir))).start()
