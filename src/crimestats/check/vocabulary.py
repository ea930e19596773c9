"""The words stories use, built from the reference data: force names and aliases, offence names, aliases and
the synonyms in ``data/story_words.csv`` (with the offences crimestats cannot check and the police topics that
are not recorded crime), and the ways a 12-month period is written."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
from dataclasses import dataclass
from importlib import resources

from crimestats import reference
from crimestats.periods import MONTHS, shift_months

__all__ = ["NATIONAL", "Mention", "force_mentions", "offence_mentions", "period_mentions", "story_date"]

NATIONAL = "K04000001"
_MONTH = r"(?P<month>" + "|".join(f"{m[:3]}(?:{m[3:]})?" for m in MONTHS) + r")\.?"


@dataclass(frozen=True)
class Mention:
    """A word or phrase of the text that names something: a force code, an offence slug, a period, or the
    ``unpublished`` / ``not-crime`` topics (``note`` says which)."""

    start: int
    end: int
    value: str
    note: str = ""


def _alternation(phrases: list[str]) -> str:
    return "|".join(re.escape(p).replace(r"\ ", r"[\s-]+") for p in sorted(set(phrases), key=len, reverse=True))


# ---- forces -------------------------------------------------------------------------------------------------

_FORCE_SUFFIX = r"(?:\s+(?:Police(?:\s+Service)?|Constabulary))?"
_NATIONAL_WORDS = r"England\s+and\s+Wales|England\s*&\s*Wales|[Tt]he\s+national\s+(?:picture|figures?)|Nationally(?=,)"
#: The countries a story may name on their own ("In Wales the figure was 84.2"); a force's name is matched first.
_COUNTRIES = r"Wales|England"
#: Regions, by the names that are not also a force's or a city's ('West Midlands' is the force, 'London' the
#: Met and the City); 'the West Midlands region' is the region.
_AMBIGUOUS_REGIONS = ("London", "East", "West Midlands")


@functools.cache
def _region_codes() -> dict[str, str]:
    return {
        reference.normalise_name(name): area.code
        for area in reference.areas()
        if area.kind == "region"
        for name in (area.name, *area.aliases)
        if name not in _AMBIGUOUS_REGIONS
    }


@functools.cache
def _region_names() -> list[str]:
    return [
        name
        for area in reference.areas()
        if area.kind == "region"
        for name in (area.name, *area.aliases)
        if name not in _AMBIGUOUS_REGIONS
    ]


@functools.cache
def _force_pattern() -> re.Pattern[str]:
    names = {name: area.code for area in reference.forces() for name in (area.name, *area.aliases)}
    body = _alternation(list(names))
    return re.compile(
        rf"\b(?P<name>{body}){_FORCE_SUFFIX}\b|(?P<national>{_NATIONAL_WORDS})\b|\b(?P<country>{_COUNTRIES})\b(?!['’]s)"
        rf"|\b(?P<region>{_alternation(_region_names())})(?:\s+region)?\b"
    )


@functools.cache
def _force_codes() -> dict[str, str]:
    return {reference.normalise_name(n): area.code for area in reference.forces() for n in (area.name, *area.aliases)}


def force_mentions(text: str) -> list[Mention]:
    """The forces (area codes) and England and Wales (``K04000001``) a text names, in order. Names are matched
    as written (capitals and all), so 'kent' in a recipe is not Kent."""
    found = []
    for match in _force_pattern().finditer(text):
        if match.group("national"):
            found.append(Mention(match.start(), match.end(), NATIONAL))
        elif match.group("region"):
            code = _region_codes()[reference.normalise_name(match.group("region"))]
            found.append(Mention(match.start(), match.end(), code))
        elif match.group("country"):
            found.append(Mention(match.start(), match.end(), reference.area(match.group("country")).code))
        else:
            code = _force_codes()[reference.normalise_name(match.group("name"))]
            found.append(Mention(match.start(), match.end(), code))
    return found


# ---- offences -----------------------------------------------------------------------------------------------


@functools.cache
def _offence_words() -> dict[str, tuple[str, str]]:
    """phrase (lower case) → (offence slug or 'unpublished' / 'not-crime', note)."""
    words: dict[str, tuple[str, str]] = {}
    for item in reference.offences():
        if item.level == "fraud":
            continue
        for name in (item.name, *item.aliases):
            key = reference.normalise_name(name)
            if len(key) > 5:  # 'vap', 'total' are not words stories use
                words.setdefault(key, (item.slug, ""))
    with resources.files("crimestats.data").joinpath("story_words.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        words[row["phrase"].lower()] = (row["meaning"], row["note"])
    return words


@functools.cache
def _offence_pattern() -> re.Pattern[str]:
    return re.compile(rf"\b(?:{_alternation(list(_offence_words()))})(?:s|es)?\b", re.IGNORECASE)


def offence_mentions(text: str) -> list[Mention]:
    """The offences (slugs) and the other topics a text names, longest phrase first at each place."""
    found = []
    for match in _offence_pattern().finditer(text):
        phrase = re.sub(r"[\s-]+", " ", match.group(0).lower())
        key = phrase if phrase in _offence_words() else re.sub(r"e?s$", "", phrase)
        meaning, note = _offence_words().get(key, _offence_words().get(phrase.rstrip("s"), ("", "")))
        if meaning:
            found.append(Mention(match.start(), match.end(), meaning, note))
    return found


# ---- periods ------------------------------------------------------------------------------------------------

_YEAR_ENDING = re.compile(
    r"\b(?:(?:the\s+)?(?:year|12|twelve)(?:[\s-]+months?)?\s+(?:ending|ended|to|up\s+to|leading\s+up\s+to|until|"
    r"running\s+to)\s+(?:the\s+end\s+of\s+)?|YE\s+)" + _MONTH + r"\s+(?P<year>\d{4})\b",
    re.IGNORECASE,
)
#: 'in the year to March': a period without its year, read from an earlier period or the story's date.
_NO_YEAR = re.compile(_YEAR_ENDING.pattern.replace(r"\s+(?P<year>\d{4})\b", r"\b(?!\s*,?\s*\d{4})"), re.IGNORECASE)
#: Months between the end of a period and the ONS release of its figures (about four: July for March).
RELEASE_LAG = 4
_FINANCIAL = re.compile(r"\b(?P<first>20\d\d)[/-](?P<second>\d\d)\b")
_CALENDAR = re.compile(r"\b(?:in|during|for|over)\s+(?P<year>20\d\d)\b(?![/-]\d)")
_LAST_YEAR = re.compile(r"\b(?:last|past)\s+year\b", re.IGNORECASE)
_DATELINE = re.compile(r"\b(?P<day>\d{1,2})\s+" + _MONTH + r"\s+(?P<year>20\d\d)\b", re.IGNORECASE)


def _month(name: str) -> int:
    return next(i for i, m in enumerate(MONTHS, start=1) if m.lower().startswith(name.lower()[:3]))


def period_mentions(text: str, today: dt.date | None = None) -> list[Mention]:
    """The 12-month periods a text names, as quarter ends (``2019-09``): 'the year ending September 2019', 'the
    12 months leading up to September 2021', 'YE Sep 2019', '2018/19' (the year ending March 2019), 'in 2018'
    (the year ending December 2018), 'last year' (the calendar year before ``today``, when the story is dated)."""
    found = []
    for match in _YEAR_ENDING.finditer(text):
        month = dt.date(int(match.group("year")), _month(match.group("month")), 1)
        found.append(Mention(match.start(), match.end(), f"{month:%Y-%m}"))
    for match in _FINANCIAL.finditer(text):
        first, second = int(match.group("first")), int(match.group("second"))
        if (first + 1) % 100 == second:
            found.append(Mention(match.start(), match.end(), f"{first + 1}-03"))
    for match in _CALENDAR.finditer(text):
        if not any(m.start <= match.start("year") < m.end for m in found):
            found.append(Mention(match.start("year"), match.end(), f"{match.group('year')}-12"))
    found += _without_year(text, sorted(found, key=lambda m: m.start), today)
    if today is not None:
        last = shift_months(dt.date(today.year, 12, 1), -12)
        found += [Mention(m.start(), m.end(), f"{last:%Y-%m}") for m in _LAST_YEAR.finditer(text)]
    return sorted(found, key=lambda m: m.start)


def _without_year(text: str, dated: list[Mention], today: dt.date | None) -> list[Mention]:
    """'The year to March': the year of the last period before it ending in that month, else the latest such
    period published by the story's date (a release comes about :data:`RELEASE_LAG` months after the period)."""
    found = []
    for match in _NO_YEAR.finditer(text):
        month = _month(match.group("month"))
        earlier = [m for m in dated if m.end <= match.start() and int(m.value[5:]) == month]
        if earlier:
            found.append(Mention(match.start(), match.end(), earlier[-1].value))
        elif today is not None:
            published = shift_months(dt.date(today.year, today.month, 1), -RELEASE_LAG)
            year = published.year if month <= published.month else published.year - 1
            found.append(Mention(match.start(), match.end(), f"{year}-{month:02d}"))
    return found


def story_date(text: str) -> dt.date | None:
    """The date of a dated story: a date ('14 January 2020') in its first lines, before its first sentence of
    prose ends."""
    head = "\n".join(text.lstrip().splitlines()[:4])
    match = _DATELINE.search(head)
    if match is None:
        return None
    return dt.date(int(match.group("year")), _month(match.group("month")), int(match.group("day")))
