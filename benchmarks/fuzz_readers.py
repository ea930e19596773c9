"""The long fuzz run: mutated official files (tests/fuzzing.py) ingested case after case in a worker process,
so that a case which aborts the process or hangs is caught, reported and skipped, and the run goes on.

Reports the cases run, the outcomes by mutation, the refusals by message, unhandled exceptions, aborts, hangs,
broken promises (a multi-line error, a failed file that changed the store), the costliest case (CPU time) and
the slowest (wall time), and peak RSS. Exits 1 if any case escaped, aborted, hung, took more than ``--limit``
seconds of CPU or broke a promise. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import resource
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from _common import REPO_ROOT, default_data_dir, machine_info

sys.path.insert(0, str(REPO_ROOT / "tests"))
import fuzzing  # noqa: E402

PROGRESS_EVERY = 5000  # cases: a line on stderr, to follow a long run
FRESH_STORE_EVERY = 500  # cases: a worker starts a new store so the mutated files it stored do not pile up


def case(data: dict[str, bytes], seed: int, number: int) -> tuple[str, str, bytes]:
    """Case ``number`` of the run ``seed``: (seed file name, mutation, content)."""
    rng = random.Random(f"{seed}:{number}")
    name = rng.choice(sorted(data))
    kind, content = fuzzing.mutate(rng, name, data[name])
    return name, kind, content


# --- the worker: reads case numbers on stdin, answers one JSON line each -----------------------------------


def worker(data_dir: Path, seed: int) -> None:
    from crimestats.store import Store

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it lets the case running finish
    data = fuzzing.seed_bytes(data_dir)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder, store = Path(tmp), None
        for done, line in enumerate(sys.stdin):
            if store is None or done % FRESH_STORE_EVERY == 0:
                store = _fresh_store(Store, folder, data_dir, store)
            print(json.dumps(_run_case(store, folder, data, seed, int(line))), flush=True)


def _fresh_store(store_type: type, folder: Path, data_dir: Path, old: object) -> object:
    if old is not None:
        old.close()  # type: ignore[attr-defined]
    path = folder / "fuzz.duckdb"
    path.unlink(missing_ok=True)
    store = store_type(path)
    store.ingest([data_dir / fuzzing.GOOD_FILE])
    return store


def _run_case(store: object, folder: Path, data: dict[str, bytes], seed: int, number: int) -> dict[str, object]:
    name, kind, content = case(data, seed, number)
    path = folder / name
    path.write_bytes(content)
    outcome: dict[str, object] = {"case": number, "kind": kind}
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    before = table_counts(store)
    try:
        [result] = store.ingest([path]).results  # type: ignore[attr-defined]
        outcome["status"], outcome["error"] = result.status, result.error
        if result.status == "failed":
            outcome["broken"] = _broken(result.error or "", name, before, table_counts(store))
    except BaseException as exc:  # the finding: whatever escapes ingest
        outcome["status"], outcome["error"] = "unhandled", traceback.format_exception_only(exc)[-1].strip()
    outcome["seconds"] = time.perf_counter() - start
    outcome["cpu_seconds"] = _cpu_seconds() - cpu_start
    outcome["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return outcome


def _cpu_seconds() -> float:
    """CPU time of this worker (all its threads: DuckDB's too) and of the parser processes it waited for."""
    own, parsers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + parsers.ru_utime + parsers.ru_stime


TABLES = ("files", "figures", "populations", "lookup", "boundaries")
_COUNTS = "SELECT " + ", ".join(f"(SELECT count(*) FROM {name})" for name in TABLES)


def table_counts(store: object) -> dict[str, int]:
    """Rows in every store table (as tests/conftest.py counts them), in one query: taken twice a case."""
    return dict(zip(TABLES, store.con.execute(_COUNTS).fetchone(), strict=True))  # type: ignore[attr-defined]


def _broken(error: str, name: str, before: dict[str, int], after: dict[str, int]) -> str | None:
    if not error or "\n" in error or name not in error:
        return f"not a one-line error naming the file: {error!r}"
    return None if before == after else f"the store changed: {before} -> {after}"


# --- the parent: hands out cases, times them, survives the worker -----------------------------------------


@dataclass
class Tally:
    cases: int = 0
    outcomes: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    refusals: collections.Counter[str] = field(default_factory=collections.Counter)
    findings: list[str] = field(default_factory=list)
    slowest: tuple[float, int, str] = (0.0, -1, "")
    costliest: tuple[float, int, str] = (0.0, -1, "")
    peak_rss_mb: float = 0.0
    limit_seconds: float = 10.0

    def add(self, outcome: dict[str, object]) -> None:
        self.cases += 1
        number, kind, status = int(outcome["case"]), str(outcome["kind"]), str(outcome["status"])  # type: ignore[call-overload]
        self.outcomes[kind, status] += 1
        if status == "failed":
            self.refusals[_shape(str(outcome["error"]))] += 1
        if status == "unhandled" or outcome.get("broken"):
            self.findings.append(f"case {number} ({kind}): {status}: {outcome.get('broken') or outcome['error']}")
        seconds, cpu = float(outcome["seconds"]), float(outcome["cpu_seconds"])  # type: ignore[arg-type]
        if seconds > self.slowest[0]:
            self.slowest = (seconds, number, kind)
        if cpu > self.costliest[0]:
            self.costliest = (cpu, number, kind)
        if cpu > self.limit_seconds:
            self.findings.append(f"case {number} ({kind}): {cpu:.1f} s of CPU, over the {self.limit_seconds:g} s limit")
        self.peak_rss_mb = max(self.peak_rss_mb, float(outcome["rss_mb"]))  # type: ignore[arg-type]
        if self.cases % PROGRESS_EVERY == 0:
            load = os.getloadavg()[0]
            line = f"{self.cases:,} cases, {len(self.findings)} findings, load average {load:.1f}"
            print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr)


