"""Finding the statistical claims of a sentence: rates, counts, league positions, changes and comparisons with
an average, each with its character span and what its wording says (direction, hedges, "significantly").

Patterns only (stdlib ``re``); which force, offence and period a claim is about is :mod:`.resolve`'s work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from crimestats.check.model import Claim
from crimestats.check.vocabulary import offence_mentions

__all__ = ["claims_in", "number"]

_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<million>\s*million\b)?"
_PCT = r"\s*(?:%|per\s*cent\b|percent\b)"
_HEDGE = r"(?P<hedge>almost|nearly|around|about|roughly|some|more\s+than|over|just\s+over|just\s+under|under)"
_ORDINALS = ("second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_ORD = r"(?P<ord>" + "|".join(_ORDINALS) + r"|\d+(?:st|nd|rd|th))"
_RISE = (
    r"rose|risen|rising|rise|rises|increased|increasing|increases|increase|went\s+up|gone\s+up|up|climbed|jumped|"
    r"soared|soaring|soars|soar|rocketed|rocketing|rockets|rocket|surged|surging|surges|surge|leapt|leaped|leap|"
    r"grew|grown|grow|shot\s+up|spiked"
)
_FALL = (
    r"fell|fallen|falling|fall|falls|dropped|dropping|drop|decreased|decreasing|decrease|down|declined|reduced|"
    r"plunged|plunging|plunge|plummeted|plummeting|plummet|tumbled|tumbling|tumble|slumped|slump|dipped|dip|"
    r"shrank|went\s+down|gone\s+down"
)
#: A word the story puts between the verb and the figure: 'rose slightly, by 0.2%', 'up a jaw-dropping 73%'.
_FILLER = (
    r"(?:\s+(?:slightly|sharply|steeply|significantly|marginally|dramatically|substantially|only|just))?,?\s+"
    r"(?:by\s+)?(?:an?\s+(?:[\w-]+\s+){1,2}?(?=\d|more|almost|nearly|over|around))?"
)
_VERB = rf"(?<!-)(?P<verb>{_RISE}|{_FALL})"
_NOUN = r"(?P<verb>increase|rise|jump|fall|drop|decrease|reduction|decline|up|down|higher|lower)"
_FRACTIONS = {"half": 50.0, "third": 100 / 3, "quarter": 25.0, "fifth": 20.0, "tenth": 10.0}
_FRACTION = r"(?P<frac>(?:a|one)\s+(?:half|third|quarter|fifth|tenth)|half|two\s+thirds|three\s+quarters)"
_PER_1000 = r"(?:per|for\s+every|for\s+each|in\s+every)\s+(?:1,000|1000|thousand|one\s+thousand)\b(?!\s+households)"

RATE = [
    re.compile(_NUM + r"\s+(?P<what>(?:[A-Za-z-]+\s+){0,5}?)" + _PER_1000, re.IGNORECASE),
    re.compile(
        r"\b(?:rate|figure)\s+(?:was\s+|of\s+|stood\s+at\s+|is\s+)" + _NUM + r"(?!\s*(?:%|per\s*cent|\d))",
        re.IGNORECASE,
    ),
]
CHANGE = [
    re.compile(r"\b" + _NUM + _PCT + r"\s+" + _NOUN + r"\b", re.IGNORECASE),
    re.compile(r"\b" + _VERB + _FILLER + r"(?:" + _HEDGE + r"\s+)?" + _NUM + _PCT, re.IGNORECASE),
    re.compile(r"\b" + _VERB + _FILLER + r"(?:" + _HEDGE + r"\s+)?" + _FRACTION + r"\b", re.IGNORECASE),
    re.compile(r"\b(?P<verb>doubled|halved)\b", re.IGNORECASE),
    re.compile(r"\b" + _NOUN + r"\s+of\s+(?:" + _HEDGE + r"\s+)?" + _NUM + _PCT, re.IGNORECASE),
]
AVERAGE = re.compile(
    r"(?P<sig>significantly\s+)?(?P<dir>below|above|higher\s+than|lower\s+than|less\s+than|more\s+than|under|over|"
    r"in\s+line\s+with|close\s+to|compared\s+(?:with|to)|against)\s+(?:the\s+)?(?P<group>(?:[\w-]+\s+){0,3}?)(?:average|(?<=Wales\s)(?:rate|figure)|(?<=national\s)(?:rate|figure))\b"
    r"(?P<tail>\s+(?:in|for|of|across|among)\s+(?:[\w-]+\s+){0,3}?(?:areas?|forces|group|Wales|country))?"
    r"(?:\s*,?\s*(?:of|at|which\s+is|which\s+was)\s+"
    + _NUM
    + r"(?:\s+(?:crimes\s+|offences\s+)?"
    + _PER_1000
    + r")?)?",
    re.IGNORECASE,
)
RANK = [
    re.compile(r"\branked\s+" + _ORD + r"\s+(?:(?P<dir>lowest|highest)\s+)?(?:out\s+)?of\s+(?:the\s+)?(?P<of>\d+)"),
    re.compile(r"\b(?P<among>one\s+of|among)\s+the\s+(?P<dir>lowest|highest|safest)\b", re.IGNORECASE),
    re.compile(r"\bamong\s+the\s+(?P<dir>top)[\s-]+performing\s+\w+", re.IGNORECASE),
    re.compile(
        r"\b(?P<dir>fewer|less|lower|more|higher)\s+(?:[\w-]+\s+){0,8}?than\s+(?:all|any|every)\s+(?:of\s+the\s+)?"
        r"(?:(?P<of>\d+)\s+)?other\s+(?:police\s+)?forces",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:the\s+)?(?:" + _ORD + r"[\s-]+)?(?P<dir>lowest|highest|fewest|safest|worst)\b", re.IGNORECASE),
]
#: Words after "lowest" that make it about something other than crime ("the lowest funded forces").
_NOT_CRIME_RANK = re.compile(r"\s*(?:funded|paid|staffed|deprived|populated|spending|budget|council|number\s+of\s+of)")
_CRIME_WORDS = re.compile(r"\bcrimes?\b|\boffences?\b|\brecorded\b|\bvictims?\b|\bper\s+head\b|\brate\b", re.IGNORECASE)
_OF_FORCES = re.compile(r"\bof\s+(?:the|any\s+of\s+the|all)\s+(?P<of>\d+)\s+(?:police\s+)?forces")
_BY_RATE = re.compile(r"\brate\b|per\s+head|per\s+1,?000|per\s+capita|per\s+person|for\s+every", re.IGNORECASE)
_BY_COUNT = re.compile(r"\b(?:number|amount|volume)\s+of\b", re.IGNORECASE)
_SIGNIFICANT = re.compile(r"\bsignificant(?:ly)?\b", re.IGNORECASE)
_COUNT_TO = re.compile(r"\b(?:rose|increased|fell|dropped|went\s+up|climbed|decreased)\s+to\s+" + _NUM, re.IGNORECASE)
_COUNT_NUM = re.compile(r"(?<![\d.,])" + _NUM + r"(?![\d%]|\s*per\s*cent)")
_COUNT_AFTER_CHANGE = re.compile(
    r"(?:%|per\s*cent),?\s+(?P<to>to\s+(?:" + _HEDGE + r"\s+)?" + _NUM + r")(?!\d|\.\d|\s*(?:%|per))", re.IGNORECASE
)
#: 'compared with 6.8 nationally': England and Wales' figure, given as a comparison.
NATIONALLY = re.compile(
    r"(?P<dir>compared\s+(?:with|to)|against|versus)\s+" + _NUM + r"(?:\s+" + _PER_1000 + r")?\s+"
    r"(?:nationally|across\s+England\s+and\s+Wales|in\s+England\s+and\s+Wales\s+as\s+a\s+whole)",
    re.IGNORECASE,
)
#: 'compared with 162,819 in the previous year's figures': the count for the year before.
_PREVIOUS_COUNT = re.compile(
    r"\bcompared\s+(?:with|to)\s+(?P<n>" + _NUM + r")(?=\s+(?:(?:in|for)\s+)?(?:the\s+)?(?:previous|prior|preceding)\s+"
    r"(?:year|12\s+months)|\s+a\s+year\s+(?:earlier|before))",
    re.IGNORECASE,
)
_ONES = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: 'one in ten of all the muggings in England and Wales': a force's share of England and Wales' offences.
SHARE = re.compile(
    r"\b(?:(?P<hedge>almost|nearly|around|about|roughly|more\s+than|over)\s+)?one\s+in\s+(?P<n>"
    + "|".join(_ONES)
    + r"|\d+)\s+of\s+(?:all\s+)?(?:the\s+)?(?P<what>(?:[\w-]+\s+){0,4}?)(?:in|across)\s+(?:England\s+and\s+Wales|"
    r"the\s+country)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_COUNT_WORDS = r"(?:(?:recorded|reported|more|fewer|additional|extra|new|separate|individual|police)\s+)*"


def number(text: str, million: str | None = None) -> float:
    """'43,831' → 43831; '1.2' with ' million' → 1,200,000."""
    value = float(text.replace(",", ""))
    return value * 1_000_000 if million else value


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def claims_in(sentence: str, offset: int) -> list[Claim]:
    """The claims of one sentence (``offset``: where it starts in the story), in order, none overlapping."""
    found: list[Claim] = []
    claims = [*_averages(sentence), *_shares(sentence), *_rates(sentence), *_changes(sentence), *_ranks(sentence)]
    for claim in claims:
        if not any(_overlap(claim.span, other.span) for other in found):
            found.append(claim)
    for claim in _counts(sentence):
        if not any(_overlap(claim.span, other.span) for other in found):
            found.append(claim)
    shifted = [c._replace(span=(c.span[0] + offset, c.span[1] + offset)) for c in found]
    return sorted(shifted, key=lambda c: c.span)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _claim(sentence: str, match: re.Match[str], measure: str, claimed: Any, **words: Any) -> Claim:
    start, end = match.span()
    text = sentence[start:end].strip()
    start += len(sentence[start:end]) - len(sentence[start:end].lstrip())
    words["significant"] = bool(_SIGNIFICANT.search(sentence))
    return Claim(text, (start, start + len(text)), measure, claimed, sentence, words=words)


def _averages(sentence: str) -> Iterator[Claim]:
    for match in NATIONALLY.finditer(sentence):
        said = number(match.group("num"), match.group("million"))
        words = {"direction": " ".join(match.group("dir").lower().split()), "average": "national"}
        yield _claim(
            sentence, match, "average", said, **words, significantly=False, decimals=_decimals(match.group("num"))
        )
    for match in AVERAGE.finditer(sentence):
        group = f"{match.group('group')} {match.group('tail') or ''}".lower()
        which = "similar" if re.search(r"similar|peer|comparable|msg", group) else "national"
        which = "regional" if "region" in group else which
        value = number(match.group("num"), match.group("million")) if match.group("num") else None
        direction = " ".join(match.group("dir").lower().split())
        yield _claim(
            sentence,
            match,
            "average",
            value if value is not None else direction,
            direction=direction,
            average=which,
            significantly=bool(match.group("sig")),
            decimals=_decimals(match.group("num") or ""),
        )


def _shares(sentence: str) -> Iterator[Claim]:
    for match in SHARE.finditer(sentence):
        n = match.group("n").lower()
        out_of = _ONES.index(n) + 2 if n in _ONES else int(n)
        if out_of >= 2:
            hedge = " ".join(match.group("hedge").lower().split()) if match.group("hedge") else None
            yield _claim(sentence, match, "share", 100 / out_of, out_of=out_of, hedge=hedge)


def _rates(sentence: str) -> Iterator[Claim]:
    for pattern in RATE:
        for match in pattern.finditer(sentence):
            value = number(match.group("num"), match.group("million"))
            yield _claim(sentence, match, "rate", value, decimals=_decimals(match.group("num")))


def _changes(sentence: str) -> Iterator[Claim]:
    for pattern in CHANGE:
        for match in pattern.finditer(sentence):
            verb = match.group("verb").lower()
            sign = -1.0 if re.fullmatch(_FALL + r"|decrease|reduction|decline|lower|halved", verb) else 1.0
            groups = match.groupdict()
            if groups.get("num"):
                size, decimals, fraction = number(groups["num"]), _decimals(groups["num"]), None
            elif groups.get("frac"):
                fraction = " ".join(groups["frac"].lower().split())
                size, decimals = _fraction(fraction), 0
            else:
                fraction = verb
                size, decimals = (100.0 if verb == "doubled" else 50.0), 0
            hedge = " ".join((groups.get("hedge") or "").lower().split()) or None
            yield _claim(sentence, match, "change", sign * size, decimals=decimals, fraction=fraction, hedge=hedge)


def _fraction(words: str) -> float:
    share = _FRACTIONS[words.split()[-1].rstrip("s")]
    return share * (2 if words.startswith("two") else 3 if words.startswith("three") else 1)


def _ranks(sentence: str) -> Iterator[Claim]:
    for pattern in RANK:
        for match in pattern.finditer(sentence):
            rest = sentence[match.end() :]
            clause = re.split(r"[.;:!?]|\s-\s|\s–\s", rest, maxsplit=1)[0]
            if (match.group("dir") or "").lower() == "top":
                if not re.search(r"similar|forces|areas", sentence):
                    continue
            elif _NOT_CRIME_RANK.match(rest) or not _CRIME_WORDS.search(sentence):
                continue
            yield _rank_claim(sentence, match, clause)


def _rank_claim(sentence: str, match: re.Match[str], clause: str) -> Claim:
    groups = match.groupdict()
    direction = (groups["dir"] or "lowest").lower()  # 'ranked 12th of 42': 1st is the lowest rate
    direction = "lowest" if direction in ("fewer", "less", "lower", "fewest", "safest") else direction
    direction = "highest" if direction in ("more", "higher", "worst") else direction
    ordinal = (groups.get("ord") or "").lower()
    position = 1 if not ordinal else _ORDINALS.index(ordinal) + 2 if ordinal in _ORDINALS else int(ordinal[:-2])
    of = groups.get("of") or (m.group("of") if (m := _OF_FORCES.search(clause)) else None)
    by = "rate" if _BY_RATE.search(sentence) else "count" if _BY_COUNT.search(clause) else None
    return _claim(
        sentence,
        match,
        "rank",
        " ".join(match.group(0).split()),
        direction=direction,
        position=position,
        of=int(of) if of else None,
        among=bool(groups.get("among")) or direction == "top",
        by=by,
    )


def _counts(sentence: str) -> Iterator[Claim]:
    """A number of offences: a number followed by an offence ('4,102 burglaries', '43,831 recorded crimes',
    '120 new officers') or after 'rose to' ('burglaries rose to 4,102')."""
    mentions = offence_mentions(sentence)
    for match in _COUNT_TO.finditer(sentence):
        yield _claim(sentence, match, "count", number(match.group("num"), match.group("million")), hedge=None)
    for match in _COUNT_AFTER_CHANGE.finditer(sentence):  # 'rose 68%, to 4,845', 'up 3 per cent to nearly 29,000'
        value = number(match.group("num"), match.group("million"))
        hedge = " ".join(match.group("hedge").lower().split()) if match.group("hedge") else None
        words: dict[str, Any] = {"hedge": hedge, "significant": False}
        yield Claim(match.group("to"), match.span("to"), "count", value, sentence, words=words)
    for match in _PREVIOUS_COUNT.finditer(sentence):
        value = number(match.group("num"), match.group("million"))
        words = {"hedge": None, "significant": False, "previous": True}
        yield Claim(match.group("n"), match.span("n"), "count", value, sentence, words=words)
    for match in _COUNT_NUM.finditer(sentence):
        if any(m.start <= match.start() < m.end for m in mentions) or _YEAR.fullmatch(match.group(0)):
            continue  # part of a name ('999 calls'), or a year ('in 2021 crime fell')
        after = re.match(r"\s+" + _COUNT_WORDS, sentence[match.end() :])
        start = match.end() + (after.end() if after else 0)
        topic = next((m for m in mentions if m.start == start), None)
        if topic is None or not after:
            continue
        before = re.search(_HEDGE + r"\s+$", sentence[: match.start()], re.IGNORECASE)
        hedge = " ".join(before.group("hedge").lower().split()) if before else None
        first = before.start() if before else match.start()
        value = number(match.group("num"), match.group("million"))
        words = {"hedge": hedge, "significant": False}
        yield Claim(sentence[first : topic.end], (first, topic.end), "count", value, sentence, words=words)
