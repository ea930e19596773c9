"""Reports: the force report for every force and the national report for every ONS release in the data folder
render to Markdown and JSON, and their numbers agree with Tables P1 and P3 read independently (tests/official.py);
the HTML is one self-contained file that opens in headless Chromium with its charts drawn; exported tables keep
full precision; sources, caveats and methods are listed; small rendered fragments are held by snapshots.

Update the snapshots after an intended change of wording with ``CRIMESTATS_UPDATE_SNAPSHOTS=1 pytest``.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import hashlib
import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from html import unescape as html_unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest
import vl_convert as vlc
from typer.testing import CliRunner

from crimestats import analytics, cli, reference
from crimestats.cli import commands
from crimestats.periods import format_period, parse_year_ending
from crimestats.reports import charts
from crimestats.reports.build import ReportData, force_report
from crimestats.reports.findings import PeriodFigures
from crimestats.reports.model import Chart, Report
from crimestats.reports.national import national_report
from crimestats.reports.render import render_html, render_json, render_markdown, write_tables
from crimestats.store import Store

from browser import decode_png, open_page, require_chromium
from conftest import VINTAGES
from official import FORCE_CODE, HEADINGS, Published, heading_key, ons_round

TOTAL = "total recorded crime excluding fraud"  # the P1/P3 heading
TOTAL_SLUG = "total-excluding-fraud"
ROBBERY = "robbery"
NATIONAL = "K04000001"
SNAPSHOTS = Path(__file__).parent / "snapshots"


# --- what the reports are checked against --------------------------------------------------------------------


@functools.cache
def _figures(store: Store, vintage: str) -> PeriodFigures:
    return PeriodFigures.read(store, vintage)


@pytest.fixture(scope="module")
def report_data(loaded_store: Store) -> ReportData:
    """Shared by every report of the module, as the CLI shares it across forces."""
    return ReportData.read(loaded_store)


@pytest.fixture(scope="module")
def pfa_files(data_dir: Path) -> dict[str, tuple[Path, dict[str, object]]]:
    """vintage → (the ONS force table file, British Transport Police's row of its Table P1 by heading).

    BTP's row has no area code, so official.read_table leaves it out; it is read here the same way.
    """
    files = {}
    for path in sorted((data_dir / "ons-pfa-tables").glob("*.xlsx")):
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = next(book[name] for name in book.sheetnames if name.strip() == "Table P1")
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
        period = parse_year_ending(str(rows[0][0]))
        assert period is not None
        header = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).strip() == "Area Code")
        btp = next(r for r in rows[header + 1 :] if str(r[1] or "").strip() == "British Transport Police")
        headings = {j: rows[header][j] or rows[header - 1][j] for j in range(2, len(btp))}
        files[format_period(period)] = (path, {heading_key(h): btp[j] for j, h in headings.items() if h})
    assert sorted(files) == VINTAGES
    return files


Sample = Callable[..., Report]


@pytest.fixture(scope="module")
def sample(loaded_store: Store, report_data: ReportData) -> Sample:
    """``sample(force, vintage, offence=None)``: a report (national when force is None), built once per module;
    reports are frozen, so tests can share them."""
    made: dict[tuple[str | None, str, str | None], Report] = {}
    data_for = functools.cache(lambda offence: ReportData.read(loaded_store, offence=offence))

    def get(force: str | None, vintage: str, offence: str | None = None) -> Report:
        key = (force, vintage, offence)
        if key not in made:
            data = report_data if offence is None else data_for(offence)
            figures = _figures(loaded_store, vintage)
            made[key] = (
                national_report(loaded_store, vintage, figures=figures, data=data, offence=offence)
                if force is None
                else force_report(loaded_store, force, vintage, figures=figures, data=data, offence=offence)
            )
        return made[key]

    return get


def _label(vintage: str) -> str:
    """'2019-09' (the period of a release, read from its Table P1 title) → 'year ending September 2019'."""
    return f"year ending {calendar.month_name[int(vintage[5:])]} {vintage[:4]}"


def _number(value: object) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _p1_counts(p1: Published, code: str) -> dict[str, object]:
    """Offence slug → the published P1 cell (a number or a symbol such as '..') for one area."""
    return {HEADINGS[h.replace("-", " ")]: p1.cells[(code, h)] for h in p1.headings}


def _p3_population(p3: Published, code: str) -> float:
    value = next(v for (c, h), v in p3.cells.items() if c == code and h.startswith("population figures"))
    assert isinstance(value, int | float), (code, value)
    return float(value)


def _check_rate(row: dict[str, Any], p3: Published, code: str, heading: str = TOTAL) -> None:
    """The report's rate is P1's count over P3's printed population, and rounds (half up) to P3's rate, except
    where P3's exact population moves it across a rounding boundary: P3 prints the population rounded to 100,
    so the published rate must lie within the rates from the printed population ± 50."""
    published = _number(p3.cells[(code, heading)])
    if published is None:  # '+': City of London, no rate published
        assert row["rate_per_1000"] is None, (code, heading, row["rate_per_1000"])
        return
    count, population, rate = row["count"], _p3_population(p3, code), row["rate_per_1000"]
    assert row["population"] == population, (code, row["population"], population)
    assert math.isclose(rate, count / population * 1000, rel_tol=1e-12)
    if ons_round(rate) != ons_round(published):
        assert count / (population + 50) * 1000 <= published <= count / (population - 50) * 1000, (
            code,
            heading,
            rate,
            published,
        )


def _forces_in(code: str) -> list[str]:
    """The police force areas inside a region, country or England and Wales (from the reference areas)."""
    parents = {area.code: area.parent for area in reference.areas()}

    def inside(area: str | None) -> bool:
        return area is not None and (area == code or inside(parents.get(area)))

    return [area.code for area in reference.forces() if inside(area.code)]


def _check_total_rate(row: dict[str, Any], p1: Published, p3: Published, code: str) -> None:
    """A region's (country's, England and Wales') population is the sum of P3's printed populations of its forces
    with figures, so its rate may differ from P3's (from exact populations) by the rounding of each of them."""
    forces = [force for force in _forces_in(code) if _number(p1.cells[(force, TOTAL)]) is not None]
    population = sum(_p3_population(p3, force) for force in forces)
    published = _number(p3.cells[(code, TOTAL)])
    assert published is not None and row["population"] == population, (code, row["population"], population)
    count, rate = row["count"], row["rate_per_1000"]
    assert math.isclose(rate, count / population * 1000, rel_tol=1e-12)
    if ons_round(rate) != ons_round(published):
        slack = 50 * len(forces)
        assert count / (population + slack) * 1000 <= published <= count / (population - slack) * 1000, (
            code,
            rate,
            published,
        )


def _strict_json(text: str) -> dict[str, Any]:
    """Parse JSON, refusing NaN and Infinity (not JSON, and not readable by most other tools)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in the JSON")

    parsed: dict[str, Any] = json.loads(text, parse_constant=refuse)
    return parsed


def _check_rendered(report: Report, title_start: str, label: str) -> str:
    """Markdown and JSON render; the title names the area and period; the headline is there. Returns the Markdown."""
    assert report.title.startswith(title_start) and report.title.endswith(label), (report.title, label)
    assert report.headline and all(line.strip() for line in report.headline), report.title
    markdown = render_markdown(report)
    assert markdown.startswith(f"# {report.title}\n\n")
    assert "".join(f"- {line}\n" for line in report.headline) in markdown
    parsed = _strict_json(render_json(report))
    assert parsed["title"] == report.title and parsed["kind"] == report.kind
    assert parsed["headline"] == list(report.headline)
    assert [t["name"] for t in parsed["tables"]] == [t.name for t in report.tables]
    assert [len(t["rows"]) for t in parsed["tables"]] == [len(t.rows) for t in report.tables]
    assert [c["name"] for c in parsed["charts"]] == [c.name for c in report.charts]
    for chart in parsed["charts"]:
        assert chart["vega_lite"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    return markdown


def _rows(report: Report, table: str, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in report.table(table).rows}


# --- 1. every force and national report, every release ---------------------------------------------------------


@pytest.mark.parametrize("vintage", VINTAGES)
def test_every_force_report_renders_and_agrees_with_p1_and_p3(
    loaded_store: Store, published: dict[str, dict[str, Published]], report_data: ReportData, vintage: str
) -> None:
    p1, p3 = published[vintage]["P1"], published[vintage]["P3"]
    label = _label(vintage)
    figures = _figures(loaded_store, vintage)
    checked = 0
    for area in reference.forces():
        report = force_report(loaded_store, area.name, vintage, figures=figures, data=report_data)
        markdown = _check_rendered(report, f"{area.name}: ", label)
        assert report.kind == "force" and report.force_code == area.code and report.period == vintage
        assert report.period_label == label
        offences = _rows(report, "offences", "offence")
        counts = _p1_counts(p1, area.code)
        if isinstance(counts[TOTAL_SLUG], str):  # '..': Greater Manchester from the year ending September 2019
            assert counts[TOTAL_SLUG] == ".."
            assert report.headline == (f"No figures are available for {area.name} for the {label}.",)
            assert offences[TOTAL_SLUG]["count"] is None
            assert "gmp-missing-2019" in {c["id"] for c in report.caveats}
            checked += 1
            continue
        for slug, value in counts.items():  # every offence column of P1, not only the total
            assert offences[slug]["count"] == _number(value), (area.name, slug, offences[slug]["count"], value)
        total = offences[TOTAL_SLUG]
        _check_rate(total, p3, area.code)
        assert f"| Total recorded crime (excluding fraud) | {total['count']:,} | " in markdown
        assert _rows(report, "league", "force_code")[area.code]["count"] == total["count"]
        checked += 1
    assert checked == len(reference.forces()) == 43


@pytest.mark.parametrize("vintage", VINTAGES)
def test_british_transport_police_report_renders_and_agrees_with_p1(
    loaded_store: Store,
    published: dict[str, dict[str, Published]],
    pfa_files: dict[str, tuple[Path, dict[str, object]]],
    report_data: ReportData,
    vintage: str,
) -> None:
    """BTP has counts but no rate (no resident population): its report must still render."""
    label = _label(vintage)
    btp = reference.area("British Transport Police")
    report = force_report(loaded_store, btp.name, vintage, figures=_figures(loaded_store, vintage), data=report_data)
    _check_rendered(report, "British Transport Police: ", label)
    offences = _rows(report, "offences", "offence")
    published_row = pfa_files[vintage][1]
    count = published_row[TOTAL]
    assert isinstance(count, int)
    assert offences[TOTAL_SLUG]["count"] == count
    assert offences[TOTAL_SLUG]["rate_per_1000"] is None
    assert report.headline[0].startswith(f"British Transport Police recorded {count:,} crimes in the {label}; no rate")
    assert not any(chart.name == "offence_mix" for chart in report.charts)  # no peer group without a rate


@pytest.mark.parametrize("vintage", VINTAGES)
def test_national_report_agrees_with_p1_and_p3(
    published: dict[str, dict[str, Published]],
    pfa_files: dict[str, tuple[Path, dict[str, object]]],
    sample: Sample,
    vintage: str,
) -> None:
    p1, p3 = published[vintage]["P1"], published[vintage]["P3"]
    label = _label(vintage)
    report = sample(None, vintage)
    markdown = _check_rendered(report, "Police recorded crime in England and Wales, ", label)
    assert report.kind == "national" and report.force_code is None and report.period == vintage
    national_count = p1.cells[(NATIONAL, TOTAL)]
    assert isinstance(national_count, int)

    # countries and regions: exactly the areas of P1 that are not forces, with P1's counts
    totals = _rows(report, "totals", "area_code")
    published_totals = {code: v for (code, h), v in p1.cells.items() if h == TOTAL and not FORCE_CODE.match(code)}
    assert len(published_totals) == 12  # England and Wales, England, Wales and nine regions
    assert {code: row["count"] for code, row in totals.items()} == published_totals
    assert totals[NATIONAL]["count"] == national_count
    for code, row in totals.items():
        _check_total_rate(row, p1, p3, code)
    gmp_missing = p1.cells[(reference.area("Greater Manchester").code, TOTAL)] == ".."
    assert totals[NATIONAL]["area"] == "England and Wales" + (" (excluding Greater Manchester)" if gmp_missing else "")

    # every force in the league table with its P1 count, British Transport Police too
    league = _rows(report, "league", "force_code")
    for code in (c for c in p1.names if FORCE_CODE.match(c)):
        assert league[code]["count"] == _number(p1.cells[(code, TOTAL)]), code
    assert league["BTP"]["count"] == pfa_files[vintage][1][TOTAL]
    assert len(league) == 44

    # England and Wales by offence: every P1 column
    offences = _rows(report, "offences", "offence")
    for slug, value in _p1_counts(p1, NATIONAL).items():
        assert offences[slug]["count"] == value, (slug, offences[slug]["count"], value)

    assert report.headline[0].startswith(f"The police in {totals[NATIONAL]['area']} recorded {national_count:,} crimes")
    assert f"| {totals[NATIONAL]['area']} | {national_count:,} | " in markdown
    assert ("gmp-missing-2019" in {c["id"] for c in report.caveats}) == gmp_missing


def test_national_report_period_label_is_the_period(sample: Sample) -> None:
    """Like the force report's, the national report's period label is 'year ending …', as its title ends."""
    assert sample(None, "2019-09").period_label == "year ending September 2019"


def test_a_force_said_to_have_the_lowest_or_highest_rate_has_it(
    published: dict[str, dict[str, Published]], sample: Sample
) -> None:
    """'Wiltshire had the lowest rate of homicide: 0.0042 per 1,000 residents' must be true of the published
    figures (P1 counts over P3 populations) to the precision printed, for every such finding in the report."""
    p1, p3 = published["2019-09"]["P1"], published["2019-09"]["P3"]
    report = sample("Wiltshire", "2019-09")
    extremes = [f for f in report.findings if f["kind"] == "extreme"]
    assert extremes
    headings = {HEADINGS[h.replace("-", " ")]: h for h in p1.headings}
    forces = [c for c in p1.names if FORCE_CODE.match(c) and _number(p3.cells[(c, TOTAL)]) is not None]
    wrong = []
    for finding in extremes:
        match = re.search(r"had the (lowest|highest) rate of .*?: ([\d.]+) per 1,000", finding["text"])
        assert match, finding["text"]
        word, printed = match.group(1), Decimal(match.group(2))
        rates = {}
        for code in forces:
            count = _number(p1.cells[(code, headings[finding["offence"]])])
            if count is not None:
                rates[p1.names[code]] = count / _p3_population(p3, code) * 1000
        extreme = min(rates, key=rates.__getitem__) if word == "lowest" else max(rates, key=rates.__getitem__)
        as_printed = Decimal(repr(rates[extreme])).quantize(printed, rounding=ROUND_HALF_UP)
        if as_printed != printed:
            wrong.append(f"{finding['offence']}: {word} is {extreme} at {as_printed}, not Wiltshire at {printed}")
    assert wrong == []


# --- 2. HTML in a real browser ---------------------------------------------------------------------------------

#: force (None: the national report), period, its charts, and the colour of the league chart's bars: grey beside
#: the force in focus, or all neutral when no force has a rate to focus on.
HTML_SAMPLES = [
    ("Wiltshire", "2019-09", ["league", "trend", "funnel", "offence_mix", "map"], charts.GREY),
    ("Greater Manchester", "2019-12", ["league", "trend", "funnel", "map"], charts.NEUTRAL),  # '..': no peers
    ("City of London", "2018-06", ["league", "trend", "funnel", "map"], charts.NEUTRAL),  # rate suppressed
    (None, "2019-09", ["league", "trend", "funnel", "map"], charts.NEUTRAL),  # the national report
]


def _check_self_contained(html: str) -> None:
    """Nothing the browser would fetch: no scripts, stylesheets, images, frames or fonts; web links only on <a>."""
    lower = html.lower()
    for forbidden in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "@font-face", ".woff"):
        assert forbidden not in lower, forbidden
    assert not re.search(r"\bsrc\s*=", lower)
    assert not re.search(r"url\(\s*['\"]?(?!#)", lower), re.findall(r"url\([^)]{0,60}", lower)  # only url(#clip)
    for match in re.finditer(r"<(\w+)[^>]*?\s(?:xlink:)?href\s*=\s*['\"]?(?=https?:)", lower):
        assert match.group(1) == "a", match.group(0)[:100]


def _painted(png: bytes, colours: list[bytes]) -> list[bytes]:
    """The colours (RGB bytes) that some pixel of the PNG has, alpha ignored."""
    _, _, channels, pixels = decode_png(png)
    found: list[bytes] = []
    for colour in colours:
        start = pixels.find(colour)
        while start >= 0 and start % channels:  # a match across two pixels
            start = pixels.find(colour, start + 1)
        if start >= 0:
            found.append(colour)
    return found


def _rgb(fill: str) -> bytes:
    """'#4f6d8a' or 'rgb(79, 109, 138)' → the three bytes."""
    if fill.startswith("#"):
        return bytes.fromhex(fill[1:])
    return bytes(int(part) for part in re.findall(r"\d+", fill))


def _map_fills(html: str) -> dict[str, str]:
    """Area name → fill of its shape on the map (the SVG's aria-label is 'Name: rate')."""
    found = re.findall(
        r'<path aria-label="([^":]+): [^"]*"[^>]*aria-roledescription="geoshape"[^>]*fill="([^"]+)"', html
    )
    return dict(found)


@pytest.mark.parametrize(("force", "vintage", "names", "bar"), HTML_SAMPLES)
def test_html_report_is_self_contained_and_draws_its_charts_in_chromium(
    sample: Sample,
    tmp_path: Path,
    force: str | None,
    vintage: str,
    names: list[str],
    bar: str,
) -> None:
    require_chromium()
    report = sample(force, vintage)
    assert [chart.name for chart in report.charts] == names
    html = render_html(report)
    assert html.startswith("<!DOCTYPE html>") and f"<title>{report.title}</title>" in html
    _check_self_contained(html)
    assert html.count("<svg") == len(names)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    screenshot = tmp_path / "report.png"

    check = open_page(page, screenshot_path=screenshot)

    assert check.console_errors == []
    assert check.failed_requests == []
    assert check.external_requests == []
    assert check.svg_count == len(names)
    assert screenshot.read_bytes() == check.screenshot
    assert 100_000 < len(check.screenshot) < 30_000_000
    width, height, _, _ = decode_png(check.screenshot)
    assert width == 1024 and height > 4000  # the whole report, charts one under another
    # This report without its charts paints about 1,000 colours (anti-aliased text); the charts add thousands.
    assert check.distinct_colours > 2000
    fills = _map_fills(html)
    assert len(fills) == 43  # every police force area on the map
    rated = sorted(
        (row for row in report.table("league").rows if row["rate_per_1000"] is not None),
        key=lambda row: row["rate_per_1000"],
    )
    # the league chart's bars, and the lightest and darkest areas of the map, are on the screen
    expected = {"bars": _rgb(bar), **{row["force"]: _rgb(fills[row["force"]]) for row in (rated[0], rated[-1])}}
    painted = _painted(check.screenshot, list(expected.values()))
    assert {name: colour for name, colour in expected.items() if colour not in painted} == {}


def test_map_greys_areas_without_a_rate(sample: Sample) -> None:
    """Greater Manchester ('..') and City of London (rate suppressed) have no rate in the year ending September
    2019: the map's subtitle says they are light grey, so they must not take a colour of the rate scale."""
    report = sample("Wiltshire", "2019-09")
    (chart,) = [c for c in report.charts if c.name == "map"]
    assert chart.spec["title"]["subtitle"] == ["Light grey: no rate published (2 areas)"]
    fills = _map_fills(charts.to_svg(chart.spec))
    assert fills["Greater Manchester"] == fills["City of London"] == charts.NO_DATA
    assert fills["North Yorkshire"] != charts.NO_DATA


# --- 3. exports -----------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A cell as exported: lists joined with '; '."""
    return "; ".join(map(str, value)) if isinstance(value, list) else value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(_plain(value))


def _xlsx_value(value: Any) -> Any:
    return dt.datetime.combine(value, dt.time()) if isinstance(value, dt.date) else _plain(value)


@pytest.mark.parametrize(("force", "vintage"), [("Wiltshire", "2019-09"), (None, "2019-09")])
def test_exported_tables_keep_every_row_at_full_precision(
    loaded_store: Store,
    published: dict[str, dict[str, Published]],
    sample: Sample,
    tmp_path: Path,
    force: str | None,
    vintage: str,
) -> None:
    report = sample(force, vintage)
    p1 = published[vintage]["P1"]

    # the total row: P1's count, and the rate unrounded (60.87…, not the printed 60.9)
    code = NATIONAL if force is None else reference.area(force).code
    name, key = ("totals", "area_code") if force is None else ("offences", "offence")
    total = _rows(report, name, key)[NATIONAL if force is None else TOTAL_SLUG]
    assert total["count"] == p1.cells[(code, TOTAL)]
    assert total["rate_per_1000"] != float(ons_round(total["rate_per_1000"]))

    written = write_tables(report, tmp_path / "csv", "csv")
    assert written == [tmp_path / "csv" / f"{t.name}.csv" for t in report.tables]
    for table in report.tables:
        with (tmp_path / "csv" / f"{table.name}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(table.rows)
        for got, row in zip(rows, table.rows, strict=True):
            assert set(got) >= set(row)
            for k, value in row.items():
                if isinstance(value, float):
                    assert float(got[k]) == value, (table.name, k)  # repr round-trips every bit
                else:
                    assert got[k] == _csv_value(value), (table.name, k)

    written = write_tables(report, tmp_path / "parquet", "parquet")
    assert written == [tmp_path / "parquet" / f"{t.name}.parquet" for t in report.tables]
    for table in report.tables:
        rows = pq.read_table(tmp_path / "parquet" / f"{table.name}.parquet").to_pylist()
        assert rows == [{k: _plain(v) for k, v in row.items()} for row in table.rows], table.name

    path = tmp_path / "report.xlsx"
    assert write_tables(report, path, "xlsx") == [path]
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        assert book.sheetnames == [t.name for t in report.tables] + ["notes"]
        for table in report.tables:
            sheet = [list(r) for r in book[table.name].iter_rows(values_only=True)]
            assert sheet[0][0] == table.title
            fields = [f for f in sheet[1] if f is not None]
            body = [dict(zip(fields, r, strict=False)) for r in sheet[2 : 2 + len(table.rows)]]
            assert len(body) == len(table.rows)
            for got, row in zip(body, table.rows, strict=True):
                for k in fields:
                    value = _xlsx_value(row.get(k))
                    if isinstance(value, float):  # openpyxl writes 16 significant digits ('%.16g'), not 17
                        assert math.isclose(got[k], value, rel_tol=1e-15, abs_tol=0), (table.name, k)
                    else:
                        assert got[k] == value, (table.name, k)
            assert [r[0] for r in sheet[2 + len(table.rows) :]] == list(table.notes)
        notes = [r[0] for r in book["notes"].iter_rows(values_only=True)]
    finally:
        book.close()
    assert notes[0] == report.title
    assert all(caveat["text"] in notes for caveat in report.caveats)
    stored = {f["file_name"]: f for f in loaded_store.files()}
    for source in report.sources:
        line = next(n for n in notes if n and n.startswith(f"Source: {source.file_name} "))
        assert f"sha256 {stored[source.file_name]['sha256']}" in line


# --- 4. snapshots of rendered fragments --------------------------------------------------------------------------


def _snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("CRIMESTATS_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with CRIMESTATS_UPDATE_SNAPSHOTS=1 to create it"
    assert text == path.read_text(encoding="utf-8")


def _section(markdown: str, heading: str) -> str:
    """From '## heading' up to the next '## '."""
    start = markdown.index(f"\n## {heading}\n") + 1
    end = markdown.find("\n## ", start)
    return markdown[start : end + 1 if end >= 0 else len(markdown)]


def test_markdown_offence_tableand_headline_snapshots(
    published: dict[str, dict[str, Published]], sample: Sample
) -> None:
    report = sample("Wiltshire", "2019-09")
    markdown = render_markdown(report)
    headline = markdown[markdown.index("\n\n- ") + 2 : markdown.index("\n\n", markdown.index("\n\n- ") + 2) + 1]
    table = _section(markdown, "Offences by group and subgroup")
    # the rendered numbers are P1's and P3's, rounded as ONS prints them
    p1, p3 = published["2019-09"]["P1"], published["2019-09"]["P3"]
    wiltshire = reference.area("Wiltshire").code
    count, rate = p1.cells[(wiltshire, TOTAL)], p3.cells[(wiltshire, TOTAL)]
    assert isinstance(count, int) and isinstance(rate, float)
    assert f"| Total recorded crime (excluding fraud) | {count:,} | {ons_round(rate)} | " in table
    assert headline.startswith(f"- Wiltshire recorded {ons_round(rate)} crimes per 1,000 residents in the year ending")
    assert headline.count("\n") == len(report.headline) == 5
    _snapshot("report-wiltshire-2019-09-headline.md", headline)
    _snapshot("report-wiltshire-2019-09-offences.md", table)


# --- 5. a report about one offence ------------------------------------------------------------------------------


def test_offence_focus_puts_robbery_in_the_league_and_totals_tables(
    published: dict[str, dict[str, Published]], sample: Sample
) -> None:
    p1, p3 = published["2019-09"]["P1"], published["2019-09"]["P3"]
    report = sample("Wiltshire", "2019-09", ROBBERY)
    league = report.table("league")
    assert league.title == "Robbery: all forces"
    by_code = {row["force_code"]: row for row in league.rows}
    for code in (c for c in p1.names if FORCE_CODE.match(c)):
        assert by_code[code]["count"] == _number(p1.cells[(code, ROBBERY)]), code
        if by_code[code]["count"] is not None:
            _check_rate(by_code[code], p3, code, ROBBERY)
    ranks = [row["rank"] for row in league.rows if row["rank"] is not None]
    assert ranks == sorted(ranks) and len(ranks) == 41
    wiltshire = by_code[reference.area("Wiltshire").code]
    assert wiltshire["count"] == p1.cells[(reference.area("Wiltshire").code, ROBBERY)]
    # the offence table still covers every offence; the league's robbery row is the offence table's
    assert _rows(report, "offences", "offence")[ROBBERY]["count"] == wiltshire["count"]
    assert "## Robbery: all forces\n" in render_markdown(report)
    (chart,) = [c for c in report.charts if c.name == "league"]
    assert chart.title == "Robbery per 1,000 residents, year ending September 2019"

    national = sample(None, "2019-09", ROBBERY)
    totals = national.table("totals")
    assert totals.title == "Robbery: countries and regions"
    published_totals = {code: v for (code, h), v in p1.cells.items() if h == ROBBERY and not FORCE_CODE.match(code)}
    assert {row["area_code"]: row["count"] for row in totals.rows} == published_totals
    assert national.table("league").title == "Robbery: all forces"
    assert {row["force_code"]: row["count"] for row in national.table("league").rows} == {
        code: row["count"] for code, row in by_code.items()
    }
    assert "## Robbery: countries and regions\n" in render_markdown(national)


def test_chart_titles_name_the_rate_once(sample: Sample) -> None:
    """'Robbery per 1,000 residents, year ending September 2019', not 'Crimes per 1,000 residents, Robbery per
    1,000 residents, …' (the map's title)."""
    for offence, rate in ((None, "Crimes"), (ROBBERY, "Robbery")):
        report = sample("Wiltshire", "2019-09", offence)
        for chart in report.charts:
            assert chart.title.count("per 1,000 residents") <= 1, chart.title
        (chart,) = [c for c in report.charts if c.name == "map"]
        assert chart.title == f"{rate} per 1,000 residents, year ending September 2019"


# --- 6. sources, caveats and methods ----------------------------------------------------------------------------


def test_reports_list_sources_caveats_and_methods(
    loaded_store: Store,
    published: dict[str, dict[str, Published]],
    pfa_files: dict[str, tuple[Path, dict[str, object]]],
    sample: Sample,
) -> None:
    stored = {f["file_name"]: f for f in loaded_store.files()}
    path = pfa_files["2019-09"][0]
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    boundaries = next(f for f in stored.values() if f["source"] == "ons-boundaries")
    for force in ("Wiltshire", None):
        report = sample(force, "2019-09")
        sources = {s.file_name: s for s in report.sources}
        # the release the figures come from, named as on disk, with the sha256 of the file itself
        assert sources[path.name].sha256 == sha256 == stored[path.name]["sha256"]
        assert (sources[path.name].source, sources[path.name].vintage) == ("ons-pfa", "2019-09")
        assert boundaries["file_name"] in sources  # the map
        for source in report.sources:
            assert source.sha256 == stored[source.file_name]["sha256"]
            assert source.ingested_at == str(stored[source.file_name]["ingested_at"])[:19]
        used = {row["file_name"] for row in report.table("league").rows if row["count"] is not None}
        assert used <= set(sources)
        markdown = render_markdown(report)
        assert f"- `{path.name}` (ons-pfa 2019-09), sha256 `{sha256[:16]}…`" in _section(markdown, "Sources")
        assert sha256 in render_json(report)
        # caveats carry their source; methods name the methods' authors
        assert report.caveats and all(c["text"] and c["source_url"].startswith("https://") for c in report.caveats)
        assert {"not-accredited", "gmp-missing-2019"} <= {c["id"] for c in report.caveats}
        methods = " ".join(report.methods)
        for author in ("Spiegelhalter", "Byar", "Krishnamoorthy"):
            assert author in methods and author in _section(markdown, "Methods")

    for vintage, expected in (("2019-06", False), ("2019-09", True), ("2019-12", True)):
        report = sample(None, vintage)
        gmp = [c for c in report.caveats if c["id"] == "gmp-missing-2019"]
        assert bool(gmp) == expected, vintage
        if gmp:
            assert "Greater Manchester" in gmp[0]["text"] and gmp[0]["text"] in render_markdown(report)
        assert (published[vintage]["P1"].cells[(reference.area("Greater Manchester").code, TOTAL)] == "..") == expected


# --- 7. a report about one offence is about it throughout -------------------------------------------------------

BURGLARY = "burglary"


def _chart(report: Report, name: str) -> Chart:
    (chart,) = [c for c in report.charts if c.name == name]
    return chart


def _data_values(node: Any) -> list[list[Any]]:
    """Every ``data.values`` of a Vega-Lite spec (top level and layers)."""
    if isinstance(node, list):
        return [values for item in node for values in _data_values(item)]
    if not isinstance(node, dict):
        return []
    found = [node["data"]["values"]] if isinstance(node.get("data"), dict) and "values" in node["data"] else []
    return found + [values for key, value in node.items() if key != "data" for values in _data_values(value)]


def _chart_rows(chart: Chart) -> list[dict[str, Any]]:
    """The rows a chart draws: its data sets, each a list of rows or (as the chart functions embed them) one
    JSON string."""
    found = [*_data_values(chart.spec), *(chart.spec.get("datasets") or {}).values()]
    return [row for values in found for row in (json.loads(values) if isinstance(values, str) else values)]


def _axis_titles(spec: dict[str, Any], channel: str) -> set[str]:
    layers = spec.get("layer", [spec])
    return {layer["encoding"][channel]["title"] for layer in layers if channel in layer.get("encoding", {})}


def test_offence_report_is_about_the_offence_throughout(
    published: dict[str, dict[str, Published]], sample: Sample
) -> None:
    """`report Wiltshire --offence burglary`: title, headline, findings, peer table, trend and offence mix are
    about burglary, with P1's counts and P3's rates, not total recorded crime."""
    p1, p3 = published["2019-09"]["P1"], published["2019-09"]["P3"]
    wiltshire = reference.area("Wiltshire").code
    report = sample("Wiltshire", "2019-09", BURGLARY)
    assert report.title == "Wiltshire: police recorded burglary, year ending September 2019"
    assert report.offence == BURGLARY and render_json(report).count('"offence": "burglary"') >= 1

    # the headline opens with Wiltshire's burglary rate and position, then England and Wales' burglary rate
    count, rate = p1.cells[(wiltshire, BURGLARY)], p3.cells[(wiltshire, BURGLARY)]
    assert isinstance(count, int) and isinstance(rate, float)
    rated = {c: _number(p1.cells[(c, BURGLARY)]) for c in p1.names if _number(p3.cells.get((c, TOTAL))) is not None}
    rates = {c: n / _p3_population(p3, c) * 1000 for c, n in rated.items() if n is not None and FORCE_CODE.match(c)}
    rank = 1 + sum(r < rates[wiltshire] for r in rates.values())
    assert (rank, len(rates)) == (5, 41)
    assert report.headline[0].startswith(
        f"Wiltshire's rate of burglary was {ons_round(rate)} per 1,000 residents in the year ending September 2019 "
        f"({count:,} offences), ranked 5th of 41 forces, 1st being the lowest rate (plausible rank "
    )
    national_count = p1.cells[(NATIONAL, BURGLARY)]
    assert isinstance(national_count, int)
    national_rate = _rows(report, "offences", "offence")[BURGLARY]["national_rate"]
    with_figures = [c for c in _forces_in(NATIONAL) if _number(p1.cells[(c, BURGLARY)]) is not None]
    population = sum(_p3_population(p3, c) for c in with_figures)
    assert math.isclose(national_rate, national_count / population * 1000, rel_tol=1e-12)
    assert report.headline[1].startswith(
        f"Across England and Wales (excluding Greater Manchester) the rate of burglary was {ons_round(national_rate)} "
        f"per 1,000 residents ({national_count:,} offences), against {ons_round(rate)} in Wiltshire. The rate of all "
        "forces together"
    )
    assert not any("crimes per 1,000" in line or "Total recorded crime" in line for line in report.headline)

    # every finding is about burglary or what it is made of; no caveat comes from other offences' findings
    assert {f["offence"] for f in report.findings} <= reference.offence_descendants(BURGLARY)
    assert [f["kind"] for f in report.findings][:2] == ["league", "national"]
    assert "stalking-additional-recording-2018" not in {c["id"] for c in report.caveats}

    # the peer group's burglary counts are P1's
    peers = report.table("peers")
    assert peers.title == "Burglary: the peer group"
    assert len(peers.rows) == 8
    for row in peers.rows:
        assert row["count"] == p1.cells[(row["force_code"], BURGLARY)], row["force"]

    # the trend is Wiltshire's and England and Wales' burglary rate, and says so
    trend = _chart(report, "trend")
    assert trend.title == "Burglary per 1,000 residents: Wiltshire and England and Wales over time"
    assert _axis_titles(trend.spec, "y") == {"Burglary per 1,000 residents"}
    latest = {r["series"]: r["rate_per_1000"] for r in _chart_rows(trend) if r["date"] == "2019-09-01"}
    assert latest["Wiltshire"] == _rows(report, "league", "force_code")[wiltshire]["rate_per_1000"]
    assert math.isclose(latest["England and Wales (excluding Greater Manchester)"], national_rate, rel_tol=1e-12)

    # the offence mix shows the two types of burglary, Wiltshire's bars at its own rates
    mix = _chart(report, "offence_mix")
    assert mix.title == "Types of burglary: Wiltshire and its peers"
    bars = {r["offence"]: r["rate"] for r in _chart_rows(mix) if r["group"] == "Wiltshire"}
    offences = _rows(report, "offences", "offence")
    assert bars == {
        "Residential burglary": offences["residential-burglary"]["rate_per_1000"],
        "Non-residential burglary": offences["non-residential-burglary"]["rate_per_1000"],
    }
    for name in ("league", "funnel", "map"):
        assert _chart(report, name).title.startswith(("Burglary per 1,000", "Against the size of each force: Burg"))


def test_offence_mix_of_an_offence_not_broken_down_says_it_shows_the_offence_groups(sample: Sample) -> None:
    """Robbery's subgroups are not in the force tables: the chart shows every offence group, and says so."""
    report = sample("Wiltshire", "2019-09", ROBBERY)
    assert report.title == "Wiltshire: police recorded robbery, year ending September 2019"
    mix = _chart(report, "offence_mix")
    assert mix.title == "Offence groups: Wiltshire and its peers"
    groups = [o.name for o in reference.offences() if o.level == "group"]
    assert list(dict.fromkeys(r["offence"] for r in _chart_rows(mix))) == groups
    assert mix.description.startswith(f"Paired bar chart of crimes per 1,000 residents in {len(groups)} offence groups")
    assert _chart(sample("Wiltshire", "2019-09"), "offence_mix").title == "Offence groups: Wiltshire and its peers"


def test_national_offence_report_headline_is_about_the_offence(
    published: dict[str, dict[str, Published]], sample: Sample
) -> None:
    p1 = published["2019-09"]["P1"]
    report = sample(None, "2019-09", BURGLARY)
    assert report.title == "Police recorded burglary in England and Wales, year ending September 2019"
    total = _rows(report, "totals", "area_code")[NATIONAL]
    assert total["count"] == p1.cells[(NATIONAL, BURGLARY)]
    assert report.headline[0] == (
        f"The police in England and Wales (excluding Greater Manchester) recorded {total['count']:,} offences of "
        f"burglary in the year ending September 2019: {ons_round(total['rate_per_1000'])} per 1,000 residents."
    )
    league = [r for r in report.table("league").rows if r["rate_per_1000"] is not None]
    low, high = min(r["rate_per_1000"] for r in league), max(r["rate_per_1000"] for r in league)
    assert f"Rates ranged from {ons_round(low)} per 1,000 in " in report.headline[2]
    assert f" to {ons_round(high)} in South Yorkshire, across 41 forces" in report.headline[2]
    assert _chart(report, "trend").title == "Burglary per 1,000 residents: England and Wales over time"


# --- 8. the trend chart ---------------------------------------------------------------------------------------

EXCLUDING_GMP = "England and Wales (excluding Greater Manchester)"


def test_trend_never_joins_england_and_wales_to_the_total_without_greater_manchester(sample: Sample) -> None:
    """From the year ending September 2019 Greater Manchester has no figures and the England and Wales total
    leaves it out: that total is a series of its own (never joined to the full total by a line), each series'
    rates are the national reports' own, and a note says why."""
    national = {v: _rows(sample(None, v), "totals", "area_code")[NATIONAL] for v in ("2019-06", "2019-09", "2019-12")}
    assert national["2019-06"]["area"] == "England and Wales" and national["2019-09"]["area"] == EXCLUDING_GMP
    for report in (sample("Wiltshire", "2019-12"), sample(None, "2019-12")):
        chart = _chart(report, "trend")
        rows = [r for r in _chart_rows(chart) if r["rate_per_1000"] is not None]
        full = {r["date"][:7]: r["rate_per_1000"] for r in rows if r["series"] == "England and Wales"}
        without = {r["date"][:7]: r["rate_per_1000"] for r in rows if r["series"] == EXCLUDING_GMP}
        assert max(full) == "2019-06" and sorted(without) == VINTAGES  # like for like in every period
        assert full["2019-06"] == national["2019-06"]["rate_per_1000"]
        for vintage in ("2019-09", "2019-12"):
            assert without[vintage] == national[vintage]["rate_per_1000"]
        # the colour scale keeps them apart: one line per series
        (line,) = [layer for layer in chart.spec["layer"] if layer["mark"]["type"] == "line"]
        assert line["encoding"]["color"]["field"] == "series"
        assert EXCLUDING_GMP in line["encoding"]["color"]["scale"]["domain"]
        note = (
            "From the year ending September 2019, Greater Manchester had no figures, so England and Wales is also "
            f"drawn without Greater Manchester in every period: {EXCLUDING_GMP}."
        )
        assert note in chart.description
        assert " ".join(chart.spec["title"]["subtitle"]).startswith(note)
    svg = charts.to_svg(_chart(sample(None, "2019-12"), "trend").spec)
    assert EXCLUDING_GMP in svg  # in the legend
    # before Greater Manchester dropped out there is nothing to say
    assert "subtitle" not in _chart(sample(None, "2019-06"), "trend").spec["title"]


@pytest.mark.parametrize("vintage", VINTAGES)
def test_national_trend_stops_at_the_report_period(sample: Sample, vintage: str) -> None:
    report = sample(None, vintage)
    if vintage == VINTAGES[0]:  # the first period in the store: nothing to draw a line through
        assert "trend" not in [c.name for c in report.charts]
        return
    chart = _chart(report, "trend")
    dates = sorted({r["date"][:7] for r in _chart_rows(chart)})
    assert dates[-1] == vintage
    assert f"to the {_label(vintage)} for " in chart.description
    national = _rows(report, "totals", "area_code")[NATIONAL]
    assert f"{national['area']} {ons_round(national['rate_per_1000'])}." in chart.description  # 'Latest: …'


@pytest.mark.parametrize(
    ("force", "vintage", "why"),
    [
        ("City of London", "2018-06", "rate per 1,000 residents suppressed by ONS"),
        ("British Transport Police", "2019-09", "no rate: British Transport Police figures are not for a geographical"),
    ],
)
def test_trend_of_a_force_without_a_rate_names_only_what_it_plots(
    sample: Sample, force: str, vintage: str, why: str
) -> None:
    chart = _chart(sample(force, vintage), "trend")
    assert chart.title == "Crimes per 1,000 residents: England and Wales over time"
    series = {r["series"] for r in _chart_rows(chart)}
    assert series and series <= {"England and Wales", EXCLUDING_GMP}
    note = f"{force} is not plotted; {why}"
    assert note in chart.description and note in " ".join(chart.spec["title"]["subtitle"])
    assert f"for {force}" not in chart.description


# --- 9. JSON and HTML output ------------------------------------------------------------------------------------


def test_json_report_holds_vega_lite_specs_with_rows_that_vega_lite_draws(sample: Sample) -> None:
    report = sample("Wiltshire", "2019-09")
    parsed = _strict_json(render_json(report))
    assert [c["name"] for c in parsed["charts"]] == ["league", "trend", "funnel", "offence_mix", "map"]
    for chart, model in zip(parsed["charts"], report.charts, strict=True):
        spec = chart["vega_lite"]
        assert "datasets" not in spec, chart["name"]
        found = _data_values(spec)
        assert found, chart["name"]
        for values in found:
            assert isinstance(values, list) and values and all(isinstance(row, dict) for row in values)
        assert "json" not in json.dumps([n.get("format") for n in _data_nodes(spec)])
        # the same picture as the report draws from its own (string) data, but for vl-convert's running ids
        assert _svg(spec) == _svg(model.spec), chart["name"]
    league = _data_values(parsed["charts"][0]["vega_lite"])[0]
    assert len(league) == 41 and {row["force"] for row in league} >= {"Wiltshire", "North Yorkshire"}


def _svg(spec: dict[str, Any]) -> str:
    """The SVG vl-convert draws, with the ids it numbers across calls (clip1, gradient_0) made alike."""
    return re.sub(r"\b(clip|gradient_)\d+", r"\1N", vlc.vegalite_to_svg(spec, allowed_base_urls=[]))


def _data_nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _data_nodes(item)]
    if not isinstance(node, dict):
        return []
    own = [node["data"]] if isinstance(node.get("data"), dict) else []
    return own + [found for value in node.values() for found in _data_nodes(value)]


class _Text(HTMLParser):
    """The text of an HTML page as the parser reads it, with character references left as they are."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.data: list[str] = []
        self.references = 0

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    def handle_entityref(self, name: str) -> None:
        self.references += name == "lt"


def test_html_escapes_text_so_p_below_0001_is_not_a_tag(sample: Sample) -> None:
    report = sample("Wiltshire", "2019-09")
    page = render_html(report)
    parser = _Text()
    parser.feed(page)
    parser.close()
    assert [d for d in parser.data if "<" in d] == []  # every '<' of the text is written '&lt;'
    assert not re.search(r"<[\s\d=]", page)
    # the same texts as the Markdown report (headline, findings, tables), escaped once
    expected = render_markdown(report).count("p < 0.001")
    assert expected >= 10 and page.count("p &lt; 0.001") == expected and parser.references >= expected
    assert "&amp;lt;" not in page and html_unescape(page).count("p < 0.001") == expected


# --- 10. where the report command writes ---------------------------------------------------------------------------


@pytest.fixture
def cli_report(sample: Sample, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str]]:
    """``crimestats report …`` in-process, on the Wiltshire (or national) report of 2019-09 built once."""
    monkeypatch.setattr(commands, "_ensure_data", lambda yes, mirror: None)
    monkeypatch.setattr(
        commands,
        "query",
        # the CLI imports the report builders when a command runs, so the function is told apart by its name
        lambda function, *args: sample(None if function.__name__ == "national_report" else args[0], "2019-09"),
    )

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli.app, ["report", *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.exit_code, result.stderr

    return run


def test_report_out_into_files_and_folders(cli_report: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    existing_file, folder = tmp_path / "existing.xlsx", tmp_path / "folder"
    existing_file.write_text("x")
    folder.mkdir()
    # a folder of tables cannot be an existing file: one line, exit 1
    for format in ("csv", "parquet"):
        code, err = cli_report("Wiltshire", "-p", "2019-09", "-f", format, "--out", str(existing_file))
        assert code == 1
        assert err == f"error: --out {existing_file} is a file: --format {format} writes a folder, a file per table\n"
    # into an existing folder: a file named after the report
    for format in ("md", "html", "json", "xlsx"):
        code, err = cli_report("Wiltshire", "-p", "2019-09", "-f", format, "--out", str(folder))
        assert code == 0, err
        assert f"wrote {folder / f'wiltshire-2019-09.{format}'}\n" in err
    assert json.loads((folder / "wiltshire-2019-09.json").read_text())["title"].startswith("Wiltshire: ")
    assert (folder / "wiltshire-2019-09.md").read_text().count("](wiltshire-2019-09_charts/") == 5
    assert openpyxl.load_workbook(folder / "wiltshire-2019-09.xlsx").sheetnames[0] == "offences"
    code, err = cli_report("--national", "-p", "2019-09", "-f", "html", "--out", str(folder))
    assert code == 0 and (folder / "england-and-wales-2019-09.html").read_text().startswith("<!DOCTYPE html>")
    # an existing file is replaced
    code, err = cli_report("Wiltshire", "-p", "2019-09", "-f", "xlsx", "--out", str(existing_file))
    assert code == 0 and openpyxl.load_workbook(existing_file).sheetnames[-1] == "notes"
    # missing folders are created, and said so
    deep = tmp_path / "new" / "deeper" / "report.md"
    code, err = cli_report("Wiltshire", "-p", "2019-09", "--out", str(deep))
    assert code == 0 and deep.is_file() and len(list((deep.parent / "report_charts").glob("*.svg"))) == 5
    assert err.startswith(f"created folder {deep.parent}\ncreated folder {deep.parent / 'report_charts'}\n")
    tables = tmp_path / "tables" / "csv"
    code, err = cli_report("Wiltshire", "-p", "2019-09", "-f", "csv", "--out", str(tables))
    assert code == 0 and sorted(p.name for p in tables.iterdir()) == ["league.csv", "offences.csv", "peers.csv"]
    # a path through a file: one line, not a traceback
    code, err = cli_report("Wiltshire", "-p", "2019-09", "-f", "html", "--out", str(existing_file / "x.html"))
    assert code == 1
    assert err == f"error: cannot write into {existing_file}: {existing_file} is a file, not a folder\n"


# --- issue 10: honest in every view -------------------------------------------------------------------------------


def test_the_like_for_like_england_and_wales_line_has_a_point_in_every_period(
    published: dict[str, dict[str, Published]], sample: Sample
) -> None:
    """England and Wales without Greater Manchester, in every period: P1's England and Wales count less Greater
    Manchester's, over P3's populations of the forces with figures less Greater Manchester's, so the line from the
    year ending September 2019 can be followed back and set beside the full total."""
    gmp = reference.area("Greater Manchester").code
    for report in (sample(None, "2019-12"), sample("Wiltshire", "2019-12")):
        chart = _chart(report, "trend")
        rows = [r for r in _chart_rows(chart) if r["series"] == EXCLUDING_GMP and r["rate_per_1000"] is not None]
        assert sorted(r["date"][:7] for r in rows) == VINTAGES  # one point per period, no period twice
        for row in rows:
            p1, p3 = published[row["date"][:7]]["P1"], published[row["date"][:7]]["P3"]
            count = p1.cells[(NATIONAL, TOTAL)]
            assert isinstance(count, int)
            forces = [f for f in _forces_in(NATIONAL) if f != gmp and _number(p1.cells[(f, TOTAL)]) is not None]
            population = sum(_p3_population(p3, force) for force in forces)
            gmp_count = _number(p1.cells[(gmp, TOTAL)]) or 0
            assert row["rate_per_1000"] == pytest.approx((count - gmp_count) / population * 1000, rel=1e-12)
            assert row["rate_ci_low"] < row["rate_per_1000"] < row["rate_ci_high"]
        assert "Latest, year ending December 2019: " in chart.description
        assert f"{EXCLUDING_GMP} {ons_round(rows[-1]['rate_per_1000'])}." in chart.description
        assert "England and Wales 89.3" not in chart.description  # the full total stops in June 2019: not 'latest'


def test_the_trend_caption_promises_no_bands_it_cannot_show(sample: Sample) -> None:
    """Total recorded crime in a force has 95% intervals of about ±0.5 per 1,000, thinner than the line on a
    scale from 0 to 90: the caption says so instead of promising shaded bands; homicide's are wide and drawn."""
    total = _chart(sample("Wiltshire", "2019-09"), "trend")
    assert "Shaded bands" not in total.description and "too narrow to show at this scale" in total.description
    homicide = _chart(sample("Wiltshire", "2019-09", "homicide"), "trend")
    assert "Shaded bands show 95% intervals." in homicide.description
    (band,) = [layer for layer in homicide.spec["layer"] if layer["mark"]["type"] == "area"]
    assert band["encoding"]["y2"]["field"] == "rate_ci_high"


def _findings_cells(html: str) -> list[list[str]]:
    """The cells of the findings table of an HTML report, as text."""
    section = html[html.index('<section aria-label="Findings">') :]
    section = section[: section.index("</section>")]
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)[1:]
    return [[html_unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]


def test_untested_findings_say_not_tested_in_html_and_markdown(sample: Sample) -> None:
    """A finding with no p-value (league position, extreme, national rate) is 'not tested', never 'no'; 'no' is
    kept for a difference tested and found not significant. Caveats are numbered as the Caveats section lists them."""
    report = sample("Wiltshire", "2019-09")
    cells = _findings_cells(render_html(report))
    assert len(cells) == len(report.findings)
    caveat_ids = [c["id"] for c in report.caveats]
    for finding, (_, _, significant, caveat_cell) in zip(report.findings, cells, strict=True):
        if finding["p_value"] is None:
            assert significant == "not tested", finding["text"]
        else:
            assert significant == ("yes" if finding["significant"] else "no"), finding["text"]
        numbers = [str(caveat_ids.index(c["id"]) + 1) for c in finding["caveats"]]
        assert caveat_cell == (", ".join(numbers) or "none")
    assert {row[2] for row in cells} >= {"yes", "not tested"}
    markdown = render_markdown(report)
    rows = [line.split(" | ") for line in _section(markdown, "Findings").splitlines() if re.match(r"\| \d+ \|", line)]
    assert [row[-2] for row in rows] == [row[2] for row in cells]
    assert f"1. {report.caveats[0]['text']}" in markdown


def test_the_subtitle_does_not_repeat_the_title(sample: Sample) -> None:
    for report in (sample("Wiltshire", "2019-09"), sample(None, "2019-09")):
        html = render_html(report)
        (subtitle,) = re.findall(r'<p class="period">(.*?)</p>', html)
        assert subtitle == report.subtitle and subtitle.endswith("Rates are per 1,000 residents.")
        assert report.period_label not in subtitle and report.title not in subtitle
        assert "Police recorded crime, year ending" not in html


def test_the_national_headline_gives_both_funnel_judgements_and_never_says_no_force_stands_out(
    loaded_store: Store, sample: Sample
) -> None:
    """In the year ending September 2019 total crime rates run from 57.5 to 127.3 per 1,000 (P3): the headline
    says the highest is 2.2 times the lowest, how many forces chance alone does not explain, and how many are
    outside the limits that allow for the usual spread between forces; the league table has both columns."""
    report = sample(None, "2019-09")
    text = " ".join(report.headline)
    assert "stands out" not in text
    assert "Rates ranged from 57.5 per 1,000 in " in text and "to 127.3 in " in text
    assert "the highest is 2.2 times the lowest" in text
    poisson = analytics.funnel(loaded_store, "2019-09", overdispersion=False)
    widened = analytics.funnel(loaded_store, "2019-09")
    count = {
        name: Counter(row["position"] for row in funnel["rows"]) for name, funnel in (("p", poisson), ("w", widened))
    }
    assert (
        f"{count['p']['above']} of the {len(poisson['rows'])} forces compared were higher and {count['p']['below']} "
        "lower than chance alone would explain"
    ) in text
    assert count["w"]["above"] == count["w"]["below"] == 0
    assert "allowing for that usual spread, no force was outside the limits: large as they are, the gaps" in text
    assert count["p"]["above"] + count["p"]["below"] > 30  # rates differ: chance alone explains few of them
    assert "leaves out British Transport Police" in text  # why 87.5 is not England and Wales' 88.8
    by_chance = f"Allowing for chance alone (limits not drawn), {count['p']['above']} would be above and "
    assert by_chance + f"{count['p']['below']} below." in _chart(report, "funnel").description
    league = _rows(report, "league", "force_code")
    positions = {row["force_code"]: row["position"] for row in poisson["rows"]}
    words = {"above": "above", "below": "below", "within": "within limits"}
    for code, row in league.items():
        assert row["funnel_position_poisson"] == words.get(positions.get(code, ""))
    headings = [c.heading for c in report.table("league").columns]
    assert headings[-2:] == ["Against all forces: chance alone", "Against all forces: allowing for the usual spread"]
