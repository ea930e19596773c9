"""The dashboard in a real browser: ``crimestats serve`` on the session's store, headless Debian Chromium.

One server and one browser for the module. A reader finds Wiltshire by typing "Swindon" in the search, then
changes the period and the offence and sees the table and the chart change; every page loads with no console
error and no request to any host but the app's, looks like a page (not blank), passes axe-core with no serious or
critical violation, and still reads with JavaScript off (the server-drawn SVG charts and the tables).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import altair
import pytest

from serving import Served, start_serve

from browser import Session, WatchedPage, chromium_session, require_chromium
from conftest import copy_of

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
OFFENCE = "total-excluding-fraud"
PAGES = {
    "home": "/",
    "force": "/forces/wiltshire",
    "force in a period": "/forces/wiltshire/2019-09",
    "league": f"/league/2019-09/{OFFENCE}",
    "compare": f"/compare?forces=wiltshire,dorset,gloucestershire&offence={OFFENCE}",
    "search": "/search?q=Swindon",
    "files": "/files",
    "about": "/about",
}
CHARTED = ["home", "force", "force in a period", "league", "compare"]
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def served(ingested_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    started = start_serve(copy_of(ingested_file, folder), log=folder / "serve.log")
    yield started
    started.close()


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    require_chromium()
    with chromium_session() as started:
        yield started


@pytest.fixture
def browse(session: Session, served: Served) -> Iterator[Callable[..., WatchedPage]]:
    """Opens a page of the app by its path (``javascript=False`` to switch scripts off); closes them after."""
    pages: list[WatchedPage] = []

    def open_page(path: str, *, javascript: bool = True) -> WatchedPage:
        pages.append(session.open(served.url + path, javascript=javascript))
        return pages[-1]

    yield open_page
    for page in pages:
        page.close()


def assert_clean(page: WatchedPage) -> None:
    """No console error, no failed or off-origin request so far."""
    assert page.console_errors == []
    assert page.failed_requests == []
    assert page.external_requests == []


def table_text(page: WatchedPage) -> str:
    return page.page.locator("main table").first.inner_text()


def chart_image(page: WatchedPage) -> bytes:
    """A screenshot of the first chart drawn by vega-embed, once it has drawn."""
    chart = page.page.locator(".vega-embed").first
    chart.locator("svg, canvas").first.wait_for(state="visible")
    return chart.screenshot()


def serious_violations(page: WatchedPage) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    page.page.evaluate(AXE.read_text(encoding="utf-8"))  # through the DevTools protocol, so the page's CSP allows it
    results = page.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}: {len(violation['nodes'])} element(s), "
        f"first {violation['nodes'][0]['target']}"
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]


def choose(page: WatchedPage, name: str, value: str) -> None:
    """Pick ``value`` in the page's ``<select name=NAME>`` and send its form (the Show button)."""
    select = page.page.locator(f"main select[name={name}]")
    select.select_option(value)
    form = page.page.locator("main form").filter(has=page.page.locator(f"select[name={name}]"))
    form.get_by_role("button", name="Show").click()
    page.settle()


def test_swindon_finds_wiltshire_and_its_pages_follow_the_period_and_offence(
    browse: Callable[..., WatchedPage], served: Served
) -> None:
    page = browse("/")
    page.page.get_by_role("searchbox").fill("Swindon")
    page.page.get_by_role("searchbox").press("Enter")
    page.settle()
    assert page.page.url.startswith(served.url + "/forces/wiltshire")
    assert "Wiltshire" in page.page.locator("h1").inner_text()

    table, chart = table_text(page), chart_image(page)
    choose(page, "period", "2018-09")
    assert page.page.url == served.url + "/forces/wiltshire/2018-09"
    assert "year ending September 2018" in page.page.locator("main").inner_text()
    assert table_text(page) != table
    assert chart_image(page) != chart

    page.page.get_by_role("link", name="Wiltshire in every period").click()
    page.settle()
    table, chart = table_text(page), chart_image(page)
    choose(page, "offence", "burglary")
    assert "offence=burglary" in page.page.url
    assert table_text(page) != table
    assert chart_image(page) != chart
    assert_clean(page)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_loads_cleanly_is_not_blank_and_passes_axe_core(
    name: str, browse: Callable[..., WatchedPage], tmp_path: Path
) -> None:
    page = browse(PAGES[name])
    check = page.check(tmp_path / "page.png")
    assert_clean(page)
    assert check.distinct_colours >= (16 if name in CHARTED else 4), "the page looks blank"
    if name in CHARTED:
        assert page.page.locator(".vega-embed svg, .vega-embed canvas").count() >= 1, "no chart drawn"
    assert serious_violations(page) == []


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_reads_with_javascript_off(name: str, browse: Callable[..., WatchedPage]) -> None:
    page = browse(PAGES[name], javascript=False)
    assert_clean(page)
    assert page.page.locator("h1").count() == 1
    if name in CHARTED:
        assert page.page.locator("main img[src$='.svg']").count() >= 1, "no server-drawn SVG chart"
    if name in CHARTED or name in ("files", "search"):
        assert page.page.locator("main table tr").count() >= 2, "no table"


def test_the_charts_are_drawn_by_the_vendored_builds_altair_matches(browse: Callable[..., WatchedPage]) -> None:
    """The pages load Vega and vega-embed only: the server compiles the Vega-Lite specs (vl-convert)."""
    page = browse(PAGES["league"])
    versions = page.page.evaluate("[vega.version, typeof vegaLite, vegaEmbed.version]")
    assert versions[0].split(".")[0] == altair.VEGA_VERSION
    assert versions[1] == "undefined"
    assert versions[2].split(".")[0] == altair.VEGAEMBED_VERSION
