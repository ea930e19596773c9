"""The catalogue of official datasets (``data/datasets.toml``) and the parsers for the publishers' discovery responses.

Discovery finds the releases a publisher lists now; the catalogue's own releases are the fallback when it
cannot be reached. Every parser here is pure (a decoded JSON document in, releases out) so that it can be
tested against recorded shapes:

- ``ons-dataset-json``: an ONS dataset page with ``/data`` appended lists its editions (``datasets[].uri``);
  each edition's own ``/data`` lists its files (``downloads[].file``), served at ``/file?uri=<edition>/<file>``.
- ``govuk-content-api``: ``https://www.gov.uk/api/content/<path>`` lists a page's files in
  ``details.attachments[]`` (``url``, ``filename``, ``content_type``) and its ``public_updated_at``.
- ``police-uk-archive``: ``https://data.police.uk/api/crimes-street-dates`` lists the months published
  (``[{"date": "2025-12", ...}]``); the archive of the newest month holds the latest 36 months, and there is
  an archive for every month since December 2010, each holding the 36 months up to its own
  (:func:`covering_archives` picks the fewest that hold a range of months).
- ``arcgis-hub``: ``https://hub.arcgis.com/api/v3/datasets/<item>_<layer>`` describes one Open Geography
  Portal item (``data.attributes.modified`` in milliseconds); each vintage of a boundary or lookup is a
  separate item, so discovery confirms the catalogued item and its last change rather than finding a newer one.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from crimestats.errors import CrimestatsError, DiscoveryFormatError, DownloadError

__all__ = [
    "Discovery",
    "Release",
    "RemoteFile",
    "Dataset",
    "covering_archives",
    "file_kind",
    "load_catalogue",
    "parse_arcgis_item",
    "parse_govuk_content",
    "parse_ons_edition",
    "parse_ons_landing",
    "parse_police_uk_dates",
    "release_from_edition",
    "release_key",
]

METHODS = ("ons-dataset-json", "govuk-content-api", "police-uk-archive", "arcgis-hub", "fixed")
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_YEAR_ENDING = re.compile(
    r"(?:year)?(?:ending|ye)(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")(\d{4}|\d{2})(?!\d)"
)


@dataclass(frozen=True)
class RemoteFile:
    """One file of a release: its official URL, the name to save it under and the kind of content expected."""

    url: str
    name: str
    kind: str


@dataclass(frozen=True)
class Release:
    """One release of a dataset: its name, the data period it covers (``vintage``) if that is not its name, files.

    A release discovered on a gov.uk page is named by its publication date and has no known period.
    """

    dataset: str
    release: str
    files: tuple[RemoteFile, ...]
    vintage: str | None = None
    published: str | None = None
    named_by_period: bool = True

    @property
    def period(self) -> str | None:
        """The data period the release covers, in the store's vintage notation, if known."""
        return self.vintage or (self.release if self.named_by_period else None)


@dataclass(frozen=True)
class Discovery:
    """How the latest release of a dataset is found."""

    method: str
    url: str | None = None
    since: str | None = None
    match: str | None = None
    template: str | None = None


@dataclass(frozen=True)
class Dataset:
    """One official dataset one can download: publisher, landing page, licence, discovery, the releases known to the
    catalogue, and the store sources its files are read as (``read_as``; none when the store does not read them)."""

    name: str
    title: str
    publisher: str
    url: str
    licence: str
    licence_url: str
    attribution: str
    description: str
    file_types: tuple[str, ...]
    editions: str
    read_as: tuple[str, ...]
    default: bool
    discovery: Discovery
    releases: tuple[Release, ...] = field(default=())

    @property
    def keeps_every_edition(self) -> bool:
        """True when each release is a separate edition to keep, False when each replaces the one before."""
        return self.editions == "all"

    def summary(self) -> dict[str, Any]:
        """The catalogue entry as plain data, for ``crimestats data sources --format json``."""
        return {
            "name": self.name,
            "title": self.title,
            "publisher": self.publisher,
            "url": self.url,
            "licence": self.licence,
            "licence_url": self.licence_url,
            "attribution": self.attribution,
            "description": self.description,
            "file_types": list(self.file_types),
            "discovery": {"method": self.discovery.method, "url": self.discovery.url},
            "editions": self.editions,
            "read_as": list(self.read_as),
            "default": self.default,
            "releases": [
                {"release": r.release, "vintage": r.period, "files": [f.url for f in r.files]} for r in self.releases
            ],
        }


