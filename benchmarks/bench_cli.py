"""Benchmark: CPU time of whole ``crimestats`` commands, against a Python that only imports duckdb and pyarrow.

Run from the repository root::

    python benchmarks/bench_cli.py [--data DIR] [--repeat N] [--period YYYY-MM] [--force NAME]

The data folder is ingested once, with ``crimestats --db PATH ingest DIR``, into a store in a temporary directory,
and every command is run once untimed, so any statistics it needs are materialised before the timing (a default
``findings`` materialises its period's peer comparisons) and the charts of the reports are drawn into the run's own
chart cache (``$CRIMESTATS_CHART_CACHE``); the two "no cache" rows draw every chart with vl-convert each time, as a
report never made before does. Then, ``--repeat`` times in turns, each command and the baseline ``python -c "import
duckdb, pyarrow"`` run as child processes. A run's CPU time is the user + system seconds the operating system
accounts to the finished child (``resource.getrusage(RUSAGE_CHILDREN)`` before and after it); the table shows the
medians and each command's median as a multiple of the baseline's. Timings are reported, never asserted on.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics as stats
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import checked, data_parser, machine_info

BASELINE = "python -c 'import duckdb, pyarrow'"


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str]
    target: float | None = None  # at most this many times the baseline's CPU time
    env: dict[str, str] | None = None  # set in the child's environment, besides the benchmark's own


@dataclass(frozen=True)
class Run:
    cpu: float  # user + system seconds of the child
    wall: float


def crimestats_executable() -> str:
    """The ``crimestats`` script beside this Python (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "crimestats"
    found = str(beside) if beside.exists() else shutil.which("crimestats")
    if found is None:
        raise SystemExit("no crimestats command found: activate the virtualenv (. .venv/bin/activate)")
    return found


def commands(db: Path, out: Path, period: str, force: str) -> list[Command]:
    cli = [crimestats_executable(), "--db", str(db)]
    html = ["--period", period, "--format", "html", "--out"]
    no_cache = {"CRIMESTATS_CHART_CACHE": ""}
    return [
        Command(BASELINE, [sys.executable, "-c", "import duckdb, pyarrow"]),
        Command("crimestats --help", [cli[0], "--help"], 2),
        Command(f"table --period {period}", [*cli, "table", "--period", period], 3),
        Command(f"force {force} --period {period}", [*cli, "force", force, "--period", period], 3),
        Command(f"totals --period {period}", [*cli, "totals", "--period", period], 3),
        Command(f"findings {force} --period {period}", [*cli, "findings", force, "--period", period], 3),
        Command(
            f"report {force} --period {period} --format html", [*cli, "report", force, *html, str(out / "f.html")], 6
        ),
        Command(
            f"report --national --period {period} --format html", [*cli, "report", "--national", *html, str(out)], 8
        ),
        Command(
            f"report {force} html, charts drawn (no cache)",
            [*cli, "report", force, *html, str(out / "f.html")],
            env=no_cache,
        ),
        Command(
            "report --national html, charts drawn (no cache)",
            [*cli, "report", "--national", *html, str(out)],
            env=no_cache,
        ),
    ]


def run_once(command: Command) -> Run:
    """Run the command to its end; its CPU and wall seconds. Stops the benchmark, with its stderr, if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, **(command.env or {})}
    done = subprocess.run(
        command.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip()
        raise SystemExit(f"{command.label} exited {done.returncode}:\n{error}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(cpu, wall)


def runs_in_turns(steps: list[Command], repeat: int) -> dict[str, list[Run]]:
    """Every command once a round, ``repeat`` rounds, so other work on the machine slows all of them alike."""
    runs: dict[str, list[Run]] = {step.label: [] for step in steps}
    for _ in range(repeat):
        for step in steps:
            runs[step.label].append(run_once(step))
    return runs


def print_table(steps: list[Command], runs: dict[str, list[Run]]) -> None:
    base = stats.median(run.cpu for run in runs[BASELINE])
    width = max(len(step.label) for step in steps)
    print(f"{'command':<{width}}  {'cpu s':>6}  {'wall s':>6}  {'x baseline cpu':>14}  target")
    for step in steps:
        cpu = stats.median(run.cpu for run in runs[step.label])
        wall = stats.median(run.wall for run in runs[step.label])
        ratio = cpu / base
        target = "" if step.target is None else f"<= {step.target:.0f}x {'met' if ratio <= step.target else 'missed'}"
        print(f"{step.label:<{width}}  {cpu:>6.3f}  {wall:>6.3f}  {ratio:>13.1f}x  {target}".rstrip())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = data_parser(__doc__.splitlines()[0] if __doc__ else None, repeat=5)
    parser.add_argument("--period", default="2019-09", help="period of the commands (YYYY-MM)")
    parser.add_argument("--force", default="Wiltshire", help="force of the force, findings and report commands")
    return checked(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(*machine_info("crimestats", "duckdb", "pyarrow"), sep="\n")
    print(f"data: {args.data}, repeat: {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="crimestats-bench-") as name:
        workdir = Path(name)
        os.environ["CRIMESTATS_CHART_CACHE"] = str(workdir / "charts")  # the run's own cache of drawn charts
        db = workdir / "bench.duckdb"
        ingest = Command("ingest", [crimestats_executable(), "--db", str(db), "ingest", str(args.data)])
        print(f"crimestats ingest (once, with materialising): {run_once(ingest).wall:.1f} s wall")
        steps = commands(db, workdir, args.period, args.force)
        for step in steps:  # untimed: materialises what each command needs, warms the file cache
            run_once(step)
        runs = runs_in_turns(steps, args.repeat)
    print(f"median of {args.repeat} runs each, taken in turns; cpu = user + sys of the child process\n")
    print_table(steps, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
