"""``crimestats check FILE``: a story's numbers checked claim by claim (see :mod:`crimestats.check`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from crimestats.cli.options import open_store
from crimestats.cli.output import err, fail, out, terminal_width
from crimestats.documents import to_json
from crimestats.errors import CrimestatsError

#: Exit codes: 0 checked (whatever the verdicts, or no claims found), 1 an error (a file that cannot be read, too
#: big or not text; no store), 2 a usage error, 3 an empty story.
EXIT_EMPTY = 3


class CheckFormat(StrEnum):
    table = "table"
    json = "json"
    md = "md"
    html = "html"


def _paragraphs(*paragraphs: str) -> str:
    """Help text without hard line breaks: the terminal wraps each paragraph to its width."""
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


HELP = _paragraphs(
    "Check a story's numbers against the official statistics, claim by claim.",
    """Finds each claim about police recorded crime (rates per 1,000, counts, league positions, changes,
    comparisons with an average), works out the force, offence and period it is about, and says whether it is
    correct (with the figure's file, table and cell), incorrect (with the published figure and the likely slip),
    needs context, or cannot be checked, and why. The figures come from the store (crimestats --db PATH check
    FILE to use another one; build it with crimestats ingest).""",
    """FILE is .txt, .md or .html (a file without an extension is read as plain text), UTF-8 or Windows-1252, at
    most 1 MB; - reads standard input.""",
    """Exit codes: 0 the story was checked (whatever the verdicts; 'no claims found' when it makes none), 1 an
    error (a file that cannot be read, is too big or is not text, or no store), 2 a usage error, 3 an empty
    story.""",
)


def check(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A story: .txt, .md or .html, or - for standard input.")],
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="table, json, or the story annotated as md or html.")
    ] = CheckFormat.table,
) -> None:
    from crimestats.check import EmptyStory, check_text, read_story
    from crimestats.check.render import to_html, to_markdown

    try:
        text = read_story(file)
        with open_store(read_only=True) as store:
            result = check_text(store, text)
    except EmptyStory as error:
        err.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_EMPTY) from error
    except CrimestatsError as error:
        fail(error)
    if format is CheckFormat.json:
        sys.stdout.write(to_json(result.to_dict()) + "\n")
    elif format is CheckFormat.md:
        sys.stdout.write(to_markdown(result))
    elif format is CheckFormat.html:
        sys.stdout.write(to_html(result))
    else:
        _print_table(result)


check.__doc__ = HELP


def _print_table(result: object) -> None:
    """The claims as a table as wide as the terminal ($COLUMNS too when piped): what each claim is about (force,
    offence, release) so that two 'fell by 15%' rows differ; the file and cell are in --format json."""
    from rich.table import Table

    from crimestats.check.model import CheckResult
    from crimestats.check.render import table_rows

    assert isinstance(result, CheckResult)
    if not result.claims:
        out.print("No claims found: the story makes no claim about police recorded crime.", highlight=False)
        return
    width = terminal_width()
    table = Table("#", "Claim", "Verdict", "About", "Explanation", title="Claims checked", title_justify="left")
    for row in table_rows(result):
        table.add_row(str(row["number"]), row["text"], row["verdict"], row["about"], row["explanation"])
    out.print(table, width=width, soft_wrap=False)
    summary = ", ".join(f"{n} {verdict.replace('_', ' ')}" for verdict, n in result.summary().items())
    out.print(f"{len(result.claims)} claims: {summary}", highlight=False, width=width)
