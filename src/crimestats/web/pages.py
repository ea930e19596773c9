"""The pages: the report models of :mod:`crimestats.reports` (and the documents of :mod:`crimestats.documents`)
rendered with the templates in ``web/templates``.

Numbers are printed as the reports print them (:func:`crimestats.reports.render.cell`); charts are the reports'
Vega-Lite specs, compiled to Vega on the server and embedded as JSON for the vendored vega and vega-embed
(``static/app.js``; the pages load no Vega-Lite compiler, to stay light) over an SVG drawing of the same spec
(``/charts/ID.svg``, drawn on first request), so a page reads the same with JavaScript off.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

import jinja2
import markupsafe
from fastapi.responses import HTMLResponse

from crimestats import analytics, documents, reference
from crimestats.analytics.options import Options
from crimestats.check import CheckResult
from crimestats.periods import format_period, parse_period, period_label
from crimestats.reports import build, render
from crimestats.reports.charts import to_svg, to_vega
from crimestats.reports.model import Chart, Column, Report, ReportTable
from crimestats.store import Store
from crimestats.web.app import Site

__all__ = ["error_page", "force_page", "home_page", "league_page", "link", "option_params"]

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


def option_params(options: Options) -> list[tuple[str, str]]:
    """The options that are not the defaults, as the query parameters that give them."""
    chosen = [
        ("source", options.source),
        ("population", options.population),
        ("population_year", options.population_year),
    ]
    params = [(name, str(value)) for name, value in chosen if value is not None]
    return params + ([("suppress", "false")] if not options.suppress else [])


def link(path: str, options: Options = Options(), **params: str | None) -> str:
    """``path`` with the query parameters given (those not None) and the options that are not the defaults:
    a link that keeps the reader's options."""
    pairs = [(name, value) for name, value in params.items() if value is not None] + option_params(options)
    return f"{path}?{urllib.parse.urlencode(pairs)}" if pairs else path


_TEMPLATES.globals["link"] = link
_TEMPLATES.globals["option_params"] = option_params


def _page(template: str, **context: Any) -> str:
    return _TEMPLATES.get_template(template).render(**context)


def _table(table: ReportTable, links: Sequence[str | None] = (), sortable: bool = False) -> dict[str, Any]:
    """A table as the templates show it: the reports' view, a link for each row's first cell, sortable or not."""
    named = [i for i, column in enumerate(table.columns) if column.key in ("force", "series", "period_label")]
    return {**render.table_view(table), "links": list(links), "link_column": (named or [0])[0], "sortable": sortable}


def _force_links(table: ReportTable, period: str, options: Options) -> list[str | None]:
    return [_force_url(row.get("force_code"), period, options) for row in table.rows]


def _force_url(code: str | None, period: str | None, options: Options) -> str | None:
    found = reference.find_area(code) if code else None
    if found is None or found.kind not in ("force", "transport"):
        return None
    return link(f"/forces/{found.slug}" + (f"/{period}" if period else ""), options)


def _charts(site: Site, charts: Iterable[Chart | None], names: Sequence[str]) -> list[dict[str, Any]]:
    """The charts named, in that order: each kept by the site (its Vega-Lite spec, for its SVG) and compiled to
    Vega as JSON for a page (which then needs the Vega runtime only, not the Vega-Lite compiler)."""
    by_name = {chart.name: chart for chart in charts if chart is not None}
    shown = []
    for name in names:
        if name not in by_name:
            continue
        chart = by_name[name]
        spec = chart.to_dict()["vega_lite"]
        chart_id = hashlib.sha256(json.dumps(spec, separators=(",", ":"), default=str).encode()).hexdigest()[:20]
        site.charts[chart_id] = spec
        text = json.dumps(to_vega(spec), ensure_ascii=False, separators=(",", ":"), default=str)
        safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # cannot end the script
        shown.append({"id": chart_id, "title": chart.title, "description": chart.description, "spec": safe})
    return shown


def chart_svg(spec: dict[str, Any]) -> str:
    return to_svg(spec)


def _choices(store: Store) -> dict[str, Any]:
    """The periods the store holds (newest first), the offences and the population years, for the selectors."""
    periods = [(format_period(m), period_label(m)) for m in reversed(analytics.store_periods(store))]
    return {"periods": periods, "offences": _offences(), "population_years": _population_years(store)}


def _offences() -> list[tuple[str, str]]:
    return [(o.slug, o.name) for o in reference.offences() if o.level != "fraud"]


def _population_years(store: Store) -> list[int]:
    """The mid-year estimates in the store, newest first (read once: the store does not change)."""
    if "web_population_years" not in store.memo:
        store.memo["web_population_years"] = list(reversed(analytics.population_years(store)))
    years: list[int] = store.memo["web_population_years"]
    return years


# ---- pages -------------------------------------------------------------------------------------------------


