"""Downloads against a real HTTP server on 127.0.0.1 (tests/mirror.py) that serves the shared official files
under their official paths and misbehaves on request. No test touches the internet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from crimestats import analytics
from crimestats.downloads.catalogue import (
    DiscoveryFormatError,
    file_kind,
    load_catalogue,
    parse_arcgis_item,
    parse_govuk_content,
    parse_ons_edition,
    parse_ons_landing,
    parse_police_uk_dates,
    release_from_edition,
    remote_file,
    url_file_name,
)
from crimestats.downloads.cli import data_app
from crimestats.downloads.fetch import DownloadError, Fetcher, FetchPolicy, check_content, via_mirror
from crimestats.downloads.fetch import download as download_datasets
from crimestats.downloads.updates import ensure_data, status
from crimestats.errors import CrimestatsError, NoDataError
from crimestats.store import Store, sha256

import mirror as served
from mirror import Fault, Mirror

runner = CliRunner()
FAST = FetchPolicy(timeout=5, retries=3, backoff=0.01, max_backoff=0.05)
EVERYTHING = ["ons-pfa-tables", "home-office-pfa", "ons-mye", "ons-lookup", "ons-pfa-boundaries"]
SEP19 = served.pfa_url("yearendingseptember2019")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fetch_one(mirror: Mirror, dest: Path, url: str, sleep: Sleeps | None = None, policy: FetchPolicy = FAST) -> Any:
    with Fetcher(dest, mirror=mirror.base, policy=policy, sleep=Sleeps() if sleep is None else sleep) as fetcher:
        return fetcher.fetch(remote_file(url, ("xlsx",)), dataset="ons-pfa-tables", release="2019-09")


def original(data_dir: Path, url: str) -> Path:
    edition = url.split("/")[-2]
    return data_dir / served.PFA_EDITIONS[edition]


def cached_names(dest: Path) -> set[str]:
    return {p.name for p in dest.rglob("*") if p.is_file()}


# ---- the catalogue ----------------------------------------------------------------------------------------------


def test_catalogue_describes_every_official_dataset() -> None:
    catalogue = load_catalogue()
    assert set(catalogue) >= {
        "ons-pfa-tables",
        "home-office-pfa",
        "home-office-csp",
        "ons-mye",
        "ons-lookup",
        "ons-pfa-boundaries",
        "police-uk-archive",
    }
    methods = {dataset.discovery.method for dataset in catalogue.values()}
    assert methods == {"ons-dataset-json", "govuk-content-api", "police-uk-archive", "arcgis-hub"}
    for dataset in catalogue.values():
        assert dataset.publisher and dataset.url.startswith("https://")
        assert dataset.licence.startswith("Open Government")
        assert dataset.releases, dataset.name
        for release in dataset.releases:
            assert release.dataset == dataset.name
            for remote in release.files:
                assert remote.url.startswith("https://") and remote.kind in dataset.file_types, remote
    # the store sources (`--source`) each dataset's files are read as
    assert catalogue["ons-pfa-tables"].read_as == ("ons-pfa", "ons-csp")
    assert catalogue["home-office-pfa"].read_as == ("home-office",)
    assert catalogue["police-uk-archive"].read_as == ()


def test_catalogue_lists_the_official_url_of_every_shared_file(data_dir: Path) -> None:
    """Every genuine official file in the shared data has its official URL in the catalogue."""
    urls = {remote.url for dataset in load_catalogue().values() for r in dataset.releases for remote in r.files}
    for edition, relative in served.PFA_EDITIONS.items():
        if relative.endswith(".xlsx"):
            assert served.pfa_url(edition) in urls
    assert {served.MYE_URL, served.LOOKUP_URL, served.BOUNDARIES_LEGACY_URL, served.ARCHIVE_URL} <= urls


@pytest.mark.parametrize(
    ("edition", "release"),
    [
        ("yearendingseptember2019", "2019-09"),
        ("yearendingmarch2018", "2018-03"),
        ("yearendingjune2025", "2025-06"),
        ("yearendingsep18", "2018-09"),
        ("mid20232023localauthorityboundarieseditionofthisdataset", "mid-2023"),
        ("mid2011tomid2022detailedtimeseries", "mid-2011"),
        ("current", "current"),
    ],
)
def test_ons_edition_names_become_releases(edition: str, release: str) -> None:
    assert release_from_edition(edition) == release


def test_file_names_from_official_urls() -> None:
    assert url_file_name(SEP19) == "policeforceareatablesyearendingseptember2019.xlsx"
    assert url_file_name("https://data.police.uk/data/archive/2025-12.zip") == "2025-12.zip"
    assert url_file_name("https://example.org/../../etc/passwd") == "passwd"
    assert file_kind("A.XLSX") == "xlsx" and file_kind("notes.txt") is None


def test_mirror_keeps_path_and_query() -> None:
    assert via_mirror(SEP19, "http://127.0.0.1:8000/ons/") == "http://127.0.0.1:8000/ons" + SEP19.split(".uk", 1)[1]
    assert via_mirror(SEP19, None) == SEP19


# ---- discovery parsers on the recorded shapes -----------------------------------------------------------------


def test_discovery_parsers_read_the_publishers_shapes(mirror: Mirror) -> None:
    catalogue = load_catalogue()

    def document(url: str) -> Any:
        return json.loads(mirror.routes[served.key(url)].body)

    landing = f"{served.ONS}{served.PFA_URI}/data"
    editions = parse_ons_landing(document(landing), landing)
    assert editions[0].endswith("/yearendingjune2025") and len(editions) == 10
    url = f"{served.ONS}{served.PFA_URI}/yearendingseptember2019/data"
    release = parse_ons_edition(document(url), url, catalogue["ons-pfa-tables"])
    assert release is not None and release.release == "2019-09" and [f.url for f in release.files] == [SEP19]

    home_office = parse_govuk_content(document(served.GOVUK_API), served.GOVUK_API, catalogue["home-office-pfa"])
    assert home_office is not None and [f.url for f in home_office.files] == [served.HOME_OFFICE_CSV]
    assert home_office.release == "2025-01-30" and home_office.period is None  # named by publication date
    csp = parse_govuk_content(document(served.GOVUK_API), served.GOVUK_API, catalogue["home-office-csp"])
    assert csp is not None and [f.name for f in csp.files] == ["prc-csp-mar21-sep25-tables-290126.ods"]
    assert csp.release == "2026-01-29"  # the publication stamp in the Home Office file name

    archive = parse_police_uk_dates(document(served.POLICE_UK_DATES), "x", catalogue["police-uk-archive"])
    assert archive.release == "2025-12" and archive.files[0].url == served.ARCHIVE_URL
    item = f"{served.HUB}/{served.LOOKUP_ITEM}"
    lookup = parse_arcgis_item(document(item), item, catalogue["ons-lookup"])
    assert lookup.release == "2023" and lookup.published == "2024-01-25T00:00:00+00:00"


@pytest.mark.parametrize("document", [{}, {"datasets": "x"}, [], None, "<html>"])
def test_discovery_parsers_reject_other_shapes(document: Any) -> None:
    dataset = load_catalogue()["ons-pfa-tables"]
    with pytest.raises(DiscoveryFormatError, match="unexpected discovery response"):
        parse_ons_landing(document, "https://www.ons.gov.uk/x/data")
    with pytest.raises(DiscoveryFormatError):
        parse_ons_edition(document, "https://www.ons.gov.uk/x/data", dataset)
    with pytest.raises(DiscoveryFormatError):
        parse_govuk_content(document, "https://www.gov.uk/api/content/x", dataset)
    with pytest.raises(DiscoveryFormatError):
        parse_police_uk_dates(document, "https://data.police.uk/api/crimes-street-dates", dataset)
    with pytest.raises(DiscoveryFormatError):
        parse_arcgis_item(document, "https://hub.arcgis.com/api/v3/datasets/x", dataset)


# ---- the command line ------------------------------------------------------------------------------------------


def test_sources_lists_the_catalogue_as_json_and_table() -> None:
    result = runner.invoke(data_app, ["sources", "--format", "json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert all({"name", "publisher", "url", "licence", "read_as"} <= set(entry) for entry in entries)
    assert {e["name"] for e in entries} == set(load_catalogue())
    assert next(e for e in entries if e["name"] == "ons-mye")["read_as"] == ["ons-mye"]
    table = runner.invoke(data_app, ["sources"])
    assert table.exit_code == 0 and "Official datasets" in table.stdout and "ons-pfa-tables" in table.stdout
    assert "Open Government Licence" in table.stdout and "ons-pfa, ons-csp" in table.stdout


def test_every_data_command_has_help() -> None:
    for command in ("sources", "download", "status"):
        result = runner.invoke(data_app, [command, "--help"])
        assert result.exit_code == 0 and len(result.stdout) > 100, command


def test_unknown_dataset_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(data_app, ["download", "ons-atlantis", "--dest", str(tmp_path)])
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: unknown dataset 'ons-atlantis'; known: ons-pfa-tables, ")
    assert "Traceback" not in result.output


def test_importing_the_cli_loads_neither_httpx_nor_the_catalogue() -> None:
    """Every command imports `crimestats.downloads.cli` to register `data`; only the `data` commands need the rest."""
    lazy = ["httpx", "crimestats.downloads.catalogue", "crimestats.downloads.discovery", "crimestats.downloads.fetch"]
    code = f"import sys, crimestats.cli; print(sorted(set({lazy!r}) & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def every_statistic(store: Store) -> list[dict[str, Any]]:
    rows = analytics.force_statistics(store.backend).drop("file_id").to_pyarrow().to_pylist()  # ids follow ingest order
    return sorted(rows, key=lambda r: (r["area_code"], r["offence"], r["period_end"], r["source"], r["vintage"]))


# ---- acceptance: from nothing to the same league tables ---------------------------------------------------------


def test_download_through_mirror_then_ingest_equals_ingesting_the_shared_files(
    mirror: Mirror, loaded_store: Store, tmp_path: Path
) -> None:
    dest = tmp_path / "cache"
    result = runner.invoke(data_app, ["download", *EVERYTHING, "--dest", str(dest), "--mirror", mirror.base])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("downloaded ") == 13 and "warning" not in result.stderr

    manifest = json.loads((dest / "manifest.json").read_text())["files"]
    assert len(manifest) == 13
    for url, entry in manifest.items():
        assert entry["url"] == url and sha256(dest / entry["path"]) == entry["sha256"]
        assert {"size", "etag", "last_modified", "fetched_at", "dataset", "release"} <= set(entry)
    assert not [p for p in dest.rglob("*.part")]

    with Store(tmp_path / "downloaded.duckdb") as store:
        report = store.ingest([dest])
        assert not report.with_status("failed")
        assert {(f["source"], f["vintage"], f["sha256"]) for f in store.files()} == {
            (f["source"], f["vintage"], f["sha256"]) for f in loaded_store.files() if f["source"] != "police-uk"
        }  # the shared data's loose data.police.uk files are not among the datasets downloaded here
        assert (
            analytics.league_table(store, "2019-09").to_pylist()
            == analytics.league_table(loaded_store, "2019-09").to_pylist()
        )
        # every league table at once: each force × offence × period with its rate, rank and change
        assert every_statistic(store) == every_statistic(loaded_store)

    # a second run: every file and discovery document answered 304, no body sent
    mirror.log.clear()
    again = runner.invoke(data_app, ["download", *EVERYTHING, "--dest", str(dest), "--mirror", mirror.base])
    assert again.exit_code == 0, again.output
    assert again.stdout.count("unchanged ") == 13
    statuses = {entry.status for entry in mirror.log}
    assert statuses <= {304, 301} and 304 in statuses  # 301: the legacy boundaries address redirects
    assert sum(entry.body_bytes for entry in mirror.log) == 0
    assert all("if-none-match" in entry.headers for entry in mirror.log if entry.status == 304)


def test_a_manifest_written_by_the_old_code_is_still_read(mirror: Mirror, tmp_path: Path) -> None:
    """Format 1 manifests name each file's dataset `source`: its files stay known, unchanged and downloaded."""
    first = download_datasets(["ons-mye"], dest=tmp_path, mirror=mirror.base, policy=FAST)
    assert [(r.status, r.dataset) for r in first.results] == [("downloaded", "ons-mye")]
    path = tmp_path / "manifest.json"
    document = json.loads(path.read_text())
    old = {url: {("source" if k == "dataset" else k): v for k, v in e.items()} for url, e in document["files"].items()}
    path.write_text(json.dumps({"format": "crimestats-downloads/1", "files": old}))

    (row,) = status(None, ["ons-mye"], dest=tmp_path, mirror=mirror.base, policy=FAST).rows
    assert (row["dataset"], row["downloaded"]) == ("ons-mye", "mid-2023")
    again = download_datasets(["ons-mye"], dest=tmp_path, mirror=mirror.base, policy=FAST)
    assert [(r.status, r.dataset) for r in again.results] == [("unchanged", "ons-mye")]
    (entry,) = json.loads(path.read_text())["files"].values()
    assert entry["dataset"] == "ons-mye" and "source" not in entry


