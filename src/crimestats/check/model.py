"""What checking a story returns: each claim found, what it was resolved to and its verdict, and a summary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["VERDICTS", "CheckResult", "CheckedClaim", "Claim"]

#: The verdicts, in the order a summary lists them.
VERDICTS = ("correct", "incorrect", "needs context", "cannot check")


@dataclass(frozen=True)
class Claim:
    """A statistical claim found in a story, resolved to the statistic it quotes.

    ``measure`` is ``rate``, ``count``, ``rank``, ``change`` or ``average``; ``claimed`` the number (a rate,
    count, percentage change, position or average) or, for words without a number, the words (``lowest``);
    ``force`` an area code (a force, or ``K04000001`` for England and Wales), ``period`` a quarter end
    ``2019-09``; any of them None when the story does not say and its context does not tell.
    """

    text: str
    span: tuple[int, int]
    measure: str
    claimed: float | str | None
    sentence: str
    force: str | None = None
    offence: str | None = None
    period: str | None = None
    words: dict[str, Any] = dataclasses.field(default_factory=dict)  # what the wording adds: direction, hedges…
    not_crime: str | None = None  # what the claim is about when it is not recorded crime ("police officers")

    def _replace(self, **changes: Any) -> Claim:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class CheckedClaim:
    """A claim and its verdict: the published figure (``actual``), why, and where the figure is published."""

    claim: Claim
    verdict: str
    explanation: str
    actual: float | int | str | None = None
    source: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        claim = self.claim
        return {
            "text": claim.text,
            "span": list(claim.span),
            "force": claim.force,
            "offence": claim.offence,
            "period": claim.period,
            "measure": claim.measure,
            "claimed": claim.claimed,
            "actual": self.actual,
            "verdict": self.verdict,
            "explanation": self.explanation,
            "source": self.source,
        }


@dataclass(frozen=True)
class CheckResult:
    """Every claim of a story with its verdict, in the order of the text (``text``: the story as checked, HTML
    stripped, which the spans index)."""

    text: str
    claims: tuple[CheckedClaim, ...]

    def summary(self) -> dict[str, int]:
        return {verdict.replace(" ", "_"): sum(c.verdict == verdict for c in self.claims) for verdict in VERDICTS}

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``crimestats check --format json`` (and of a web ``POST /check.json``)."""
        return {"claims": [c.to_dict() for c in self.claims], "summary": self.summary()}
