"""What the benchmark scripts share: where the data are and the ``--data`` and ``--repeat`` options.

The scripts run as ``python benchmarks/<script>.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

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