# ---- misbehaviour: each case ends in a correct file or a clear error ---------------------------------------------


def test_redirect_to_another_official_host_stays_on_the_mirror(mirror: Mirror, tmp_path: Path) -> None:
    report = download_datasets(["ons-pfa-boundaries"], dest=tmp_path, mirror=mirror.base, policy=FAST)
    assert [r.status for r in report.results] == ["downloaded"]
    assert [e.status for e in mirror.requests_for(served.BOUNDARIES_LEGACY_URL)] == [301]
    assert [e.status for e in mirror.requests_for(served.BOUNDARIES_URL)] == [200]


def test_retry_after_is_honoured_on_429(mirror: Mirror, tmp_path: Path, data_dir: Path) -> None:
    mirror.fault(SEP19, Fault("status", status=429, retry_after="7"))
    sleeps = Sleeps()
    result = fetch_one(mirror, tmp_path, SEP19, sleeps)
    assert result.status == "downloaded" and sleeps == [7.0]
    assert result.sha256 == sha256(original(data_dir, SEP19))


def test_retry_after_as_a_date_or_unreadable(mirror: Mirror, tmp_path: Path) -> None:
    mirror.fault(
        SEP19,
        Fault("status", status=503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),  # in the past: at once
        Fault("status", status=429, retry_after="soon"),  # unreadable: the policy's backoff
    )
    sleeps = Sleeps()
    assert fetch_one(mirror, tmp_path, SEP19, sleeps).status == "downloaded"
    assert sleeps == [0.0, 0.02]


