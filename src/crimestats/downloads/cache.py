"""The download cache: where files go, the sha256 manifest, atomic writes and the checks a file must pass
(a complete zip, text rather than an HTML page, a FeatureCollection) before it replaces the cached copy."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import platformdirs

from crimestats._json import json_depth
from crimestats.errors import DownloadError

DISCOVERY_CACHE = ".discovery.json"
MANIFEST = "manifest.json"
MAX_JSON_DEPTH = 64  # the publishers' documents nest under 10 deep (GeoJSON polygons: 6)


def default_cache_dir() -> Path:
    """``$CRIMESTATS_CACHE`` if set, else ``downloads`` in the user cache directory (platformdirs)."""
    if os.environ.get("CRIMESTATS_CACHE"):
        return Path(os.environ["CRIMESTATS_CACHE"])
    return Path(platformdirs.user_cache_dir("crimestats", appauthor=False)) / "downloads"


class Manifest:
    """``manifest.json`` in the cache folder: per official URL, where the file is, the dataset and release it
    belongs to and what the server said. Older manifests (format 1) call the dataset ``source``; both are read."""

    def __init__(self, dest: Path) -> None:
        self.path = dest / MANIFEST
        self.files: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                document = json.loads(self.path.read_text(encoding="utf-8"))
                self.files = {url: _current(entry) for url, entry in document.get("files", {}).items()}
            except (OSError, ValueError, AttributeError) as exc:
                raise DownloadError(f"{self.path}: not a crimestats download manifest ({exc})") from exc

    def get(self, url: str) -> dict[str, Any] | None:
        return self.files.get(url)

    def put(self, entry: dict[str, Any]) -> None:
        self.files[entry["url"]] = entry
        self.save()

    def save(self) -> None:
        document = {"format": "crimestats-downloads/2", "files": dict(sorted(self.files.items()))}
        write_atomic(self.path, json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n")


def _current(entry: dict[str, Any]) -> dict[str, Any]:
    """A manifest entry as this version writes it: format 1 called the dataset ``source``."""
    if "source" in entry and "dataset" not in entry:
        entry = {key: value for key, value in entry.items() if key != "source"} | {"dataset": entry["source"]}
    return entry


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:1024]


def check_content(path: Path, kind: str, url: str) -> None:
    """Raise :class:`DownloadError` unless the file at ``path`` holds the kind of content its URL promised."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    what = {"xlsx": "spreadsheet", "ods": "spreadsheet", "xls": "spreadsheet", "zip": "zip archive"}.get(kind, kind)
    if looks_like_html(head) and kind not in ("html", "binary"):
        raise DownloadError(f"{url}: the server sent an HTML page instead of the {what} (an error or moved page?)")
    if kind in ("xlsx", "ods", "zip"):
        if not head.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
            raise DownloadError(f"{url}: not a complete {what} (expected a zip container, .{kind})")
    elif kind == "xls":
        if not head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            raise DownloadError(f"{url}: not an Excel 97-2003 workbook (.xls)")
    elif kind == "csv":
        if b"\x00" in head or not _decodes(head):
            raise DownloadError(f"{url}: not a text CSV file")
    elif kind in ("geojson", "json"):
        _check_json(path, kind, url)


def _decodes(head: bytes) -> bool:
    for encoding in ("utf-8", "cp1252"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start >= len(head) - 3:  # a character cut at the 64 KiB boundary
                return True
            continue
        return True
    return False


def _check_json(path: Path, kind: str, url: str) -> None:
    document = load_json(path.read_bytes(), url)
    if kind == "geojson" and not (
        isinstance(document, dict)
        and document.get("type") == "FeatureCollection"
        and isinstance(document.get("features"), list)
    ):
        raise DownloadError(f"{url}: not a GeoJSON FeatureCollection")


def load_json(data: bytes, url: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in ``data``, refused with :class:`DownloadError` if it is not JSON or nests arrays and
    objects more than ``max_depth`` deep (checked before parsing, which recurses once per level)."""
    if json_depth(data) > max_depth:
        raise DownloadError(f"{url}: JSON nested more than {max_depth} levels deep")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise DownloadError(f"{url}: not valid JSON ({exc})") from exc


def sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
