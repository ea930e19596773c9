"""The fuzz test: a real official file, mutated by hypothesis (tests/fuzzing.py), ingested into a store that
already holds one good file. Whatever the mutation, nothing escapes :meth:`Store.ingest`: the file is stored,
or it is reported ``failed`` with a one-line error naming it, and then the store is as it was.

Bounded to a few seconds here (``CRIMESTATS_FUZZ_EXAMPLES``, default 25); the long run, with every case in a
worker process so that an abort or a hang is caught too, is ``benchmarks/fuzz_readers.py``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing
from crimestats.store import Store

from conftest import table_counts

EXAMPLES = int(os.environ.get("CRIMESTATS_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def seeds(data_dir: Path) -> dict[str, bytes]:
    return fuzzing.seed_bytes(data_dir)


@pytest.fixture(scope="module")
def fuzzed(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    """A store holding the official lookup file, and a folder for the mutated files."""
    folder = tmp_path_factory.mktemp("fuzz")
    with Store(folder / "fuzz.duckdb") as store:
        assert [r.status for r in store.ingest([data_dir / fuzzing.GOOD_FILE]).results] == ["ingested"]
        yield store, folder


def ingested_or_refused(store: Store, path: Path) -> None:
    """Ingest ``path``: stored, or failed with one line naming it and the store unchanged."""
    before = table_counts(store)
    [result] = store.ingest([path]).results
    assert result.status in ("ingested", "unchanged", "failed")
    if result.status == "failed":
        assert result.error and "\n" not in result.error and path.name in result.error
        assert table_counts(store) == before


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False), name=st.sampled_from(sorted(fuzzing.SEEDS)))
def test_a_mutated_official_file_is_stored_or_refused_in_one_line_leaving_the_store_unchanged(
    fuzzed: tuple[Store, Path], seeds: dict[str, bytes], rng: random.Random, name: str
) -> None:
    store, folder = fuzzed
    _, content = fuzzing.mutate(rng, name, seeds[name])
    path = folder / name
    path.write_bytes(content)
    ingested_or_refused(store, path)


@pytest.mark.parametrize("name", sorted(fuzzing.SEEDS))
def test_every_seed_is_a_good_file(fuzzed: tuple[Store, Path], seeds: dict[str, bytes], name: str) -> None:
    """Unmutated, each seed is stored: the failures the fuzz finds are the mutations', not the seeds'."""
    store, folder = fuzzed
    path = folder / f"seed-{name}"
    path.write_bytes(seeds[name])
    [result] = store.ingest([path]).results
    assert result.status == "unchanged" or (result.status == "ingested" and result.rows > 0)