def test_a_500_then_success_backs_off_and_retries(mirror: Mirror, tmp_path: Path, data_dir: Path) -> None:
    mirror.fault(SEP19, Fault("status", status=500), Fault("status", status=503))
    sleeps = Sleeps()
    result = fetch_one(mirror, tmp_path, SEP19, sleeps)
    assert result.status == "downloaded" and sleeps == [0.01, 0.02]
    assert [e.status for e in mirror.requests_for(SEP19)] == [500, 503, 200]


def test_persistent_server_errors_give_a_clear_error_and_no_file(mirror: Mirror, tmp_path: Path) -> None:
    mirror.fault(SEP19, Fault("status", status=502, times=None))
    with pytest.raises(
        DownloadError, match=r"policeforceareatablesyearendingseptember2019.xlsx: HTTP 502 .*4 attempts"
    ):
        fetch_one(mirror, tmp_path, SEP19)
    assert cached_names(tmp_path) <= {"manifest.json"}


def test_connection_dropped_mid_body_resumes_with_range(mirror: Mirror, tmp_path: Path, data_dir: Path) -> None:
    """A reset connection: the bytes the client kept (how many depends on timing) are resumed with If-Range."""
    mirror.fault(SEP19, Fault("drop", after=50_000))
    result = fetch_one(mirror, tmp_path, SEP19)
    assert result.sha256 == sha256(original(data_dir, SEP19))
    first, *retries = mirror.requests_for(SEP19)
    assert first.status == 200 and first.body_bytes == 50_000
    (last,) = retries
    if last.status == 206:  # almost always; 200 only if the reset arrived before any byte was read
        kept = result.size - last.body_bytes
        assert 0 < kept <= 50_000 and result.status == "resumed"
        assert last.headers["range"] == f"bytes={kept}-" and last.headers["if-range"].startswith('"')
    else:
        assert last.status == 200 and "range" not in last.headers


