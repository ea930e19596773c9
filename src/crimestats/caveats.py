"""Breaks and caveats: what must be said alongside a police recorded crime figure before it is printed.

The registry is data, ``crimestats/data/caveats.csv``, one row per caveat, each with the official page it rests on:

``id``
    a stable slug, e.g. ``gmp-missing-2019``.
``kind``
    ``missing``: an area's data were not supplied (or were estimated) for the months ``start`` to ``end``
    (``end`` empty: still missing). It applies to a figure whose months, or whose comparison year's months,
    overlap them, for that area and for any area that contains it (its region, England, England and Wales),
    because those totals lack it.

    ``estimated``: ONS published an estimate for an area's months ``start`` to ``end`` in the release for the
    12 months ending ``end`` only (later releases revised them with the force's own figures). It applies to
    figures for the period ending ``end`` (a count, a rate, its change on the year before) and to trends that
    include that period, for that area and for any area that contains it; not to later periods whose months
    overlap, which come from later releases.

    ``break``: a counting-rule or classification change in month ``start`` (or phased in over ``start`` to
    ``end``). It applies when the months a figure covers straddle the change: a 12-month count whose year
    contains it after its first month, a year-on-year change whose two years do (period ends from ``start``
    to 22 months later; 23 months later both years are wholly under the new rules, and ONS tables publish
    the change again, as for residential burglary in the year ending March 2019), or a trend starting before it.

    ``rename``: a classification renamed (and usually redefined) in month ``start``; it applies like a break.

    ``context``: applies to every period (or, if ``start``/``end`` are given, to figures overlapping them).
    An area-specific context caveat applies to that area only, not to the totals that contain it.
``area``
    an area code from ``areas.csv`` (``E23000005``, ``BTP``), or empty for every area.
``offence``, ``scope``
    an offence slug from ``offences.csv``, or empty for every offence. Scope ``offence`` applies to that
    offence and its sub-offences; ``offence-and-totals`` also to the totals that contain it (the change moves
    them too). Scope is empty when offence is.
``measure``
    empty for any figure, ``rate`` for rates per 1,000 population only, ``test`` for statements of
    statistical significance only (a tested change or gap), ``older-population`` for rates that use an older
    mid-year population estimate than ONS would (the figure's ``population_older``: the store lacks that one),
    ``police-uk`` for figures from data.police.uk's street-level files only (never for recorded crime figures).
``start``, ``end``
    months written ``YYYY-MM``.
``text``
    one sentence a journalist can print.
``source_title``, ``source_url``
    the official publication it rests on (``https`` only).

The file is checked when it is loaded: an unknown kind, area code or offence slug, a malformed month or a
missing source is a :class:`~crimestats.errors.SourceError` naming the file, row and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from crimestats import reference
from crimestats.errors import PeriodError, SourceError

__all__ = [
    "COLUMNS",
    "KINDS",
    "SCOPES",
    "Caveat",
    "caveat",
    "caveats",
    "caveats_for",
    "load_caveats",
]

KINDS = ("missing", "estimated", "break", "rename", "context")  # also the order in which caveats_for lists them
SCOPES = ("offence", "offence-and-totals")
MEASURES = ("rate", "test", "older-population", "police-uk")
COLUMNS = ("id", "kind", "area", "offence", "scope", "measure", "start", "end", "text", "source_title", "source_url")
NATIONAL = "K04000001"

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_Fail = Callable[[str, str], SourceError]  # column, message → the error to raise


@dataclass(frozen=True)
class Caveat:
    """One break or caveat from the registry; ``None`` area or offence means every area or offence."""

    id: str
    kind: str  # missing | break | rename | context
    area: str | None
    offence: str | None
    scope: str | None  # offence | offence-and-totals; None when offence is None
    start: dt.date | None
    end: dt.date | None
    text: str
    source_title: str
    source_url: str
    measure: str | None = None  # None: any figure; else only rates, significance statements, older populations


def load_caveats(path: str | os.PathLike[str] | Traversable) -> tuple[Caveat, ...]:
    """Read and check a caveats CSV; a bad row is a :class:`SourceError` naming file, row and column."""
    source: Traversable = Path(path) if isinstance(path, str | os.PathLike) else path
    name = str(path)
    reader = csv.DictReader(io.StringIO(source.read_text(encoding="utf-8")))
    header = tuple(reader.fieldnames or ())
    missing = [column for column in COLUMNS if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    if missing or unknown:
        problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        raise SourceError(f"{'; '.join(problems)} (expected {', '.join(COLUMNS)})", file=name, row=1)
    found: list[Caveat] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        if None in row or any(value is None for value in row.values()):
            raise SourceError(f"row has the wrong number of fields (expected {len(COLUMNS)})", file=name, row=line)
        item = _parse_row({key: value.strip() for key, value in row.items()}, name, line)
        if item.id in seen:
            raise SourceError(f"duplicate id {item.id!r}", file=name, row=line, column="id")
        seen.add(item.id)
        found.append(item)
    return tuple(found)


@functools.cache
def caveats() -> tuple[Caveat, ...]:
    """Every caveat in the packaged registry, in file order."""
    return load_caveats(resources.files("crimestats.data").joinpath("caveats.csv"))


def caveat(caveat_id: str) -> Caveat:
    """The caveat with this id; :class:`KeyError` if there is none."""
    for item in caveats():
        if item.id == caveat_id:
            return item
    raise KeyError(f"no caveat with id {caveat_id!r}")


def caveats_for(
    *,
    area_code: str | None = None,
    offence: str | None = None,
    period_end: dt.date | None = None,
    comparison: bool = False,
    since: dt.date | None = None,
    rate: bool = False,
    test: bool = False,
    older_population: bool = False,
    police_uk: bool = False,
) -> list[Caveat]:
    """The caveats that apply to a figure, missing data first and context last (file order within a kind).

    ``area_code``: the area (a code or any name :func:`crimestats.reference.area` knows); None means England
    and Wales. ``offence``: a slug or name; None means the figure is not about one offence, so no caveat is
    left out for its offence. ``period_end``: the last month of the 12-month period; None means no caveat is
    left out for its dates. ``comparison``: the figure is a change on the previous year, so that year's months
    count too. ``since``: the figure is a trend from the period ending ``since`` to ``period_end``. ``rate``:
    the figure is a rate per 1,000 population (caveats with measure ``rate`` apply only then). ``test``: the
    figure is a statement of statistical significance (caveats with measure ``test`` apply only then).
    ``older_population``: the figure is a rate on an older population estimate than ONS would use (caveats with
    measure ``older-population`` apply only then). ``police_uk``: the figure is from data.police.uk's
    street-level files (caveats with measure ``police-uk`` apply only then).
    """
    area = reference.area(area_code).code if area_code is not None else NATIONAL
    slug = reference.offence(offence).slug if offence is not None else None
    window = _window(period_end, comparison=comparison, since=since)
    flags = {"rate": rate, "test": test, "older-population": older_population, "police-uk": police_uk}
    wanted = {None, *(measure for measure, wanted in flags.items() if wanted)}
    found = [
        item
        for item in caveats()
        if item.measure in wanted
        and _area_applies(item, area)
        and (slug is None or _offence_applies(item, slug))
        and (window is None or _time_applies(item, *window))
    ]
    return sorted(found, key=lambda item: KINDS.index(item.kind))


# --- matching -----------------------------------------------------------------------------------------


def _index(month: dt.date) -> int:
    return month.year * 12 + month.month - 1


def _window(period_end: dt.date | None, *, comparison: bool, since: dt.date | None) -> tuple[int, int, int] | None:
    """The first and last month (as indexes) a figure covers, and the end of the first 12-month period it draws
    on (``since`` for a trend, else ``period_end``), or None if no period was given."""
    if period_end is None:
        if since is not None:
            raise PeriodError("a trend needs period_end as well as since")
        return None
    last = _index(period_end)
    first = last - (23 if comparison else 11)
    first_end = last
    if since is not None:
        first_end = _index(since)
        if first_end > last:
            raise PeriodError(f"since ({since:%Y-%m}) is after period_end ({period_end:%Y-%m})")
        first = min(first, first_end - 11)
    return first, last, first_end


@functools.cache
def _area_ancestors(code: str) -> frozenset[str]:
    """The area and every area containing it (force → region → country → England and Wales)."""
    parents = {item.code: item.parent for item in reference.areas()}
    found: set[str] = set()
    node: str | None = code
    while node is not None and node not in found:
        found.add(node)
        node = parents.get(node)
    return frozenset(found)


def _area_applies(item: Caveat, area: str) -> bool:
    if item.area is None:
        return True
    if item.kind == "context":  # about the area itself (e.g. its rates), not the totals it is part of
        return item.area == area
    return area in _area_ancestors(item.area)


@functools.cache
def _offence_pairs() -> frozenset[tuple[str, str]]:
    return frozenset(reference.offence_ancestors())


def _offence_applies(item: Caveat, slug: str) -> bool:
    if item.offence is None:
        return True
    pairs = _offence_pairs()
    if (slug, item.offence) in pairs:  # the offence itself or one of its sub-offences
        return True
    return item.scope == "offence-and-totals" and (item.offence, slug) in pairs  # a total containing it


def _time_applies(item: Caveat, first: int, last: int, first_end: int) -> bool:
    start = _index(item.start) if item.start is not None else None
    end = _index(item.end) if item.end is not None else None
    if item.kind == "estimated":
        assert end is not None  # checked on load
        # Only the release for the period ending `end` holds the estimate: is that period one the figure uses?
        return first_end <= end <= last
    if item.kind in ("break", "rename"):
        assert start is not None  # checked on load
        # The change straddles the figure's months: some changed month falls after its first month.
        return max(start, first + 1) <= min(end if end is not None else start, last)
    # missing and context: any overlap
    return (start is None or start <= last) and (end is None or end >= first)


# --- loading ------------------------------------------------------------------------------------------


def _parse_row(row: dict[str, str], file: str, line: int) -> Caveat:
    def fail(column: str, message: str) -> SourceError:
        return SourceError(message, file=file, row=line, column=column)

    ident = row["id"]
    if not _ID.match(ident):
        raise fail("id", f"id {ident!r} is not a lower-case slug like 'gmp-missing-2019'")
    kind = row["kind"]
    if kind not in KINDS:
        raise fail("kind", f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    area = _parse_area(row["area"], fail)
    offence = _parse_offence(row["offence"], fail)
    scope = row["scope"] or None
    if offence is None and scope is not None:
        raise fail("scope", f"scope {scope!r} given without an offence (leave it empty when offence is empty)")
    if offence is not None and scope not in SCOPES:
        raise fail("scope", f"unknown scope {row['scope']!r} for offence {offence!r} (expected {' or '.join(SCOPES)})")
    measure = row["measure"] or None
    if measure is not None and measure not in MEASURES:
        raise fail("measure", f"unknown measure {measure!r} (expected empty or {' or '.join(MEASURES)})")
    start = _parse_month(row["start"], "start", fail)
    end = _parse_month(row["end"], "end", fail)
    if kind != "context" and start is None:
        raise fail("start", f"a {kind!r} caveat needs a start month (YYYY-MM)")
    if kind in ("missing", "estimated") and area is None:
        raise fail("area", f"a {kind!r} caveat needs the area whose data are {kind}")
    if kind == "estimated" and not row["end"]:
        raise fail("end", "an 'estimated' caveat needs the last estimated month (YYYY-MM): the release's period end")
    if start is not None and end is not None and end < start:
        raise fail("end", f"end {row['end']} is before start {row['start']}")
    text = row["text"]
    if not text or "\n" in text:
        raise fail("text", "text must be one non-empty line")
    if not row["source_title"]:
        raise fail("source_title", "every caveat needs the title of its source")
    url = row["source_url"]
    if not url.startswith("https://") or len(url) <= len("https://") or re.search(r"\s", url):
        raise fail("source_url", f"source_url {url!r} is not an https:// address")
    return Caveat(ident, kind, area, offence, scope, start, end, text, row["source_title"], url, measure)


def _parse_area(value: str, fail: _Fail) -> str | None:
    if not value:
        return None
    found = reference.find_area(value)
    if found is not None and found.code == value:
        return value
    hint = f" (the code for {found.name} is {found.code})" if found is not None else ""
    raise fail("area", f"unknown area code {value!r}{hint}; use a code from areas.csv, e.g. E23000005")


def _parse_offence(value: str, fail: _Fail) -> str | None:
    if not value:
        return None
    found = reference.find_offence(value)
    if found is not None and found.slug == value:
        return value
    hint = f" (the slug for {found.name} is {found.slug})" if found is not None else ""
    raise fail("offence", f"unknown offence slug {value!r}{hint}; use a slug from offences.csv")


def _parse_month(value: str, column: str, fail: _Fail) -> dt.date | None:
    if not value:
        return None
    match = _MONTH.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise fail(column, f"{column} {value!r} is not a month written YYYY-MM")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)