def load_catalogue(path: Path | None = None) -> dict[str, Dataset]:
    """The datasets in ``path`` (default: the catalogue shipped in ``crimestats/data/datasets.toml``), by name."""
    try:
        if path is None:
            text = resources.files("crimestats.data").joinpath("datasets.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CrimestatsError(f"cannot read the dataset catalogue {path or 'datasets.toml'}: {exc}") from exc
    datasets = []
    for number, entry in enumerate(document.get("dataset", []), start=1):
        try:
            datasets.append(_dataset(entry))
        except (KeyError, TypeError) as exc:
            raise CrimestatsError(
                f"dataset catalogue {path or 'datasets.toml'}: dataset {number} is malformed ({exc})"
            ) from exc
    return {dataset.name: dataset for dataset in datasets}


def _dataset(entry: Mapping[str, Any]) -> Dataset:
    name = str(entry["name"])
    discovery = Discovery(**entry.get("discovery", {"method": "fixed"}))
    if discovery.method not in METHODS:
        raise CrimestatsError(f"dataset catalogue: {name} has unknown discovery method '{discovery.method}'")
    if entry.get("editions", "latest") not in ("all", "latest"):
        raise CrimestatsError(f"dataset catalogue: {name}: editions must be 'all' or 'latest'")
    file_types = tuple(entry.get("file_types", ()))
    releases = tuple(
        Release(
            dataset=name,
            release=str(item["release"]),
            vintage=item.get("vintage"),
            files=tuple(_remote_file(spec, file_types) for spec in item["files"]),
        )
        for item in entry.get("releases", [])
    )
    return Dataset(
        name=name,
        title=entry["title"],
        publisher=entry["publisher"],
        url=entry["url"],
        licence=entry["licence"],
        licence_url=entry.get("licence_url", ""),
        attribution=entry.get("attribution", ""),
        description=" ".join(str(entry.get("description", "")).split()),
        file_types=file_types,
        editions=entry.get("editions", "latest"),
        read_as=tuple(entry.get("read_as", ())),
        default=bool(entry.get("default", False)),
        discovery=discovery,
        releases=releases,
    )


def _remote_file(spec: str | Mapping[str, str], file_types: tuple[str, ...]) -> RemoteFile:
    if isinstance(spec, str):
        return remote_file(spec, file_types)
    return remote_file(spec["url"], file_types, name=spec.get("name"))


def remote_file(url: str, file_types: Iterable[str] = (), name: str | None = None) -> RemoteFile:
    """A :class:`RemoteFile` for a URL, named after the file it points at (``?uri=`` for ONS ``/file`` links)."""
    name = name or url_file_name(url)
    kind = file_kind(name)
    if kind is None:
        types = tuple(file_types)
        kind = types[0] if len(types) == 1 else "binary"
    return RemoteFile(url=url, name=name, kind=kind)


def url_file_name(url: str) -> str:
    """The file name a URL points at: the last part of its path, or of its ``uri`` query for ONS ``/file`` links."""
    parts = urlsplit(url)
    path = parts.path
    uri = parse_qs(parts.query).get("uri")
    if uri:
        path = uri[0]
    name = PurePosixPath(path).name
    return _safe_name(name) or "download"


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._()-]+", "_", name).lstrip(".")


