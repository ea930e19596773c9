"""The web app (``crimestats serve``), in-process through httpx's ASGI transport on the session's ingested store:
every route and format, the JSON and CSV byte for byte what the CLI prints, the one error shape, the headers,
and one real server on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gzip
import hashlib
import html
import json
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from crimestats import analytics, reference
from crimestats.cli import app as cli
from crimestats.errors import StoreError
from crimestats.store import Store
from crimestats.web import create_app

from conftest import copy_of

PERIOD = "2019-09"
runner = CliRunner()


class Client:
    """A synchronous face on an httpx client over the app's ASGI interface (one event loop for the module)."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.get(url, **kwargs))

    def request(self, method: str, url: str) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url))

    def post(self, url: str, content: bytes, media_type: str = "application/json") -> httpx.Response:
        sent = self.client.post(url, content=content, headers={"content-type": media_type})
        return self.loop.run_until_complete(sent)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


#: The option sets the tests ask of both the web app and the CLI besides those the session's store keeps.
OPTION_SETS = (analytics.Options(suppress=False), analytics.Options(source="home-office"))


@pytest.fixture(scope="module")
def web_db(ingested_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's store with the statistics of :data:`OPTION_SETS` kept too: computed once, here, rather
    than by the app (in its read-only connection) and again by the CLI (in its copy)."""
    path = copy_of(ingested_file, tmp_path_factory.mktemp("web"))
    with Store(path) as store:
        for options in OPTION_SETS:
            analytics.materialise(store, options)
    return path


@pytest.fixture(scope="module")
def cli_store(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A copy of the app's store for the CLI (the same statistics; a file of its own, opened its own way)."""
    store = Store(copy_of(web_db, tmp_path_factory.mktemp("cli")))
    store.close()
    return store


@pytest.fixture(scope="module")
def client(web_db: Path) -> Iterator[Client]:
    made = Client(create_app(web_db))
    yield made
    made.close()


@pytest.fixture(scope="module", autouse=True)
def cli_command_built_once() -> Iterator[None]:
    """typer builds the CLI's click command again on every invoke, half the time of a call here (the rest is
    the CLI's own work: opening the store, answering): build it once for the module's hundred-odd calls."""
    command = typer.main.get_command(cli)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda app: command if app is cli else typer.main.get_command(app))
        yield


