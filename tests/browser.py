"""A real browser for tests: open a page in headless Debian Chromium (Playwright) and report what went wrong.

:func:`open_page` loads a file or URL and returns a :class:`PageCheck`: console and page errors, failed requests,
requests that left the page's own origin (blocked, so tests never touch the network), a full-page screenshot,
the number of ``<svg>`` elements and the number of distinct colours in the screenshot. A test module that opens
many pages starts one browser with :func:`chromium_session` and opens each as a :class:`WatchedPage` (the same
records, kept while the test clicks and types; :meth:`WatchedPage.check` makes the :class:`PageCheck`).
The screenshot is decoded by :func:`decode_png` (Pillow). Tests call :func:`require_chromium` first: it skips
when Chromium is missing, or fails under ``CI=true``.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Route

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
VIEWPORT = {"width": 1024, "height": 768}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class PageCheck:
    """What a page did while it loaded, and what it looked like."""

    console_errors: list[str]
    failed_requests: list[str]
    external_requests: list[str]
    screenshot: bytes
    svg_count: int
    distinct_colours: int


def chromium_path() -> str | None:
    """The Chromium executable ($CRIMESTATS_CHROMIUM or /usr/bin/chromium), if it is there."""
    path = os.environ.get("CRIMESTATS_CHROMIUM", CHROMIUM)
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def require_chromium() -> str:
    """The Chromium executable; skips the test when it (or Playwright) is missing, fails instead under CI=true."""
    path = chromium_path()
    problem = None if path else f"Chromium not found at {os.environ.get('CRIMESTATS_CHROMIUM', CHROMIUM)}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed"
    if problem or path is None:
        message = problem or "Chromium not found"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def open_page(url_or_path: str | Path, screenshot_path: Path | None = None) -> PageCheck:
    """Load a page in headless Chromium and report errors, requests, a screenshot, SVGs and colours.

    A path (or a string without a scheme) is opened as ``file://``. Requests to anything but file:, data:,
    blob:, about: or the page's own http(s) origin are recorded in ``external_requests`` and aborted.
    """
    with chromium_session() as session:
        watched = session.open(url_or_path)
        return watched.check(screenshot_path)


@contextmanager
def chromium_session() -> Iterator[Session]:
    """One headless Chromium for many pages (a test module's): closed when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            yield Session(browser)
        finally:
            browser.close()


@dataclass
class Session:
    """A running Chromium: :meth:`open` loads a page in a context of its own, watched for errors and requests."""

    browser: Browser

    def open(self, url_or_path: str | Path, *, javascript: bool = True) -> WatchedPage:
        """A new page (its own context, so nothing is shared between pages) that has loaded ``url_or_path``."""
        context = self.browser.new_context(viewport=VIEWPORT, java_script_enabled=javascript)  # type: ignore[arg-type]
        watched = WatchedPage(context.new_page(), _origin(_url(url_or_path)))
        watched.goto(url_or_path)
        return watched


@dataclass
class WatchedPage:
    """A Playwright page whose console errors, failed requests and off-origin requests (aborted) are recorded."""

    page: Page
    origin: str | None
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", lambda message: _console(message, self.console_errors))
        self.page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        self.page.on("request", self._on_request)
        self.page.on("requestfailed", lambda request: self.failed_requests.append(f"{request.url}: {request.failure}"))
        self.page.on("response", lambda response: _bad_status(response, self.failed_requests))
        self.page.route("**/*", self._route)

    def goto(self, url_or_path: str | Path) -> None:
        """Load a page and wait until the network is idle (scripts fetched, charts drawn)."""
        self.page.goto(_url(url_or_path), wait_until="load")
        self.settle()

    def settle(self) -> None:
        """Wait until the page has loaded and its network is idle, as after a navigation or a form change."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_load_state("networkidle")

    def check(self, screenshot_path: Path | None = None) -> PageCheck:
        """What the page did so far and what it looks like now."""
        svg_count = int(self.page.evaluate("document.querySelectorAll('svg').length"))
        screenshot = self.page.screenshot(full_page=True, path=screenshot_path)
        return PageCheck(
            console_errors=list(self.console_errors),
            failed_requests=list(self.failed_requests),
            external_requests=list(self.external_requests),
            screenshot=screenshot,
            svg_count=svg_count,
            distinct_colours=distinct_colours(screenshot),
        )

    def close(self) -> None:
        self.page.context.close()

    def _is_external(self, request_url: str) -> bool:
        scheme = urlsplit(request_url).scheme.lower()
        return scheme not in LOCAL_SCHEMES and (self.origin is None or _origin(request_url) != self.origin)

    def _on_request(self, request: Request) -> None:
        if self._is_external(request.url):
            self.external_requests.append(request.url)

    def _route(self, route: Route) -> None:
        if self._is_external(route.request.url):
            route.abort("blockedbyclient")
        else:
            route.continue_()


@contextmanager
def served_folder(folder: Path, headers: dict[str, str] | None = None) -> Iterator[str]:
    """A local HTTP server for ``folder`` on 127.0.0.1 (an origin of its own), sending ``headers`` with every
    response; its origin (``http://127.0.0.1:PORT``), until the block ends."""
    handler = functools.partial(_QuietHandler, directory=str(folder), headers=headers or {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, headers: dict[str, str], **kwargs: Any) -> None:
        self.extra_headers = headers
        super().__init__(*args, **kwargs)

    def end_headers(self) -> None:
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _url(url_or_path: str | Path) -> str:
    if isinstance(url_or_path, str) and urlsplit(url_or_path).scheme.lower() in LOCAL_SCHEMES | {"http", "https"}:
        return url_or_path
    return Path(url_or_path).resolve().as_uri()


def _origin(url: str) -> str | None:
    """scheme://host:port for http(s) URLs; None for local pages (which have no origin to share)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _console(message: Any, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(f"console: {message.text}")


def _bad_status(response: Any, failed: list[str]) -> None:
    if response.status >= 400:
        failed.append(f"{response.url}: HTTP {response.status}")


# ---------------------------------------------------------------------------------------------------------------
# A tiny PNG decoder: enough for Chromium screenshots and vl-convert images


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """``(width, height, channels, pixels)`` of an 8-bit RGB or RGBA PNG, read by Pillow; pixels row after row."""
    from PIL import Image

    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.mode not in ("RGB", "RGBA"):
                raise ValueError(f"unsupported PNG: mode {image.mode} (8-bit RGB or RGBA expected)")
            return image.width, image.height, len(image.mode), image.tobytes()
    except OSError as error:
        raise ValueError(f"unreadable PNG: {error}") from error


def _rgb(png: bytes) -> npt.NDArray[np.uint32]:
    """Every pixel's colour as one number (red, green and blue bytes), row after row; alpha is ignored."""
    _, _, channels, pixels = decode_png(png)
    rgb = np.frombuffer(pixels, dtype=np.uint8).reshape(-1, channels)[:, :3].astype(np.uint32)
    codes: npt.NDArray[np.uint32] = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    return codes


def distinct_colours(png: bytes) -> int:
    """How many different RGB colours a PNG uses (alpha ignored)."""
    return int(np.unique(_rgb(png)).size)


def ink_fraction(png: bytes, background: bytes = b"\xff\xff\xff") -> float:
    """The share of pixels that are not the background colour (white unless given, as RGB bytes)."""
    colours = _rgb(png)
    return float(np.count_nonzero(colours != int.from_bytes(background, "big")) / colours.size)
