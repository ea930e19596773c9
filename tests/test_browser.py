"""Charts in a real browser (headless Debian Chromium): an HTML page with the SVG charts inline loads without
errors or network requests and shows them; and the checks themselves fail when a page is broken."""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from crimestats.reports import charts
from test_charts import LEAGUE, MIX, TREND, funnel_data

from browser import decode_png, distinct_colours, open_page, require_chromium, served_folder


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


def page(body: str, title: str = "Test page") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{margin:24px;font-family:Arial,sans-serif}}</style></head>"
        f"<body>{body}</body></html>"
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server for tmp_path on 127.0.0.1 (an origin of its own), shut down after the test."""
    with served_folder(tmp_path) as origin:
        yield origin


def test_a_report_page_with_inline_svg_charts_is_self_contained(chromium: str, tmp_path: Path) -> None:
    figures = [
        charts.league_chart(LEAGUE, highlight="Wiltshire", title="Crime rates by force"),
        charts.funnel_chart(funnel_data(), highlight="Wiltshire", title="Funnel plot"),
        charts.trend_chart(TREND, title="Crime over time"),
    ]
    body = "".join(f"<figure>{charts.to_svg(chart)}</figure>" for chart in figures)
    html = tmp_path / "report.html"
    html.write_text(page(body), encoding="utf-8")
    check = open_page(html, screenshot_path=tmp_path / "report.png")
    assert check.console_errors == []
    assert check.failed_requests == []
    assert check.external_requests == []
    assert check.svg_count >= 2
    assert check.distinct_colours > 5
    assert (tmp_path / "report.png").read_bytes() == check.screenshot
    width, height, _, _ = decode_png(check.screenshot)
    assert width >= charts.WIDTH and height > 1000  # three charts, one under another, all on the page


def test_a_broken_page_is_reported(chromium: str, tmp_path: Path) -> None:
    """The checks can fail: a script error, a console error and an external request are all caught."""
    svg = charts.to_svg(charts.offence_mix_chart(MIX, "Wiltshire", "Most similar forces"))
    body = (
        f"{svg}<img src='https://fonts.example.com/logo.png' alt=''>"
        '<script>console.error("something went wrong")</script><script>throw new Error("x")</script>'
    )
    html = tmp_path / "broken.html"
    html.write_text(page(body), encoding="utf-8")
    check = open_page(str(html))
    assert any("x" in error and "page error" in error for error in check.console_errors), check.console_errors
    assert any("something went wrong" in error for error in check.console_errors)
    assert check.external_requests == ["https://fonts.example.com/logo.png"]  # recorded, and blocked
    assert any(request.startswith("https://fonts.example.com/logo.png") for request in check.failed_requests)
    assert check.svg_count == 1


def test_same_origin_requests_are_not_external_but_missing_files_fail(
    chromium: str, tmp_path: Path, served: str
) -> None:
    (tmp_path / "style.css").write_text("body { background: #fff; }", encoding="utf-8")
    body = "<link rel='stylesheet' href='style.css'><img src='missing.png' alt=''><p>Hello</p>"
    (tmp_path / "index.html").write_text(page(body), encoding="utf-8")
    check = open_page(f"{served}/index.html")
    assert check.external_requests == []
    assert check.failed_requests == [f"{served}/missing.png: HTTP 404"]
    assert check.svg_count == 0


def test_distinct_colours_counts_what_chromium_paints(chromium: str, tmp_path: Path) -> None:
    blocks = "".join(
        f"<div style='width:100px;height:100px;background:{colour};margin:0'></div>"
        for colour in ("#ff0000", "#00ff00", "#0000ff")
    )
    html = tmp_path / "blocks.html"
    html.write_text(page(blocks).replace("margin:24px", "margin:0"), encoding="utf-8")
    check = open_page(html)
    assert check.distinct_colours == 4  # white and the three blocks, nothing else


# ---------------------------------------------------------------------------------------------------------------
# The pure-Python PNG decoder against every filter type


def encode_png(width: int, height: int, channels: int, pixels: bytes, filters: list[int]) -> bytes:
    """A minimal PNG encoder that applies the given filter type to each row (the decoder's inverse)."""

    def paeth(a: int, b: int, c: int) -> int:
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else b if pb <= pc else c

    stride, raw, previous = width * channels, bytearray(), bytes(width * channels)
    for y in range(height):
        row, kind = pixels[y * stride : (y + 1) * stride], filters[y % len(filters)]
        out = bytearray()
        for x, value in enumerate(row):
            left = row[x - channels] if x >= channels else 0
            up = previous[x]
            up_left = previous[x - channels] if x >= channels else 0
            predictor = [0, left, up, (left + up) // 2, paeth(left, up, up_left)][kind]
            out.append((value - predictor) & 255)
        raw += bytes([kind]) + out
        previous = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2 if channels == 3 else 6, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("channels", [3, 4])
def test_decode_png_reads_every_filter_type(channels: int) -> None:
    width, height = 7, 10
    pixels = bytes(
        (x * 37 + y * 101 + c * 59 + x * y * 13) % 256
        for y in range(height)
        for x in range(width)
        for c in range(channels)
    )
    png = encode_png(width, height, channels, pixels, filters=[0, 1, 2, 3, 4])
    assert decode_png(png) == (width, height, channels, pixels)
    assert distinct_colours(png) == len({pixels[i : i + 3] for i in range(0, len(pixels), channels)})


def test_decode_png_refuses_what_it_cannot_read() -> None:
    from PIL import Image

    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a")
    with pytest.raises(ValueError, match="unreadable PNG"):
        decode_png(encode_png(2, 2, 3, bytes(12), [0])[:40])  # cut off in the middle
    grey = io.BytesIO()
    Image.new("L", (2, 2)).save(grey, format="PNG")
    with pytest.raises(ValueError, match="mode L"):
        decode_png(grey.getvalue())