def file_kind(name: str) -> str | None:
    """The content a file name promises: xlsx, ods, xls, csv, geojson, json or zip (None if unknown)."""
    suffix = PurePosixPath(name.lower()).suffix.lstrip(".")
    return suffix if suffix in ("xlsx", "ods", "xls", "csv", "geojson", "json", "zip") else None


# ---- releases ---------------------------------------------------------------------------------------------


def release_key(release: str) -> tuple[int, ...]:
    """Sort key for release names within a dataset: ``2019-09`` < ``2019-12``; ``mid-2022`` < ``mid-2023``."""
    return tuple(int(number) for number in re.findall(r"\d+", release))


def release_from_edition(slug: str) -> str:
    """An ONS edition's release in crimestats' notation: ``yearendingseptember2019`` → ``2019-09``,
    ``mid20232023localauthorityboundarieseditionofthisdataset`` → ``mid-2023``; anything else unchanged."""
    text = slug.lower()
    match = _YEAR_ENDING.search(text)
    if match:
        year = int(match.group(2))
        year = year + 2000 if year < 100 else year
        return f"{year:04d}-{MONTHS[match.group(1)]:02d}"
    match = re.match(r"mid-?(\d{4})", text)
    if match:
        return f"mid-{match.group(1)}"
    return slug


# ---- discovery parsers --------------------------------------------------------------------------------------


def _require(condition: bool, url: str, what: str) -> None:
    if not condition:
        raise DiscoveryFormatError(f"{url}: unexpected discovery response ({what})")


def parse_ons_landing(document: Any, url: str) -> list[str]:
    """Edition URIs listed by an ONS dataset landing page's JSON (``datasets[].uri``)."""
    _require(isinstance(document, dict) and isinstance(document.get("datasets"), list), url, "no 'datasets' list")
    uris = [item.get("uri") for item in document["datasets"] if isinstance(item, dict)]
    return [uri for uri in uris if isinstance(uri, str) and uri.startswith("/")]


def parse_ons_edition(document: Any, url: str, dataset: Dataset) -> Release | None:
    """The release an ONS edition page's JSON describes: files from ``downloads[].file`` of the catalogued types."""
    _require(isinstance(document, dict) and isinstance(document.get("downloads"), list), url, "no 'downloads' list")
    uri = document.get("uri")
    _require(isinstance(uri, str) and uri.startswith("/"), url, "no edition 'uri'")
    host = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    files = []
    for item in document["downloads"]:
        name = item.get("file") if isinstance(item, dict) else None
        if isinstance(name, str) and file_kind(name) in dataset.file_types:
            files.append(remote_file(f"{host}/file?uri={quote(f'{uri}/{name}', safe='/')}", dataset.file_types))
    if not files:
        return None
    description = document.get("description") if isinstance(document.get("description"), dict) else {}
    published = description.get("releaseDate") if isinstance(description, dict) else None
    release = release_from_edition(PurePosixPath(uri).name)
    return Release(dataset.name, release, tuple(files), published=published if isinstance(published, str) else None)


def parse_govuk_content(document: Any, url: str, dataset: Dataset) -> Release | None:
    """The attachments of a gov.uk content item whose file name matches the catalogue's ``match`` and file types."""
    _require(isinstance(document, dict) and isinstance(document.get("details"), dict), url, "no 'details'")
    attachments = document["details"].get("attachments", [])
    _require(isinstance(attachments, list), url, "'details.attachments' is not a list")
    pattern = dataset.discovery.match or ""
    files = []
    for item in attachments:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        filename = item.get("filename")
        name = filename if isinstance(filename, str) else url_file_name(item["url"])
        if pattern in name and file_kind(name) in dataset.file_types:
            files.append(remote_file(item["url"], dataset.file_types, name=_safe_name(name)))
    if not files:
        return None
    updated = document.get("public_updated_at")
    stamps = [stamp for f in files if (stamp := _publication_stamp(f.name))]
    release = max(stamps) if stamps else updated[:10] if isinstance(updated, str) and len(updated) >= 10 else "latest"
    published = updated if isinstance(updated, str) else None
    return Release(dataset.name, release, tuple(files), published=published, named_by_period=False)