def test_truncated_body_with_correct_length_restarts_without_validators(
    mirror: Mirror, tmp_path: Path, data_dir: Path
) -> None:
    mirror.fault(SEP19, Fault("truncate", after=1_000, validators=False))
    result = fetch_one(mirror, tmp_path, SEP19)
    assert result.sha256 == sha256(original(data_dir, SEP19))
    assert ["range" in e.headers for e in mirror.requests_for(SEP19)] == [False, False]


def test_a_body_cut_short_every_time_completes_by_resuming(mirror: Mirror, tmp_path: Path, data_dir: Path) -> None:
    """Attempts that make resumable progress do not use up the retries (4 here, for 5 pieces)."""
    mirror.fault(SEP19, Fault("truncate", after=50_000, times=None))
    result = fetch_one(mirror, tmp_path, SEP19)
    assert result.status == "resumed" and result.sha256 == sha256(original(data_dir, SEP19))
    assert [e.status for e in mirror.requests_for(SEP19)] == [200, 206, 206, 206, 206]


def test_a_body_always_cut_short_is_an_error_and_never_a_cached_file(mirror: Mirror, tmp_path: Path) -> None:
    mirror.fault(SEP19, Fault("truncate", after=1_000, validators=False, times=None))
    with pytest.raises(DownloadError, match=r"connection broke after 1,000 bytes .*gave up after 4 attempts"):
        fetch_one(mirror, tmp_path, SEP19)
    assert cached_names(tmp_path) <= {"manifest.json"}  # no file, no partial file


