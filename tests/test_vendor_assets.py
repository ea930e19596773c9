"""The vendored browser scripts (``tools/vendor_assets.py``) are the pinned packages, at the versions altair emits."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from crimestats.reports.charts import to_vega

from browser import chromium_session, require_chromium, served_folder
from conftest import load_tool

ROOT = Path(__file__).resolve().parent.parent


vendor_assets = load_tool("vendor_assets")
PINS = {pin.name: pin for pin in vendor_assets.PINS}


def test_the_pins_are_the_versions_altair_emits_and_vl_convert_compiles_to() -> None:
    """Run `python tools/vendor_assets.py` after changing a pin, when altair or vl-convert moves to another Vega."""
    compiled = to_vega({"mark": "point", "data": {"values": []}})["$schema"]
    assert compiled == f"https://vega.github.io/schema/vega/v{PINS['vega'].version.split('.')[0]}.json"
    assert PINS["vega"].version.split(".")[0] == alt.VEGA_VERSION
    assert PINS["vega-embed"].version.split(".")[0] == alt.VEGAEMBED_VERSION


def test_the_app_gets_vega_and_vega_embed_and_their_licences_and_no_vega_lite_compiler() -> None:
    shipped = {
        name for pin in vendor_assets.PINS if pin.folder == vendor_assets.STATIC_VENDOR for name in pin.files.values()
    }
    assert {"vega.min.js", "vega-embed.min.js", "LICENSE-vega.txt", "LICENSE-vega-embed.txt"} <= shipped
    assert not any("vega-lite" in name for name in shipped)
    assert PINS["axe-core"].folder == ROOT / "tests" / "vendor"


def test_the_vendored_files_are_the_ones_fetched_and_the_readme_says_so() -> None:
    """The README lists every file's sha256 as the tool wrote it: a hand-edited or missing file fails here."""
    files = {
        pin.folder / name: (pin.folder / name).read_bytes() for pin in vendor_assets.PINS for name in pin.files.values()
    }
    readme = (vendor_assets.STATIC_VENDOR / "README.md").read_text(encoding="utf-8")
    assert readme == vendor_assets.readme(files)


def test_the_integrity_string_is_npms() -> None:
    """npm's integrity string is sha512 in base64 (the value of `shasum -a 512 -b | base64` of an empty file)."""
    empty = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    assert vendor_assets.npm_integrity(b"") == empty


#: What the app must pass vega-embed under its Content-Security-Policy (``default-src 'self'``): the expression
#: interpreter instead of ``new Function`` (``ast``), and no injected ``<style>`` (``defaultStyle``, the tooltip's).
#: The specs are compiled to Vega on the server (``mode: 'vega'``): the pages load no Vega-Lite compiler.
EMBED_OPTIONS = (
    "{mode: 'vega', renderer: 'svg', ast: true, actions: false, defaultStyle: false, "
    "tooltip: {disableDefaultStyle: true}}"
)
BUILDS = ("vega.min.js", "vega-embed.min.js")
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'"
DRAW = """
document.querySelectorAll('[data-spec]').forEach(function (element) {
  fetch(element.dataset.spec).then(function (response) { return response.json(); })
    .then(function (spec) { return vegaEmbed(element, spec, OPTIONS); })
    .then(function () { document.body.dataset.drawn = 'yes'; }, function (error) { console.error('chart: ' + error); });
});
"""


@pytest.fixture
def strict_site(tmp_path: Path) -> Iterator[str]:
    """The vendored builds the pages load, an altair bar chart compiled to Vega as the app compiles it, and a page
    that draws it, served under the CSP on 127.0.0.1."""
    for name in BUILDS:
        shutil.copy(vendor_assets.STATIC_VENDOR / name, tmp_path / name)
    forces = pd.DataFrame({"force": ["Dorset", "Wiltshire", "Gwent"], "rate_per_1000": [61.2, 58.4, 77.9]})
    chart = alt.Chart(forces).mark_bar(tooltip=True).encode(x="force", y="rate_per_1000")
    (tmp_path / "spec.json").write_text(json.dumps(to_vega(chart.to_dict())), encoding="utf-8")
    (tmp_path / "draw.js").write_text(DRAW.replace("OPTIONS", EMBED_OPTIONS), encoding="utf-8")
    scripts = "".join(f'<script src="{name}"></script>' for name in BUILDS)
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Chart</title>{scripts}'
        '<script src="draw.js" defer></script></head>'
        '<body><main><div data-spec="spec.json"></div></main></body></html>',
        encoding="utf-8",
    )
    with served_folder(tmp_path, {"Content-Security-Policy": CSP}) as origin:
        yield f"{origin}/index.html"


def test_the_vendored_builds_draw_an_altair_chart_with_tooltips_under_the_apps_csp(strict_site: str) -> None:
    require_chromium()
    with chromium_session() as session:
        page = session.open(strict_site)
        page.page.wait_for_selector("body[data-drawn=yes]", timeout=10_000)
        versions = page.page.evaluate("[vega.version, vegaEmbed.version]")
        page.page.hover("[aria-roledescription=bar] >> nth=1")
        tooltip = page.page.locator("#vg-tooltip-element").inner_text()
        bars = page.page.locator(".vega-embed svg [aria-roledescription=bar]").count()
        assert page.console_errors == page.failed_requests == page.external_requests == []
    assert versions == [PINS["vega"].version, PINS["vega-embed"].version]
    assert bars == 3
    assert tooltip.split() == ["force", "Wiltshire", "rate_per_1000", "58.4"]
