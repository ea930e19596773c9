"""Static rendering with vl-convert (imported only here, when a chart is drawn): self-contained SVG labelled for
screen readers, and PNG. Rendering never touches the network."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from typing import Any, Protocol


class _Chart(Protocol):  # an Altair chart, or anything else that gives its spec
    def to_dict(self) -> Any: ...


def to_svg(chart: Mapping[str, Any] | _Chart) -> str:
    """A self-contained SVG (no external fonts, images or data), labelled for screen readers.

    ``chart`` is a spec made by this package, a Vega-Lite spec as a dict, or an Altair chart.
    """
    import vl_convert as vlc

    spec = _spec(chart)
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    return _label_svg(_unique_ids(svg), _title_text(spec), str(spec.get("description") or ""))


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
