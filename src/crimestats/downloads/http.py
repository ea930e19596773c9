"""HTTP for the downloads: conditional, resumable and retried requests through one :class:`Fetcher`, with a
mirror that serves each official URL's path from another host."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from crimestats import __version__
from crimestats.downloads.cache import (
    DISCOVERY_CACHE,
    Manifest,
    check_content,
    load_json,
    looks_like_html,
    now,
    sha256_of,
    write_atomic,
)
from crimestats.downloads.catalogue import (
    RemoteFile,
)
from crimestats.errors import DownloadError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


MAX_REDIRECTS = 10


MAX_FREE_ATTEMPTS = 50  # resumed attempts that made progress, on top of the retries


T = TypeVar("T")


@dataclass(frozen=True)
class FetchPolicy:
    """Timeouts, retries and limits. ``backoff`` seconds doubles per retry up to ``max_backoff``; discovery
    documents get fewer retries, so that offline the catalogue's releases are used without a long wait.

    ``timeout`` bounds each wait for the server; ``deadline`` the whole of one file or discovery document, its
    retries included; a transfer slower than ``min_rate`` bytes a second over ``timeout`` seconds is given up
    (a server trickling bytes would otherwise hold a download open for ever). ``max_size`` bounds a file,
    ``max_json_size`` a discovery document."""

    timeout: float = 30.0
    deadline: float = 3600.0
    min_rate: int = 1024
    retries: int = 4
    discovery_retries: int = 1
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = 300.0
    max_size: int = 4 * 1024**3
    max_json_size: int = 64 * 1024**2


class ProgressHook(Protocol):
    """Receives progress of one file at a time: ``start`` (with the bytes already held), ``advance``, ``end``."""

    def start(self, label: str, total: int | None, completed: int) -> None: ...

    def advance(self, amount: int) -> None: ...

    def end(self) -> None: ...


class _NoProgress:
    def start(self, label: str, total: int | None, completed: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass(frozen=True)
class FetchResult:
    """One file: ``downloaded``, ``resumed`` (finished a partial download), ``unchanged`` or ``failed``."""

    url: str
    status: str
    dataset: str
    release: str
    path: Path | None = None
    sha256: str | None = None
    size: int = 0
    error: str | None = None


class _Pace:
    """The deadline of one download and its minimum transfer rate, checked before each attempt and as bytes
    arrive (a chunk is whatever one read of the socket returned, so a trickle is checked at every byte)."""

    def __init__(self, url: str, policy: FetchPolicy) -> None:
        self.url, self.policy = url, policy
        self.deadline = time.monotonic() + policy.deadline
        self.restart()

    def restart(self) -> None:
        self.since, self.bytes = time.monotonic(), 0

    def left(self) -> float:
        """Seconds before the deadline; a :class:`DownloadError` once it has passed."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DownloadError(f"{self.url}: not finished within the deadline of {self.policy.deadline:,.0f} s")
        return left

    def received(self, amount: int) -> None:
        self.left()
        self.bytes += amount
        elapsed = time.monotonic() - self.since
        if elapsed < self.policy.timeout:
            return
        if self.bytes < self.policy.min_rate * elapsed:
            raise DownloadError(
                f"{self.url}: too slow, {self.bytes:,} bytes in {elapsed:.0f} s"
                f" (the minimum is {self.policy.min_rate:,} bytes a second)"
            )
        self.restart()


class _Interrupted(DownloadError):
    """Retries ran out on a connection problem: a partial file with the server's validators is kept to resume."""


def via_mirror(url: str, mirror: str | None) -> str:
    """The URL with the official scheme and host replaced by the mirror's (the mirror's path is a prefix)."""
    if not mirror:
        return url
    parts, base = urlsplit(url), urlsplit(mirror)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, ""))


