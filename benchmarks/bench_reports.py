"""Benchmark: building the national report for one period and for all periods, against one league table query.

Run from the repository root::

    python benchmarks/bench_reports.py [--data DIR] [--repeat N] [--period YYYY-MM]

The data folder is ingested once into a store in a temporary directory and its statistics are materialised
(timed apart, as `crimestats ingest` does). Then, ``--repeat`` times, in turn:

* baseline: ``analytics.league_table(store, period)``, one league table query;
* ``national_report(store, period)``: the report model only (figures, tables, Vega-Lite chart specs);
* the same, then ``render_html`` (charts to SVG with vl-convert), ``render_markdown`` and ``render_json``;
* ``national_report`` for every period in the store, sharing one ``ReportData.read(store)``, and cold
  (each report reads everything itself);
* ``force_report`` for every force in ``period``, sharing one ``PeriodFigures`` and one ``ReportData``.

Each step is printed as its median in seconds and as a ratio to the baseline's median from the same run.
A second table breaks the one-period national report down by the public functions it calls, timed by
wrapping them (not a profiler). Timings are reported, never asserted on.
"""

from __future__ import annotations

import argparse
import statistics as stats
import sys
import tempfile
import time
import unittest.mock
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial, wraps
from pathlib import Path
from typing import Any

from _common import Timing, checked, data_parser, in_turns, ingest_fresh, machine_info

from crimestats import analytics
from crimestats.analytics import materialised, summaries
from crimestats.errors import CrimestatsError
from crimestats.reports import build, charts, findings
from crimestats.reports.build import ReportData, force_report
from crimestats.reports.findings import TOTAL, PeriodFigures
from crimestats.reports.model import Report
from crimestats.reports.national import national_report
from crimestats.reports.render import render_html, render_json, render_markdown
from crimestats.store import Store

DEFAULT_PERIOD = "2019-09"
CHART_LABEL = "chart specs (Vega-Lite dicts: chart functions, to_dict)"
CHART_FUNCTIONS = ("league_chart", "trend_chart", "funnel_chart", "offence_mix_chart", "choropleth")


# --------------------------------------------------------------------------------------------- steps


def store_periods(store: Store) -> list[str]:
    """The distinct 12-month periods in the store, oldest first."""
    return sorted(set(analytics.available_periods(store).column("period").to_pylist()))


def report_forces(figures: PeriodFigures) -> list[str]:
    """The forces (and British Transport Police) in the period's total recorded crime league table."""
    return [row["area_code"] for row in figures.leagues.get(TOTAL, [])]


@dataclass(frozen=True)
class Built:
    """What one run of a step made: reports built (the baseline: league table rows), and the reports it could
    not build, each as "what: error", skipped rather than stopping the benchmark."""

    count: int
    failed: tuple[str, ...] = ()


def league_baseline(store: Store, period: str) -> Built:
    return Built(analytics.league_table(store, period).num_rows)


def rendered(report: Report) -> int:
    """Every text format of a report; the total characters, so nothing is optimised away."""
    return len(render_html(report)) + len(render_markdown(report)) + len(render_json(report))


def national_model(store: Store, period: str) -> Built:
    national_report(store, period)
    return Built(1)


def national_rendered(store: Store, period: str) -> Built:
    rendered(national_report(store, period))
    return Built(1)


def national_all_periods(store: Store, periods: list[str], shared: bool) -> Built:
    """National report models for every period, with one ``ReportData`` for all of them or each reading its own."""
    data = ReportData.read(store) if shared else None
    built, failed = 0, []
    for period in periods:
        try:
            national_report(store, period, data=data)
        except CrimestatsError as error:  # e.g. a period where no force has a published rate
            failed.append(f"national {period}: {type(error).__name__}: {error}")
            continue
        built += 1
    return Built(built, tuple(failed))


def force_reports(store: Store, period: str) -> Built:
    """Force report models for every force in one period, sharing the period's figures and the store data."""
    figures = PeriodFigures.read(store, period)
    data = ReportData.read(store)
    built, failed = 0, []
    for code in report_forces(figures):
        try:
            force_report(store, code, period, figures=figures, data=data)
        except CrimestatsError as error:
            failed.append(f"force {code} {period}: {type(error).__name__}: {error}")
            continue
        built += 1
    return Built(built, tuple(failed))


@dataclass(frozen=True)
class Step:
    label: str
    run: Callable[[], Built]
    builds_reports: bool = True


# ----------------------------------------------------------------------------------------- breakdown


