"""The pages: the report models of :mod:`crimestats.reports` (and the documents of :mod:`crimestats.documents`)
rendered with the templates in ``web/templates``.

Numbers are printed as the reports print them (:func:`crimestats.reports.render.cell`); charts are the reports'
Vega-Lite specs, embedded as JSON for the vendored vega-embed (``static/app.js``) over an SVG drawing of the same
spec (``/charts/ID.svg``, drawn on first request), so a page reads the same with JavaScript off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse

from crimestats import analytics, documents, reference
from crimestats.analytics.options import Options
from crimestats.periods import format_period, parse_period, period_label
from crimestats.reports import build, render
from crimestats.reports.model import Chart, Column, Report, ReportTable
from crimestats.store import Store
from crimestats.web.app import Site

__all__ = ["error_page", "force_page", "home_page", "league_page"]

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("crimestats.web", "templates"),
    autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.globals["significance"] = render.significance

TREND_COLUMNS = (
    Column("period_label", "Period"),
    Column("count", "Offences", "count"),
    Column("rate_per_1000", "Rate per 1,000", "rate"),
    Column("rate_ci", "95% interval", "interval"),
    Column("rank", "Rank", "rank"),
    Column("change_pct", "Change %", "percent"),
    Column("change_verdict", "Change in rate", "verdict"),
    Column("england_and_wales_rate", "England and Wales", "rate"),
)
COMPARE_COLUMNS = (
    Column("series", "Area"),
    Column("period_label", "Period"),
    Column("count", "Offences", "count"),
    Column("rate_per_1000", "Rate per 1,000", "rate"),
    Column("rate_ci", "95% interval", "interval"),
)
FILES_COLUMNS = (
    Column("file_name", "File"),
    Column("source", "Source"),
    Column("vintage", "Release"),
    Column("rows", "Rows", "count"),
    Column("ingested_at", "Read in"),
    Column("sha256", "sha256"),
)


def _page(template: str, **context: Any) -> str:
    return _TEMPLATES.get_template(template).render(**context)


def _table(table: ReportTable, links: Sequence[str | None] = (), sortable: bool = False) -> dict[str, Any]:
    """A table as the templates show it: the reports' view, a link for each row's first cell, sortable or not."""
    named = [i for i, column in enumerate(table.columns) if column.key in ("force", "series", "period_label")]
    return {**render.table_view(table), "links": list(links), "link_column": (named or [0])[0], "sortable": sortable}


def _force_links(table: ReportTable, period: str) -> list[str | None]:
    return [_force_url(row.get("force_code"), period) for row in table.rows]


def _force_url(code: str | None, period: str | None = None) -> str | None:
    found = reference.find_area(code) if code else None
    if found is None or found.kind not in ("force", "transport"):
        return None
    return f"/forces/{found.slug}" + (f"/{period}" if period else "")


def _charts(site: Site, charts: Iterable[Chart | None], names: Sequence[str]) -> list[dict[str, Any]]:
    """The charts named, in that order: each kept by the site (for its SVG) and its spec as JSON for a page."""
    by_name = {chart.name: chart for chart in charts if chart is not None}
    shown = []
    for name in names:
        if name not in by_name:
            continue
        chart = by_name[name]
        spec = chart.to_dict()["vega_lite"]
        text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"), default=str)
        chart_id = hashlib.sha256(text.encode()).hexdigest()[:20]
        site.charts[chart_id] = spec
        safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # cannot end the script
        shown.append({"id": chart_id, "title": chart.title, "description": chart.description, "spec": safe})
    return shown


def chart_svg(spec: dict[str, Any]) -> str:
    from crimestats.reports import charts

    return charts.to_svg(spec)


def _choices(store: Store) -> dict[str, Any]:
    """The periods the store holds (newest first) and the offences, for the selectors."""
    periods = [(format_period(m), period_label(m)) for m in reversed(analytics.store_periods(store))]
    offences = [(o.slug, o.name) for o in reference.offences() if o.level != "fraud"]
    return {"periods": periods, "offences": offences}


# ---- pages -------------------------------------------------------------------------------------------------


def home_page(site: Site, period: str, offence: str) -> str:
    """The national picture: map of rates by force, England and Wales trend, league table; selectors, search."""
    report, choices = site.read(lambda store: (_national(store, period, offence), _choices(store)))
    league = report.table("league")
    return _page(
        "home.html.j2",
        report=report,
        period=period,
        offence=offence,
        charts=_charts(site, report.charts, ("map", "trend")),
        league=_table(league, _force_links(league, period)),
        **choices,
    )


def league_page(site: Site, period: str, offence: str) -> str:
    """The league table (sortable), its funnel plot and map."""
    report, choices = site.read(lambda store: (_national(store, period, offence), _choices(store)))
    league = report.table("league")
    return _page(
        "league.html.j2",
        report=report,
        period=period,
        offence=offence,
        charts=_charts(site, report.charts, ("funnel", "map")),
        league=_table(league, _force_links(league, period), sortable=True),
        **choices,
    )


def _national(store: Store, period: str, offence: str) -> Report:
    from crimestats.reports.national import national_report

    return national_report(store, period, Options(), None, None, offence)


def force_page(site: Site, area: reference.Area, period: str) -> str:
    """A force in one period: headline findings, offence, league and peer tables, trend, funnel, peers' mix,
    caveats, methods and sources (the map stays on the national pages: a force page is light)."""
    from crimestats.reports.build import force_report

    report, choices = site.read(lambda store: (force_report(store, area.code, period, site.groups), _choices(store)))
    tables = [_table(t, _force_links(t, period) if t.name in ("league", "peers") else ()) for t in report.tables]
    return _page(
        "force.html.j2",
        report=report,
        area=area,
        period=period,
        tables=tables,
        charts=_charts(site, report.charts, ("trend", "league", "funnel", "offence_mix")),
        **choices,
    )


def force_trend_page(site: Site, area: reference.Area, offence: str) -> str:
    """A force over time: its rate beside England and Wales' in every period, and links to each period's page."""

    def read(store: Store) -> tuple[dict[str, Any], Chart | None]:
        result = documents.trend_document(store, area, offence).body
        data = build.ReportData.read(store, Options(), offence)
        rows = data.trends.get(area.code, []) + build.national_trend(data, result["rows"][-1]["period"])
        return result, build.trend_report_chart(rows, f"{area.name} and England and Wales", offence)

    result, chart = site.read(read)
    rows = tuple({**row, "period_label": period_label(parse_period(row["period"]))} for row in result["rows"])
    table = ReportTable("trend", f"{area.name}: {reference.offence(offence).name}", TREND_COLUMNS, rows)
    links = [f"/forces/{area.slug}/{row['period']}" for row in rows]
    return _page(
        "force_trend.html.j2",
        area=area,
        offence=reference.offence(offence),
        table=_table(table, links),
        charts=_charts(site, [chart], ("trend",)),
        offences=[(o.slug, o.name) for o in reference.offences() if o.level != "fraud"],
    )


def compare_page(site: Site, areas: Sequence[reference.Area], offence: str) -> str:
    """Forces side by side over time, with England and Wales."""
    body = site.read(lambda store: documents.compare_document(store, areas, offence)).body
    who = " and ".join(a.name for a in areas) or "England and Wales"
    chart = build.trend_report_chart(body["rows"], f"{who}", offence) if body["rows"] else None
    table = ReportTable("compare", f"{body['offence_name']}: rates over time", COMPARE_COLUMNS, tuple(body["rows"]))
    return _page(
        "compare.html.j2",
        body=body,
        chosen=",".join(a.slug for a in areas),
        table=_table(table),
        charts=_charts(site, [chart], ("trend",)),
        offence=offence,
        offences=[(o.slug, o.name) for o in reference.offences() if o.level != "fraud"],
        forces=[(a.slug, a.name) for a in reference.forces()],
    )


def search_page(site: Site, text: str) -> str:
    found = site.read(lambda store: documents.search_document(store, text)).rows
    return _page("search.html.j2", query=text, found=found)


def files_page(site: Site) -> str:
    rows = site.read(documents.files_document).rows
    return _page("files.html.j2", table=_table(ReportTable("files", "Files in the store", FILES_COLUMNS, tuple(rows))))


def about_page(site: Site) -> str:
    return _page("about.html.j2", about=documents.about_document().body)


def docs_page(openapi: dict[str, Any]) -> str:
    """The API documentation: every JSON route listed from the OpenAPI description (Swagger UI, vendored, adds
    the interactive version when JavaScript runs)."""
    routes = [
        {"path": path, "summary": op.get("summary", ""), "description": op.get("description", ""), "params": params}
        for path, item in openapi["paths"].items()
        for op in [item.get("get", {})]
        for params in [[(p["name"], p["in"], p.get("description", "")) for p in op.get("parameters", [])]]
    ]
    return _page("docs.html.j2", routes=routes, info=openapi["info"])


def error_page(status: int, message: str) -> HTMLResponse:
    """A page saying what went wrong and what would do instead."""
    titles = {400: "Not written right", 404: "Not found", 405: "Not allowed", 500: "Something went wrong"}
    html = _page("error.html.j2", status=status, title=titles.get(status, "Error"), message=message)
    return HTMLResponse(html, status_code=status)