class _Retry(Exception):
    """A transient failure: try again after ``delay`` seconds (None: the policy's backoff). ``unreachable``
    names the host when no connection could be made at all."""

    def __init__(self, reason: str, delay: float | None = None, unreachable: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.delay, self.unreachable = reason, delay, unreachable


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: the policy's backoff applies
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return max(0.0, (parsed - dt.datetime.now(dt.UTC)).total_seconds())


def _strong_etag(etag: str | None) -> str | None:
    return etag if etag and not etag.startswith("W/") else None


class Fetcher:
    """Downloads official URLs (optionally through a mirror) into a cache folder with a manifest.

    Use as a context manager, or call :meth:`close`; pass ``client`` to reuse an ``httpx.Client``
    (its transport, proxies, certificates) and ``sleep`` to control waiting between retries.
    """

    def __init__(
        self,
        dest: Path,
        *,
        mirror: str | None = None,
        policy: FetchPolicy | None = None,
        client: httpx.Client | None = None,
        progress: ProgressHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.dest, self.mirror, self.policy = Path(dest), mirror, policy or FetchPolicy()
        self.progress: ProgressHook = progress or _NoProgress()
        self.sleep = sleep
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(self.policy.timeout),
            headers={"User-Agent": f"crimestats/{__version__} (police recorded crime statistics)"},
        )
        try:
            self.dest.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"cannot create the download folder {self.dest}: {exc}") from exc
        self.manifest = Manifest(self.dest)
        self._unreachable: dict[str, str] = {}  # host → why, once a request to it has failed for good

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    # -- requests with retries and redirects

    def _backoff(self, attempt: int) -> float:
        return float(min(self.policy.max_backoff, self.policy.backoff * 2**attempt))

    def _with_retries(
        self,
        url: str,
        attempt_once: Callable[[_Pace], T],
        retries: int | None = None,
        progressed: Callable[[], bool] | None = None,
    ) -> T:
        """Call ``attempt_once`` until it succeeds, within the policy's deadline; a failed attempt after which
        ``progressed()`` is true (a partial download grew and can be resumed) does not use up a retry, up to a
        bound."""
        retries = self.policy.retries if retries is None else retries
        pace = _Pace(url, self.policy)
        attempt = 0
        for _ in range(MAX_FREE_ATTEMPTS + retries + 1):
            pace.left()
            try:
                return attempt_once(pace)
            except _Retry as retry:
                if progressed is not None and progressed():
                    self.sleep(self._backoff(0))
                    continue
                if attempt == retries:
                    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                    if retry.unreachable:
                        self._unreachable[retry.unreachable] = retry.reason
                    raise _Interrupted(f"{url}: {retry.reason} (gave up after {tries})") from None
                delay = self._backoff(attempt) if retry.delay is None else retry.delay
                if delay > min(self.policy.max_retry_after, pace.left()):
                    raise DownloadError(f"{url}: {retry.reason}; the server asks to wait {delay:.0f} s") from None
                self.sleep(delay)
                attempt += 1
        raise _Interrupted(f"{url}: still incomplete after {MAX_FREE_ATTEMPTS + retries + 1} attempts")

    @contextlib.contextmanager
    def _open(self, url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
        """A streamed GET of an official URL through the mirror, following redirects (kept on the mirror)."""
        target = via_mirror(url, self.mirror)
        mirror_host = urlsplit(self.mirror).netloc if self.mirror else None
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(target).netloc
            if host in self._unreachable:
                raise DownloadError(
                    f"{url}: {host} could not be reached earlier in this run ({self._unreachable[host]})"
                )
            try:
                request = self.client.build_request("GET", target, headers=headers)
                response = self.client.send(request, stream=True)
            except httpx.ConnectError as exc:
                raise _Retry(f"cannot connect to {host} ({exc or type(exc).__name__})", unreachable=host) from exc
            except httpx.TransportError as exc:
                raise _Retry(f"{type(exc).__name__}: {exc or 'connection failed'}") from exc
            if not response.has_redirect_location:
                break
            location = response.headers.get("location", "")
            response.close()
            previous, target = target, urljoin(target, location)
            if mirror_host and urlsplit(target).netloc != mirror_host:
                target = via_mirror(target, self.mirror)
            if urlsplit(previous).scheme == "https" and urlsplit(target).scheme != "https":
                raise DownloadError(f"{url}: refused a redirect from https to {target} (not encrypted)")
        else:
            raise DownloadError(f"{url}: more than {MAX_REDIRECTS} redirects")
        try:
            yield response
        finally:
            response.close()

    def _raise_for_status(self, url: str, response: httpx.Response) -> None:
        code = response.status_code
        if code in RETRY_STATUSES:
            delay = _retry_after(response) if code in (429, 503) else None
            raise _Retry(f"HTTP {code} {response.reason_phrase}", delay)
        if code >= 400:
            where = f" (via {response.request.url})" if self.mirror else ""
            raise DownloadError(f"{url}: HTTP {code} {response.reason_phrase}{where}")

    # -- discovery documents

    def get_json(self, url: str) -> Any:
        """A discovery document, asked for conditionally against the copy cached from the last run."""
        cache_path = self.dest / DISCOVERY_CACHE
        try:
            cache = json.loads(cache_path.read_text(encoding="utf-8")) if cache_path.exists() else {}
        except ValueError:
            cache = {}
        cached = cache.get(url)

        def once(pace: _Pace) -> Any:
            headers = {"Accept": "application/json"}
            if cached and cached.get("etag"):
                headers["If-None-Match"] = cached["etag"]
            if cached and cached.get("last_modified"):
                headers["If-Modified-Since"] = cached["last_modified"]
            with self._open(url, headers) as response:
                if response.status_code == 304 and cached:
                    return cached["body"]
                self._raise_for_status(url, response)
                try:
                    body = b"".join(self._receive(url, response, pace, self.policy.max_json_size))
                except httpx.TransportError as exc:
                    raise _Retry(f"{type(exc).__name__}: {exc}") from exc
                if looks_like_html(body[:1024]):
                    raise DownloadError(f"{url}: expected JSON, the server sent an HTML page")
                document = load_json(body, url)
                cache[url] = {
                    "etag": response.headers.get("etag"),
                    "last_modified": response.headers.get("last-modified"),
                    "body": document,
                }
                write_atomic(cache_path, json.dumps(cache).encode())
                return document

        return self._with_retries(url, once, self.policy.discovery_retries)

    # -- files

    def fetch(self, remote: RemoteFile, *, dataset: str, release: str) -> FetchResult:
        """Download one file into ``<dest>/<dataset>/``; raises :class:`DownloadError` if it cannot."""
        folder = self.dest / dataset
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / remote.name
        part = folder / f".{remote.name}.part"
        sidecar = folder / f".{remote.name}.part.json"
        entry = self.manifest.get(remote.url)
        known = entry if entry and target.exists() and target.stat().st_size == entry.get("size") else None
        high_water = [self._resumable_size(part, sidecar)]

        def progressed() -> bool:
            size = self._resumable_size(part, sidecar)
            grew, high_water[0] = size > high_water[0], max(size, high_water[0])
            return grew

        try:
            outcome = self._with_retries(
                remote.url, lambda pace: self._attempt(remote, known, part, sidecar, pace), progressed=progressed
            )
        except (_Interrupted, KeyboardInterrupt):
            if not sidecar.exists():  # nothing a later run could resume
                part.unlink(missing_ok=True)
            raise
        except Exception as exc:  # refused, too slow, too late, or the cache cannot be written: nothing kept
            part.unlink(missing_ok=True)
            sidecar.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise DownloadError(f"{remote.url}: cannot write {part}: {exc.strerror or exc}") from exc
            raise
        status, headers, resumed = outcome
        if status == "unchanged":
            assert known is not None
            self.manifest.put({**known, "checked_at": now()})
            return FetchResult(remote.url, "unchanged", dataset, release, target, known["sha256"], known["size"])
        try:
            check_content(part, remote.kind, remote.url)
        except DownloadError:
            part.unlink(missing_ok=True)
            sidecar.unlink(missing_ok=True)
            raise
        digest, size = sha256_of(part)
        if known and known.get("sha256") == digest:
            status = "unchanged"  # the server sent the same bytes again
        with part.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(part, target)
        sidecar.unlink(missing_ok=True)
        self.manifest.put(
            {
                "url": remote.url,
                "path": target.relative_to(self.dest).as_posix(),
                "sha256": digest,
                "size": size,
                "etag": headers.get("etag"),
                "last_modified": headers.get("last-modified"),
                "content_type": headers.get("content-type"),
                "fetched_at": now(),
                "checked_at": now(),
                "dataset": dataset,
                "release": release,
                "fetched_from": via_mirror(remote.url, self.mirror) if self.mirror else None,
            }
        )
        if status != "unchanged" and resumed:
            status = "resumed"
        return FetchResult(remote.url, status, dataset, release, target, digest, size)

    def _attempt(
        self, remote: RemoteFile, known: dict[str, Any] | None, part: Path, sidecar: Path, pace: _Pace
    ) -> tuple[str, dict[str, str], bool]:
        headers: dict[str, str] = {"Accept-Encoding": "identity"}
        if known and known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known and known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        offset = self._resumable(remote.url, part, sidecar)
        if offset:
            partial = json.loads(sidecar.read_text(encoding="utf-8"))
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = _strong_etag(partial.get("etag")) or partial["last_modified"]
            headers.pop("If-None-Match", None)
            headers.pop("If-Modified-Since", None)
        with self._open(remote.url, headers) as response:
            if response.status_code == 304 and known:
                return "unchanged", dict(response.headers), False
            if response.status_code == 416:
                part.unlink(missing_ok=True)
                sidecar.unlink(missing_ok=True)
                raise _Retry("the server refused to resume (HTTP 416)", 0)
            self._raise_for_status(remote.url, response)
            if response.status_code == 206:
                start, total = _content_range(response)
                if start != offset:
                    part.unlink(missing_ok=True)
                    sidecar.unlink(missing_ok=True)
                    raise _Retry(f"the server resumed at byte {start}, not {offset}", 0)
            elif response.status_code == 200:
                offset, total = 0, _content_length(response)
            else:
                raise DownloadError(f"{remote.url}: unexpected HTTP {response.status_code} {response.reason_phrase}")
            if total is not None and total > self.policy.max_size:
                raise DownloadError(
                    f"{remote.url}: {total:,} bytes is over the size limit of {self.policy.max_size:,} bytes"
                )
            validators = {"etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified")}
            if (_strong_etag(validators["etag"]) or validators["last_modified"]) and not _encoded(response):
                sidecar.write_text(json.dumps({"url": remote.url, **validators, "total": total}), encoding="utf-8")
            else:
                sidecar.unlink(missing_ok=True)
            self._stream(remote, response, part, offset, total, pace)
            return "downloaded", dict(response.headers), offset > 0

    @staticmethod
    def _resumable_size(part: Path, sidecar: Path) -> int:
        return part.stat().st_size if part.exists() and sidecar.exists() else 0

    def _resumable(self, url: str, part: Path, sidecar: Path) -> int:
        """Bytes of ``part`` that can be resumed: a sidecar for the same URL with a usable validator."""
        if not part.exists() or not sidecar.exists():
            part.unlink(missing_ok=True)
            return 0
        try:
            partial = json.loads(sidecar.read_text(encoding="utf-8"))
        except ValueError:
            partial = {}
        if partial.get("url") != url or not (_strong_etag(partial.get("etag")) or partial.get("last_modified")):
            part.unlink(missing_ok=True)
            sidecar.unlink(missing_ok=True)
            return 0
        return part.stat().st_size

    @staticmethod
    def _receive(url: str, response: httpx.Response, pace: _Pace, limit: int, start: int = 0) -> Iterator[bytes]:
        """The body as it arrives (after ``start`` bytes already held), at the pace's minimum rate, within its
        deadline and up to ``limit`` bytes in all."""
        pace.restart()
        received = start
        for chunk in _body(response):
            received += len(chunk)
            if received > limit:
                raise DownloadError(f"{url}: more than the size limit of {limit:,} bytes")
            pace.received(len(chunk))
            yield chunk

    def _stream(
        self, remote: RemoteFile, response: httpx.Response, part: Path, offset: int, total: int | None, pace: _Pace
    ) -> None:
        received = offset
        self.progress.start(remote.name, total, offset)
        try:
            with part.open("ab" if offset else "wb") as handle:
                try:
                    for chunk in self._receive(remote.url, response, pace, self.policy.max_size, offset):
                        received += len(chunk)
                        handle.write(chunk)
                        self.progress.advance(len(chunk))
                except httpx.TransportError as exc:
                    raise _Retry(f"the connection broke after {received:,} bytes ({type(exc).__name__})") from exc
        finally:
            self.progress.end()
        if total is not None and received != total:
            raise _Retry(f"the body ended after {received:,} of {total:,} bytes")


