"""The vendored browser scripts (``tools/vendor_assets.py``) are the pinned packages, at the versions altair emits."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import altair

ROOT = Path(__file__).resolve().parent.parent


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vendor_assets", ROOT / "tools" / "vendor_assets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


vendor_assets = _tool()
PINS = {pin.name: pin for pin in vendor_assets.PINS}


def test_the_pins_are_the_versions_altair_emits() -> None:
    """Run `python tools/vendor_assets.py` after changing a pin, when altair moves to another Vega-Lite."""
    assert PINS["vega-lite"].version == altair.VEGALITE_VERSION
    assert PINS["vega"].version.split(".")[0] == altair.VEGA_VERSION
    assert PINS["vega-embed"].version.split(".")[0] == altair.VEGAEMBED_VERSION


def test_the_app_gets_the_three_vega_builds_and_their_licences() -> None:
    shipped = {
        name for pin in vendor_assets.PINS if pin.folder == vendor_assets.STATIC_VENDOR for name in pin.files.values()
    }
    assert {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js"} <= shipped
    assert {"LICENSE-vega.txt", "LICENSE-vega-lite.txt", "LICENSE-vega-embed.txt"} <= shipped
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
