"""What the benchmark scripts share: where the data are, the ``--data`` and ``--repeat`` options, a fresh store,
the machine line and timing steps in turns.

The scripts run as ``python benchmarks/<script>.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics as stats
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """``$CRIMESTATS_TEST_DATA``, or ``../shared/data`` beside the repository."""
    return Path(os.environ.get("CRIMESTATS_TEST_DATA", REPO_ROOT.parent / "shared" / "data"))


def data_parser(description: str | None, repeat: int) -> argparse.ArgumentParser:
    """A parser with ``--data`` and ``--repeat`` (default ``repeat``); check its result with :func:`checked`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="folder of official data files")
    parser.add_argument("--repeat", type=int, default=repeat, help="runs of each timed step (median reported)")
    return parser


def checked(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The parsed arguments, after checking ``--repeat`` is positive and ``--data`` is a folder."""
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.data.is_dir():
        parser.error(f"data folder {args.data} not found (use --data or set CRIMESTATS_TEST_DATA)")
    return args


def machine_info(*packages: str) -> list[str]:
    """The machine, its load, and the versions of python and ``packages`` (distribution names)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    versions = ", ".join(f"{name} {version(name)}" for name in packages)
    return [
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)",
        f"python {platform.python_version()}, {versions}",
    ]


def ingest_fresh(data_dir: Path, path: Path) -> Path:
    """Ingest ``data_dir`` into a new store at ``path``; the store is closed (checkpointed) after."""
    from crimestats.store import Store

    with Store(path) as store:
        store.ingest([data_dir])
    return path


@dataclass(frozen=True)
class Timing:
    """A step's wall-clock seconds, one a run, and what its last run returned."""

    seconds: list[float]
    result: Any

    @property
    def median(self) -> float:
        return stats.median(self.seconds)


def in_turns(steps: Mapping[str, Callable[[], Any]], repeat: int) -> dict[str, Timing]:
    """Run every step once per round, ``repeat`` rounds (``time.perf_counter``).

    Steps take turns rather than running back to back, so a burst of other work on the machine falls on
    all of them rather than on one, and their ratios stay comparable. Garbage left by the previous step is
    collected before each run, outside the timing.
    """
    seconds: dict[str, list[float]] = {label: [] for label in steps}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for label, step in steps.items():
            gc.collect()
            start = time.perf_counter()
            results[label] = step()
            seconds[label].append(time.perf_counter() - start)
    return {label: Timing(seconds[label], results[label]) for label in steps}