def _encoded(response: httpx.Response) -> bool:
    return response.headers.get("content-encoding", "identity").strip().lower() not in ("identity", "")


def _body(response: httpx.Response) -> Iterator[bytes]:
    """The body as it arrives (asked for with ``Accept-Encoding: identity``), decoded if the server compressed it.

    No fixed chunk size: httpx would hold back bytes until a chunk fills, and lose them if the connection broke.
    """
    if _encoded(response):
        return response.iter_bytes()
    return response.iter_raw()


def _content_length(response: httpx.Response) -> int | None:
    """The announced body length; None when the body is compressed (the length is not of the file)."""
    value = response.headers.get("content-length")
    return int(value) if value and value.isdigit() and not _encoded(response) else None


def _content_range(response: httpx.Response) -> tuple[int, int | None]:
    """``Content-Range: bytes 100-199/200`` → (100, 200)."""
    value = response.headers.get("content-range", "")
    try:
        unit, _, spec = value.partition(" ")
        span, _, length = spec.partition("/")
        start = int(span.split("-")[0])
    except ValueError:
        raise _Retry(f"unreadable Content-Range '{value}'", 0) from None
    if unit != "bytes":
        raise _Retry(f"unreadable Content-Range '{value}'", 0)
    return start, int(length) if length.isdigit() else None
