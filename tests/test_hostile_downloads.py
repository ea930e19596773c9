"""Downloads from hostile servers (issue 9, reproducer 7), against real servers on 127.0.0.1: a trickle of one
byte a second, discovery documents and GeoJSON nested thousands deep, an https page redirecting to plain http.
Each ends in one clear error, in time, with no file or ``.part`` left behind."""

from __future__ import annotations

import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from crimestats.downloads.catalogue import remote_file
from crimestats.downloads.cli import data_app
from crimestats.downloads.fetch import DownloadError, Fetcher, FetchPolicy, via_mirror
from crimestats.downloads.fetch import download as download_datasets
from crimestats.store import sha256

import mirror as served
from mirror import Fault, Mirror

runner = CliRunner()
SLOW = FetchPolicy(timeout=2, retries=3, backoff=0.01, max_backoff=0.05)
SEP19 = served.pfa_url("yearendingseptember2019")
DEEP = 5_000


def left_behind(dest: Path) -> set[str]:
    """Files in the cache other than the manifest and the discovery cache: none after a failure."""
    return {p.name for p in dest.rglob("*") if p.is_file()} - {"manifest.json", ".discovery.json"}


def fetch_sep19(base: str, dest: Path, policy: FetchPolicy = SLOW) -> Any:
    with Fetcher(dest, mirror=base, policy=policy, sleep=lambda _: None) as fetcher:
        return fetcher.fetch(remote_file(SEP19, ("xlsx",)), dataset="ons-pfa-tables", release="2019-09")


# ---- a server that trickles ---------------------------------------------------------------------------------


def test_a_server_sending_one_byte_a_second_fails_within_the_timeout(mirror: Mirror, tmp_path: Path) -> None:
    """The timeout was per read, so one byte a second kept the download alive for as long as the server liked."""
    mirror.fault(SEP19, Fault("trickle", after=30))  # once: a retry would then succeed
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"too slow, \d+ bytes in \d s \(the minimum is 1,024 bytes a second\)"):
        fetch_sep19(mirror.base, tmp_path)
    assert time.monotonic() - started < 2 * SLOW.timeout + 1
    assert left_behind(tmp_path) == set()


def test_the_deadline_bounds_a_whole_download(mirror: Mirror, tmp_path: Path) -> None:
    mirror.fault(SEP19, Fault("trickle", after=30, times=None))
    policy = FetchPolicy(timeout=10, deadline=1.5, min_rate=0, retries=3)
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"not finished within the deadline of 2 s"):
        fetch_sep19(mirror.base, tmp_path, policy)
    assert time.monotonic() - started < 4
    assert left_behind(tmp_path) == set()


def test_cli_download_from_a_trickling_server_is_one_error_line_within_the_timeout(
    mirror: Mirror, tmp_path: Path, data_dir: Path
) -> None:
    mirror.fault(served.BOUNDARIES_URL, Fault("trickle", after=30, times=None))
    started = time.monotonic()
    result = runner.invoke(
        data_app,
        ["download", "ons-pfa-boundaries", "--dest", str(tmp_path), "--mirror", mirror.base, "--timeout", "3"],
    )
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {served.BOUNDARIES_LEGACY_URL}: too slow, ")
    assert left_behind(tmp_path) == set()


# ---- JSON nested thousands deep -----------------------------------------------------------------------------


def test_a_discovery_response_nested_thousands_deep_is_one_error(mirror: Mirror, tmp_path: Path) -> None:
    """It escaped as RecursionError; now it is refused before parsing, and discovery falls back to the catalogue."""
    landing = f"{served.ONS}{served.MYE_URI}/data"
    mirror.set_file(landing, b'{"datasets":' * DEEP + b"[]" + b"}" * DEEP, "application/json")
    deep = pytest.raises(DownloadError, match=r"/data: JSON nested more than 64 levels deep$")
    with Fetcher(tmp_path, mirror=mirror.base, policy=SLOW) as fetcher, deep:
        fetcher.get_json(landing)
    report = download_datasets(["ons-mye"], dest=tmp_path, mirror=mirror.base, policy=SLOW)
    (warning,) = report.warnings
    assert "could not discover the latest release" in warning and "nested more than 64 levels deep" in warning
    assert [r.status for r in report.results] == ["downloaded"]  # the catalogue's release


def test_a_geojson_nested_thousands_deep_is_refused_and_leaves_no_part_file(mirror: Mirror, tmp_path: Path) -> None:
    body = b'{"type": "FeatureCollection", "features": [' + b"[" * DEEP + b"]" * DEEP + b"]}"
    mirror.set_file(served.BOUNDARIES_URL, body, "application/geo+json")
    report = download_datasets(["ons-pfa-boundaries"], dest=tmp_path, mirror=mirror.base, policy=SLOW)
    (failed,) = report.failed
    assert failed.error == f"{served.BOUNDARIES_LEGACY_URL}: JSON nested more than 64 levels deep"
    assert left_behind(tmp_path) == set()


def test_the_real_boundaries_are_within_the_depth_limit(mirror: Mirror, tmp_path: Path, data_dir: Path) -> None:
    report = download_datasets(["ons-pfa-boundaries"], dest=tmp_path, mirror=mirror.base, policy=SLOW)
    (result,) = report.results
    assert result.sha256 == sha256(data_dir / "boundaries" / "force_boundaries_ugc.geojson")


# ---- https redirected to http -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def downgrading(certificate: tuple[Path, Path], mirror: Mirror) -> Iterator[str]:
    """An https server on 127.0.0.1 that redirects every path to the same path on the plain-http mirror."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(302)
            self.send_header("Location", f"{mirror.base}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_https_to_http_redirect_is_refused(
    downgrading: str, certificate: tuple[Path, Path], mirror: Mirror, tmp_path: Path
) -> None:
    """It was followed silently: the file then came over plain http, open to tampering on the way."""
    official = via_mirror(SEP19, downgrading)  # an official https URL, served here (no mirror)
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(certificate[0])))
    refused = pytest.raises(DownloadError, match=r"refused a redirect from https to http://127\.0\.0\.1:\d+/file")
    with client, Fetcher(tmp_path, policy=SLOW, client=client) as fetcher, refused:
        fetcher.fetch(remote_file(official, ("xlsx",)), dataset="ons-pfa-tables", release="2019-09")
    assert mirror.requests_for(SEP19) == []  # nothing was asked of the plain-http server
    assert left_behind(tmp_path) == set()


def test_an_http_mirror_named_by_the_user_is_used(mirror: Mirror, tmp_path: Path, data_dir: Path) -> None:
    """The official https URLs through ``--mirror http://…``: plain http because the user asked for it."""
    assert via_mirror(SEP19, mirror.base).startswith("http://")
    result = fetch_sep19(mirror.base, tmp_path)
    assert result.status == "downloaded"
    assert result.sha256 == sha256(data_dir / served.PFA_EDITIONS["yearendingseptember2019"])
