"""What a question answers as a document: the JSON object and the CSV rows that the CLI's ``--format json|csv``
prints and the web app's ``.json`` and ``.csv`` URLs serve, built in one place so they are the same by
construction.

Each ``*_document`` function takes the store and values already parsed at the edge, makes the library call and
returns a :class:`Document`; :func:`to_json` and :func:`to_csv` write it. No statistic is computed here.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crimestats import analytics, reference
from crimestats.analytics.options import Options
from crimestats.store import Store

__all__ = [
    "Document",
    "about_document",
    "compare_document",
    "csv_value",
    "files_document",
    "force_document",
    "league_document",
    "search_document",
    "to_csv",
    "to_json",
    "trend_document",
]

#: The CSV columns of an answer with no rows: the keys of the table each command prints.
LEAGUE_FIELDS = ("rank", "force", "count", "rate_per_1000", "rate_ci", "change_pct", "source", "note")
FORCE_FIELDS = ("offence", "count", "rate_per_1000", "rate_ci", "rank", "change_pct", "source", "note")
TREND_FIELDS = ("period", "count", "rate_per_1000", "rate_ci", "rank", "change_pct", "england_and_wales_rate")
FILES_FIELDS = ("file_name", "source", "revision", "rows", "ingested_at", "sha256")
COMPARE_FIELDS = ("area_code", "period", "period_label", "series", "count", "population", "rate_per_1000")
SEARCH_FIELDS = ("force_code", "force", "slug", "matched", "kind")
CAVEAT_FIELDS = ("id", "kind", "area", "offence", "scope", "start", "end", "text", "source_title", "source_url")
NATIONAL = "K04000001"


@dataclass(frozen=True)
class Document:
    """An answer: ``body``, the JSON value printed whole, and ``rows``, what its CSV holds (``fields`` heads a
    CSV of no rows)."""

    body: Any
    rows: list[dict[str, Any]]
    fields: Sequence[str]

    def json(self) -> str:
        """The JSON text, as ``--format json`` prints it (ending in a newline)."""
        return to_json(self.body) + "\n"

    def csv(self) -> str:
        """The rows as CSV, as ``--format csv`` prints them."""
        return to_csv(self.rows, self.fields)


def league_document(store: Store, period: str, offence: str | None, options: Options = Options()) -> Document:
    """``crimestats table``: every force for one offence and period, and England and Wales (``national``)."""
    from crimestats.library import league_table

    result = league_table(store, period, offence, options)
    body = result.to_dict()
    return Document(body, body["rows"], LEAGUE_FIELDS)


def force_document(store: Store, force: str, period: str, options: Options = Options()) -> Document:
    """``crimestats force``: one force across every level of the offence classification for one period."""
    profile = analytics.force_profile(store, force, period, options)
    rows = profile["rows"].to_pylist()
    return Document({**profile, "rows": rows}, rows, FORCE_FIELDS)


def trend_document(
    store: Store, force: str | reference.Area, offence: str | None, options: Options = Options()
) -> Document:
    """``crimestats trend``: one force for one offence in every period, beside England and Wales."""
    result = analytics.force_trend(store, force, offence, options)
    return Document(result, result["rows"], TREND_FIELDS)


def files_document(store: Store) -> Document:
    """``crimestats files``: provenance of every stored file."""
    rows = store.files()
    return Document(rows, rows, FILES_FIELDS)


def compare_document(
    store: Store, forces: Sequence[reference.Area], offence: str | None, options: Options = Options()
) -> Document:
    """Several forces and England and Wales side by side over time: each one's rate with its 95% interval in
    every period the store holds (the rows of :func:`crimestats.analytics.rate_trends`, with ``area_code``)."""
    item = reference.offence(offence or "total-excluding-fraud")
    trends = analytics.rate_trends(store, item, options)
    codes = [*dict.fromkeys(area.code for area in forces), NATIONAL]
    rows = [{"area_code": code, **row} for code in codes for row in trends.get(code, [])]
    named = [{"force_code": area.code, "force": area.name} for area in forces]
    body = {"offence": item.slug, "offence_name": item.name, "forces": named, "rows": rows}
    return Document(body, rows, COMPARE_FIELDS)


def search_document(store: Store, text: str) -> Document:
    """The police forces a name finds: by force name, or by council or community safety partnership name."""
    found = analytics.find_forces(store, text)
    return Document({"query": text, "forces": found}, found, SEARCH_FIELDS)


def about_document() -> Document:
    """How the figures are made (the methods every report states) and every caveat crimestats knows of."""
    from crimestats import caveats
    from crimestats.reports.build import METHODS

    rows = [dataclasses.asdict(caveat) for caveat in caveats.caveats()]
    return Document({"methods": list(METHODS), "caveats": rows}, rows, CAVEAT_FIELDS)


def to_csv(rows: list[dict[str, Any]], fields: Sequence[str]) -> str:
    """The rows as CSV with a heading row (the keys of the first row, else ``fields``); see :func:`csv_value`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_value(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def csv_value(value: Any) -> Any:
    """A list of names as 'a; b'; structured values (the caveats and numbers of a finding) as JSON."""
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
        return json.dumps(value, default=json_default, ensure_ascii=False)
    return "; ".join(map(str, value)) if isinstance(value, list) else value


def to_json(value: Any) -> str:
    """Indented JSON, non-ASCII kept, dates as ISO 8601, Arrow tables as lists of rows."""
    return json.dumps(value, default=json_default, indent=2, ensure_ascii=False)


def json_default(value: Any) -> Any:
    if hasattr(value, "to_pylist"):  # an Arrow table
        return value.to_pylist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
