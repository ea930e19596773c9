"""A story as text: HTML stripped safely (the standard library's parser; scripts and styles dropped), and cut
into sentences with their character spans."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["sentences", "strip_html"]

_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote"}
_BLOCKS |= {"section", "article", "header", "footer", "title", "figcaption", "pre", "hr"}
_HIDDEN = {"script", "style", "noscript", "template", "head"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN and tag != "head":
            self.hidden += 1
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and tag != "head":
            self.hidden = max(0, self.hidden - 1)
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def strip_html(markup: str) -> str:
    """The text of an HTML page, a paragraph per block element, without markup, scripts or styles."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


#: A sentence ends at ., ! or ? (and any closing quote) before a space or a capital ("2021.Per head" is two),
#: not inside a number ("52.7"); and at every line break.
_END = re.compile(r"""(?<=[.!?])["'”’]?(?:\s+|(?=[A-Z]))|\n+""")


def sentences(text: str) -> list[tuple[int, int]]:
    """The spans of the text's sentences, in order (headlines and list items are sentences of their own)."""
    spans, start = [], 0
    for match in _END.finditer(text):
        if match.start() > start and text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans
