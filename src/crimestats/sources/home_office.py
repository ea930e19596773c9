"""Home Office police recorded crime open data tables, police force area level.

Quarterly rows by force and Home Office offence code: ``Financial Year, Financial Quarter, Force Name,
Offence Description, Offence Group, Offence Subgroup, Offence Code, Number of Offences`` (the count column
is also published as ``Offence Count``). The official download is an .ods with one sheet per financial year;
single sheets saved as .csv or .xlsx are read the same way. The vintage is the latest quarter a file covers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crimestats import reference
from crimestats.periods import financial_quarter_end, format_period, shift_months
from crimestats.sources._base import (
    FIGURES_SCHEMA,
    Batch,
    Probe,
    Sheet,
    parse_count,
    path_of,
    read_sheets,
    unknown_error,
)
from crimestats.sources._columns import counts as _columns_counts
from crimestats.sources._columns import map_distinct

NAME = "home-office"
REQUIRED = ("Financial Year", "Financial Quarter", "Force Name", "Offence Code")
COUNT_COLUMNS = ("Number of Offences", "Offence Count")


def recognise(probe: Probe) -> bool:
    """A header row naming (at least three of) the financial year, quarter, force and offence code columns."""
    return probe.has_header(*REQUIRED, at_least=3)


def read(file: Path | Probe) -> Batch:
    """Every sheet with the open data header; other sheets (cover, notes) are passed over."""
    tables = []
    for sheet in read_sheets(file, by_columns=True):
        header = _header_row(sheet)
        if header is not None:
            tables.append(_read_sheet(sheet, header))
    figures = pa.concat_tables(tables) if tables else FIGURES_SCHEMA.empty_table()
    if not figures.num_rows:
        raise Sheet(path_of(file).name, None, []).error(f"no sheet has the open data header ({', '.join(REQUIRED)})")
    latest = pc.max(figures.column("period_end")).as_py()
    warnings = negative_year_totals(path_of(file).name, figures)
    return Batch(source=NAME, vintage=format_period(latest), figures=figures, warnings=warnings)


def negative_year_totals(file: str, figures: pa.Table) -> tuple[str, ...]:
    """A warning for each force and offence whose 12 months to a quarter end, summed from the file's quarters
    as analytics sums them (four quarters the force has figures for), is below zero.

    A quarter's count may be negative: the Home Office publishes downward adjustments (crimes found not to
    have happened, or recorded twice) that way, 36 of them in the 2017/18 table. Over a year they should be
    outweighed by the offences recorded; a year below zero cannot be a count of offences, and analytics
    leaves it out of counts and rates.
    """
    sums = figures.group_by(["area_code", "offence", "period_end"]).aggregate([("value", "sum")])
    quarters = set(zip(*(figures.column(c).to_pylist() for c in ("area_code", "period_end")), strict=True))
    totals: dict[tuple[str, str, dt.date], float] = {}
    keyed = zip(*(sums.column(c).to_pylist() for c in ("area_code", "offence", "period_end", "value_sum")), strict=True)
    for area, offence, end, value in keyed:
        for shift in (0, 3, 6, 9):
            key = (area, offence, shift_months(end, shift))
            totals[key] = totals.get(key, 0.0) + value
    return tuple(
        f"{file}: {reference.area(area).name}, {reference.offence(offence).name}, 12 months to"
        f" {format_period(end)}: {total:,.0f} offences, below zero (the quarters' downward adjustments outweigh the"
        " offences recorded); not used as a count"
        for (area, offence, end), total in sorted(totals.items())
        if total < 0 and all((area, shift_months(end, -shift)) in quarters for shift in (0, 3, 6, 9))
    )


def _header_row(sheet: Sheet) -> int | None:
    for index in range(min(20, len(sheet.rows))):
        texts = [t.lower() for t in sheet.headings(index)]
        if "force name" in texts and "financial year" in texts:
            return index
    return None


def _columns(sheet: Sheet, header: int) -> dict[str, int]:
    names = {name: i for i, name in enumerate(sheet.headings(header))}
    found = {column: names[column] for column in REQUIRED if column in names}
    for column in REQUIRED:
        if column not in found:
            raise sheet.error(f"missing column {column!r} (found: {', '.join(n for n in names if n)})", header)
    count = next((names[c] for c in COUNT_COLUMNS if c in names), None)
    if count is None:
        raise sheet.error(f"missing count column, expected one of {', '.join(map(repr, COUNT_COLUMNS))}", header)
    return {**found, "count": count}


def _read_sheet(sheet: Sheet, header: int) -> pa.Table:
    """The figures of one sheet, a column at a time. A row the columns flag (too short, a quarter, year or count
    that does not read) is checked cell by cell, which raises the error naming it, in row order as a reading
    row by row would; then every unknown force, then every unknown offence code, as one error each."""
    columns = _columns(sheet, header)
    first = header + 1
    rows = np.arange(first, len(sheet.rows))
    force, code = (sheet.texts(columns[c])[first:] for c in ("Force Name", "Offence Code"))
    kept = ~_blank(sheet, first, list(columns.values()))
    areas, area_of = map_distinct(force, reference.find_area)
    offences, offence_of = map_distinct(code, reference.offence_for_code)
    known_area = np.array([a is not None for a in areas], dtype=bool)[area_of]
    known_offence = np.array([o is not None for o in offences], dtype=bool)[offence_of]
    valid = kept & known_area & known_offence
    period, bad_period = _quarter_ends(sheet, first, columns)
    value, bad_count = _columns_counts(sheet.column(columns["count"])[first:])
    short = kept & (sheet.widths()[first:] < max(columns.values()) + 1)
    for index in rows[short | (valid & (bad_period | bad_count))].tolist():
        sheet.require_width(index, max(columns.values()) + 1)  # raises, or the row was flagged for its cells:
        if valid[index - first]:
            period[index - first] = _quarter_end(sheet, index, columns)  # raises,
            value[index - first] = float(parse_count(sheet, index, columns["count"]))  # or reads a rare form
    forces = [a is None or a.kind in ("region", "country", "national") for a in areas]
    _raise_unknown(sheet, "force name(s)", force, area_of, forces, rows, kept, columns["Force Name"])
    _raise_unknown(
        sheet,
        "Home Office offence code(s)",
        code,
        offence_of,
        [o is None for o in offences],
        rows,
        kept,
        columns["Offence Code"],
    )
    codes = pa.array([a.code if a else None for a in areas], pa.string()).take(pa.array(area_of))
    slugs = pa.array(offences, pa.string()).take(pa.array(offence_of))
    _raise_repeated(sheet, rows[valid], period[valid], codes.filter(valid), code.filter(valid), columns)
    count = int(valid.sum())
    return pa.Table.from_arrays(
        [
            pa.repeat(pa.scalar(sheet.name, pa.string()), count),
            pa.array(rows[valid] + 1, pa.int32()),
            pa.nulls(count, pa.string()),
            pa.repeat(pa.scalar("open-data"), count),
            codes.filter(valid),
            slugs.filter(valid),
            code.filter(valid),
            pa.array(period[valid], pa.date32()),
            pa.repeat(pa.scalar(3, pa.int8()), count),
            pa.repeat(pa.scalar("count"), count),
            pa.array(value[valid], pa.float64()),
            pa.nulls(count, pa.string()),
            pa.nulls(count, pa.string()),
        ],
        schema=FIGURES_SCHEMA,
    )


def _blank(sheet: Sheet, first: int, columns: list[int]) -> np.ndarray:
    """Rows from ``first`` with nothing in any cell: the columns read are empty, and then the rest of the row."""
    empty: np.ndarray = np.logical_and.reduce(
        [pc.equal(sheet.texts(c)[first:], "").to_numpy(zero_copy_only=False) for c in columns]
    )
    for offset in np.flatnonzero(empty).tolist():
        empty[offset] = not any(str(c).strip() for c in sheet.rows[first + offset])
    return empty


def _quarter_ends(sheet: Sheet, first: int, columns: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The quarter end of every row from ``first`` (object array of dates), and whether it does not read."""
    year, quarter = (sheet.texts(columns[c])[first:] for c in ("Financial Year", "Financial Quarter"))
    pairs, pair_of = map_distinct(pc.binary_join_element_wise(year, quarter, "\x1f"), _quarter_end_of)
    ends = np.empty(len(pairs), dtype=object)
    ends[:] = pairs
    period = ends[pair_of]
    return period, np.array([p is None for p in pairs], dtype=bool)[pair_of]