def home_page(site: Site, period: str, offence: str, options: Options = Options()) -> str:
    """The national picture: map of rates by force, England and Wales trend, league table; selectors, search."""
    return _league_view(site, "home.html.j2", ("map", "trend"), period, offence, options)


def league_page(site: Site, period: str, offence: str, options: Options = Options()) -> str:
    """The league table (sortable), its funnel plot and map."""
    return _league_view(site, "league.html.j2", ("funnel", "map"), period, offence, options, sortable=True)


def _league_view(
    site: Site,
    template: str,
    charts: tuple[str, ...],
    period: str,
    offence: str,
    options: Options,
    sortable: bool = False,
) -> str:
    """A page built on the national report of a period and offence: its league table and the charts named."""
    report, choices = site.read(lambda store: (_national(store, period, offence, options), _choices(store)))
    league = report.table("league")
    return _page(
        template,
        report=report,
        period=period,
        offence=offence,
        options=options,
        charts=_charts(site, report.charts, charts),
        league=_table(league, _force_links(league, period, options), sortable=sortable),
        **choices,
    )


def _national(store: Store, period: str, offence: str, options: Options) -> Report:
    from crimestats.reports.national import national_report

    return national_report(store, period, options, None, None, offence)


def force_page(site: Site, area: reference.Area, period: str, options: Options = Options()) -> str:
    """A force in one period: headline findings, offence, league and peer tables, trend, funnel, peers' mix,
    caveats, methods and sources (the map stays on the national pages: a force page is light), and the density
    map of the force's street-level crimes when the store holds them."""
    from crimestats.reports.build import force_report

    def read(store: Store) -> tuple[Report, dict[str, Any]]:
        return force_report(store, area.code, period, site.groups, options), _choices(store)

    report, choices = site.read(read)
    linked = ("league", "peers")
    tables = [_table(t, _force_links(t, period, options) if t.name in linked else ()) for t in report.tables]
    return _page(
        "force.html.j2",
        report=report,
        area=area,
        period=period,
        options=options,
        tables=tables,
        charts=_charts(site, report.charts, ("trend", "league", "funnel", "offence_mix", "density")),
        **choices,
    )


def force_trend_page(site: Site, area: reference.Area, offence: str, options: Options = Options()) -> str:
    """A force over time: its rate beside England and Wales' in every period, and links to each period's page."""

    def read(store: Store) -> tuple[dict[str, Any], Chart | None, list[int]]:
        result = documents.trend_document(store, area, offence, options).body
        data = build.ReportData.read(store, options, offence)
        rows = data.trends.get(area.code, []) + build.national_trend(data, result["rows"][-1]["period"])
        chart = build.trend_report_chart(rows, f"{area.name} and England and Wales", offence)
        return result, chart, _population_years(store)

    result, chart, years = site.read(read)
    rows = tuple({**row, "period_label": period_label(parse_period(row["period"]))} for row in result["rows"])
    table = ReportTable("trend", f"{area.name}: {reference.offence(offence).name}", TREND_COLUMNS, rows)
    links = [link(f"/forces/{area.slug}/{row['period']}", options) for row in rows]
    return _page(
        "force_trend.html.j2",
        area=area,
        offence=reference.offence(offence),
        options=options,
        table=_table(table, links),
        charts=_charts(site, [chart], ("trend",)),
        offences=_offences(),
        population_years=years,
    )


def compare_page(site: Site, areas: Sequence[reference.Area], offence: str, options: Options = Options()) -> str:
    """Forces side by side over time, with England and Wales."""

    def read(store: Store) -> tuple[dict[str, Any], list[int]]:
        return documents.compare_document(store, areas, offence, options).body, _population_years(store)

    body, years = site.read(read)
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
        options=options,
        offences=_offences(),
        population_years=years,
        forces=[(a.slug, a.name) for a in reference.forces()],
    )


def search_page(site: Site, text: str, options: Options = Options()) -> str:
    found = site.read(lambda store: documents.search_document(store, text)).rows
    return _page("search.html.j2", query=text, found=found, options=options)


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


def check_page(result: CheckResult | None, text: str, today: dt.date | None) -> str:
    """The form of ``/check`` holding the story, and under it the story checked (when there is one)."""
    from crimestats.check.render import html_body

    summary = None if result is None else result.summary()
    return _page(
        "check.html.j2",
        text=text,
        today=today.isoformat() if today else "",
        story=markupsafe.Markup(html_body(result, styled=False)) if result is not None else None,  # escaped there
        claims=0 if result is None else len(result.claims),
        summary=summary,
    )


def error_page(status: int, message: str) -> HTMLResponse:
    """A page saying what went wrong and what would do instead."""
    titles = {400: "Not written right", 404: "Not found", 405: "Not allowed", 500: "Something went wrong"}
    html = _page("error.html.j2", status=status, title=titles.get(status, "Error"), message=message)
    return HTMLResponse(html, status_code=status)