def cli_output(store: Store, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--db", str(store.path), *args])
    return result.exit_code, result.stdout


# ---- the same figures as the CLI --------------------------------------------------------------------------


def test_force_json_is_what_the_cli_prints_for_every_force(client: Client, cli_store: Store) -> None:
    for area in [*reference.forces(), reference.area("BTP")]:
        code, printed = cli_output(cli_store, "force", area.code, "--period", PERIOD, "--format", "json")
        served = client.get(f"/forces/{area.slug}/{PERIOD}.json")
        assert (served.status_code, code) == (200, 0), area.name
        assert served.text == printed, area.name
        assert served.headers["content-type"] == "application/json"


def test_league_json_and_csv_are_what_the_cli_prints_for_every_offence(client: Client, cli_store: Store) -> None:
    answered = 0
    for item in reference.offences():
        code, printed = cli_output(cli_store, "table", "-p", PERIOD, "-o", item.slug, "-f", "json")
        served = client.get(f"/league/{PERIOD}/{item.slug}.json")
        if code != 0:  # fraud is not counted by force, nor some details in these releases: 404 on the web
            assert served.status_code == 404 and served.json()["error"]["status"] == 404, item.slug
            continue
        answered += 1
        assert served.status_code == 200 and served.text == printed, item.slug
    assert answered >= 20


@pytest.mark.parametrize("offence", ["total-excluding-fraud", "stalking-and-harassment", "residential-burglary"])
def test_league_csv_is_what_the_cli_prints(client: Client, cli_store: Store, offence: str) -> None:
    printed = cli_output(cli_store, "table", "-p", PERIOD, "-o", offence, "-f", "csv")[1]
    assert client.get(f"/league/{PERIOD}/{offence}.csv").text == printed


def test_force_csv_trend_and_files_are_what_the_cli_prints(client: Client, cli_store: Store) -> None:
    pairs = {
        f"/forces/wiltshire/{PERIOD}.csv": ("force", "Wiltshire", "-p", PERIOD, "-f", "csv"),
        "/forces/devon-and-cornwall.json": ("trend", "Devon and Cornwall", "-f", "json"),
        "/forces/E23000038.csv?offence=burglary": ("trend", "Wiltshire", "-o", "burglary", "-f", "csv"),
        "/files.json": ("files", "-f", "json"),
        "/files.csv": ("files", "-f", "csv"),
        f"/index.json?period={PERIOD}&offence=robbery": ("table", "-p", PERIOD, "-o", "robbery", "-f", "json"),
    }
    for url, args in pairs.items():
        code, printed = cli_output(cli_store, *args)
        assert code == 0 and client.get(url).text == printed, url


def test_the_home_page_json_is_the_latest_league_of_total_recorded_crime(client: Client, cli_store: Store) -> None:
    code, printed = cli_output(cli_store, "table", "--period", "latest", "--format", "json")
    assert code == 0 and client.get("/index.json").text == printed


# ---- the CLI's options -------------------------------------------------------------------------------------

EARLY = "2018-03"
OPTIONS = {  # the sample of issue 11: each option set the CLI can be given, on a page of each kind
    f"/league/{EARLY}/burglary.json?population=ons-mye": (
        "table",
        "-p",
        EARLY,
        "-o",
        "burglary",
        "--population",
        "ons-mye",
    ),
    f"/league/{EARLY}/burglary.json?suppress=false": ("table", "-p", EARLY, "-o", "burglary", "--no-suppress"),
    f"/league/{EARLY}/robbery.json?source=home-office": (
        "table",
        "-p",
        EARLY,
        "-o",
        "robbery",
        "--source",
        "home-office",
    ),
    f"/forces/city-of-london/{EARLY}.json?suppress=false": ("force", "City of London", "-p", EARLY, "--no-suppress"),
    "/forces/wiltshire.json?population=ons-mye": ("trend", "Wiltshire", "--population", "ons-mye"),
    "/forces/city-of-london.json?suppress=false": ("trend", "City of London", "--no-suppress"),
    f"/index.json?period={EARLY}&offence=robbery&source=home-office": (
        "table",
        "-p",
        EARLY,
        "-o",
        "robbery",
        "-s",
        "home-office",
    ),
}


def test_the_options_give_what_the_cli_prints_with_them(client: Client, cli_store: Store) -> None:
    for url, args in OPTIONS.items():
        code, printed = cli_output(cli_store, *args, "-f", "json")
        served = client.get(url)
        assert (code, served.status_code) == (0, 200) and served.text == printed, url
        assert served.text != client.get(_without_options(url)).text, url  # the options change the answer
    table = client.get(f"/league/{EARLY}/robbery.csv?source=home-office").text
    assert table == cli_output(cli_store, "table", "-p", EARLY, "-o", "robbery", "-s", "home-office", "-f", "csv")[1]
    city = client.get(f"/forces/city-of-london/{EARLY}.json?suppress=false").json()["rows"][0]
    assert (
        city["rate_per_1000"] is not None
        and client.get(f"/forces/city-of-london/{EARLY}.json").json()["rows"][0]["rate_per_1000"] is None
    )


def _without_options(url: str) -> str:
    path, _, query = url.partition("?")
    kept = [pair for pair in query.split("&") if pair.split("=")[0] in ("period", "offence")]
    return path + ("?" + "&".join(kept) if kept else "")


OPTION_ERRORS = {
    "source=abc": "query parameter source: Input should be 'ons-pfa', 'ons-csp' or 'home-office'",
    "population=census": "query parameter population: Input should be 'published' or 'ons-mye'",
    "population_year=1900": "no population estimates for mid-1900; the store holds mid-2011 to mid-2023",
    "population_year=" + "9" * 30: "no population estimates for mid-" + "9" * 30,
    "population_year=abc": "query parameter population_year: Input should be a valid integer",
    "population=published&population_year=2017": "population_year applies to mid-year estimates",
    "suppress=maybe": "query parameter suppress: Input should be a valid boolean",
}


@pytest.mark.parametrize(
    "path", [f"/league/{EARLY}/burglary", "/index", f"/forces/wiltshire/{EARLY}", "/forces/dorset", "/compare"]
)
def test_options_not_written_right_are_400_with_what_would_do(client: Client, path: str) -> None:
    for query, message in OPTION_ERRORS.items():
        answer = client.get(f"{path}.json?{query}")
        assert answer.status_code == 400 and answer.json() == {
            "error": {"status": 400, "message": answer.json()["error"]["message"]}
        }
        assert message in answer.json()["error"]["message"], (path, query, answer.text)
    assert client.get(f"{path if path != '/index' else '/'}?source=abc").status_code == 400 and client.get(
        f"{path}.csv?suppress=2"
    ).text.startswith("error: ")


def test_the_options_are_in_the_openapi_schema(client: Client) -> None:
    schema = client.get("/openapi.json").json()
    for path in (
        "/league/{period}/{offence}.json",
        "/index.json",
        "/forces/{force}/{period}.json",
        "/forces/{force}.json",
        "/compare.json",
    ):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert {"source", "population", "population_year", "suppress"} <= set(parameters), path
        assert parameters["suppress"]["description"] and "--no-suppress" in parameters["suppress"]["description"]
    assert "source" not in {p["name"] for p in schema["paths"]["/search.json"]["get"]["parameters"]}
    sources = schema["components"]["schemas"]["Source"]["enum"]
    assert sources == ["ons-pfa", "ons-csp", "home-office"]


def test_answers_are_kept_and_tagged_by_their_options(client: Client) -> None:
    plain = client.get(f"/league/{EARLY}/burglary.json")
    unsuppressed = client.get(f"/league/{EARLY}/burglary.json?suppress=false")
    assert plain.headers["etag"] != unsuppressed.headers["etag"] and plain.text != unsuppressed.text
    tagged = client.get(
        f"/league/{EARLY}/burglary.json?suppress=false", headers={"If-None-Match": plain.headers["etag"]}
    )
    assert tagged.status_code == 200 and tagged.text == unsuppressed.text
    again = client.get(
        f"/league/{EARLY}/burglary.json?suppress=false", headers={"If-None-Match": unsuppressed.headers["etag"]}
    )
    assert again.status_code == 304
    site = client.client._transport.app.state.site  # type: ignore[attr-defined]
    assert (
        site.answer(
            f"/league/{EARLY}/burglary.json?suppress=false", lambda: (b"", ""), repr(analytics.Options(suppress=False))
        ).body
        == unsuppressed.content
    )


def test_pages_keep_the_options_in_their_links_and_forms(client: Client) -> None:
    page = client.get(f"/league/{EARLY}/robbery?source=home-office&suppress=false").text
    assert f'href="/forces/wiltshire/{EARLY}?source=home-office&amp;suppress=false"' in page
    assert f'href="/league/{EARLY}/robbery.json?source=home-office&amp;suppress=false"' in page
    assert '<option value="home-office" selected>' in page and 'name="suppress" value="false" checked' in page
    assert '<input type="hidden" name="source" value="home-office">' in page  # the search box keeps them too
    force = client.get(f"/forces/wiltshire/{EARLY}?source=home-office").text
    assert (
        'href="/forces/wiltshire?source=home-office"' in force
        and 'href="/compare?forces=wiltshire&amp;source=home-office"' in force
    )
    chosen = client.get(f"/league?period={EARLY}&offence=robbery&source=home-office&population=&population_year=")
    assert chosen.status_code == 303 and chosen.headers["location"] == f"/league/{EARLY}/robbery?source=home-office"
    moved = client.get(f"/forces/wiltshire?period={EARLY}&source=home-office")
    assert moved.headers["location"] == f"/forces/wiltshire/{EARLY}?source=home-office"
    found = client.get("/search?q=Swindon&suppress=false")
    latest = client.get("/index.json").json()["period"]
    assert found.status_code == 303 and found.headers["location"] == f"/forces/wiltshire/{latest}?suppress=false"
    compared = client.get("/compare?forces=wiltshire&suppress=false").text
    assert 'href="/compare.json?forces=wiltshire&amp;offence=total-excluding-fraud&amp;suppress=false"' in compared


# ---- every page -----------------------------------------------------------------------------------------------

PAGES = {
    "/": "Choose",
    f"/?period={PERIOD}&offence=burglary": "Burglary",
    f"/forces/wiltshire/{PERIOD}": "Wiltshire",
    "/forces/wiltshire": "Wiltshire: Total recorded crime (excluding fraud) over time",
    f"/league/{PERIOD}/stalking-and-harassment": "Stalking and harassment",
    "/compare?forces=wiltshire,dorset&offence=robbery": "Compare forces: Robbery",
    "/search?q=wales": "North Wales",
    "/files": "pfatablesdec19.xlsx",
    "/about": "Rate per 1,000",
    "/docs": "/forces/{force}/{period}.json",
}


def test_a_force_page_maps_its_street_level_crimes_only_where_the_store_holds_them(client: Client) -> None:
    """The session's data holds City of London's data.police.uk street files for 2024 and 2025: its page for the
    year ending June 2025 has the density map; Wiltshire's, with no street files, has none."""
    assert "Where crimes were recorded in City of London" in client.get("/forces/city-of-london/2025-06").text
    assert "Where crimes were recorded" not in client.get("/forces/wiltshire/2025-06").text


def test_compare_names_england_and_wales_without_the_forces_its_total_leaves_out(client: Client) -> None:
    """Greater Manchester has no figures from the year ending September 2019: England and Wales is then a series
    of its own, named as the area totals name it, and the chart's note says so in those words."""
    rows = client.get("/compare.json?forces=wiltshire").json()["rows"]
    national = {row["period"]: row["series"] for row in rows if row["area_code"] == "K04000001"}
    assert national["2019-06"] == "England and Wales"
    assert national["2019-09"] == national["2019-12"] == "England and Wales (excluding Greater Manchester)"
    page = client.get("/compare?forces=wiltshire").text
    note = "so England and Wales is drawn as a separate line: England and Wales (excluding Greater Manchester)."
    assert f"Greater Manchester had no figures, {note}" in page


@pytest.mark.parametrize("url", list(PAGES))
def test_every_page_answers_html_json_and_csv(client: Client, url: str) -> None:
    page = client.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert PAGES[url] in page.text if url != "/" else "<select" in page.text
    if url == "/docs":
        return
    path, _, query = url.partition("?")
    stem = "/index" if path == "/" else path
    document = client.get(f"{stem}.json" + (f"?{query}" if query else ""))
    table = client.get(f"{stem}.csv" + (f"?{query}" if query else ""))
    assert document.status_code == 200 and document.headers["content-type"] == "application/json"
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(table.text.splitlines()))
    body = document.json()
    listed = body if isinstance(body, list) else body.get("rows", body.get("forces", body.get("caveats")))
    assert len(rows) == len(listed)


