"""Benchmark: latency and throughput of ``crimestats serve`` under load, against a static file of the same app.

Run from the repository root::

    python benchmarks/bench_serve.py [--data DIR | --db STORE] [--repeat N] [--connections C] [--requests N]
                                     [--seconds S] [--period YYYY-MM] [--offence SLUG] [--force SLUG]

The load generator is ``wrk`` (Debian: ``apt-get install wrk``), a C program that keeps ``--connections``
HTTP/1.1 connections alive from one thread, so it takes a small share of the cores the server runs on (a Python
client such as httpx took as much as the server itself). A Lua script (:data:`WRK_SCRIPT`) accepts gzip as a
browser does, stops each run after ``--requests`` responses, and prints the latency percentiles; ``-d`` stops it
after ``--seconds``, whichever is first. Apache's ``ab`` would do too, but it speaks HTTP/1.0, whose keep-alive
uvicorn does not honour, so it would time a new connection a request.

The data folder is ingested once (``crimestats --db PATH ingest DIR``, which materialises the statistics) into a
store in a temporary directory, unless ``--db`` names a store to use as it is. ``crimestats serve`` then runs as
a child process on a free loopback port. Each URL is fetched once first (the app keeps an answer once it has
made it). Every response must be 200, or the benchmark stops.

Three URLs take turns, ``--repeat`` rounds: the baseline, a static file of the same app
(``/static/vendor/LICENSE-vega.txt``, 1.5 KB, served by Starlette's ``StaticFiles``), the league table JSON and a
force page in HTML. The table shows the 50th, 95th and 99th percentiles of a URL's latencies (the median round's)
and its worst round's 99th, its requests a second (the median round's: connections over mean latency), and the
ratios to the baseline's, and the server process's CPU time a response (from ``/proc``, Linux): what a response
costs the server whatever else the machine runs, where the latencies include waiting for a core. The load
average is printed before and after. Timings are reported, never asserted on.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics as stats
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _common import checked, data_parser, machine_info

BASELINE = "static file (baseline)"
READY_SECONDS = 60.0


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    p99_ms: float | None = None  # the target for the 99th percentile


#: wrk's script: gzip accepted, at most ``WRK_REQUESTS`` requests a run (counted as they are sent, which costs wrk
#: next to nothing; counting responses in Lua would have it read every body), the figures on one line at the end.
WRK_SCRIPT = """
local most = tonumber(os.getenv("WRK_REQUESTS"))
local sent = 0
local request_text = nil
wrk.headers["Accept-Encoding"] = "gzip"
function init(args) request_text = wrk.format() end
function request()
  sent = sent + 1
  if sent > most then wrk.thread:stop() end
  return request_text
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("figures %d %d %d %d %d %d %d\\n", summary.requests, latency.mean,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class Load:
    """One run's figures: responses, connections, latencies (seconds): the mean and percentiles."""

    responses: int
    connections: int
    mean: float
    p50: float
    p95: float
    p99: float
    server_cpu: float | None  # the server process's CPU seconds during the run (Linux), else None

    @property
    def per_second(self) -> float:
        """Responses a second, by Little's law: every connection always has a request out, so the rate is the
        connections over the mean latency (wrk waits out ``-d`` even when the count has stopped it early)."""
        return self.connections / self.mean


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
            fetch(url + "/static/vendor/LICENSE-vega.txt")
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    error = process.communicate()[1].decode(errors="replace")
    raise SystemExit(f"crimestats serve did not start:\n{error}")


def fetch(url: str) -> None:
    """GET ``url`` once; an error (OSError) unless it answers 200."""
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()


def cpu_seconds(pid: int) -> float | None:
    """The user and system CPU seconds process ``pid`` has used (from ``/proc``: Linux only, else None)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(wrk: str, script: Path, url: str, args: argparse.Namespace, server: int) -> Load:
    """``wrk`` on ``url``: ``--connections`` connections, one thread, until ``--requests`` or ``--seconds``;
    ``server`` is the server's process id (its CPU time is measured)."""
    command = [wrk, "-t1", f"-c{args.connections}", f"-d{args.seconds:g}s", "-s", str(script), "--timeout", "30s", url]
    environment = {**os.environ, "WRK_REQUESTS": str(args.requests)}
    before = cpu_seconds(server)
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    after = cpu_seconds(server)
    line = next((row for row in done.stdout.splitlines() if row.startswith("figures ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures for {url}:\n{done.stdout}{done.stderr}")
    responses, mean, p50, p95, p99, errors, not_ok = (int(value) for value in line.split()[1:])
    if errors or not_ok:
        raise SystemExit(f"GET {url}: {errors} connection errors, {not_ok} responses not 200")
    used = None if before is None or after is None else after - before
    return Load(responses, args.connections, mean / 1e6, p50 / 1e6, p95 / 1e6, p99 / 1e6, used)


def find_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench_serve needs the load generator wrk: `apt-get install wrk` (Debian, Ubuntu)")
    return found


def measure(url: str, steps: list[Target], args: argparse.Namespace, server: int) -> dict[str, list[Load]]:
    """Every URL once a round, ``args.repeat`` rounds, after one untimed request each."""
    wrk = find_wrk()
    for step in steps:
        fetch(url + step.path)
    loads: dict[str, list[Load]] = {step.label: [] for step in steps}
    with tempfile.TemporaryDirectory(prefix="crimestats-wrk-") as folder:
        script = Path(folder) / "count.lua"
        script.write_text(WRK_SCRIPT)
        for _ in range(args.repeat):
            for step in steps:
                loads[step.label].append(load(wrk, script, url + step.path, args, server))
    return loads


def print_table(steps: list[Target], loads: dict[str, list[Load]]) -> None:
    def figures(label: str) -> tuple[float, float, float, float, float]:
        runs = loads[label]
        median = [stats.median(getattr(run, name) for run in runs) for name in ("p50", "p95", "p99", "per_second")]
        return median[0], median[1], median[2], max(run.p99 for run in runs), median[3]

    def cpu_per_response(label: str) -> str:
        runs = loads[label]
        used = [run.server_cpu for run in runs]
        if any(cpu is None for cpu in used):
            return "n/a"
        return f"{sum(cpu or 0.0 for cpu in used) / sum(run.responses for run in runs) * 1e6:.0f}"

    base = figures(BASELINE)
    width = max(len(step.label) for step in steps)
    columns = f"{'n':>6}  {'p50 ms':>7}  {'p95 ms':>7}  {'p99 ms':>7}  {'worst p99':>9}  {'req/s':>7}  {'CPU us':>6}"
    print(f"{'url':<{width}}  {columns}  x base p99  x base req/s  target")
    for step in steps:
        p50, p95, p99, worst, rate = figures(step.label)
        count = sum(run.responses for run in loads[step.label])
        target = ""
        if step.p99_ms is not None:
            target = f"p99 <= {step.p99_ms:.0f} ms {'met' if p99 * 1000 <= step.p99_ms else 'missed'}"
        print(
            f"{step.label:<{width}}  {count:>6}  {p50 * 1000:>7.1f}  {p95 * 1000:>7.1f}  {p99 * 1000:>7.1f}  "
            f"{worst * 1000:>9.1f}  {rate:>7.0f}  {cpu_per_response(step.label):>6}  {p99 / base[2]:>9.2f}x  "
            f"{rate / base[4]:>11.2f}x  {target}".rstrip()
        )
    print("\nCPU us: the server's CPU time a response (user + system, all rounds), whatever else the machine runs")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = data_parser(__doc__.splitlines()[0] if __doc__ else None, repeat=3)
    parser.add_argument("--db", type=Path, help="an ingested store to serve as it is (no ingest)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument("--requests", type=int, default=20000, help="responses a URL and round, at most")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds a URL and round, at most")
    parser.add_argument("--period", default="2019-09", help="period of the league table and force page")
    parser.add_argument("--offence", default="total-excluding-fraud", help="offence of the league table (slug)")
    parser.add_argument("--force", default="wiltshire", help="force of the force page (slug)")
    args = checked(parser, argv)
    if min(args.connections, args.requests) < 1 or args.seconds <= 0:
        parser.error("--connections, --requests and --seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    find_wrk()
    packages = ("crimestats", "duckdb", "fastapi", "starlette", "uvicorn", "httptools", "uvloop")
    print(*machine_info(*packages), sep="\n")
    print(f"connections: {args.connections}, at most {args.requests} requests or {args.seconds:.0f} s a URL and round")
    with tempfile.TemporaryDirectory(prefix="crimestats-bench-") as name:
        db = args.db or Path(name) / "bench.duckdb"
        if args.db is None:
            subprocess.run(crimestats(db, "ingest", str(args.data)), check=True, stdout=subprocess.DEVNULL)
        process, url = serve(db)
        try:
            steps = targets(args.period, args.offence, args.force)
            loads = measure(url, steps, args, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(machine_info()[0].replace("machine:", "after:"))
    print(f"{args.repeat} rounds, the URLs in turns (wrk, 1 thread); percentiles and req/s of the median round\n")
    print_table(steps, loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