def test_a_server_that_ignores_range_is_downloaded_again_from_the_start(
    mirror: Mirror, tmp_path: Path, data_dir: Path
) -> None:
    mirror.fault(SEP19, Fault("drop", after=10_000), Fault("serve", ranges=False))
    result = fetch_one(mirror, tmp_path, SEP19)
    assert result.status == "downloaded" and result.sha256 == sha256(original(data_dir, SEP19))
    assert [e.status for e in mirror.requests_for(SEP19)] == [200, 200]


def test_a_partial_file_from_an_earlier_run_resumes_only_if_unchanged(
    mirror: Mirror, tmp_path: Path, data_dir: Path
) -> None:
    body = original(data_dir, SEP19).read_bytes()
    folder = tmp_path / "ons-pfa-tables"
    folder.mkdir()
    name = url_file_name(SEP19)
    (folder / f".{name}.part").write_bytes(body[:100_000])
    etag = mirror.routes[served.key(SEP19)].etag
    (folder / f".{name}.part.json").write_text(json.dumps({"url": SEP19, "etag": etag, "last_modified": None}))
    assert fetch_one(mirror, tmp_path, SEP19).status == "resumed"
    assert mirror.requests_for(SEP19)[0].body_bytes == len(body) - 100_000

    # the publisher replaced the file since: If-Range fails, the server sends it all
    mirror.log.clear()
    (folder / name).unlink()
    (tmp_path / "manifest.json").unlink()
    (folder / f".{name}.part").write_bytes(b"PK\x03\x04 an older release")
    (folder / f".{name}.part.json").write_text(json.dumps({"url": SEP19, "etag": '"old"', "last_modified": None}))
    result = fetch_one(mirror, tmp_path, SEP19)
    assert result.status == "downloaded" and result.sha256 == sha256(original(data_dir, SEP19))
    assert mirror.requests_for(SEP19)[0].status == 200


