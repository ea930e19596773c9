"""The README's example output, produced by the tool itself.

    python tools/readme_examples.py [--db PATH]            # rewrite README.md from the store's answers
    python tools/readme_examples.py --check [--db PATH]    # exit 1, with a diff, if README.md is out of date

Every ``$ crimestats …`` line in a ``console`` block of the README that shows output is run against the store
(``--db``, default ``$CRIMESTATS_DB`` or the user's store), and the lines under it are replaced by what the
command prints (standard output, then standard error). A line holding only ``…`` (indented or not) marks where
output is left out: the README keeps as many lines before the first ``…`` and after the last one as it showed
before. A line wider than :data:`WIDTH` is cut there and ends in ``…``. Commands that write (``ingest``,
``report``, ``data``, anything with ``--out``), whose output depends on when they ran (``files``), or that show
no output in the README are left as they are. ``tests/test_readme.py`` runs the check on the real files.
"""

from __future__ import annotations

import argparse
import difflib
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
ELLIPSIS = "…"
WIDTH = 160
PROMPT = "$ crimestats "
NOT_RUN = {"ingest", "report", "data", "files", "serve", "check"}

Runner = Callable[[list[str]], str]


def runs(args: list[str]) -> bool:
    """Whether an example command is run to produce its output (read-only and repeatable)."""
    words = [a for a in args if not a.startswith("-")]
    return bool(words) and words[0] not in NOT_RUN and "--out" not in args


def shown(lines: list[str], printed: list[str]) -> list[str]:
    """The printed lines as the README shows them: the same number kept around any ``…``, wide lines cut."""
    printed = [line if len(line) <= WIDTH else line[: WIDTH - 1] + ELLIPSIS for line in printed]
    elided = [i for i, line in enumerate(lines) if line.strip() == ELLIPSIS]
    if not elided:
        return printed
    head, tail = elided[0], len(lines) - 1 - elided[-1]
    if len(printed) <= head + tail:
        return printed
    return printed[:head] + [lines[elided[0]]] + (printed[-tail:] if tail else [])


def regenerate(text: str, run: Runner) -> str:
    """The README text with every run example's output replaced by what ``run(args)`` prints."""
    lines = text.split("\n")
    result: list[str] = []
    in_console = False
    i = 0
    while i < len(lines):
        line = lines[i]
        result.append(line)
        i += 1
        if line.startswith("```"):
            in_console = line.strip() == "```console" and not in_console
            continue
        if not (in_console and line.startswith(PROMPT)):
            continue
        end = i
        while end < len(lines) and not lines[end].startswith(("$ ", "```")) and lines[end] != "":
            end += 1
        output, args = lines[i:end], shlex.split(line[len(PROMPT) :])
        if output and runs(args):
            output = shown(output, [row.rstrip() for row in run(args).rstrip("\n").split("\n")])
        result.extend(output)
        i = end
    return "\n".join(result)


def cli_runner(db: Path | None) -> Runner:
    """Run a command in this process on the store ``db`` (default: the CLI's own choice)."""
    from typer.testing import CliRunner

    from crimestats.cli import app

    runner = CliRunner()

    def run(args: list[str]) -> str:
        result = runner.invoke(app, [*(["--db", str(db)] if db else []), *args], env={"COLUMNS": str(WIDTH)})
        return result.stdout + result.stderr

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report differences instead of writing README.md")
    parser.add_argument("--db", type=Path, help="the store to answer from (default: the CLI's)")
    options = parser.parse_args()
    before = README.read_text(encoding="utf-8")
    after = regenerate(before, cli_runner(options.db))
    if options.check:
        lines = before.splitlines(), after.splitlines()
        diff = list(difflib.unified_diff(*lines, "README.md", "generated", lineterm=""))
        print("\n".join(diff) or "README.md is up to date")
        return 1 if diff else 0
    README.write_text(after, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
