"""The store on a real disk that fills up or turns read-only: each failure is one line, the store as it was.

The disks are real file systems (tmpfs of a few MB, mounted for the test: that needs root, which the sandbox
and CI have; elsewhere the tests skip, and under CI=true they fail instead).
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crimestats.cli import app
from crimestats.errors import StoreError
from crimestats.store import Store

from conftest import table_counts

runner = CliRunner()
FIRST = "ons-csp-tables/policeforceareatablesyejune25final.csv"  # small: the store's content before the failure
SECOND = "boundaries/force_boundaries_ugc.geojson"  # the file the full or read-only disk cannot take


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB file system of its own, unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        message = f"cannot mount a small file system: {done.stderr.decode().strip()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def stored(disk: Path, data_dir: Path) -> Path:
    """A closed store on the disk holding one official file."""
    path = disk / "store.duckdb"
    with Store(path) as store:
        assert [r.status for r in store.ingest([data_dir / FIRST]).results] == ["ingested"]
    return path


def fill(disk: Path) -> Path:
    """Write to the disk until it is full; returns the file to delete to make room again."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def contents(path: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    with Store(path, read_only=True) as store:
        return table_counts(store), [(f["file_name"], f["sha256"]) for f in store.files()]  # type: ignore[misc]


def test_a_full_disk_is_one_store_error_and_the_store_is_unchanged(stored: Path, disk: Path, data_dir: Path) -> None:
    """Reproducer 6: the failed COMMIT was hidden by a failed ROLLBACK ("no transaction is active"), a DuckDB error."""
    before = contents(stored)
    filler = fill(disk)
    with Store(stored) as store:
        with pytest.raises(StoreError) as caught:
            store.ingest([data_dir / SECOND])
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(f"cannot store force_boundaries_ugc.geojson in {stored}: ")
        assert "No space left on device" in message and message.endswith("the store is unchanged")
        assert (table_counts(store), [(f["file_name"], f["sha256"]) for f in store.files()]) == before
    assert contents(stored) == before  # reopened: nothing of the failed file was kept on disk either
    filler.unlink()
    with Store(stored) as store:  # with room again the same file is stored
        assert [r.status for r in store.ingest([data_dir / SECOND]).results] == ["ingested"]
        assert table_counts(store)["boundaries"] > before[0]["boundaries"] == 0


def test_cli_ingest_on_a_full_disk_prints_one_line_and_exits_1(stored: Path, disk: Path, data_dir: Path) -> None:
    before = contents(stored)
    fill(disk)
    result = runner.invoke(app, ["--db", str(stored), "ingest", str(data_dir / SECOND)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot store force_boundaries_ugc.geojson in ") and "No space left" in line
    assert contents(stored) == before


def remount_read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)


def test_a_read_only_store_is_read_and_refuses_writing_with_a_store_error(stored: Path, disk: Path) -> None:
    before = contents(stored)
    remount_read_only(disk)
    with pytest.raises(StoreError, match=rf"^cannot open store {stored}: .*Read-only file system$"):
        Store(stored)
    with pytest.raises(StoreError, match="Read-only file system"):
        Store(disk / "new" / "store.duckdb")
    assert contents(stored) == before


def test_cli_on_a_read_only_store_reads_and_refuses_to_write_in_one_line(
    stored: Path, disk: Path, data_dir: Path
) -> None:
    before = contents(stored)
    remount_read_only(disk)
    listed = runner.invoke(app, ["--db", str(stored), "files", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert "policeforceareatablesyejune25final.csv" in listed.stdout
    result = runner.invoke(app, ["--db", str(stored), "ingest", str(data_dir / SECOND)])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line == f'error: cannot open store {stored}: Cannot open file "{stored}": Read-only file system'
    assert contents(stored) == before