def test_wrong_content_type_is_accepted_when_the_content_is_right(
    mirror: Mirror, tmp_path: Path, data_dir: Path
) -> None:
    mirror.fault(SEP19, Fault("content-type", content_type="text/plain"))
    result = fetch_one(mirror, tmp_path, SEP19)
    assert result.sha256 == sha256(original(data_dir, SEP19))


def test_html_error_page_instead_of_a_spreadsheet_is_refused(mirror: Mirror, tmp_path: Path) -> None:
    mirror.fault(SEP19, Fault("html"))
    with pytest.raises(DownloadError) as caught:
        fetch_one(mirror, tmp_path, SEP19)
    assert (
        str(caught.value)
        == f"{SEP19}: the server sent an HTML page instead of the spreadsheet (an error or moved page?)"
    )
    assert cached_names(tmp_path) <= {"manifest.json"}


def test_a_failed_update_leaves_the_cached_file_as_it_was(mirror: Mirror, tmp_path: Path, data_dir: Path) -> None:
    first = fetch_one(mirror, tmp_path, SEP19)
    mirror.set_file(SEP19, b"<!DOCTYPE html><html><body>We are updating this page</body></html>", served.XLSX)
    with pytest.raises(DownloadError, match="HTML page"):
        fetch_one(mirror, tmp_path, SEP19)
    assert first.path is not None and sha256(first.path) == sha256(original(data_dir, SEP19))
    assert cached_names(tmp_path) == {first.path.name, "manifest.json"}


def test_not_found_is_a_clear_error(mirror: Mirror, tmp_path: Path) -> None:
    url = "https://www.ons.gov.uk/file?uri=/peoplepopulationandcommunity/nothing/here.xlsx"
    with pytest.raises(DownloadError, match=r"here.xlsx: HTTP 404 Not Found \(via http://127.0.0.1:\d+/file\?uri="):
        fetch_one(mirror, tmp_path, url)


def test_size_limit(mirror: Mirror, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="207,840 bytes is over the size limit of 100,000 bytes"):
        fetch_one(mirror, tmp_path, SEP19, policy=FetchPolicy(retries=0, max_size=100_000))
    assert cached_names(tmp_path) <= {"manifest.json"}


def test_size_limit_without_content_length(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"PK\x03\x04" + bytes(60_000), bytes(60_000)]))

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        Fetcher(tmp_path, client=client, policy=FetchPolicy(retries=0, max_size=100_000)) as fetcher,
        pytest.raises(DownloadError, match="more than the size limit of 100,000 bytes"),
    ):
        fetcher.fetch(remote_file(SEP19), dataset="x", release="y")
    assert not list(tmp_path.rglob("*.part"))


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("xlsx", b"PK\x03\x04truncated zip", "not a complete spreadsheet"),
        ("csv", b"a,b\n\x00\x01\x02", "not a text CSV"),
        ("csv", b"\n  <!DOCTYPE html>\n<html>", "HTML page instead of the csv"),
        ("geojson", b'{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        ("geojson", b'{"type": "FeatureCollection", "features": [', "not valid JSON"),
        ("zip", b"", "not a complete zip archive"),
    ],
)
def test_content_checks(tmp_path: Path, kind: str, content: bytes, message: str) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)
    with pytest.raises(DownloadError, match=message):
        check_content(path, kind, "https://example.org/file")


# ---- discovery, offline fallback, latest ------------------------------------------------------------------------


