"""A real browser for tests: open a page in headless Debian Chromium (Playwright) and report what went wrong.

:func:`open_page` loads a file or URL and returns a :class:`PageCheck`: console and page errors, failed requests,
requests that left the page's own origin (blocked, so tests never touch the network), a full-page screenshot,
the number of ``<svg>`` elements and the number of distinct colours in the screenshot. The screenshot is
decoded by :func:`decode_png`, a small pure-Python PNG decoder (8-bit RGB/RGBA, filter types 0-4), so no imaging
library is needed. Tests call :func:`require_chromium` first: it skips when Chromium is missing, or fails under
``CI=true``.
"""

from __future__ import annotations

import functools
import os
import struct
import zlib
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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
    """``(width, height, channels, pixels)`` of an 8-bit RGB or RGBA, non-interlaced PNG; pixels row after row."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    header, chunks, pos = None, [], len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length  # length, type, body, CRC
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG has no IHDR chunk")
    width, height, depth, colour_type, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour_type)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {colour_type}, interlace {interlace}")
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError(f"PNG data is {len(raw)} bytes, expected {height * (stride + 1)}")
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        previous = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, channels)
        rows.append(previous)
    return width, height, channels, b"".join(rows)


@functools.cache
def _masks(length: int) -> tuple[int, int]:
    return int.from_bytes(b"\x7f" * length, "big"), int.from_bytes(b"\x80" * length, "big")


def _add_bytes(line: bytes, previous: bytes) -> bytes:
    """Bytewise ``(a + b) % 256`` of two rows at once, as big integers with the carries between bytes masked off."""
    low, high = _masks(len(line))
    a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
    return (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(len(line), "big")


def _sub(left: int, x: int) -> int:
    return (left + x) & 255


def _average(left: int, item: tuple[int, int]) -> int:
    x, up = item
    return (x + ((left + up) >> 1)) & 255


def _paeth(left: int, item: tuple[int, int, int]) -> int:
    x, up, up_left = item
    estimate = left + up - up_left
    to_left, to_up, to_up_left = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
    if to_left <= to_up and to_left <= to_up_left:
        return (x + left) & 255
    return (x + (up if to_up <= to_up_left else up_left)) & 255


def _unfilter(kind: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    """Undo one scanline's filter (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth), one channel at a time."""
    if kind == 0:
        return line
    if kind == 2:
        return _add_bytes(line, previous)
    if kind not in (1, 3, 4):
        raise ValueError(f"unknown PNG filter type {kind}")
    out = bytearray(line)
    for channel in range(bpp):
        current, above = line[channel::bpp], previous[channel::bpp]
        if kind == 1:
            values = list(accumulate(current, _sub))
        elif kind == 3:
            values = list(accumulate(zip(current, above, strict=True), _average, initial=0))[1:]
        else:
            diagonal = b"\0" + above[:-1]
            values = list(accumulate(zip(current, above, diagonal, strict=True), _paeth, initial=0))[1:]
        out[channel::bpp] = bytes(values)
    return bytes(out)


def _rgb(png: bytes) -> list[bytes]:
    """Every pixel's red, green and blue bytes, row after row; alpha is ignored."""
    _, _, channels, pixels = decode_png(png)
    return [pixels[i : i + 3] for i in range(0, len(pixels), channels)]


def distinct_colours(png: bytes) -> int:
    """How many different RGB colours a PNG uses (alpha ignored)."""
    return len(set(_rgb(png)))


def ink_fraction(png: bytes, background: bytes = b"\xff\xff\xff") -> float:
    """The share of pixels that are not the background colour (white unless given, as RGB bytes)."""
    colours = _rgb(png)
    return sum(colour != background for colour in colours) / len(colours)
