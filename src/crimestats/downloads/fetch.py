"""Downloading the official files: conditional, resumable, verified and atomic.

Each file is fetched to a hidden temporary name in its dataset's folder (``.<name>.part``, with a sidecar
``.<name>.part.json`` holding the server's validator), checked — the size the server announced, and the
content: a spreadsheet or archive must be a complete zip, a CSV text rather than an HTML page, GeoJSON a
FeatureCollection — and only then renamed over the cached file. An interrupted download therefore never
leaves a corrupt file under the real name; the next run resumes the temporary file with ``Range`` and
``If-Range`` when the server supports it. ``manifest.json`` in the cache folder records, per official URL,
the path, sha256, size, ``ETag`` and ``Last-Modified`` of each file, so a later run asks the server
"changed since?" (``If-None-Match`` / ``If-Modified-Since``) and an unchanged release is not fetched again.

Transient failures (connection errors, timeouts, a body cut short, HTTP 408/429/5xx) are retried with
exponential backoff, honouring ``Retry-After``. A mirror (``mirror="http://host:port/prefix"``) serves each
official URL's path and query from another host, for an organisation's internal mirror or a test server.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crimestats.downloads.cache import Manifest, check_content, default_cache_dir
from crimestats.downloads.catalogue import Dataset, Release
from crimestats.downloads.discovery import resolve_releases, select_datasets
from crimestats.downloads.http import Fetcher, FetchPolicy, FetchResult, ProgressHook, via_mirror
from crimestats.errors import CrimestatsError, DownloadError

__all__ = [
    "DownloadError",
    "DownloadReport",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "Manifest",
    "ProgressHook",
    "check_content",
    "default_cache_dir",
    "download",
    "resolve_releases",
    "via_mirror",
]


@dataclass
class DownloadReport:
    """What a download run did: one result per file, the releases chosen and any warnings."""

    dest: Path
    results: list[FetchResult] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def with_status(self, *statuses: str) -> list[FetchResult]:
        return [r for r in self.results if r.status in statuses]

    @property
    def failed(self) -> list[FetchResult]:
        return self.with_status("failed")


def download(
    names: Sequence[str] | None = None,
    *,
    dest: Path | None = None,
    mirror: str | None = None,
    latest_only: bool = False,
    policy: FetchPolicy | None = None,
    progress: ProgressHook | None = None,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    catalogue: dict[str, Dataset] | None = None,
    months: tuple[dt.date | None, dt.date | None] | None = None,
) -> DownloadReport:
    """Download the releases of the named datasets (default: the catalogue's default datasets) into ``dest``
    (default: :func:`default_cache_dir`). A file that fails is reported as ``failed`` and the rest go on.

    ``months`` (first, last; either open) fetches the fewest data.police.uk archives that hold those months
    instead of the newest archive only; it is for ``police-uk-archive`` alone."""
    datasets = select_datasets(names, catalogue)
    if months is not None and [dataset.name for dataset in datasets] != ["police-uk-archive"]:
        raise CrimestatsError("--from, --to and --force choose months and a force of police-uk-archive alone")
    report = DownloadReport(dest=Path(dest) if dest is not None else default_cache_dir())
    with Fetcher(report.dest, mirror=mirror, policy=policy, client=client, progress=progress, sleep=sleep) as fetcher:
        for dataset in datasets:
            releases = resolve_releases(
                dataset, fetcher, latest_only=latest_only, warnings=report.warnings, months=months
            )
            report.releases.extend(releases)
            for release in releases:
                for remote in release.files:
                    try:
                        result = fetcher.fetch(remote, dataset=dataset.name, release=release.release)
                    except DownloadError as exc:
                        result = FetchResult(remote.url, "failed", dataset.name, release.release, error=str(exc))
                    report.results.append(result)
    return report