def test_pages_load_nothing_from_other_hosts_and_have_no_inline_scripts(client: Client) -> None:
    for url in PAGES:
        html = client.get(url).text
        loads = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", html)
        assert loads and all(link.startswith("/") for link in loads), (url, loads)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts), url


def transferred(client: Client, url: str) -> tuple[httpx.Response, int]:
    """The response to ``url`` from a browser that accepts gzip, and the bytes of its body as sent."""
    sent = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert sent.status_code == 200, url
    return sent, sent.num_bytes_downloaded  # before decoding


def first_visit(client: Client, url: str) -> dict[str, int]:
    """The bytes a browser fetches on its first visit to ``url`` (nothing cached, gzip accepted): the page, every
    script, style sheet and image it references, and every file (a font) its style sheets reference."""
    page, size = transferred(client, url)
    sizes = {url: size}
    for asset in re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(/[^"]+)"', page.text):
        fetched, sizes[asset] = transferred(client, asset)
        for inner in re.findall(r"url\(['\"]?(/[^'\")]+)", fetched.text if asset.endswith(".css") else ""):
            sizes[inner] = transferred(client, inner)[1]
    return sizes


def test_a_force_page_weighs_at_most_300_kb_on_a_first_visit(client: Client) -> None:
    """Issue 11: a force page <= 300 KB, all its HTML, scripts, styles, fonts and images as transferred."""
    sizes = first_visit(client, f"/forces/wiltshire/{PERIOD}")
    assert "/static/vendor/vega.min.js" in sizes and "/static/vendor/vega-lite.min.js" not in sizes
    assert sum(sizes.values()) <= 300_000, sizes


def test_pages_without_charts_load_no_chart_scripts(client: Client) -> None:
    assert set(first_visit(client, "/files")) == {"/files", "/static/style.css", "/static/app.js"}


def test_a_force_page_has_its_charts_drawn_as_svg_and_compiled_to_vega(client: Client) -> None:
    page = client.get(f"/forces/north-yorkshire/{PERIOD}")
    charts = re.findall(r'<img src="(/charts/[0-9a-f]{20}\.svg)"', page.text)
    assert len(charts) >= 3
    specs = re.findall(r'<script type="application/json" id="spec-[0-9a-f]{20}">(.*?)</script>', page.text)
    assert len(specs) == len(charts)
    assert all(json.loads(spec)["$schema"].startswith("https://vega.github.io/schema/vega/") for spec in specs)
    drawn = client.get(charts[0])
    assert drawn.status_code == 200 and drawn.headers["content-type"].startswith("image/svg+xml")
    assert drawn.text.lstrip().startswith("<svg") and 'role="img"' in drawn.text
    assert client.get("/charts/0123456789abcdef0123.svg").status_code == 404


# ---- checking a story ---------------------------------------------------------------------------------------

STORIES = Path(__file__).parent / "stories"


def test_check_json_is_what_crimestats_check_prints(client: Client, cli_store: Store) -> None:
    stories = sorted(STORIES.glob("*.txt")) + sorted(STORIES.glob("*.html"))
    assert len(stories) >= 8
    for story in stories:
        code, printed = cli_output(cli_store, "check", str(story), "--format", "json")
        sent = json.dumps({"text": story.read_text(encoding="utf-8")}).encode()
        served = client.post("/check.json", sent)
        assert (code, served.status_code) == (0, 200) and served.text == printed, story.name
        assert served.headers["content-type"] == "application/json"
    claims = client.post("/check.json", json.dumps({"text": (STORIES / "kent-errors.txt").read_text()}).encode()).json()
    assert claims["summary"]["incorrect"] >= 1 and all(c["verdict"] for c in claims["claims"])


def test_the_check_page_annotates_the_story_without_javascript(client: Client) -> None:
    form = client.get("/check")
    assert form.status_code == 200 and '<form class="check" method="post" action="/check">' in form.text
    assert '<textarea id="check-text" name="text"' in form.text and 'href="/check"' in form.text  # in the navigation
    story = (STORIES / "kent-errors.txt").read_text(encoding="utf-8")
    checked = client.post("/check", urllib.parse.urlencode({"text": story, "today": ""}).encode(), FORM)
    assert checked.status_code == 200 and checked.headers["content-type"].startswith("text/html")
    expected = client.post("/check.json", json.dumps({"text": story}).encode()).json()
    marks = re.findall(r'<mark class="verdict-([a-z-]+)" title="([a-z ]+)">', checked.text)
    assert [title for _, title in marks] == [c["verdict"] for c in expected["claims"]] and marks
    assert len(re.findall(r'<li value="\d+">', checked.text)) == len(expected["claims"])
    assert html.escape(expected["claims"][0]["explanation"]) in checked.text  # the note: verdict, figure, source
    assert " style=" not in checked.text and html.escape(story.splitlines()[0]) in checked.text  # kept in the form
    assert "default-src 'self'" in checked.headers["content-security-policy"]
    none = client.post("/check", urllib.parse.urlencode({"text": (STORIES / "recipe.txt").read_text()}).encode(), FORM)
    assert "No claim about police recorded crime statistics" in none.text


FORM = "application/x-www-form-urlencoded"
CHECK_ERRORS = {
    b"\xff\xfe{}": (400, "not UTF-8"),
    b"{": (400, "not JSON"),
    b"[1]": (400, "send a JSON object"),
    b'{"text": 1}': (400, "send a JSON object"),
    b'{"text": "x", "other": 1}': (400, "send a JSON object"),
    b'{"text": "x", "today": "2019-02-30"}': (400, "is not a date written YYYY-MM-DD"),
    b'{"text": "x", "today": 20190101}': (400, "is not a date"),
    b"[" * 100_000: (400, "send a JSON object"),
    json.dumps({"text": "x" * 200_001}).encode(): (413, "at most 200 KB"),
}


def test_check_json_errors_have_the_one_shape(client: Client) -> None:
    for body, (status, message) in CHECK_ERRORS.items():
        answer = client.post("/check.json", body)
        assert answer.status_code == status, (body[:20], answer.text)
        assert answer.json() == {"error": {"status": status, "message": answer.json()["error"]["message"]}}
        assert message in answer.json()["error"]["message"], (body[:20], answer.text)
    assert client.post("/check.json", b'{"text": "", "today": "2019-10-17"}').json()["claims"] == []
    assert client.get("/check.json").status_code == 405
    assert client.post("/check", b"text=%ff", FORM).status_code == 400
    assert client.post("/check", b"text=" + b"x" * 200_001, FORM).status_code == 413
    assert "/check.json" in client.get("/openapi.json").json()["paths"]


# ---- search -----------------------------------------------------------------------------------------------


def test_a_council_name_finds_its_force_from_the_official_lookup(client: Client, data_dir: Path) -> None:
    lookup = next((data_dir / "population").glob("Local_Authority_District_to_CSPs*.csv"))
    with lookup.open(encoding="utf-8-sig") as handle:
        swindon = next(row for row in csv.DictReader(handle) if row["LAD23NM"] == "Swindon")
    force = reference.area(swindon["PFA23CD"])
    found = client.get("/search.json?q=swindon").json()["forces"]
    assert [(f["force_code"], f["kind"]) for f in found] == [(force.code, "council")]
    landed = client.get("/search?q=Swindon")
    latest = client.get("/index.json").json()["period"]  # the home page's league is the latest period's
    assert landed.status_code == 303 and landed.headers["location"] == f"/forces/{force.slug}/{latest}"
    assert client.get(landed.headers["location"]).status_code == 200


def test_find_forces_by_force_name_and_short_text(loaded_store: Store) -> None:
    wales = analytics.find_forces(loaded_store, "Wales")
    assert {f["force"] for f in wales} >= {"North Wales", "South Wales"} and wales[0]["kind"] == "force"
    assert analytics.find_forces(loaded_store, "x") == [] and analytics.find_forces(loaded_store, "zzzz") == []


# ---- errors -------------------------------------------------------------------------------------------------

ERRORS = {
    f"/forces/wiltshre/{PERIOD}.json": (404, "unknown force 'wiltshre' (did you mean Wiltshire?)"),
    "/forces/atlantis.json": (404, "unknown force 'atlantis'"),
    f"/forces/england-and-wales/{PERIOD}.json": (404, "not a police force"),
    "/forces/wiltshire/abc.json": (400, "period 'abc'"),
    "/forces/wiltshire/2030-03.json": (404, "no figures for the period 2030-03"),
    f"/league/{PERIOD}/burglery.json": (404, "unknown offence 'burglery' (did you mean"),
    f"/league/{PERIOD}/fraud-offences.json": (404, "by police force"),
    "/compare.json?forces=wiltshire,nowhere": (404, "unknown force 'nowhere'"),
    "/compare.json?forces=" + ",".join(["dorset"] * 9): (400, "at most 8 forces"),
    "/search.json?q=" + "x" * 200: (400, "query parameter q"),
    "/index.json?period=2019-13": (400, "period"),
    "/nothing.json": (404, "no page at /nothing.json"),
    "/forces/%00%ff/2019-09.json": (404, "unknown force"),
}


def test_errors_have_one_json_shape(client: Client) -> None:
    for url, (status, message) in ERRORS.items():
        answer = client.get(url)
        assert answer.status_code == status, (url, answer.text)
        error = answer.json()["error"]
        assert set(answer.json()) == {"error"} and set(error) == {"status", "message"}
        assert error["status"] == status and message in error["message"], (url, error)


def test_errors_on_pages_and_csv(client: Client) -> None:
    page = client.get(f"/forces/atlantis/{PERIOD}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "unknown force &#39;atlantis&#39;" in page.text and 'href="/"' in page.text
    table = client.get("/league/abc/burglary.csv")
    assert table.status_code == 400 and table.text.startswith("error: period 'abc'")
    assert client.request("POST", "/index.json").status_code == 405


# ---- headers ------------------------------------------------------------------------------------------------


def test_security_headers_on_every_response(client: Client) -> None:
    for url in ("/", "/index.json", "/nothing", "/static/app.js"):
        headers = client.get(url).headers
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "unsafe" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
        assert "access-control-allow-origin" not in headers  # CORS is off unless --cors


def test_etag_gives_304_and_bodies_are_gzipped(client: Client) -> None:
    first = client.get(f"/league/{PERIOD}/robbery.json")
    tag = first.headers["etag"]
    again = client.get(f"/league/{PERIOD}/robbery.json", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert client.get(f"/league/{PERIOD}/burglary.json", headers={"If-None-Match": tag}).status_code == 200
    raw = client.get(f"/league/{PERIOD}/robbery.json", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip" and raw.text == first.text  # httpx decodes it
    assert len(gzip.compress(first.content)) < len(first.content) / 3


#: Answers of each kind the app keeps: a document, a table, pages, a chart's drawing (with its own policy), the docs.
KEPT = (
    f"/league/{PERIOD}/robbery.json",
    f"/league/{PERIOD}/robbery.csv?suppress=false",
    f"/forces/wiltshire/{PERIOD}",
    "/files",
    "/docs",
    "/static/app.js",
    "/static/vendor/vega-embed.min.js",
)


def test_a_kept_answer_is_sent_byte_for_byte_as_its_route_sends_it(client: Client) -> None:
    """A repeated GET is answered before routing (KeptAnswers): the same status, headers and bytes as the route's."""
    site = client.client._transport.app.state.site  # type: ignore[attr-defined]
    page = client.get(f"/forces/wiltshire/{PERIOD}").text
    urls = [*KEPT, re.findall(r'<img src="(/charts/[0-9a-f]{20}\.svg)"', page)[0]]
    for url in urls:
        key = url if "?" in url else f"{url}?"
        for accept in ("gzip", "identity"):
            site._answers.pop(key, None)  # the next request is the route's, which makes the answer again
            routed = client.get(url, headers={"Accept-Encoding": accept})
            kept = client.get(url, headers={"Accept-Encoding": accept})
            assert site.kept(key) is not None, url
            assert (kept.status_code, kept.headers.multi_items(), kept.content) == (
                routed.status_code,
                routed.headers.multi_items(),
                routed.content,
            ), (url, accept)
            assert routed.headers.get("content-encoding") == ("gzip" if accept == "gzip" else None), url
        not_modified = client.get(url, headers={"If-None-Match": routed.headers["etag"]})
        assert not_modified.status_code == 304 and not_modified.headers["etag"] == routed.headers["etag"]
    drawing = client.get(urls[-1]).headers
    assert drawing["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"


def test_a_kept_answer_is_gzipped_once(client: Client) -> None:
    url = f"/league/{PERIOD}/robbery.json"
    sent = client.get(url, headers={"Accept-Encoding": "gzip"})
    kept = client.client._transport.app.state.site.kept(f"{url}?")  # type: ignore[attr-defined]
    assert kept.gzipped is not None and gzip.decompress(kept.gzipped) == kept.body == sent.content
    assert int(sent.headers["content-length"]) == len(kept.gzipped)  # the kept bytes, not compressed again


def test_static_files_are_the_apps_own_files_only(client: Client) -> None:
    script = client.get("/static/app.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.content == (resources.files("crimestats.web") / "static" / "app.js").read_bytes()
    for missing in ("/static/nothing.js", "/static/%2e%2e/app.py", "/static/vendor", "/static/"):
        assert client.get(missing).status_code == 404, missing


def test_cors_only_when_asked(web_db: Path) -> None:
    opened = Client(create_app(web_db, cors=True))
    try:
        headers = opened.get("/files.json", headers={"Origin": "https://example.org"}).headers
        assert headers["access-control-allow-origin"] == "*"
    finally:
        opened.close()


# ---- the store ----------------------------------------------------------------------------------------------


def test_the_store_is_opened_read_only_and_left_unchanged(client: Client, web_db: Path) -> None:
    before = hashlib.sha256(web_db.read_bytes()).hexdigest()
    for url in PAGES:
        client.get(url)
    site = client.client._transport.app.state.site  # type: ignore[attr-defined]
    assert site.store.read_only
    with pytest.raises(Exception, match="read-only"):
        site.store.con.execute("CREATE TABLE intruder (x INTEGER)")
    assert hashlib.sha256(web_db.read_bytes()).hexdigest() == before


def test_a_store_without_statistics_or_none_at_all_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        create_app(tmp_path / "missing.duckdb")
    Store(tmp_path / "empty.duckdb").close()
    with pytest.raises(StoreError, match="not computed"):
        create_app(tmp_path / "empty.duckdb")
    result = runner.invoke(cli, ["--db", str(tmp_path / "missing.duckdb"), "serve"])
    assert result.exit_code == 1 and "no store at" in result.stderr and "Traceback" not in result.output


# ---- a real server ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def serving(web_db: Path, folder: Path, *options: str) -> Iterator[tuple[int, Callable[[], str], Path]]:
    """`crimestats serve` on a free port, started and stopped: (port, its stdout so far, its stderr file)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "crimestats", "--db", str(web_db), "serve", "--port", str(port), *options]
    log, errors = folder / "serve.log", folder / "serve.err"
    with log.open("wb") as output, errors.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=output, stderr=stderr, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while f":{port}/" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, errors.read_text()
            time.sleep(0.1)
        yield port, log.read_text, errors
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_crimestats_serve_answers_over_http_on_this_machine_only(web_db: Path, tmp_path: Path) -> None:
    with serving(web_db, tmp_path) as (port, printed, errors):
        assert f"at http://127.0.0.1:{port}/" in printed() and "warning" not in errors.read_text()
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert home.status_code == 200 and "<select" in home.text
        league = httpx.get(f"http://127.0.0.1:{port}/league/{PERIOD}/burglary.json", timeout=30)
        assert league.json()["offence"] == "burglary"
        assert _listening_on(port) == {f"0100007F:{port:04X}"}  # 127.0.0.1 only


def test_crimestats_serve_warns_when_other_machines_can_reach_it(web_db: Path, tmp_path: Path) -> None:
    with serving(web_db, tmp_path, "--host", "0.0.0.0") as (port, printed, errors):
        assert f"at http://0.0.0.0:{port}/" in printed()
        assert "warning: listening on 0.0.0.0: other machines can reach the dashboard" in errors.read_text()
        assert httpx.get(f"http://127.0.0.1:{port}/files.json", timeout=30).status_code == 200
        assert _listening_on(port) == {f"00000000:{port:04X}"}  # every address of the machine


def _listening_on(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp writes them) of the IPv4 sockets listening on ``port``."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return {local for _, local, _, state, *_ in rows if state == "0A" and local.endswith(f":{port:04X}")}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_only_loopback_hosts_are_this_machine_only(host: str, loopback: bool) -> None:
    from crimestats.cli.commands import _loopback

    assert _loopback(host) is loopback


def test_the_server_computes_a_few_option_sets_and_then_says_it_is_busy(web_db: Path) -> None:
    """Options whose statistics the store keeps are served; others are computed in memory only while the
    server has computed fewer than its share (here none), so a stranger cannot make it compute hundreds."""
    app = create_app(web_db)
    app.state.site.most_option_sets = 0
    client = Client(app)
    try:
        assert client.get("/league/2019-09/robbery.json").status_code == 200
        assert client.get("/league/2019-09/robbery.json?suppress=false").status_code == 200  # kept in the store
        busy = client.get("/league/2019-09/robbery.json?population_year=2015")
        assert busy.status_code == 503
        message = busy.json()["error"]["message"]
        assert busy.json()["error"]["status"] == 503 and "run the same question once with the CLI" in message
        page = client.get("/league/2019-09/robbery?population_year=2015")
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
    finally:
        client.close()
        app.state.site.close()
