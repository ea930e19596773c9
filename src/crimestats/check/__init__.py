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

__all__ = ["VERDICTS", "CheckResult", "CheckedClaim", "Claim", "check_text", "find_claims", "read_story"]

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


def read_story(path: str | Path) -> str:
    """The text of a story file (.txt, .md or .html, HTML stripped), or of standard input for ``-``."""
    if str(path) == "-":
        text = sys.stdin.read()
        return strip_html(text) if text.lstrip().startswith("<") else text
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise CrimestatsError(f"{path.name}: crimestats check reads .txt, .md or .html files (or - for stdin)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CrimestatsError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from error
    return strip_html(text) if path.suffix.lower() in (".html", ".htm") else text
