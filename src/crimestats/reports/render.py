"""Render a report model as Markdown, self-contained HTML or JSON, and its tables as CSV, XLSX or Parquet.

Renderers only present: numbers are rounded as ONS prints them (:mod:`crimestats.formatting`), charts are
turned from Vega-Lite specs into inline SVG with vl-convert, and nothing is fetched from the network — the HTML
has no external scripts, styles, fonts or images.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa

from crimestats import formatting as fmt
from crimestats.reports import charts
from crimestats.reports.model import Column, Report, ReportTable

__all__ = ["cell", "chart_svgs", "render_html", "render_json", "render_markdown", "significance", "write_tables"]

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("crimestats.reports", "templates"),
    # The HTML template is report.html.j2: autoescape by its full extension ("html" alone matches only *.html).
    autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def significance(finding: dict[str, Any]) -> str:
    """'yes' or 'no' for a finding whose difference was tested (it has a p-value), else 'not tested'."""
    if finding.get("p_value") is None or finding.get("significant") is None:
        return "not tested"
    return "yes" if finding["significant"] else "no"


_TEMPLATES.globals["significance"] = significance


def cell(column: Column, row: dict[str, Any]) -> str:
    """One table cell as printed: ONS rounding, '..' where not available."""
    value = row.get(column.key)
    if column.kind == "count":
        return fmt.count(value)
    if column.kind == "rate":
        return fmt.rate(value)
    if column.kind == "interval":
        return fmt.interval(row.get("rate_ci_low"), row.get("rate_ci_high"))
    if column.kind == "percent":
        return fmt.signed_percent(value)
    if column.kind == "rank":
        return fmt.rank(*(row.get(k) for k in ("rank", "ranked_of", "rank_low", "rank_high")))
    if column.kind == "verdict":
        return _verdict(row)
    return fmt.NOT_AVAILABLE if value is None else str(value)


def _verdict(row: dict[str, Any]) -> str:
    verdict = row.get("change_verdict")
    if not verdict:
        return ""
    p = fmt.p_value(row.get("change_p_value"))
    return f"{verdict} ({p})" if p else verdict


def table_view(table: ReportTable) -> dict[str, Any]:
    """A table as the templates see it: headings, printed cells, which columns are numbers."""
    numeric = {"count", "rate", "interval", "percent", "rank"}
    return {
        "name": table.name,
        "title": table.title,
        "headings": [c.heading for c in table.columns],
        "numeric": [c.kind in numeric for c in table.columns],
        "rows": [[cell(c, row) for c in table.columns] for row in table.rows],
        "notes": list(table.notes),
    }


def chart_svgs(report: Report) -> dict[str, str]:
    """Chart name → self-contained SVG."""
    return {chart.name: charts.to_svg(chart.spec) for chart in report.charts}


def render_html(report: Report) -> str:
    """One self-contained HTML file: inline CSS and inline SVG charts, no scripts, no external resources."""
    svgs = chart_svgs(report)
    return _TEMPLATES.get_template("report.html.j2").render(
        report=report,
        tables=[table_view(t) for t in report.tables],
        charts=[{"title": c.title, "description": c.description, "svg": svgs[c.name]} for c in report.charts],
    )


def render_markdown(report: Report, chart_links: dict[str, str] | None = None) -> str:
    """Markdown; ``chart_links`` (chart name → relative path of its SVG file) adds the charts as images."""
    links = chart_links or {}
    return _TEMPLATES.get_template("report.md.j2").render(
        report=report,
        tables=[table_view(t) for t in report.tables],
        charts=[{"title": c.title, "path": links[c.name]} for c in report.charts if c.name in links],
    )


def render_json(report: Report) -> str:
    """The report as indented JSON, each chart's Vega-Lite spec on one line: a map's spec holds every boundary's
    coordinates, which Python's JSON encoder writes about 20 times faster without indentation."""
    document = report.to_dict()
    specs = []
    for number, chart in enumerate(document["charts"]):
        specs.append(json.dumps(chart["vega_lite"], ensure_ascii=False, default=str, separators=(",", ":")))
        chart["vega_lite"] = f"{_SPEC}{number}"
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    for number, spec in enumerate(specs):
        text = text.replace(json.dumps(f"{_SPEC}{number}"), spec, 1)
    return text


#: Stands in for a chart's spec while the rest of the report is indented: a control character, which no text of
#: a report holds unescaped, so the placeholder cannot match anything else.
_SPEC = "\x00vega-lite spec "


def write_tables(report: Report, path: Path, format: str) -> list[Path]:
    """Export every table of the report with full-precision numbers.

    ``xlsx``: one workbook, a sheet per table. ``csv`` and ``parquet``: ``path`` is a folder, a file per table.
    """
    if format == "xlsx":
        _write_xlsx(report, path)
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for table in report.tables:
        target = path / f"{table.name}.{format}"
        if format == "csv":
            target.write_text(_csv(table), encoding="utf-8")
        elif format == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(_arrow(table), target)
        else:
            raise ValueError(f"unknown table format {format!r}")
        written.append(target)
    return written


def _plain(rows: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """Rows with lists joined, so every cell is a number, text or empty."""
    return [{k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()} for row in rows]


def _csv(table: ReportTable) -> str:
    rows = _plain(table.rows)
    buffer = io.StringIO()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _arrow(table: ReportTable) -> pa.Table:
    return pa.Table.from_pylist(_plain(table.rows))


def _write_xlsx(report: Report, path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in report.tables:
        sheet = book.create_sheet(table.name[:31])
        rows = _plain(table.rows)
        fields = list(dict.fromkeys(k for row in rows for k in row))
        sheet.append([table.title])
        sheet.append(fields)
        for row in rows:
            sheet.append([row.get(k) for k in fields])
        for note in table.notes:
            sheet.append([note])
    notes = book.create_sheet("notes")
    notes.append([report.title])
    for caveat in report.caveats:
        notes.append([caveat["text"], caveat["source_url"]])
    for source in report.sources:
        notes.append([f"Source: {source.file_name} ({source.source} {source.vintage}), sha256 {source.sha256}"])
    book.save(path)
