"""Tables fit the terminal: columns are left out, the source first, rather than a force name or a rank cut."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crimestats.cli import app
from crimestats.store import Store

runner = CliRunner()
BOX = tuple("┏┃┡│└")


def printed(store: Store, width: int, *args: str) -> tuple[list[str], str]:
    """The table's lines and the whole output of a command in a terminal ``width`` columns wide."""
    result = runner.invoke(app, ["--db", str(store.path), *args], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.startswith(BOX)], result.stdout


@pytest.mark.parametrize(
    ("width", "left_out"), [(80, "95% interval, Source, Note"), (100, "Source, Note"), (120, None)]
)
def test_a_league_table_fits_the_terminal_with_every_name_and_rank_whole(
    cli_store: Store, width: int, left_out: str | None
) -> None:
    args = ["table", "-p", "2019-09", "-o", "stalking-and-harassment"]
    lines, out = printed(cli_store, width, *args)
    assert lines and all(len(line) <= width for line in lines) and not any("…" in line for line in lines)
    printed_json = json.loads(runner.invoke(app, ["--db", str(cli_store.path), *args, "-f", "json"]).stdout)
    rows = printed_json["rows"]
    body = [line for line in lines if line.startswith("│") and line.split("│")[2].strip()]  # not a note wrapping
    national = [line for line in body if line.split("│")[2].strip().startswith("England and Wales")]
    assert len(national) == 1 and f"{printed_json['national']['count']:,}" in national[0]
    body = body[: body.index(national[0])]  # the forces, above England and Wales (whose name may wrap)
    assert len(body) == len(rows)
    for line, row in zip(body, rows, strict=True):
        assert f"│ {row['force']} " in line
        if row["rank"] is not None:
            assert f"{row['rank']} of {row['ranked_of']} (" in line
    if left_out is None:
        assert "Left out" not in out and all(heading in " ".join(lines[:4]) for heading in ("Source", "Note"))
    else:  # the source column goes first
        assert f"Note: Left out to fit the terminal: {left_out} (--format csv or json has every column)." in out
        assert "Source" not in " ".join(lines[:4])


def test_a_wide_terminal_shows_every_column(cli_store: Store) -> None:
    lines, out = printed(cli_store, 160, "table", "-p", "2019-09")
    assert all(heading in lines[1] for heading in ("Rank", "Force", "95% interval", "Source", "Note"))
    assert "Left out" not in out


@pytest.mark.parametrize(
    "args", [["force", "Wiltshire", "-p", "2019-09"], ["trend", "Wiltshire"], ["totals", "-p", "2019-09"]]
)
def test_every_view_fits_80_columns_without_cutting_a_name(cli_store: Store, args: list[str]) -> None:
    lines, _ = printed(cli_store, 80, *args)
    assert lines and all(len(line) <= 80 for line in lines) and not any("…" in line for line in lines)
    wide, _ = printed(cli_store, 160, *args)
    assert first_column(lines) == first_column(wide)  # an offence or area name may wrap, never be cut


def first_column(lines: list[str]) -> str:
    return " ".join(word for line in lines if line.startswith("│") for word in line.split("│")[1].split())