def _shape(error: str) -> str:
    """A refusal's message with the file name, numbers and quoted text taken out, to count by kind."""
    text = re.sub(r"^[^:]*: ", "", error)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    return re.sub(r"\d+", "N", text)[:110]


class Worker:
    def __init__(self, data_dir: Path, seed: int) -> None:
        command = [sys.executable, __file__, "--worker", "--data", str(data_dir), "--seed", str(seed)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self, number: int, timeout: float) -> dict[str, object] | str:
        """The case's outcome, or why the worker gave none ("hang", "abort (signal N)")."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"{number}\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if line:
            return json.loads(line)  # type: ignore[no-any-return]
        self.process.kill()
        code = self.process.wait()
        return "hang" if not ready else f"abort (exit {code})"

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            self.process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="folder of official data files")
    parser.add_argument("--cases", type=int, default=100_000, help="cases to run (default 100000)")
    parser.add_argument("--seconds", type=float, help="stop after this long instead")
    parser.add_argument(
        "--first", type=int, default=0, help="the first case to run (default 0): to go on with a run that was stopped"
    )
    parser.add_argument("--seed", type=int, default=0, help="the run's seed: case N of a seed is always the same")
    parser.add_argument("--workers", type=int, default=1, help="worker processes running cases side by side")
    parser.add_argument("--limit", type=float, default=10.0, help="CPU seconds a case may take (default 10)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="wall seconds without an answer before a case is a hang (default 60)",
    )
    parser.add_argument("--write-case", type=int, metavar="N", help="write case N's file into --out and stop")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for --write-case")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"data folder {args.data} not found (use --data or set CRIMESTATS_TEST_DATA)")
    if args.worker:
        worker(args.data, args.seed)
        return 0
    if args.write_case is not None:
        name, kind, content = case(fuzzing.seed_bytes(args.data), args.seed, args.write_case)
        (args.out / name).write_bytes(content)
        print(f"case {args.write_case}: {kind} of {name} written to {args.out / name}")
        return 0
    return report(run(args), args)


def run(args: argparse.Namespace) -> tuple[Tally, float]:
    """The cases shared out between ``--workers`` workers, each driven by a thread of its own."""
    tally, start, lock = Tally(limit_seconds=args.limit), time.perf_counter(), threading.Lock()
    deadline = start + args.seconds if args.seconds else float("inf")
    numbers = iter(range(args.first, args.first + args.cases))
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())  # Ctrl-C: finish the cases running, then report
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    def drive() -> None:
        worker = Worker(args.data, args.seed)
        while time.perf_counter() < deadline and not stopping.is_set():
            with lock:
                number = next(numbers, None)
            if number is None:
                break
            outcome = worker.run(number, args.timeout)
            with lock:
                if isinstance(outcome, str):  # the worker died or hung on this case: a finding, and a new worker
                    tally.cases += 1
                    tally.findings.append(
                        f"case {number}: {outcome} (reproduce: --seed {args.seed} --write-case {number})"
                    )
                else:
                    tally.add(outcome)
            if isinstance(outcome, str):
                worker = Worker(args.data, args.seed)
        worker.close()

    threads = [threading.Thread(target=drive) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - start


def report(result: tuple[Tally, float], args: argparse.Namespace) -> int:
    tally, seconds = result
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    for line in machine_info("crimestats", "duckdb", "python-calamine"):
        print(line)
    print(
        f"data: {args.data}, seed {args.seed}, {args.workers} worker(s), "
        f"limit {args.limit:g} s of CPU a case, a hang after {args.timeout:g} s without an answer"
    )
    print(f"cases: {tally.cases:,} in {seconds:,.0f} s ({tally.cases / seconds:,.1f} a second)")
    statuses = collections.Counter[str]()
    for (_, status), count in tally.outcomes.items():
        statuses[status] += count
    print("outcomes: " + ", ".join(f"{status} {count:,}" for status, count in statuses.most_common()))
    print(f"costliest case: {tally.costliest[0]:.2f} s of CPU (case {tally.costliest[1]}, {tally.costliest[2]})")
    print(f"slowest case: {tally.slowest[0]:.2f} s of wall time (case {tally.slowest[1]}, {tally.slowest[2]})")
    print(f"load average at the end: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    print(f"peak RSS of a worker: {max(tally.peak_rss_mb, children):,.0f} MB")
    print("\nby mutation                        ingested  unchanged     failed  unhandled")
    for kind in sorted({kind for kind, _ in tally.outcomes}):
        counts = [tally.outcomes[kind, status] for status in ("ingested", "unchanged", "failed", "unhandled")]
        print(f"{kind:32}" + "".join(f"{count:>11,}" for count in counts))
    print("\nrefusals by message (the 15 most common)")
    for shape, count in tally.refusals.most_common(15):
        print(f"{count:>8,}  {shape}")
    print(f"\nfindings (unhandled exceptions, aborts, hangs, broken promises): {len(tally.findings)}")
    for finding in tally.findings[:50]:
        print(f"  {finding}")
    return 1 if tally.findings else 0


if __name__ == "__main__":
    sys.exit(main())
