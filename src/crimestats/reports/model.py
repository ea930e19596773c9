"""The report model: frozen objects built once from analytics results, then rendered to Markdown, HTML or JSON.

Nothing here computes a statistic or formats a number for a reader; the builders in
:mod:`crimestats.reports.build` fill the model and the renderers in :mod:`crimestats.reports.render`
present it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Chart", "Column", "Report", "ReportTable", "SourceFile", "vega_lite_values"]


@dataclass(frozen=True)
class Column:
    """One column of a report table: the row key, its heading and how to show it (count, rate, percent …)."""

    key: str
    heading: str
    kind: str = "text"  # text | count | rate | interval | percent | rank | p_value | verdict


@dataclass(frozen=True)
class ReportTable:
    """A table of a report; rows keep full-precision numbers (exports keep them, renderers round them)."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [dataclasses.asdict(c) for c in self.columns],
            "rows": [dict(r) for r in self.rows],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Chart:
    """A chart as a Vega-Lite specification, with the text alternative a screen reader gets."""

    name: str
    title: str
    spec: dict[str, Any]
    description: str

    def to_dict(self) -> dict[str, Any]:
        """The chart with a Vega-Lite spec any Vega-Lite tool can load: data values as lists of rows."""
        spec = vega_lite_values(self.spec)
        return {"name": self.name, "title": self.title, "description": self.description, "vega_lite": spec}


def vega_lite_values(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Vega-Lite spec whose inline data are lists of rows in ``data.values``.

    The chart functions embed each data set as one JSON string (``format: {type: json}``), which vl-convert
    parses quickly when drawing SVG, and Altair moves data sets to the top-level ``datasets``, referenced by
    name. Specs published in JSON carry the rows themselves, in the layer that uses them.
    """
    datasets = dict(spec.get("datasets") or {})
    plain: dict[str, Any] = _with_values(spec, datasets)
    plain.pop("datasets", None)
    return plain


def _with_values(node: Any, datasets: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_with_values(item, datasets) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _data(value, datasets) if key == "data" else _with_values(value, datasets) for key, value in node.items()
    }


def _data(data: Any, datasets: dict[str, Any]) -> Any:
    """``{"name": …}`` (a top-level data set) or ``{"values": "[…]", "format": {"type": "json"}}`` → the rows
    as ``{"values": [...]}``."""
    if not isinstance(data, dict):
        return data
    values = datasets[data["name"]] if data.get("name") in datasets else data.get("values")
    if values is None:
        return dict(data)
    form = dict(data.get("format") or {})
    if isinstance(values, str) and form.get("type") == "json":
        values = json.loads(values)
        del form["type"]
    found = {key: value for key, value in data.items() if key not in ("name", "values", "format")}
    return {**found, "values": values, **({"format": form} if form else {})}


@dataclass(frozen=True)
class SourceFile:
    """Provenance of an official file the report's figures come from."""

    file_name: str
    source: str
    vintage: str
    sha256: str
    ingested_at: str


@dataclass(frozen=True)
class Report:
    """A force or national report for one period."""

    kind: str  # force | national
    title: str
    period: str
    period_label: str
    force_code: str | None
    headline: tuple[str, ...]
    findings: tuple[dict[str, Any], ...]
    tables: tuple[ReportTable, ...]
    charts: tuple[Chart, ...]
    caveats: tuple[dict[str, Any], ...]
    sources: tuple[SourceFile, ...]
    methods: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    offence: str = "total-excluding-fraud"  # the offence the report is about (its slug)
    subtitle: str = ""  # what the report shows, in a sentence (never the title again)

    def _replace(self, **changes: Any) -> Report:
        return dataclasses.replace(self, **changes)

    def table(self, name: str) -> ReportTable:
        return next(t for t in self.tables if t.name == name)

    def caveat_numbers(self, finding: dict[str, Any]) -> list[int]:
        """The numbers (from 1, as the Caveats section lists them) of the caveats a finding carries."""
        ids = [c["id"] for c in self.caveats]
        return [ids.index(c["id"]) + 1 for c in finding.get("caveats", []) if c["id"] in ids]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "subtitle": self.subtitle,
            "period": self.period,
            "period_label": self.period_label,
            "force_code": self.force_code,
            "offence": self.offence,
            "headline": list(self.headline),
            "findings": [dict(f) for f in self.findings],
            "tables": [t.to_dict() for t in self.tables],
            "charts": [c.to_dict() for c in self.charts],
            "caveats": [dict(c) for c in self.caveats],
            "sources": [dataclasses.asdict(s) for s in self.sources],
            "methods": list(self.methods),
            "notes": list(self.notes),
        }
