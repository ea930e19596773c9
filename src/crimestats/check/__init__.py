"""``crimestats check``: a story's numbers checked claim by claim against the official statistics.

    >>> from crimestats.check import check_text                          # doctest: +SKIP
    >>> check_text(store, story).to_dict()["summary"]
    {'correct': 5, 'incorrect': 1, 'needs_context': 2, 'cannot_check': 1}

:mod:`.extract` finds the claims (rates, counts, league positions, changes, comparisons with an average),
:mod:`.resolve` says which force, offence and period each is about, :mod:`.verdicts` checks it against the
materialised statistics and :mod:`.render` prints the result. Rule-based: patterns over the reference data's
vocabulary, no language model, no network.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from crimestats.check.extract import claims_in
from crimestats.check.model import VERDICTS, CheckedClaim, CheckResult, Claim
from crimestats.check.resolve import Story, resolve
from crimestats.check.text import sentences, strip_html
from crimestats.check.verdicts import Figures, verdict
from crimestats.check.vocabulary import story_date
from crimestats.errors import CrimestatsError
from crimestats.store import Store

__all__ = [
    "MAX_BYTES",
    "VERDICTS",
    "CheckResult",
    "CheckedClaim",
    "Claim",
    "EmptyStory",
    "check_text",
    "decode_story",
    "find_claims",
    "read_story",
    "story_text",
]

#: The kinds of file ``crimestats check`` reads.
SUFFIXES = (".txt", ".md", ".html", ".htm")


def find_claims(text: str, today: dt.date | None = None) -> list[Claim]:
    """Every statistical claim about recorded crime in a text, resolved to force, offence and period.
    ``today`` dates the story ('last year'); a dateline in its first lines does too."""
    story = Story.read(text, today or story_date(text))
    if not story.offences:  # a text that never names a crime or a police topic makes no claim about them
        return []
    found: list[Claim] = []
    for start, end in sentences(text):
        claims = tuple(claims_in(text[start:end], start))
        for claim in claims:
            found.append(resolve(story, claim, (start, end), found[-1] if found else None, claims))
    return found


def check_text(store: Store, text: str, today: dt.date | None = None) -> CheckResult:
    """Check every claim of a story (plain text; strip HTML with :func:`read_story` first)."""
    figures = Figures(store)
    return CheckResult(text, tuple(verdict(figures, claim) for claim in find_claims(text, today)))


def story_text(text: str) -> str:
    """A story given as text (standard input, a web form): HTML stripped when it starts as HTML does."""
    return strip_html(text) if text.lstrip().startswith("<") else text


class EmptyStory(CrimestatsError):
    """A story with no text (exit code 3)."""


#: The largest story ``crimestats check`` reads (a long report is a few hundred kilobytes).
MAX_BYTES = 1_000_000


def read_story(path: str | Path) -> str:
    """The text of a story file (.txt, .md or .html, HTML stripped; a file without an extension is plain text),
    or of standard input for ``-``. UTF-8, or Windows-1252 for text that is not (a Word export); at most
    :data:`MAX_BYTES`."""
    name = "standard input" if str(path) == "-" else Path(path).name
    if str(path) == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        suffix = ""
    else:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (*SUFFIXES, ""):
            raise CrimestatsError(f"{path.name}: crimestats check reads .txt, .md or .html files (or - for stdin)")
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as error:
            raise CrimestatsError(f"cannot read {path}: {error.strerror or error}") from error
    text = decode_story(name, data)
    return strip_html(text) if suffix in (".html", ".htm") else story_text(text) if not suffix else text


def decode_story(name: str, data: bytes) -> str:
    """A story's bytes as text: one-line errors for a file too big, binary or empty."""
    if len(data) > MAX_BYTES:
        raise CrimestatsError(f"{name} is larger than {MAX_BYTES // 1_000_000} MB, the most crimestats check reads")
    if b"\x00" in data:
        raise CrimestatsError(f"{name} is not a text file (it holds NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise EmptyStory(f"{name} is empty: there is nothing to check")
    return text
