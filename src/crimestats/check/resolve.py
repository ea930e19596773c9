"""Which statistic a claim quotes: the force, offence and period, from its sentence or, when the sentence does
not say ("the force", "the county", "this type of crime"), from the story before it (a headline naming the
force counts)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from crimestats import reference
from crimestats.check.model import Claim
from crimestats.check.vocabulary import NATIONAL, Mention, force_mentions, offence_mentions, period_mentions

__all__ = ["Story", "resolve"]

_SCOPE = re.compile(r"(?:across|in|throughout|of|than)\s+(?:the\s+rest\s+of\s+|the\s+)?$", re.IGNORECASE)
_RANKED = re.compile(r"\b(?:lowest|highest|fewest|safest|worst|ranked)\b", re.IGNORECASE)
_BACK_REFERENCE = re.compile(r"\b(?:of\s+this\s+type|these\s+offences|such\s+offences|this\s+type\s+of)", re.I)


#: Plural nouns that name an offence only when the sentence names no other.
_GENERIC = re.compile(r"offences|crimes", re.IGNORECASE)
_GENERIC_MEANINGS = ("total-excluding-fraud", "not-crime", "unpublished")


@dataclass(frozen=True)
class Story:
    """What a story names, and where: forces, offences (and topics), periods; and its date, if it has one."""

    text: str
    forces: tuple[Mention, ...]
    offences: tuple[Mention, ...]
    periods: tuple[Mention, ...]
    brackets: tuple[tuple[int, int], ...] = ()
    scopes: tuple[Mention, ...] = ()
    bracket_of: dict[Mention, tuple[int, int]] = dataclasses.field(default_factory=dict)

    @classmethod
    def read(cls, text: str, today: dt.date | None) -> Story:
        mentions = force_mentions(text)
        scopes = tuple(m for m in mentions if _is_scope(text, m))
        named = [m for m in mentions if m not in scopes and not _is_comparison(text, m)]
        brackets = tuple(m.span() for m in _BRACKET.finditer(text))
        named = sorted(named + _the_force(text, named, brackets), key=lambda m: m.start)
        offences, periods = offence_mentions(text), period_mentions(text, today)
        everything = sorted([*named, *offences, *periods], key=lambda m: m.start)
        bracket_of = {m: b for b in brackets for m in _within(tuple(everything), *b)}
        return cls(text, tuple(named), tuple(offences), tuple(periods), brackets, scopes, bracket_of)

    def outside_brackets(self, mentions: Iterable[Mention], span: tuple[int, int]) -> list[Mention]:
        """The mentions that can be about a claim at ``span``: a word in brackets ('(Greater Manchester did not
        supply data)', '(excluding fraud)') is about that aside only, not the sentence around it."""
        return [m for m in mentions if (b := self.bracket_of.get(m)) is None or (b[0] <= span[0] and span[1] <= b[1])]

    def last_before(
        self, mentions: tuple[Mention, ...], at: int, span: tuple[int, int], keep: Callable[[Mention], bool]
    ) -> Mention | None:
        """The last mention ending before ``at`` that ``keep`` keeps and that can be about the claim at ``span``."""
        for mention in reversed(mentions[: _index(mentions, at)]):
            if mention.end <= at and keep(mention) and self.outside_brackets([mention], span):
                return mention
        return None


def _index(mentions: tuple[Mention, ...], at: int) -> int:
    """Where mentions starting at ``at`` would go (mentions are in the order of the text)."""
    low, high = 0, len(mentions)
    while low < high:
        middle = (low + high) // 2
        if mentions[middle].start < at:
            low = middle + 1
        else:
            high = middle
    return low


