"""Keeping the store current: :func:`status` compares, per dataset, the release in the store with the latest the
publisher lists; :func:`ensure_data` is the one-step path for an empty store: ask, download, ingest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from crimestats.downloads.cache import default_cache_dir
from crimestats.downloads.catalogue import Dataset, Release, load_catalogue, release_key
from crimestats.downloads.discovery import resolve_releases, select_datasets
from crimestats.downloads.fetch import DownloadError, DownloadReport, download
from crimestats.downloads.http import Fetcher, FetchPolicy, ProgressHook
from crimestats.errors import NoDataError
from crimestats.store import IngestReport, Store

__all__ = ["EnsureResult", "StatusReport", "ensure_data", "status"]


@dataclass
class StatusReport:
    """Per dataset: the release in the store, the latest the publisher lists, and whether to update."""

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
    """For every catalogue dataset (or those named): the newest vintage in ``store``, the newest release
    downloaded into ``dest``, the latest release known (discovered, or the catalogue's when offline) and
    ``update_available``. Datasets the store does not read are compared with what was downloaded."""
    catalogue = load_catalogue()
    datasets = select_datasets(names, catalogue) if names else list(catalogue.values())
    stored = store.files() if store is not None else []
    stored_sha = {str(f["sha256"]) for f in stored}
    report = StatusReport()
    with Fetcher(dest or default_cache_dir(), mirror=mirror, policy=policy, client=client) as fetcher:
        for dataset in datasets:
            warnings: list[str] = []
            releases = resolve_releases(dataset, fetcher, latest_only=True, warnings=warnings)
            latest = releases[-1] if releases else None
            report.warnings.extend(warnings)
            vintages = [str(f["vintage"]) for f in stored if _stored_from(f, dataset, catalogue)]
            in_store = max(vintages, key=release_key) if vintages else None
            entries = [e for e in fetcher.manifest.files.values() if e.get("dataset") == dataset.name]
            downloaded = max((str(e["release"]) for e in entries), key=release_key, default=None)
            update = _update_available(dataset, latest, in_store, entries, stored_sha)
            report.rows.append(
                {
                    "dataset": dataset.name,
                    "title": dataset.title,
                    "in_store": in_store,
                    "downloaded": downloaded,
                    "latest": latest.release if latest else None,
                    "latest_period": latest.period if latest else None,
                    "latest_published": latest.published if latest else None,
                    "discovered": not warnings,
                    "update_available": update,
                    "note": _note(dataset, update, in_store, downloaded),
                }
            )
    return report


def _stored_from(file: Mapping[str, Any], dataset: Dataset, catalogue: Mapping[str, Dataset]) -> bool:
    """Whether a stored file came from ``dataset``: it was read as one of the dataset's store sources, and, when
    the file's name is in the catalogue (whatever its extension), the catalogue lists it under this dataset. ONS
    force tables from 2020 are read as the same store source as the discontinued partnership tables."""
    if file["source"] not in dataset.read_as:
        return False
    stem = Path(str(file["file_name"])).stem
    listed = {
        other.name
        for other in catalogue.values()
        if any(Path(remote.name).stem == stem for release in other.releases for remote in release.files)
    }
    return not listed or dataset.name in listed


def _update_available(
    dataset: Dataset,
    latest: Release | None,
    in_store: str | None,
    entries: list[dict[str, Any]],
    stored_sha: set[str],
) -> bool:
    if latest is None:
        return False
    fetched = {str(e["url"]): e for e in entries}
    if not dataset.read_as:  # not read by the store: compare with the downloads
        return not all(f.url in fetched for f in latest.files)
    if in_store is None:
        return True
    if latest.period is not None:
        return release_key(latest.period) > release_key(in_store)
    return not all(f.url in fetched and fetched[f.url].get("sha256") in stored_sha for f in latest.files)


def _note(dataset: Dataset, update: bool, in_store: str | None, downloaded: str | None) -> str:
    if not update:
        return "up to date"
    if dataset.read_as and in_store is None:
        return "downloaded, not in the store" if downloaded else "not in the store"
    return "newer release" if dataset.read_as or downloaded else "not downloaded"


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
    """On an empty store, download the default datasets (or ``names``) and ingest them; None if the store has data.

    Unless ``yes``, ``confirm(question)`` is asked first; a refusal raises :class:`NoDataError` naming the
    offline path. A run in which no file could be fetched raises :class:`DownloadError`; otherwise the
    failures are in the result's ``download.failed`` and ``ingest`` reports what each file did.
    """
    if store.files():
        return None
    datasets = select_datasets(names)
    folder = Path(dest) if dest is not None else default_cache_dir()
    where = f" through the mirror {mirror}" if mirror else ""
    question = (
        f"The store {store.path} holds no figures. Download the official files{where} "
        f"({', '.join(d.name for d in datasets)}) into {folder} and read them into the store?"
    )
    if not yes and not confirm(question):
        raise NoDataError(
            f"the store {store.path} is empty: run `crimestats data download` then `crimestats ingest {folder}`, "
            "or `crimestats ingest DIR` on official files you already have"
        )
    report = download(
        [d.name for d in datasets], dest=folder, mirror=mirror, policy=policy, progress=progress, client=client
    )
    if report.results and len(report.failed) == len(report.results):
        raise DownloadError(f"no file could be downloaded; first error: {report.failed[0].error}")
    folders = [folder / d.name for d in datasets if (folder / d.name).is_dir()]
    return EnsureResult(download=report, ingest=store.ingest(folders))
