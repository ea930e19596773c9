"""Static rendering with vl-convert (imported only here, when a chart is drawn): self-contained SVG labelled for
screen readers, and PNG. Rendering never touches the network.

Starting vl-convert's JavaScript engine costs most of a second in every process, and each chart a tenth more,
so each SVG drawn is kept in a cache folder (:func:`chart_cache`), named by a digest of its spec, the
vl-convert version and this module: a spec drawn before (the same report again, a web page asked for twice)
is read back, byte for byte what drawing it gives.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol


class _Chart(Protocol):  # an Altair chart, or anything else that gives its spec
    def to_dict(self) -> Any: ...


def to_svg(chart: Mapping[str, Any] | _Chart) -> str:
    """A self-contained SVG (no external fonts, images or data), labelled for screen readers.

    ``chart`` is a spec made by this package, a Vega-Lite spec as a dict, or an Altair chart.
    """
    spec = _spec(chart)
    folder = chart_cache()
    digest = hashlib.sha256(_renderer_digest().encode())
    digest.update(json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str).encode())
    kept = None if folder is None else folder / f"{digest.hexdigest()}.svg"
    if kept is not None and kept.is_file():
        return kept.read_text(encoding="utf-8")
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    labelled = _label_svg(_unique_ids(svg), _title_text(spec), str(spec.get("description") or ""))
    if kept is not None:
        _keep(kept, labelled)
    return labelled


def chart_cache() -> Path | None:
    """The folder drawn charts are kept in: ``$CRIMESTATS_CHART_CACHE`` (set but empty: none, every chart is
    drawn), else ``charts`` in the user cache directory (platformdirs)."""
    setting = os.environ.get("CRIMESTATS_CHART_CACHE")
    if setting is not None:
        return Path(setting) if setting else None
    import platformdirs

    return Path(platformdirs.user_cache_dir("crimestats", appauthor=False)) / "charts"


@functools.cache
def _renderer_digest() -> str:
    """What a drawn chart depends on besides its spec: the vl-convert version and this module."""
    from importlib.metadata import version

    return f"{version('vl-convert-python')}\n{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}\n"


def _keep(path: Path, svg: str) -> None:
    """Write the SVG whole or not at all (another process may be reading it); a cache that cannot be written is
    no error."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(svg, encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)


def to_vega(chart: Mapping[str, Any] | _Chart) -> dict[str, Any]:
    """The chart compiled to a Vega spec (what Vega-Lite compiles it to in a browser), so a page can draw it
    with Vega alone, without shipping the Vega-Lite compiler."""
    import vl_convert as vlc

    vega: dict[str, Any] = vlc.vegalite_to_vega(_spec(chart))
    return vega


def to_png(chart: Mapping[str, Any] | _Chart, scale: float = 1.0) -> bytes:
    """A PNG image (of a chart or its spec); ``scale=2`` for high-density screens and print."""
    import vl_convert as vlc

    png: bytes = vlc.vegalite_to_png(_spec(chart), scale=scale, allowed_base_urls=[])
    return png


def _spec(chart: Mapping[str, Any] | _Chart) -> dict[str, Any]:
    if isinstance(chart, Mapping):
        return dict(chart)
    spec: dict[str, Any] = chart.to_dict()
    return spec


def _unique_ids(svg: str) -> str:
    """Prefix the SVG's ids (clip paths, gradients) so several charts can sit inline in one HTML page.

    Vega numbers them from 1 in every chart, so without this the second chart would borrow the first one's clips.
    The prefix is a hash of the SVG, so output stays deterministic.
    """
    ids = sorted(set(re.findall(r'\bid="([^"]+)"', svg)), key=len, reverse=True)
    if not ids:
        return svg
    prefix = "c" + hashlib.sha1(svg.encode()).hexdigest()[:10]
    pattern = re.compile(r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, ids)) + r')(?=["\)])')
    return pattern.sub(lambda match: f"{match.group(1)}{prefix}-{match.group(2)}", svg)


def _title_text(spec: Mapping[str, Any]) -> str:
    title = spec.get("title") or ""
    text = title.get("text", "") if isinstance(title, Mapping) else title
    return " ".join(text) if isinstance(text, list) else str(text)


def _label_svg(svg: str, title: str, description: str) -> str:
    """Give the root ``<svg>`` an image role, an accessible name and ``<title>``/``<desc>`` children."""
    start = svg.index("<svg")
    end = svg.index(">", start)
    label = html.escape(title or description, quote=True)
    children = (f"<title>{html.escape(title)}</title>" if title else "") + (
        f"<desc>{html.escape(description)}</desc>" if description else ""
    )
    return f'{svg[:end]} role="img" aria-label="{label}">{children}{svg[end + 1 :]}'
