"""Writing a report to files: where each format goes, what the files are called, and the charts beside them.

md, html, json and xlsx go to the file named, or into an existing folder as NAME-PERIOD.FORMAT
(``wiltshire-2019-09.html``, ``wiltshire-burglary-2019-09.md``); csv and parquet go into the folder named, one
file per table; md also writes its charts as SVG files in ``NAME_charts/`` beside it. Missing folders are
created, existing files replaced, and :class:`Written` lists both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crimestats import reference
from crimestats.errors import CrimestatsError
from crimestats.reports import render
from crimestats.reports.model import Report

__all__ = ["TABLE_FOLDERS", "Written", "file_name", "rendered", "write_report"]

#: Formats written as a folder, one file per table.
TABLE_FOLDERS = ("csv", "parquet")


@dataclass
class Written:
    """The folders created and the files written, in order."""

    folders: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def rendered(report: Report, format: str, links: dict[str, str] | None = None) -> str:
    """The report as md, html or json text."""
    if format == "md":
        return render.render_markdown(report, links)
    if format == "html":
        return render.render_html(report)
    if format == "json":
        return render.render_json(report)
    raise CrimestatsError(f"--format {format} writes files: give --out PATH")


def write_report(report: Report, format: str, out: Path) -> Written:
    """Write the report in ``format`` to ``out`` (see the module docstring); a failure to write is one
    :class:`CrimestatsError` naming the path."""
    written = Written()
    try:
        if format in TABLE_FOLDERS:
            _make_folder(out, written)
            written.files += render.write_tables(report, out, format)
        else:
            target = out / file_name(report, format) if out.is_dir() else out
            _write_file(report, format, target, written)
    except OSError as error:
        raise CrimestatsError(f"cannot write {error.filename or out}: {error.strerror or error}") from error
    return written


def _write_file(report: Report, format: str, target: Path, written: Written) -> None:
    _make_folder(target.parent, written)
    if format == "xlsx":
        written.files += render.write_tables(report, target, format)
        return
    links = None
    charts: list[Path] = []
    if format == "md":
        folder = target.with_name(target.stem + "_charts")
        _make_folder(folder, written)
        links = {}
        for name, svg in render.chart_svgs(report).items():
            (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
            charts.append(folder / f"{name}.svg")
            links[name] = f"{folder.name}/{name}.svg"
    target.write_text(rendered(report, format, links), encoding="utf-8")
    written.files += [target, *charts]


def _make_folder(path: Path, written: Written) -> None:
    """Create a missing folder (and its parents); an existing one is used as it is."""
    if file := next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None):
        raise CrimestatsError(f"cannot write into {path}: {file} is a file, not a folder")
    if not path.is_dir():
        path.mkdir(parents=True)
        written.folders.append(path)


def file_name(report: Report, format: str) -> str:
    """'wiltshire-2019-09.md', 'wiltshire-burglary-2019-09.md', 'england-and-wales-2019-09.html'."""
    area = "England and Wales" if report.force_code is None else reference.area(report.force_code).name
    words = "".join(c if c.isalnum() else " " for c in area.lower()).split()
    offence = "" if report.offence == "total-excluding-fraud" else f"-{report.offence}"
    return f"{'-'.join(words)}{offence}-{report.period}.{format}"
