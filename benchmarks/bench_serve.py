"""Benchmark: latency and throughput of ``crimestats serve`` under load, against a static file of the same app.

Run from the repository root::

    python benchmarks/bench_serve.py [--data DIR | --db STORE] [--repeat N] [--connections C] [--requests N]
                                     [--seconds S] [--period YYYY-MM] [--offence SLUG] [--force SLUG]

The data folder is ingested once (``crimestats --db PATH ingest DIR``, which materialises the statistics) into a
store in a temporary directory, unless ``--db`` names a store to use as it is. ``crimestats serve`` (uvicorn)
then runs as a child process on a free loopback port, and this process is the load generator: ``--connections``
tasks on one ``httpx.AsyncClient`` (as many keep-alive connections, gzip accepted as a browser would), sending
``GET`` after ``GET`` until ``--requests`` responses have come back or ``--seconds`` have passed, whichever is
first. A request's latency is the wall time from sending it to reading the whole body; every response must be
200, or the benchmark stops. Each URL is fetched once first (the app keeps an answer once it has made it).

Three URLs take turns, ``--repeat`` rounds: the baseline, a static file of the same app
(``/static/vendor/LICENSE-vega.txt``, 1.5 KB, served by Starlette's ``StaticFiles`` through the same middleware),
the league table JSON and a force page in HTML. The table shows the 50th, 95th and 99th percentiles of all the
latencies of a URL, its requests a second (median over rounds), and both as multiples of the baseline's. The
load generator shares the machine's cores with the server, so absolute figures include its own work; the ratios
compare like with like. Timings are reported, never asserted on.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics as stats
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import checked, data_parser, machine_info

BASELINE = "static file (baseline)"
READY_SECONDS = 60.0


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    p99_ms: float | None = None  # the target for the 99th percentile


@dataclass(frozen=True)
class Load:
    """One round's latencies (seconds, one a response) and its wall time."""

    latencies: list[float]
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds


def targets(period: str, offence: str, force: str) -> list[Target]:
    return [
        Target(BASELINE, "/static/vendor/LICENSE-vega.txt"),
        Target(f"league JSON {period} {offence}", f"/league/{period}/{offence}.json", 20),
        Target(f"force page HTML {force} {period}", f"/forces/{force}/{period}", 50),
    ]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def crimestats(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "crimestats", "--db", str(db), *args]


def serve(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``crimestats serve`` on a free loopback port, once it answers; the process and its URL."""
    port = free_port()
    process = subprocess.Popen(
        crimestats(db, "serve", "--host", "127.0.0.1", "--port", str(port)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url + "/static/vendor/LICENSE-vega.txt", timeout=2).raise_for_status()
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    error = process.communicate()[1].decode(errors="replace")
    raise SystemExit(f"crimestats serve did not start:\n{error}")


async def load(url: str, connections: int, requests: int, seconds: float) -> Load:
    """GETs of ``url`` from ``connections`` tasks until ``requests`` responses or ``seconds`` have passed."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    sent_count = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent_count
        while sent_count < requests and time.perf_counter() < deadline:
            sent_count += 1
            sent = time.perf_counter()
            response = await client.get(url)
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200:
                raise SystemExit(f"GET {url}: HTTP {response.status_code}: {response.text[:200]}")

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    return Load(latencies, time.perf_counter() - started)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0 to 1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(url: str, steps: list[Target], args: argparse.Namespace) -> dict[str, list[Load]]:
    """Every URL once a round, ``args.repeat`` rounds, after one untimed request each."""
    for step in steps:
        httpx.get(url + step.path, timeout=60).raise_for_status()
    loads: dict[str, list[Load]] = {step.label: [] for step in steps}
    for _ in range(args.repeat):
        for step in steps:
            run = load(url + step.path, args.connections, args.requests, args.seconds)
            loads[step.label].append(asyncio.run(run))
    return loads


def print_table(steps: list[Target], loads: dict[str, list[Load]]) -> None:
    def figures(label: str) -> tuple[float, float, float, float]:
        latencies = [latency for run in loads[label] for latency in run.latencies]
        rate = stats.median(run.per_second for run in loads[label])
        return percentile(latencies, 0.50), percentile(latencies, 0.95), percentile(latencies, 0.99), rate

    base = figures(BASELINE)
    width = max(len(step.label) for step in steps)
    columns = f"{'n':>6}  {'p50 ms':>7}  {'p95 ms':>7}  {'p99 ms':>7}  {'req/s':>7}  x base p99  x base req/s"
    print(f"{'url':<{width}}  {columns}  target")
    for step in steps:
        p50, p95, p99, rate = figures(step.label)
        count = sum(len(run.latencies) for run in loads[step.label])
        target = ""
        if step.p99_ms is not None:
            target = f"p99 <= {step.p99_ms:.0f} ms {'met' if p99 * 1000 <= step.p99_ms else 'missed'}"
        print(
            f"{step.label:<{width}}  {count:>6}  {p50 * 1000:>7.1f}  {p95 * 1000:>7.1f}  {p99 * 1000:>7.1f}  "
            f"{rate:>7.0f}  {p99 / base[2]:>9.1f}x  {rate / base[3]:>11.2f}x  {target}".rstrip()
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = data_parser(__doc__.splitlines()[0] if __doc__ else None, repeat=3)
    parser.add_argument("--db", type=Path, help="an ingested store to serve as it is (no ingest)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument("--requests", type=int, default=2000, help="responses a URL and round, at most")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds a URL and round, at most")
    parser.add_argument("--period", default="2019-09", help="period of the league table and force page")
    parser.add_argument("--offence", default="total-excluding-fraud", help="offence of the league table (slug)")
    parser.add_argument("--force", default="wiltshire", help="force of the force page (slug)")
    args = checked(parser, argv)
    if min(args.connections, args.requests) < 1 or args.seconds <= 0:
        parser.error("--connections, --requests and --seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(*machine_info("crimestats", "duckdb", "fastapi", "starlette", "uvicorn", "httpx"), sep="\n")
    print(f"connections: {args.connections}, at most {args.requests} requests or {args.seconds:.0f} s a URL and round")
    with tempfile.TemporaryDirectory(prefix="crimestats-bench-") as name:
        db = args.db or Path(name) / "bench.duckdb"
        if args.db is None:
            subprocess.run(crimestats(db, "ingest", str(args.data)), check=True, stdout=subprocess.DEVNULL)
        process, url = serve(db)
        try:
            steps = targets(args.period, args.offence, args.force)
            loads = measure(url, steps, args)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"{args.repeat} rounds, the URLs in turns; percentiles of every latency of a URL, req/s the median round\n")
    print_table(steps, loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