def test_discovery_failure_falls_back_to_the_catalogue_with_a_warning(mirror: Mirror, tmp_path: Path) -> None:
    mirror.fault(f"{served.ONS}{served.MYE_URI}/data", Fault("status", status=500, times=None))
    report = download_datasets(["ons-mye"], dest=tmp_path, mirror=mirror.base, policy=FAST, sleep=Sleeps())
    assert [(r.status, r.release) for r in report.results] == [("downloaded", "mid-2023")]
    assert len(report.warnings) == 1 and "ons-mye: could not discover the latest release" in report.warnings[0]
    assert "using the releases in the catalogue" in report.warnings[0]


def test_offline_discovery_warns_and_the_download_fails_clearly(tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    result = runner.invoke(
        data_app, ["download", "ons-lookup", "--dest", str(tmp_path), "--mirror", dead, "--retries", "0"]
    )
    assert result.exit_code == 1
    assert "warning: ons-lookup: could not discover the latest release" in result.stderr
    assert (
        "error: https://hub.arcgis.com/api/v3/datasets/a90c5fce795e4df7af9f40d41f479405_0/downloads/data"
        in result.stderr
    )


def test_latest_only_and_old_editions(mirror: Mirror, tmp_path: Path) -> None:
    report = download_datasets(["ons-pfa-tables"], dest=tmp_path, mirror=mirror.base, policy=FAST, latest_only=True)
    assert [(r.release, r.path.name if r.path else None) for r in report.results] == [
        ("2025-06", "policeforceareatablesyejune25final.csv")
    ]
    edition_pages = {e.path.rsplit("/", 2)[-2] for e in mirror.log if e.path.endswith("/data")}
    assert edition_pages == {"policeforceareadatatables", "yearendingjune2025"}  # newest only; not the 2016 .xls


def test_police_uk_archive_from_the_dates_api(mirror: Mirror, tmp_path: Path) -> None:
    report = download_datasets(["police-uk-archive"], dest=tmp_path, mirror=mirror.base, policy=FAST)
    (result,) = report.results
    assert (result.status, result.release, result.path) == (
        "downloaded",
        "2025-12",
        tmp_path / "police-uk-archive" / "2025-12.zip",
    )


# ---- status and the one-step path -------------------------------------------------------------------------------


def test_status_compares_the_store_with_the_latest_release(
    mirror: Mirror, loaded_store: Store, tmp_path: Path, data_dir: Path
) -> None:
    rows = {r["dataset"]: r for r in status(loaded_store, dest=tmp_path, mirror=mirror.base, policy=FAST).rows}
    assert rows["ons-pfa-tables"]["in_store"] == "2025-06" and rows["ons-pfa-tables"]["latest"] == "2025-06"
    assert rows["ons-pfa-tables"]["update_available"] is False
    # the year ending June 2025 force tables are read as the source of the discontinued partnership tables too
    assert rows["ons-csp-tables"]["in_store"] is None and rows["ons-csp-tables"]["note"] == "not in the store"
    assert rows["ons-mye"]["update_available"] is False and rows["ons-lookup"]["update_available"] is False
    assert rows["ons-mye"]["note"] == "up to date"
    assert rows["home-office-pfa"]["update_available"] is True  # nothing downloaded: cannot tell, offer it
    assert rows["police-uk-archive"]["update_available"] is True and rows["police-uk-archive"]["in_store"] is None

    # ONS publishes a new edition
    landing = json.loads(mirror.routes[served.key(f"{served.ONS}{served.PFA_URI}/data")].body)
    landing["datasets"].insert(0, {"uri": f"{served.PFA_URI}/yearendingseptember2025"})
    mirror.set_json(f"{served.ONS}{served.PFA_URI}/data", landing)
    edition = served.ons_edition(
        f"{served.PFA_URI}/yearendingseptember2025", "Year ending September 2025", [("pfatablesyesep25.xlsx", 1)]
    )
    mirror.set_json(f"{served.ONS}{served.PFA_URI}/yearendingseptember2025/data", edition)
    with Store(tmp_path / "small.duckdb") as small:  # the session store is open read-write: the CLI cannot share it
        small.ingest([data_dir / served.PFA_EDITIONS["yearendingdecember2019"]])
    result = runner.invoke(
        data_app,
        [
            "status",
            "ons-pfa-tables",
            "--db",
            str(tmp_path / "small.duckdb"),
            "--dest",
            str(tmp_path),
            "--mirror",
            mirror.base,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2019-12" in result.stdout and "2025-09" in result.stdout and "newer release" in result.stdout


def test_status_offline_uses_the_catalogue(tmp_path: Path) -> None:
    result = runner.invoke(
        data_app,
        [
            "status",
            "ons-mye",
            "--db",
            str(tmp_path / "none.duckdb"),
            "--dest",
            str(tmp_path),
            "--mirror",
            "http://127.0.0.1:9",
            "-f",
            "json",
            "--retries",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["latest"], row["discovered"], row["in_store"], row["update_available"]) == (
        "mid-2023",
        False,
        None,
        True,
    )
    assert "could not discover" in result.stderr


def test_ensure_data_asks_downloads_and_ingests(mirror: Mirror, tmp_path: Path) -> None:
    questions: list[str] = []

    def confirm(question: str) -> bool:
        questions.append(question)
        return True

    with Store(tmp_path / "store.duckdb") as store:
        done = ensure_data(
            store,
            yes=False,
            mirror=mirror.base,
            dest=tmp_path / "cache",
            confirm=confirm,
            names=["ons-mye", "ons-lookup"],
        )
        assert done is not None and len(questions) == 1 and "holds no figures" in questions[0]
        assert {r.status for r in done.ingest.results} == {"ingested"}
        assert {f["source"] for f in store.files()} == {"ons-mye", "ons-lookup"}
        # a store with data is left alone, without asking
        assert ensure_data(store, yes=False, mirror=mirror.base, dest=None, confirm=confirm) is None
        assert len(questions) == 1


def test_ensure_data_declined_names_the_offline_path(tmp_path: Path) -> None:
    with Store(tmp_path / "store.duckdb") as store, pytest.raises(NoDataError, match="crimestats ingest DIR"):
        ensure_data(store, yes=False, mirror=None, dest=tmp_path, confirm=lambda question: False)


def test_ensure_data_with_nothing_reachable_is_an_error(tmp_path: Path) -> None:
    with Store(tmp_path / "store.duckdb") as store, pytest.raises(DownloadError, match="no file could be downloaded"):
        ensure_data(
            store,
            yes=True,
            mirror="http://127.0.0.1:9",
            dest=tmp_path,
            confirm=lambda question: False,
            names=["ons-lookup"],
            policy=FetchPolicy(retries=0, discovery_retries=0),
        )
    assert isinstance(DownloadError("x"), CrimestatsError)


def test_report_on_an_empty_store_downloads_ingests_and_reports(
    mirror: Mirror, tmp_path: Path, loaded_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-command path: `crimestats report ... --yes` from nothing, through the mirror, gives the same national
    league table as a store built from the shared files."""
    from crimestats.cli import app
    from crimestats.reports.national import national_report

    monkeypatch.setenv("CRIMESTATS_CACHE", str(tmp_path / "cache"))
    db = str(tmp_path / "fresh.duckdb")
    command = ["--db", db, "report", "--national", "--period", "2019-09", "--format", "json", "--mirror", mirror.base]
    refused = runner.invoke(app, command)  # not a terminal and no --yes: nothing is fetched
    assert refused.exit_code == 1
    assert "crimestats ingest DIR" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not mirror.log
    result = runner.invoke(app, [*command, "--yes"])
    assert result.exit_code == 0, result.stderr
    assert "downloaded and ingested" in result.stderr
    league = {r["force_code"]: r for r in json.loads(result.stdout)["tables"][1]["rows"]}
    expected = national_report(loaded_store, "2019-09").table("league").rows
    assert {r["force_code"]: (r["count"], r["rate_per_1000"]) for r in expected} == {
        code: (r["count"], r["rate_per_1000"]) for code, r in league.items()
    }
