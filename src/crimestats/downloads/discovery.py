"""Finding the releases to download: each dataset's catalogue entry resolved to files, through the
publishers' own listings (ONS, GOV.UK, ArcGIS, data.police.uk), cached between runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlsplit

from crimestats.downloads.catalogue import (
    Dataset,
    Release,
    covering_archives,
    load_catalogue,
    parse_arcgis_item,
    parse_govuk_content,
    parse_ons_edition,
    parse_ons_landing,
    parse_police_uk_dates,
    release_from_edition,
    release_key,
)
from crimestats.downloads.http import Fetcher
from crimestats.errors import CrimestatsError, DownloadError


def resolve_releases(
    dataset: Dataset,
    fetcher: Fetcher,
    *,
    latest_only: bool = False,
    warnings: list[str] | None = None,
    months: tuple[dt.date | None, dt.date | None] | None = None,
) -> list[Release]:
    """The releases of a dataset to fetch, newest last: what discovery finds (merged over the catalogue's, by
    release), or the catalogue's own with a warning when discovery fails. Datasets whose releases replace each
    other (``editions = "latest"``) and ``latest_only`` give only the newest; ``months`` (first, last) instead
    gives the fewest data.police.uk archives that hold those months (:func:`covering_archives`)."""
    try:
        found = _discover(dataset, fetcher, latest_only or not dataset.keeps_every_edition)
    except CrimestatsError as exc:
        if warnings is not None and dataset.discovery.method != "fixed":
            warnings.append(
                f"{dataset.name}: could not discover the latest release ({exc}); using the releases in the catalogue"
            )
        found = []
    if dataset.keeps_every_edition:  # discovered editions replace catalogued ones of the same name
        releases = {r.release: r for r in (*dataset.releases, *found)}
    else:
        releases = {r.release: r for r in (found or dataset.releases)}
    ordered = sorted(releases.values(), key=lambda r: release_key(r.release))
    if months is not None and dataset.discovery.method == "police-uk-archive":
        return covering_archives(dataset, ordered[-1].release, *months)
    if latest_only or not dataset.keeps_every_edition:
        ordered = ordered[-1:]
    return ordered


def _discover(dataset: Dataset, fetcher: Fetcher, newest_only: bool) -> list[Release]:
    method, url = dataset.discovery.method, dataset.discovery.url or ""
    if method == "fixed":
        return []
    if method == "govuk-content-api":
        release = parse_govuk_content(fetcher.get_json(url), url, dataset)
        if release is None:
            raise DownloadError(f"{url}: no attachment matching '{dataset.discovery.match}'")
        return [release]
    if method == "police-uk-archive":
        return [parse_police_uk_dates(fetcher.get_json(url), url, dataset)]
    if method == "arcgis-hub":
        return [parse_arcgis_item(fetcher.get_json(url), url, dataset)]
    return _discover_ons(dataset, fetcher, url, newest_only)


def _discover_ons(dataset: Dataset, fetcher: Fetcher, url: str, newest_only: bool) -> list[Release]:
    host = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    editions = parse_ons_landing(fetcher.get_json(url), url)
    since = release_key(dataset.discovery.since) if dataset.discovery.since else ()
    dated = sorted(
        (release_key(release_from_edition(uri.rstrip("/").rsplit("/", 1)[-1])), uri)
        for uri in editions
        if release_key(release_from_edition(uri.rstrip("/").rsplit("/", 1)[-1])) >= since
    )
    releases: list[Release] = []
    for _, uri in reversed(dated):
        edition_url = f"{host}{uri.rstrip('/')}/data"
        release = parse_ons_edition(fetcher.get_json(edition_url), edition_url, dataset)
        if release is not None:
            releases.append(release)
            if newest_only:
                break
    if not releases:
        raise DownloadError(f"{url}: no edition lists a {'/'.join(dataset.file_types)} file")
    return releases


def select_datasets(names: Sequence[str] | None, catalogue: dict[str, Dataset] | None = None) -> list[Dataset]:
    """The catalogue datasets named (all ``default`` ones when none are), or an error naming the unknown ones."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    if not names:
        return [dataset for dataset in catalogue.values() if dataset.default]
    unknown = [name for name in names if name not in catalogue]
    if unknown:
        listed = ", ".join(f"'{name}'" for name in unknown)
        raise CrimestatsError(f"unknown dataset {listed}; known: {', '.join(catalogue)}")
    return [catalogue[name] for name in dict.fromkeys(names)]
