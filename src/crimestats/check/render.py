"""A checked story for people: the story with each claim marked and numbered, and under each paragraph a
numbered note giving the verdict, the published figure and its source (Markdown or self-contained HTML), or
the claims as table rows."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

from crimestats.check.model import CheckedClaim, CheckResult

__all__ = ["html_body", "source_text", "table_rows", "to_html", "to_markdown"]

_COLOURS = {"correct": "#d4edda", "incorrect": "#f8d7da", "needs context": "#fff3cd", "cannot check": "#e2e3e5"}


def source_text(source: dict[str, Any] | None) -> str:
    """'policeforceareatablesyearendingseptember2019.xlsx, Table P3, cell F56'."""
    if not source:
        return ""
    cell = f", cell {source['cell']}" if source.get("cell") else ""
    return f"{source['file']}, {source['table']}{cell}"


def table_rows(result: CheckResult) -> list[dict[str, Any]]:
    """One row a claim: number, the words of the story, verdict and explanation (with the source)."""
    return [
        {
            "number": number,
            "text": checked.claim.text,
            "verdict": checked.verdict,
            "explanation": " ".join(filter(None, [checked.explanation, source_text(checked.source)])),
        }
        for number, checked in enumerate(result.claims, start=1)
    ]


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in re.finditer(r"\n\s*\n", text):
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
        return f'<mark {look} title="{title}">{html.escape(text)}</mark><sup>[{number}]</sup>'

    body = []
    for paragraph, claims in _annotated(result, mark, html.escape):
        if paragraph:
            body.append(f"<p>{paragraph}</p>")
        if claims:
            notes = "".join(f'<li value="{n}">{html.escape(_note(n, c))}</li>' for n, c in claims)
            body.append(f'<ol class="notes">{notes}</ol>')
    return "\n".join(body)