def _quarter_end_of(year_and_quarter: str) -> dt.date | None:
    """A year and quarter joined by U+001F (whitespace, so in neither text) → the quarter end, or None."""
    year, quarter = year_and_quarter.split("\x1f")
    try:
        return financial_quarter_end(year, int(quarter)) if quarter in ("1", "2", "3", "4") else None
    except Exception:
        return None


def _raise_unknown(
    sheet: Sheet,
    what: str,
    texts: pa.Array,
    index_of: np.ndarray,
    unknown: Sequence[bool],
    rows: np.ndarray,
    kept: np.ndarray,
    column: int,
) -> None:
    """One error listing every unknown value among the rows kept, pointing at the first place one occurs."""
    flagged = kept & np.asarray(unknown, dtype=bool)[index_of]
    if flagged.any():
        names = texts.filter(pa.array(flagged)).to_pylist()
        first: dict[str, int] = {}
        for name, index in zip(names, rows[flagged].tolist(), strict=True):
            first.setdefault(name, index)
        raise unknown_error(sheet, what, first, column)


def _raise_repeated(
    sheet: Sheet, rows: np.ndarray, period: np.ndarray, forces: pa.Array, codes: pa.Array, columns: dict[str, int]
) -> None:
    """A force's count for an offence code appears once a quarter: a repeated row would be added in twice.

    The one exception is a combined code (``1/4.1/4.10/4.2``, homicide), which the Home Office prints once for
    each code it combines: a combined code of n codes may appear n times.
    """
    keys = pa.table({"period": pa.array(period, pa.date32()), "force": forces, "code": codes})
    grouped = keys.group_by(["period", "force", "code"]).aggregate([([], "count_all")])
    allowed = pc.add(pc.count_substring(grouped.column("code"), "/"), 1)
    if not pc.any(pc.greater(grouped.column("count_all"), allowed)).as_py():
        return
    seen: dict[tuple[Any, ...], list[int]] = {}
    keyed = zip(period.tolist(), forces.to_pylist(), codes.to_pylist(), strict=True)
    for row, key in zip(rows.tolist(), keyed, strict=True):
        earlier = seen.setdefault(key, [])
        if len(earlier) > str(key[2]).count("/"):
            message = f"repeats row {earlier[0] + 1}: the same force, quarter and offence code {key[2]!r} again"
            raise sheet.error(message + " (the count would be added in twice)", row, columns["Offence Code"])
        earlier.append(row)


def _quarter_end(sheet: Sheet, index: int, columns: dict[str, int]) -> Any:
    year = sheet.text(index, columns["Financial Year"])
    quarter_text = sheet.text(index, columns["Financial Quarter"])
    if quarter_text not in ("1", "2", "3", "4"):
        raise sheet.error(f"financial quarter {quarter_text!r} is not 1-4", index, columns["Financial Quarter"])
    try:
        return financial_quarter_end(year, int(quarter_text))
    except Exception as exc:
        raise sheet.error(str(exc), index, columns["Financial Year"]) from exc
