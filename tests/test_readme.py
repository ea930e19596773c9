"""The README's examples are what the tool prints on the real files (``tools/readme_examples.py``)."""

from __future__ import annotations

import difflib
from pathlib import Path

from conftest import copy_of, load_tool

readme_examples = load_tool("readme_examples")


def test_the_readme_examples_are_the_tools_output(ingested_file: Path, tmp_path: Path) -> None:
    """Run `python tools/readme_examples.py --db STORE` to bring the README up to date when this fails."""
    before = readme_examples.README.read_text(encoding="utf-8")
    after = readme_examples.regenerate(before, readme_examples.cli_runner(copy_of(ingested_file, tmp_path)))
    diff = "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(), "README.md", "tool", lineterm=""))
    assert not diff, diff


def test_examples_keep_the_lines_around_an_ellipsis_and_cut_wide_lines() -> None:
    text = "```console\n$ crimestats table\nold 1\n  …\nold 9\n\n$ crimestats ingest x\nkept\n```\nprose\n"
    printed = "\n".join(f"line {n}" for n in range(1, 6)) + "\n" + "w" * 200 + "\n"
    result = readme_examples.regenerate(text, lambda args: printed)
    assert result.split("\n")[:6] == ["```console", "$ crimestats table", "line 1", "  …", "w" * 159 + "…", ""]
    assert "$ crimestats ingest x\nkept\n```\nprose\n" in result  # commands that write are not run