#: An aside in brackets.
_BRACKET = re.compile(r"\([^()\n]*\)")
#: 'the England and Wales average', 'the England and Wales rate of 89.3', 'compared with England and Wales':
#: an area a figure is compared with, never whom the figure (or the next sentence's) is about.
_COMPARED_BEFORE = re.compile(
    r"(?:compared\s+(?:with|to)|than|against|versus|vs\.?|with)\s+(?:that\s+(?:of|for|in)\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
_COMPARED_AFTER = re.compile(r"\s+(?:average|rate|figure|level|as\s+a\s+whole)s?\b", re.IGNORECASE)


def _is_comparison(text: str, mention: Mention) -> bool:
    before = text[max(0, mention.start - 30) : mention.start]
    if _COMPARED_BEFORE.search(before):
        return True
    return bool(re.search(r"\bthe\s+$", before, re.IGNORECASE) and _COMPARED_AFTER.match(text, mention.end))


#: Words for the force a story is about: 'the force', 'the constabulary', 'the county', 'the force area'.
_THE_FORCE = re.compile(r"\b(?:the|its)\s+(?:force(?:\s+area)?|constabulary|county|police\s+force)\b", re.IGNORECASE)


def _the_force(text: str, named: list[Mention], brackets: tuple[tuple[int, int], ...]) -> list[Mention]:
    """'The force', 'the constabulary': the force last named before (the story's force), never England and
    Wales, a country a figure was compared with, or a force named in an aside in brackets."""
    found = []
    aside = {m for b in brackets for m in _within(tuple(named), *b)}
    forces = tuple(m for m in named if reference.area(m.value).kind == "force" and m not in aside)
    for match in _THE_FORCE.finditer(text):
        before = forces[: _index(forces, match.start())]
        if forces:
            found.append(Mention(match.start(), match.end(), (before or forces)[-1].value))
    return found


def _is_scope(text: str, mention: Mention) -> bool:
    """'across England and Wales' (or 'in Wales') after a force's name or a league word in the same sentence is
    where it is ranked, not whom the figure is about."""
    if reference.area(mention.value).kind not in ("national", "country", "region"):
        return False
    if not _SCOPE.search(text[max(0, mention.start - 25) : mention.start]):
        return False
    start = max(text.rfind(".", 0, mention.start), text.rfind("\n", 0, mention.start))
    before = text[start + 1 : mention.start]
    return bool(_RANKED.search(before)) or any(m.value != NATIONAL for m in force_mentions(before))


def _within(mentions: tuple[Mention, ...], start: int, end: int) -> list[Mention]:
    """The mentions inside ``start``–``end`` (mentions are in the order of the text)."""
    found = []
    for mention in mentions[_index(mentions, start) :]:
        if mention.start >= end:
            break
        if mention.end <= end:
            found.append(mention)
    return found


def _nearest(mentions: list[Mention], span: tuple[int, int]) -> Mention | None:
    def distance(m: Mention) -> int:
        return 0 if m.start < span[1] and span[0] < m.end else min(abs(m.start - span[1]), abs(span[0] - m.end))

    return min(mentions, key=distance, default=None)


def resolve(
    story: Story, claim: Claim, sentence: tuple[int, int], previous: Claim | None, others: tuple[Claim, ...] = ()
) -> Claim:
    """The claim with its force, offence and period (each None when neither sentence nor story tells);
    ``others``: the sentence's other claims (an area inside a comparison with an average is not a subject)."""
    resolved = _topic(story, claim, sentence, previous)._replace(
        force=_force(story, claim, sentence, others), period=_period(story, claim, sentence)
    )
    if claim.measure == "rank":
        within = [m for m in _within(story.scopes, claim.span[1], sentence[1]) if m.value != NATIONAL]
        if within:
            resolved = resolved._replace(words={**resolved.words, "within": within[0].value})
    return resolved


def _force(story: Story, claim: Claim, sentence: tuple[int, int], others: tuple[Claim, ...] = ()) -> str | None:
    here = story.outside_brackets(_within(story.forces, *sentence), claim.span)
    asides = [c.span for c in (*others, claim) if c.measure in ("average", "share")]
    here = [m for m in here if not any(a[0] <= m.start and m.end <= a[1] for a in asides)]
    if claim.measure in ("rank", "average"):
        here = [m for m in here if m.value != NATIONAL]
    found = _nearest(here, claim.span)
    if found is not None:
        return found.value
    national_too = claim.measure not in ("rank", "average")
    before = story.last_before(story.forces, sentence[0], claim.span, lambda m: national_too or m.value != NATIONAL)
    return before.value if before else (story.forces[0].value if story.forces else None)


def _topic(story: Story, claim: Claim, sentence: tuple[int, int], previous: Claim | None) -> Claim:
    """The offence, or what else the claim is about: a topic crimestats cannot check, or not recorded crime."""
    here = story.outside_brackets(_within(story.offences, *sentence), claim.span)
    if previous is not None:
        here = _with_back_references(story.text, here, sentence, previous)
    found = _nearest(here, claim.span)
    if found is not None and _GENERIC.fullmatch(story.text[found.start : found.end]):
        named = [m for m in here if m.value not in _GENERIC_MEANINGS and m.end <= found.start]
        found = named[-1] if named else found  # 'Burglary was down 11%, to 4,225 offences'
    if found is None:
        found = story.last_before(story.offences, sentence[0], claim.span, lambda m: m.value != "not-crime")
    if found is None:
        return claim
    if found.value == "not-crime":
        return claim._replace(not_crime=found.note)
    if found.value == "unpublished":
        return claim._replace(offence=None, words={**claim.words, "unpublished": found.note})
    return claim._replace(offence=found.value)


def _with_back_references(
    text: str, mentions: list[Mention], sentence: tuple[int, int], previous: Claim
) -> list[Mention]:
    """'crimes of this type', 'these offences': the offence of the claim before, in place of the generic word."""
    references = [
        Mention(m.start(), m.end(), previous.offence or "not-crime", previous.not_crime or "")
        for m in _BACK_REFERENCE.finditer(text, *sentence)
    ]
    if not references:
        return mentions
    kept = [m for m in mentions if not any(0 <= r.start - m.end <= 3 for r in references)]
    return kept + references


def _period(story: Story, claim: Claim, sentence: tuple[int, int]) -> str | None:
    here = _within(story.periods, *sentence)
    if here:
        if claim.measure == "change":  # 'in the year to September 2019, compared with a year earlier'
            return max(m.value for m in here)
        found = _nearest(here, claim.span)
        return found.value if found else None
    before = story.last_before(story.periods, sentence[0], claim.span, lambda m: True)
    if before:
        return before.value
    return story.periods[0].value if story.periods else None