class Probes:
    """Seconds spent in wrapped functions, keyed by the path of wrapped calls they were made in.

    A call to ``with_intervals`` inside ``period_leagues`` inside ``PeriodFigures.read`` is recorded under
    the path of the three labels, so the same function called from ``rate_trends`` is counted there instead.
    """

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, ...], float] = {}
        self.order: list[tuple[str, ...]] = []
        self._stack: list[str] = []

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(function)
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            path = (*self._stack, label)
            if path not in self.seconds:
                self.order.append(path)
                self.seconds[path] = 0.0
            self._stack.append(label)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[path] += time.perf_counter() - start
                self._stack.pop()

        return timed_call

    def chart_function(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """Time a chart function, and the ``to_dict`` the report builder calls on the Vega-Lite spec it returns."""
        timed_function = self.wrap(label, function)
        probes = self

        class TimedChart:
            def __init__(self, chart: charts.Spec) -> None:
                self.chart = chart

            def to_dict(self, *args: Any, **kwargs: Any) -> Any:
                return probes.wrap(label, self.chart.to_dict)(*args, **kwargs)

        return lambda *args, **kwargs: TimedChart(timed_function(*args, **kwargs))


@contextmanager
def probed(probes: Probes) -> Iterator[None]:
    """Wrap the public functions a national report calls, for as long as the block runs."""
    targets: list[tuple[object, str, str]] = [
        (analytics, "period_leagues", "league tables, every offence (analytics.period_leagues)"),
        (analytics, "national_figures", "England and Wales figures (analytics.national_figures)"),
        (findings, "peer_covariates", "peer covariates (peers.peer_covariates)"),
        (analytics, "rate_trends", "rate trends, every period (analytics.rate_trends)"),
        (analytics, "force_boundaries", "force boundaries (analytics.force_boundaries)"),
        (analytics, "totals_table", "countries and regions (analytics.totals_table)"),
        (materialised, "forces", "force statistics, materialised (materialised.forces)"),
        (materialised, "totals", "area totals, materialised (materialised.totals)"),
        (summaries, "peer_results", "peer groups against their members (summaries.peer_results)"),
        (summaries, "offence_mix", "offence mix against peers (summaries.offence_mix)"),
        (summaries, "funnel_summary", "funnel tallies (summaries.funnel_summary)"),
        (build, "funnel_rows", "funnel limits for the chart (comparisons.funnel_rows)"),
        (charts, "to_svg", "charts to SVG (charts.to_svg, vl-convert)"),
    ]
    with ExitStack() as stack:
        for owner, name, label in targets:
            stack.enter_context(unittest.mock.patch.object(owner, name, probes.wrap(label, getattr(owner, name))))
        for name in CHART_FUNCTIONS:
            wrapped = probes.chart_function(CHART_LABEL, getattr(charts, name))
            stack.enter_context(unittest.mock.patch.object(charts, name, wrapped))
        for cls in (PeriodFigures, ReportData):
            wrapped = probes.wrap(f"{cls.__name__}.read", cls.read)
            stack.enter_context(unittest.mock.patch.object(cls, "read", staticmethod(wrapped)))
        yield


def breakdown_once(store: Store, period: str) -> Probes:
    """One cold national report for ``period`` and its rendering, with the public functions timed."""
    probes = Probes()
    with probed(probes):
        report = probes.wrap("national_report (model)", national_report)(store, period)
        probes.wrap("render_html", render_html)(report)
        probes.wrap("render_markdown", render_markdown)(report)
        probes.wrap("render_json", render_json)(report)
    return probes


def breakdown(store: Store, period: str, repeat: int) -> list[tuple[int, str, float]]:
    """(depth, label, median seconds) in call order; a ``(rest)`` row after a call's children holds the
    call's time outside them (the median over runs of that difference)."""
    runs = [with_rest(breakdown_once(store, period)) for _ in range(repeat)]
    order: list[tuple[str, ...]] = []
    for run in runs:
        order.extend(path for path in run if path not in order)
    median = {path: stats.median(run.get(path, 0.0) for run in runs) for path in order}
    return tree_rows(order, median, ())


def with_rest(probes: Probes) -> dict[tuple[str, ...], float]:
    """The probes' seconds by path in call order, with a ``(rest)`` path after the children of each call."""
    seconds = {path: probes.seconds[path] for path in probes.order}
    for path in probes.order:
        children = [p for p in probes.order if p[:-1] == path]
        if children:
            seconds[(*path, "(rest)")] = seconds[path] - sum(seconds[p] for p in children)
    return seconds


def tree_rows(
    order: list[tuple[str, ...]], median: dict[tuple[str, ...], float], parent: tuple[str, ...]
) -> list[tuple[int, str, float]]:
    """Depth-first: each call, then its children, its ``(rest)`` last."""
    rows = []
    children = [p for p in order if p[:-1] == parent]
    for path in sorted(children, key=lambda p: p[-1] == "(rest)"):
        rows.append((len(path) - 1, path[-1], median[path]))
        rows.extend(tree_rows(order, median, path))
    return rows


# ------------------------------------------------------------------------------------------- report


def print_steps(steps: list[Step], timings: dict[str, Timing], baseline: str) -> None:
    base = timings[baseline].median
    width = max(len(step.label) for step in steps)
    print(f"{'step':<{width}}  {'reports':>7}  {'median s':>9}  {'s/report':>8}  {'x baseline':>10}")
    for step in steps:
        timing = timings[step.label]
        reports = timing.result.count if step.builds_reports else 0
        per_report = f"{timing.median / reports:.3f}" if reports else ""
        print(
            f"{step.label:<{width}}  {reports or '':>7}  {timing.median:>9.3f}  {per_report:>8}  "
            f"{timing.median / base:>9.1f}x"
        )


def print_breakdown(rows: list[tuple[int, str, float]], baseline: float) -> None:
    labels = ["  " * depth + label for depth, label, _ in rows]
    width = max(len(label) for label in labels)
    print(f"{'national report, one period':<{width}}  {'median s':>9}  {'x baseline':>10}")
    for label, (_, _, seconds) in zip(labels, rows, strict=True):
        print(f"{label:<{width}}  {seconds:>9.3f}  {seconds / baseline:>9.1f}x")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = data_parser(__doc__.splitlines()[0] if __doc__ else None, repeat=3)
    parser.add_argument("--period", default=DEFAULT_PERIOD, help="period of the one-period steps (YYYY-MM)")
    return checked(parser, argv)


def run(store: Store, args: argparse.Namespace, ingest_seconds: float) -> int:
    periods = store_periods(store)
    if args.period not in periods:
        print(f"period {args.period} is not in the store; periods: {', '.join(periods)}", file=sys.stderr)
        return 2
    print(f"store: {len(store.files())} files, ingested in {ingest_seconds:.1f} s; periods: {', '.join(periods)}")
    start = time.perf_counter()
    materialised.materialise(store)  # what `crimestats ingest` does after ingesting
    print(f"statistics materialised (one-off, not in the medians): {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    rows = league_baseline(store, args.period).count
    league_s = time.perf_counter() - start
    start = time.perf_counter()
    report = national_report(store, args.period)
    characters = rendered(report)
    report_s = time.perf_counter() - start
    print(
        f"national report {args.period}: charts {', '.join(c.name for c in report.charts)}; "
        f"{characters / 1e6:.2f} M characters of HTML + Markdown + JSON"
    )
    print(
        f"first calls in this process (not in the medians): league table {league_s:.2f} s ({rows} rows), "
        f"national report + rendering {report_s:.2f} s\n"
    )

    baseline = f"baseline: league_table({args.period})"
    steps = [
        Step(baseline, partial(league_baseline, store, args.period), builds_reports=False),
        Step(f"(a) national report {args.period}, model", partial(national_model, store, args.period)),
        Step(f"(b) national report {args.period}, + HTML/MD/JSON", partial(national_rendered, store, args.period)),
        Step("(c) national report, all periods, shared data", partial(national_all_periods, store, periods, True)),
        Step("(c) national report, all periods, cold", partial(national_all_periods, store, periods, False)),
        Step(f"(d) force reports {args.period}, every force", partial(force_reports, store, args.period)),
    ]
    timings = in_turns({step.label: step.run for step in steps}, args.repeat)
    parts = breakdown(store, args.period, args.repeat)
    print_steps(steps, timings, baseline)
    failed = dict.fromkeys(message for timing in timings.values() for message in timing.result.failed)
    for message in failed:
        print(f"not built (the attempt is in the step's time, not in its reports): {message}")
    print()
    print_breakdown(parts, timings[baseline].median)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(*machine_info("crimestats", "duckdb", "ibis-framework", "vl-convert-python"), sep="\n")
    print(f"data: {args.data}, repeat: {args.repeat}, period: {args.period}")
    with tempfile.TemporaryDirectory(prefix="crimestats-bench-") as workdir:
        start = time.perf_counter()
        path = ingest_fresh(args.data, Path(workdir) / "bench.duckdb")
        ingest_seconds = time.perf_counter() - start
        with Store(path) as store:
            return run(store, args, ingest_seconds)


if __name__ == "__main__":
    sys.exit(main())
