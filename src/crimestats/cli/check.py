"""``crimestats check FILE``: a story's numbers checked claim by claim (see :mod:`crimestats.check`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from crimestats.cli.options import open_store
from crimestats.cli.output import fail, out
from crimestats.documents import to_json
from crimestats.errors import CrimestatsError


class CheckFormat(StrEnum):
    table = "table"
    json = "json"
    md = "md"
    html = "html"


def check(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A story: .txt, .md or .html, or - for standard input.")],
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="table, json, or the story annotated as md or html.")
    ] = CheckFormat.table,
) -> None:
    """Check a story's numbers against the official statistics, claim by claim.

    Finds each claim about police recorded crime (rates per 1,000, counts, league positions, changes,
    comparisons with an average), works out the force, offence and period it is about, and says whether it is
    correct (with the figure's file, table and cell), incorrect (with the published figure and the likely
    slip), needs context, or cannot be checked, and why.
    """
    from rich.table import Table

    from crimestats.check import check_text, read_story
    from crimestats.check.render import table_rows, to_html, to_markdown

    try:
        text = read_story(file)
        with open_store(read_only=True) as store:
            result = check_text(store, text)
    except CrimestatsError as error:
        fail(error)
    if format is CheckFormat.json:
        sys.stdout.write(to_json(result.to_dict()) + "\n")
    elif format is CheckFormat.md:
        sys.stdout.write(to_markdown(result))
    elif format is CheckFormat.html:
        sys.stdout.write(to_html(result))
    else:
        table = Table("#", "Claim", "Verdict", "Explanation", title="Claims checked", title_justify="left")
        for row in table_rows(result):
            table.add_row(str(row["number"]), row["text"], row["verdict"], row["explanation"])
        out.print(table)
        summary = ", ".join(f"{n} {verdict.replace('_', ' ')}" for verdict, n in result.summary().items())
        out.print(f"{len(result.claims)} claims: {summary}", highlight=False)
