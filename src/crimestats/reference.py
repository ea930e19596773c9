"""Reference data: areas (forces, regions, countries), the offence classification and Home Office offence codes.

The data live as CSV files in ``crimestats/data`` and are loaded once. Names are matched after
:func:`normalise_name`, so footnote markers, ``&`` and letter case do not matter.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from crimestats.errors import UnknownAreaError, UnknownOffenceError

__all__ = [
    "Area",
    "Offence",
    "area",
    "areas",
    "did_you_mean",
    "find_area",
    "forces",
    "normalise_name",
    "offence",
    "offence_for_code",
    "offences",
    "suggest_areas",
    "suggest_offences",
]


@dataclass(frozen=True)
class Area:
    """A police force area, a transport or fraud body, a region, a country or England and Wales."""

    code: str
    name: str
    kind: str  # force | transport | fraud_body | region | country | national
    parent: str | None
    aliases: tuple[str, ...]
    rate_suppressed: str | None = None  # why ONS does not publish a rate for it, if it does not

    def is_named(self, name: str) -> bool:
        """Whether a published name (footnote markers and all) is one of this area's names."""
        return normalise_name(name) in self._names

    @functools.cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(normalise_name(n) for n in (self.name, *self.aliases))

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass(frozen=True)
class Offence:
    """A node of the offence classification: total, category, group, subgroup or detail."""

    slug: str
    name: str
    level: str  # total | category | group | subgroup | detail | fraud
    parent: str | None
    aliases: tuple[str, ...]


def normalise_name(text: str) -> str:
    """Names for matching: ``'Stalking and harassment 5'`` → ``'stalking and harassment'``, ``&`` → ``and``."""
    text = re.sub(r"\[note \d+\]", "", str(text), flags=re.IGNORECASE)
    text = text.replace("&", " and ").replace("-", " ").replace("(", " ").replace(")", " ")
    text = re.sub(r"[\d,\s]+$", "", text.strip())  # footnote digits glued to the end
    return re.sub(r"\s+", " ", text).strip().lower()


def slugify(text: str) -> str:
    """``'City of London'`` → ``'city-of-london'``."""
    return normalise_name(text).replace(" ", "-").replace(",", "")


def _read_csv(name: str) -> list[dict[str, str]]:
    with resources.files("crimestats.data").joinpath(name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _aliases(text: str) -> tuple[str, ...]:
    return tuple(alias for alias in text.split(";") if alias)


@functools.cache
def areas() -> tuple[Area, ...]:
    """Every area in the reference data, in table order."""
    return tuple(
        Area(
            row["code"],
            row["name"],
            row["kind"],
            row["parent"] or None,
            _aliases(row["aliases"]),
            row["rate_suppressed"] or None,
        )
        for row in _read_csv("areas.csv")
    )


@functools.cache
def forces() -> tuple[Area, ...]:
    """The 43 territorial police forces of England and Wales."""
    return tuple(a for a in areas() if a.kind == "force")


@functools.cache
def _areas_by_key() -> dict[str, Area]:
    keys: dict[str, Area] = {}
    # Regions first, forces last: "West Midlands" names the force, not the region.
    order = {"national": 0, "country": 1, "region": 2, "fraud_body": 3, "transport": 4, "force": 5}
    for item in sorted(areas(), key=lambda a: order[a.kind]):
        for key in (item.name, item.slug, *item.aliases):
            keys[normalise_name(key)] = item
        keys[item.code.lower()] = item
        keys[item.slug] = item
    return keys


def find_area(name_or_code: str) -> Area | None:
    """The area a name, alias, slug or code denotes, or None. 'X Police' and 'X Constabulary' also work."""
    keys = _areas_by_key()
    code = re.match(r"^\s*([EWK]\d{8})\d*\s*$", str(name_or_code), flags=re.IGNORECASE)
    if code:  # an ONS code, perhaps with a footnote digit glued on ("E230000118")
        return keys.get(code.group(1).lower())
    key = normalise_name(name_or_code)
    if key in keys:
        return keys[key]
    stripped = re.sub(r"\s+(police|constabulary|police service)$", "", key)
    return keys.get(stripped) or keys.get(key.replace(" ", "-"))


def area(name_or_code: str | Area) -> Area:
    """The area a name, alias, slug or code denotes; :class:`UnknownAreaError` if none. An area already found
    is returned as it is."""
    if isinstance(name_or_code, Area):
        return name_or_code
    found = find_area(name_or_code)
    if found is None:
        hint = did_you_mean(suggest_areas(name_or_code, areas())) or AREA_HINT
        raise UnknownAreaError(f"unknown force or area {name_or_code!r} ({hint})")
    return found


#: The Home Office most similar groups have at most seven members besides the force itself (and a computed
#: group has seven).
MOST_SIMILAR_GROUP_SIZE = 7
AREA_HINT = "try a name like 'Wiltshire' or a code like E23000038"


def suggest_areas(text: str, among: Iterable[Area]) -> list[str]:
    """The names of the areas ``among`` that a mistyped name may mean: 'Wiltshre' → Wiltshire."""
    return _nearest(text, {normalise_name(key): a.name for a in among for key in (a.name, *a.aliases)})


def suggest_offences(text: str) -> list[str]:
    """The slugs of the offences a mistyped name may mean: 'burglery' → burglary, 'stalking' →
    stalking-and-harassment."""
    return _nearest(text, {normalise_name(key): o.slug for o in offences() for key in (o.slug, o.name, *o.aliases)})


def _nearest(text: str, names: dict[str, str], most: int = 6) -> list[str]:
    """What a mistyped name may mean: the names containing it (three letters or more), else those closest in
    spelling (difflib's ratio, 0.75 or more), at most ``most`` of them (more means the name says too little).
    ``names`` maps each name as matched (:func:`normalise_name`) to what to print."""
    key = normalise_name(text)
    found = [shown for name, shown in names.items() if len(key) >= 3 and key in name]
    if not found:
        found = [names[name] for name in difflib.get_close_matches(key, names, n=most, cutoff=0.75)]
    unique = list(dict.fromkeys(found))
    return unique if len(unique) <= most else []


def did_you_mean(names: list[str]) -> str | None:
    """'did you mean Wiltshire?', 'did you mean North Wales or South Wales?', or None without a name."""
    if not names:
        return None
    return f"did you mean {', '.join(names[:-1])} or {names[-1]}?" if len(names) > 1 else f"did you mean {names[0]}?"


@functools.cache
def offences() -> tuple[Offence, ...]:
    """Every node of the offence classification, parents before children."""
    return tuple(
        Offence(row["slug"], row["name"], row["level"], row["parent"] or None, _aliases(row["aliases"]))
        for row in _read_csv("offences.csv")
    )


@functools.cache
def _offences_by_key() -> dict[str, Offence]:
    keys: dict[str, Offence] = {}
    for item in offences():
        for key in (item.slug, item.name, *item.aliases):
            keys[normalise_name(key)] = item
    return keys


def find_offence(name_or_slug: str) -> Offence | None:
    """The offence a name, alias or slug denotes (case-insensitive), or None."""
    return _offences_by_key().get(normalise_name(name_or_slug))


def offence(name_or_slug: str | Offence) -> Offence:
    """The offence a name, alias or slug denotes; :class:`UnknownOffenceError` if none. An offence already
    found is returned as it is."""
    if isinstance(name_or_slug, Offence):
        return name_or_slug
    found = find_offence(name_or_slug)
    if found is None:
        near = did_you_mean(suggest_offences(name_or_slug))
        hint = f"{near} `crimestats offences` lists them all" if near else "see `crimestats offences`; e.g. 'burglary'"
        raise UnknownOffenceError(f"unknown offence {name_or_slug!r} ({hint})")
    return found


@functools.cache
def _codes() -> dict[str, str]:
    return {row["code"]: row["offence"] for row in _read_csv("offence_codes.csv")}


def offence_for_code(code: str) -> str | None:
    """The leaf offence slug a Home Office offence code counts towards, or None if the code is unknown."""
    return _codes().get(code.strip())


@functools.cache
def offence_ancestors() -> tuple[tuple[str, str], ...]:
    """Pairs (offence, ancestor-or-self) for every node: how counts roll up the hierarchy."""
    parent = {o.slug: o.parent for o in offences()}
    pairs = []
    for slug in parent:
        node: str | None = slug
        while node is not None:
            pairs.append((slug, node))
            node = parent[node]
    return tuple(pairs)


def offence_descendants(slug: str) -> frozenset[str]:
    """An offence and every offence below it in the classification (what its count is made of)."""
    return frozenset(child for child, ancestor in offence_ancestors() if ancestor == slug)
