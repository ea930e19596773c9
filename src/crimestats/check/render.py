"""A checked story for people: the story with each claim marked and numbered, and under each paragraph a
numbered note giving the verdict, the published figure and its source (Markdown or self-contained HTML), or
the claims as table rows."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

from crimestats import reference
from crimestats.check.model import CheckedClaim, CheckResult
from crimestats.check.verdicts import about
from crimestats.periods import parse_period, period_label

__all__ = ["html_body", "source_text", "table_rows", "to_html", "to_markdown"]

_COLOURS = {"correct": "#d4edda", "incorrect": "#f8d7da", "needs context": "#fff3cd", "cannot check": "#e2e3e5"}


def source_text(source: dict[str, Any] | None) -> str:
    """'policeforceareatablesyearendingseptember2019.xlsx, Table P3, cell F56'."""
    if not source:
        return ""
    cell = f", cell {source['cell']}" if source.get("cell") else ""
    return f"{source['file']}, {source['table']}{cell}"


def release_text(source: dict[str, Any] | None, period: str | None) -> str:
    """'Table P3, year ending March 2019 release': where a figure is published, without the file's name."""
    if not source:
        return ""
    cell = f", cell {source['cell']}" if source.get("cell") else ""
    release = f", {period_label(parse_period(period))} release" if period else ""
    return f"{source['table']}{cell}{release}"


def about_text(checked: CheckedClaim) -> str:
    """'Lancashire; robbery; YE Dec 2019': what a claim was read as being about."""
    claim = checked.claim
    parts = [
        reference.area(claim.force).name if claim.force else None,
        reference.offence(claim.offence).name if claim.offence else claim.not_crime,
        f"YE {parse_period(claim.period):%b %Y}" if claim.period else None,
    ]
    return "; ".join(p for p in parts if p) or "?"


def _unprefixed(checked: CheckedClaim) -> str:
    """The explanation without the 'Lancashire, robbery, year ending December 2019: ' the About column says."""
    claim = checked.claim
    if claim.force and claim.offence and claim.period:
        prefix = about(claim) + ": "
        if checked.explanation.startswith(prefix):
            rest = checked.explanation[len(prefix) :]
            return rest[:1].upper() + rest[1:]
    return checked.explanation


def table_rows(result: CheckResult) -> list[dict[str, Any]]:
    """One row a claim: number, the words of the story, verdict, what it is about (force, offence, period) and
    explanation (with the table, cell and release; the file's name is in the JSON)."""
    return [
        {
            "number": number,
            "text": checked.claim.text,
            "verdict": checked.verdict,
            "about": about_text(checked),
            "explanation": " ".join(
                filter(None, [_unprefixed(checked), release_text(checked.source, checked.claim.period)])
            ),
        }
        for number, checked in enumerate(result.claims, start=1)
    ]


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Each line a paragraph of its own: a headline, a dateline and list items stay apart in Markdown."""
    start = 0
    for match in re.finditer(r"\s*\n\s*", text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


def _annotated(
    result: CheckResult, mark: Callable[[str, int, CheckedClaim], str], escape: Callable[[str], str]
) -> Iterator[tuple[str, list[tuple[int, CheckedClaim]]]]:
    """Each paragraph with its claims marked, and its claims (number, claim)."""
    numbered = list(enumerate(result.claims, start=1))
    for start, end in _paragraphs(result.text):
        inside = [(n, c) for n, c in numbered if start <= c.claim.span[0] < end]
        parts, at = [], start
        for number, checked in inside:
            first, last = checked.claim.span
            parts += [escape(result.text[at:first]), mark(result.text[first:last], number, checked)]
            at = last
        parts.append(escape(result.text[at:end]))
        yield "".join(parts).strip(), inside


def _note(number: int, checked: CheckedClaim) -> str:
    source = source_text(checked.source)
    return f"[{number}] {checked.verdict}: {checked.explanation}" + (f" Source: {source}." if source else "")


def to_markdown(result: CheckResult) -> str:
    """The story with each claim in bold and numbered, and the numbered notes under each paragraph."""
    blocks = []
    for paragraph, claims in _annotated(result, lambda text, n, _: f"**{text}** [{n}]", lambda text: text):
        if paragraph:
            blocks.append(paragraph)
        if claims:
            blocks.append("\n".join(f"> {_note(n, c)}  " for n, c in claims))
    summary = ", ".join(f"{count} {verdict.replace('_', ' ')}" for verdict, count in result.summary().items())
    return "\n\n".join([*blocks, f"*Claims checked: {summary}.*"]) + "\n"


def to_html(result: CheckResult) -> str:
    """A self-contained HTML page: the story with each claim highlighted by verdict, notes under paragraphs."""
    summary = ", ".join(f"{count} {verdict.replace('_', ' ')}" for verdict, count in result.summary().items())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>crimestats check</title>'
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}"
        ".notes{font-size:.9em;color:#333}</style></head><body>\n"
        + html_body(result)
        + f"\n<p><em>Claims checked: {html.escape(summary)}.</em></p>\n</body></html>\n"
    )


def html_body(result: CheckResult, styled: bool = True) -> str:
    """The story's paragraphs with each claim marked and numbered, and the numbered notes under each: the
    marks coloured inline (``styled``, for a self-contained page) or by class (``verdict-correct``,
    ``verdict-needs-context`` …, for a page whose style sheet colours them)."""

    def mark(text: str, number: int, checked: CheckedClaim) -> str:
        title = html.escape(checked.verdict, quote=True)
        look = (
            f'style="background:{_COLOURS[checked.verdict]}"'
            if styled
            else f'class="verdict-{checked.verdict.replace(" ", "-")}"'
        )
        return f'<mark {look} title="{title}">{html.escape(text)}</mark><sup>[{number}: {title}]</sup>'

    body = []
    for paragraph, claims in _annotated(result, mark, html.escape):
        if paragraph:
            body.append(f"<p>{paragraph}</p>")
        if claims:
            notes = "".join(f'<li value="{n}">{html.escape(_note(n, c))}</li>' for n, c in claims)
            body.append(f'<ol class="notes">{notes}</ol>')
    if styled:
        legend = " ".join(
            f'<span style="background:{colour}">{html.escape(verdict)}</span>' for verdict, colour in _COLOURS.items()
        )
    else:
        legend = " ".join(
            f'<span class="verdict-{verdict.replace(" ", "-")}">{html.escape(verdict)}</span>' for verdict in _COLOURS
        )
    intro = f'<p class="legend">Each claim is marked and numbered with its verdict: {legend}.</p>'
    return "\n".join([intro, *body])
