"""Getting the official files: a catalogue of sources, cached and verified downloads, and update checks.

    catalogue   data/sources.toml: publisher, landing page, licence, discovery and known releases per source
    fetch       conditional, resumable, size-limited, verified, atomic downloads into a cache with a manifest

:func:`download` fetches releases into the cache (platformdirs' user cache, or ``dest``); ``crimestats ingest``
reads them from there. :func:`status` compares, per source, the release in the store with the latest the
publisher lists. :func:`ensure_data` is the one-step path for an empty store: ask, download, ingest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from crimestats.downloads.cache import default_cache_dir
from crimestats.downloads.catalogue import Release, RemoteFile, Source, load_catalogue, release_key
from crimestats.downloads.discovery import resolve_releases, select_sources
from crimestats.downloads.fetch import DownloadError, DownloadReport, download
from crimestats.downloads.http import Fetcher, FetchPolicy, FetchResult, ProgressHook, via_mirror
from crimestats.errors import NoDataError
from crimestats.store import IngestReport, Store

__all__ = [
    "DownloadError",
    "DownloadReport",
    "EnsureResult",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "ProgressHook",
    "Release",
    "RemoteFile",
    "Source",
    "StatusReport",
    "default_cache_dir",
    "download",
    "ensure_data",
    "load_catalogue",
    "status",
    "via_mirror",
]


@dataclass
class StatusReport:
    """Per source: the release in the store, the latest the publisher lists, and whether to update."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def status(
    store: Store | None,
    names: Sequence[str] | None = None,
    *,
    dest: Path | None = None,
    mirror: str | None = None,
    policy: FetchPolicy | None = None,
    client: httpx.Client | None = None,
) -> StatusReport:
    """For every catalogue source (or those named): the newest vintage in ``store``, the newest release
    downloaded into ``dest``, the latest release known (discovered, or the catalogue's when offline) and
    ``update_available``. Sources the store does not read are compared with what was downloaded."""
    catalogue = load_catalogue()
    sources = select_sources(names, catalogue) if names else list(catalogue.values())
    stored = store.files() if store is not None else []
    stored_sha = {str(f["sha256"]) for f in stored}
    report = StatusReport()
    with Fetcher(dest or default_cache_dir(), mirror=mirror, policy=policy, client=client) as fetcher:
        for source in sources:
            warnings: list[str] = []
            releases = resolve_releases(source, fetcher, latest_only=True, warnings=warnings)
            latest = releases[-1] if releases else None
            report.warnings.extend(warnings)
            vintages = [str(f["vintage"]) for f in stored if _stored_from(f, source, catalogue)]
            in_store = max(vintages, key=release_key) if vintages else None
            entries = [e for e in fetcher.manifest.files.values() if e.get("source") == source.name]
            downloaded = max((str(e["release"]) for e in entries), key=release_key, default=None)
            update = _update_available(source, latest, in_store, entries, stored_sha)
            report.rows.append(
                {
                    "source": source.name,
                    "title": source.title,
                    "in_store": in_store,
                    "downloaded": downloaded,
                    "latest": latest.release if latest else None,
                    "latest_period": latest.period if latest else None,
                    "latest_published": latest.published if latest else None,
                    "discovered": not warnings,
                    "update_available": update,
                    "note": _note(source, update, in_store, downloaded),
                }
            )
    return report


def _stored_from(file: Mapping[str, Any], source: Source, catalogue: Mapping[str, Source]) -> bool:
    """Whether a stored file came from ``source``: its reader is one the source's files are read by, and, when
    the file's name is in the catalogue (whatever its extension), the catalogue lists it under this source. ONS
    force tables from 2020 are read by the same reader as the discontinued partnership tables."""
    if file["source"] not in source.store_sources:
        return False
    stem = Path(str(file["file_name"])).stem
    listed = {
        other.name
        for other in catalogue.values()
        if any(Path(remote.name).stem == stem for release in other.releases for remote in release.files)
    }
    return not listed or source.name in listed


def _update_available(
    source: Source,
    latest: Release | None,
    in_store: str | None,
    entries: list[dict[str, Any]],
    stored_sha: set[str],
) -> bool:
    if latest is None:
        return False
    fetched = {str(e["url"]): e for e in entries}
    if not source.store_sources:  # not read by the store: compare with the downloads
        return not all(f.url in fetched for f in latest.files)
    if in_store is None:
        return True
    if latest.period is not None:
        return release_key(latest.period) > release_key(in_store)
    return not all(f.url in fetched and fetched[f.url].get("sha256") in stored_sha for f in latest.files)


def _note(source: Source, update: bool, in_store: str | None, downloaded: str | None) -> str:
    if not update:
        return "up to date"
    if source.store_sources and in_store is None:
        return "downloaded, not in the store" if downloaded else "not in the store"
    return "newer release" if source.store_sources or downloaded else "not downloaded"


@dataclass(frozen=True)
class EnsureResult:
    """What :func:`ensure_data` downloaded and ingested."""

    download: DownloadReport
    ingest: IngestReport


def ensure_data(
    store: Store,
    *,
    yes: bool,
    mirror: str | None,
    dest: Path | None,
    confirm: Callable[[str], bool],
    names: Sequence[str] | None = None,
    policy: FetchPolicy | None = None,
    progress: ProgressHook | None = None,
    client: httpx.Client | None = None,
) -> EnsureResult | None:
    """On an empty store, download the default sources (or ``names``) and ingest them; None if the store has data.

    Unless ``yes``, ``confirm(question)`` is asked first; a refusal raises :class:`NoDataError` naming the
    offline path. A run in which no file could be fetched raises :class:`DownloadError`; otherwise the
    failures are in the result's ``download.failed`` and ``ingest`` reports what each file did.
    """
    if store.files():
        return None
    sources = select_sources(names)
    folder = Path(dest) if dest is not None else default_cache_dir()
    where = f" through the mirror {mirror}" if mirror else ""
    question = (
        f"The store {store.path} holds no figures. Download the official files{where} "
        f"({', '.join(s.name for s in sources)}) into {folder} and read them into the store?"
    )
    if not yes and not confirm(question):
        raise NoDataError(
            f"the store {store.path} is empty: run `crimestats data download` then `crimestats ingest {folder}`, "
            "or `crimestats ingest DIR` on official files you already have"
        )
    report = download(
        [s.name for s in sources], dest=folder, mirror=mirror, policy=policy, progress=progress, client=client
    )
    if report.results and len(report.failed) == len(report.results):
        raise DownloadError(f"no file could be downloaded; first error: {report.failed[0].error}")
    folders = [folder / s.name for s in sources if (folder / s.name).is_dir()]
    return EnsureResult(download=report, ingest=store.ingest(folders))