def _publication_stamp(name: str) -> str | None:
    """The publication date Home Office file names end with: ``...-tables-300125.ods`` → ``2025-01-30``."""
    match = re.search(r"-(\d{2})(\d{2})(\d{2})\.\w+$", name)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(2000 + year, month, day).isoformat()
    except ValueError:
        return None


def parse_police_uk_dates(document: Any, url: str, dataset: Dataset) -> Release:
    """The newest month data.police.uk lists, as the archive for that month (``discovery.template``)."""
    _require(isinstance(document, list) and document != [], url, "expected a non-empty list of dates")
    dates = [item.get("date") for item in document if isinstance(item, dict)]
    months = sorted(d for d in dates if isinstance(d, str) and re.fullmatch(r"\d{4}-\d{2}", d))
    _require(bool(months), url, "no 'date' like 2025-12")
    template = dataset.discovery.template or "https://data.police.uk/data/archive/{release}.zip"
    latest = months[-1]
    return Release(dataset.name, latest, (remote_file(template.format(release=latest), dataset.file_types),))


#: data.police.uk's first archive, and the months each archive holds (its own and the 35 before it).
FIRST_ARCHIVE = dt.date(2010, 12, 1)
ARCHIVE_MONTHS = 36


def covering_archives(dataset: Dataset, latest: str, start: dt.date | None, end: dt.date | None) -> list[Release]:
    """The fewest data.police.uk archives that together hold every month from ``start`` to ``end`` (open ends:
    the 36 months of the ``latest`` archive, up to the latest month), each as new as it can be: the archive
    ending 35 months after the first month not yet held, or the latest. A month later than the latest or before
    December 2010 is a :class:`DownloadError`."""
    newest = _month_number(dt.date.fromisoformat(f"{latest}-01"))
    last = newest if end is None else _month_number(end)
    first = last - ARCHIVE_MONTHS + 1 if start is None else _month_number(start)
    if last > newest:
        raise DownloadError(f"data.police.uk has published months up to {latest}; {_month_name(last)} is later")
    if first < _month_number(FIRST_ARCHIVE):
        raise DownloadError(f"data.police.uk's archives start with 2010-12; {_month_name(first)} is earlier")
    if first > last:
        raise DownloadError(f"the first month ({_month_name(first)}) is after the last ({_month_name(last)})")
    template = dataset.discovery.template or "https://data.police.uk/data/archive/{release}.zip"
    archives = []
    while first <= last:
        archive = min(first + ARCHIVE_MONTHS - 1, newest)
        archives.append(_month_name(archive))
        first = archive + 1
    return [
        Release(dataset.name, name, (remote_file(template.format(release=name), dataset.file_types),))
        for name in archives
    ]


def _month_number(month: dt.date) -> int:
    return month.year * 12 + month.month - 1


def _month_name(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def parse_arcgis_item(document: Any, url: str, dataset: Dataset) -> Release:
    """The catalogued release of an Open Geography Portal item, dated by the item's ``modified`` time."""
    data = document.get("data") if isinstance(document, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    _require(isinstance(attributes, dict), url, "no 'data.attributes'")
    assert isinstance(attributes, dict)
    _require(bool(dataset.releases), url, "the catalogue lists no download for this item")
    modified = attributes.get("modified")
    published = None
    if isinstance(modified, int | float):
        published = dt.datetime.fromtimestamp(modified / 1000, dt.UTC).isoformat(timespec="seconds")
    newest = max(dataset.releases, key=lambda r: release_key(r.release))
    return Release(dataset.name, newest.release, newest.files, newest.vintage, published)
