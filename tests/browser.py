"""A real browser for tests: open a page in headless Debian Chromium (Playwright) and report what went wrong.

:func:`open_page` loads a file or URL and returns a :class:`PageCheck`: console and page errors, failed requests,
requests that left the page's own origin (blocked, so tests never touch the network), a full-page screenshot,
the number of ``<svg>`` elements and the number of distinct colours in the screenshot. The screenshot is
decoded by :func:`decode_png` (Pillow). Tests call :func:`require_chromium` first: it skips when Chromium is
missing, or fails under ``CI=true``.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Request, Route

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
    from playwright.sync_api import sync_playwright

    url = _url(url_or_path)
    origin = _origin(url)
    console_errors: list[str] = []
    failed_requests: list[str] = []
    external_requests: list[str] = []

    def is_external(request_url: str) -> bool:
        scheme = urlsplit(request_url).scheme.lower()
        return scheme not in LOCAL_SCHEMES and (origin is None or _origin(request_url) != origin)

    def on_request(request: Request) -> None:
        if is_external(request.url):
            external_requests.append(request.url)

    def route(route: Route) -> None:
        if is_external(route.request.url):
            route.abort("blockedbyclient")
        else:
            route.continue_()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
            page.on("console", lambda message: _console(message, console_errors))
            page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
            page.on("request", on_request)
            page.on("requestfailed", lambda request: failed_requests.append(f"{request.url}: {request.failure}"))
            page.on("response", lambda response: _bad_status(response, failed_requests))
            page.route("**/*", route)
            page.goto(url, wait_until="load")
            page.wait_for_load_state("networkidle")
            svg_count = int(page.evaluate("document.querySelectorAll('svg').length"))
            screenshot = page.screenshot(full_page=True, path=screenshot_path)
        finally:
            browser.close()
    return PageCheck(
        console_errors=console_errors,
        failed_requests=failed_requests,
        external_requests=external_requests,
        screenshot=screenshot,
        svg_count=svg_count,
        distinct_colours=distinct_colours(screenshot),
    )


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
