"""ONS "police force area data tables" published with the Crime in England and Wales bulletins.

Table P1 holds counts by offence group and subgroup, P2 the percentage change on a year earlier, P3 the
rate per 1,000 residents together with the population used (mid-year estimate, rounded to 100) and the
household figures. Layouts differ by vintage; this reader finds the header row by its content ("Area Code"
in column A, below however many lines of title and cover text), reads the offence names above each column
(two-row headers, footnote digits glued on, or the ``[note N]`` markers of the accessible workbooks ONS has
published since 2021), and keeps the symbols the table notes define (``..`` not available, ``-`` base fewer
than 50, ``+`` suppressed; ``[x]``, ``[c]``, ``[z]`` and whatever the cover text's shorthand line says) as
NULL with their meaning as the reason. The sheets are named ``Table P1`` or, in the accessible workbooks,
``Table_P1``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from crimestats import reference
from crimestats.periods import format_period, parse_year_ending
from crimestats.sources._base import (
    ACCESSIBLE_SYMBOLS,
    FIGURES_SCHEMA,
    POPULATIONS_SCHEMA,
    Batch,
    Probe,
    Sheet,
    column_letter,
    number_grid,
    path_of,
    read_workbook,
    refuse_repeats,
    resolve_area,
    shorthand,
    unknown_error,
    without_notes,
)

NAME = "ons-pfa"
TABLES = {"P1": "count", "P2": "change_pct", "P3": "rate_per_1000"}
TITLE_WORDS = {"P1": "number of offences", "P2": "percentage change", "P3": "rate of offences"}
DEFAULT_SYMBOLS = {
    "..": "data not available",
    "-": "not shown: the base number is fewer than 50",
    "+": "suppressed: small resident population",
    "x": "data unavailable",
    **ACCESSIBLE_SYMBOLS,
}
_SYMBOL_NOTE = re.compile(r"""['‘’"](\S{1,3})['‘’"]\s+(?:indicates|denotes|means)\s+(?:that\s+)?(.+)""", re.IGNORECASE)


def recognise(probe: Probe) -> bool:
    """A workbook with (at least two of) Tables P1-P3, titled as the police force area offence tables."""
    tables = len(set(TABLES) & {_table_id(name) for name in probe.sheets})
    return tables >= 2 and probe.mentions("police recorded crime by offence group and police force area")


def _table_id(sheet_name: str) -> str | None:
    """'Table P1', 'Table_P1' (the accessible workbooks), ' table p1 ' → 'P1'; None for any other sheet."""
    words = sheet_name.replace("_", " ").split()
    return words[1].upper() if len(words) == 2 and words[0].lower() == "table" else None


def read(file: Path | Probe) -> Batch:
    path = path_of(file)
    sheets = read_workbook(file)
    tables = {_table_id(name): name for name in sheets}
    for table_id in TABLES:
        if table_id not in tables:
            raise Sheet(path.name, None, []).error(f"no sheet 'Table {table_id}' (sheets: {', '.join(sheets)})")
    period = _period(sheets[tables["P1"]])
    figures: list[pa.Table] = []
    populations: list[pa.Table] = []
    warnings: list[str] = []
    for table_id, measure in TABLES.items():
        sheet = sheets[tables[table_id]]
        if TITLE_WORDS[table_id] not in sheet.text(0, 0).lower():
            raise sheet.error(f"title does not mention {TITLE_WORDS[table_id]!r}: {sheet.text(0, 0)[:80]!r}", 0, 0)
        if _period(sheet) != period:
            raise sheet.error(f"title is for a different period than Table P1 ({format_period(period)})", 0, 0)
        figure_table, population_table = _read_table(sheet, table_id, measure, period, warnings)
        figures.append(figure_table)
        populations.append(population_table)
    return Batch(
        source=NAME,
        vintage=format_period(period),
        revision=_revision(sheets),
        figures=pa.concat_tables(figures),
        populations=pa.concat_tables(populations),
        warnings=tuple(warnings),
    )


def _revision(sheets: Mapping[str, Sheet]) -> int:
    """1 for a re-issue: a "Correction" sheet (June and September 2018), or a Notes sheet opening with a note that
    figures in the original publication were revised (March 2018 "v2", North Wales); 0 otherwise."""
    if "Correction" in sheets:
        return 1
    notes = sheets.get("Notes")
    opening = " ".join(" ".join(str(cell) for cell in row) for row in notes.rows[:5]).lower() if notes else ""
    return 1 if "original publication" in opening and "revised" in opening else 0


def _period(sheet: Sheet) -> Any:
    period = parse_year_ending(sheet.text(0, 0))
    if period is None:
        raise sheet.error("cannot find 'year ending <month> <year>' in the title", 0, 0)
    return period


def _header_row(sheet: Sheet) -> int:
    """The row with 'Area Code' in column A (``[note N]`` markers aside), however many lines of title and cover
    text are above it. Not found: an error at the row that has 'Area Name' in column B, if one does."""
    header = _first_row(sheet, 0, "area code")
    if header is not None:
        return header
    beside = _first_row(sheet, 1, "area name")
    if beside is not None:
        raise sheet.error(f"header row has {sheet.text(beside, 0)!r} where 'Area Code' was expected", beside, 0)
    raise sheet.error(f"no header row: no 'Area Code' in column A of rows 1-{len(sheet.rows)}", 0, 0)


def _first_row(sheet: Sheet, column: int, label: str) -> int | None:
    """The first row whose cell in this column is the label (any case, ``[note N]`` markers aside)."""
    rows = (i for i, cells in enumerate(sheet.rows) if len(cells) > column and "area" in str(cells[column]).lower())
    return next((i for i in rows if without_notes(sheet.text(i, column)).lower() == label), None)


def _symbols(sheet: Sheet) -> dict[str, str]:
    """The symbols this table's notes and cover text define, over the defaults."""
    symbols = dict(DEFAULT_SYMBOLS)
    for cells in sheet.rows:
        for cell in cells[:1]:
            match = _SYMBOL_NOTE.search(str(cell))
            if match:
                symbols[match.group(1)] = match.group(2).strip().rstrip(".")
            if "[" in str(cell):
                symbols.update(shorthand(str(cell)))
    return symbols


def _columns(sheet: Sheet, header: int) -> dict[int, tuple[str, str, int | None]]:
    """Column index → (kind, offence-or-denominator, population year) for every data column."""
    columns: dict[int, tuple[str, str, int | None]] = {}
    unknown: dict[str, int] = {}
    width = max(len(r) for r in sheet.rows[header - 1 : header + 1])
    for column in range(2, width):
        text = without_notes(sheet.text(header, column) or sheet.text(header - 1, column))
        if not text:
            continue
        lowered = text.lower()
        year = re.search(r"mid-(\d{4})", lowered)
        if lowered.startswith("population") and year:
            columns[column] = ("population", "residents", int(year.group(1)))
        elif lowered.startswith("household") and year:
            columns[column] = ("population", "households", int(year.group(1)))
        elif "(households)" in lowered:
            columns[column] = ("households_rate", "residential-burglary", None)
        elif (offence := reference.find_offence(text)) is not None:
            if offence.level != "category":  # category names above the header row group columns
                columns[column] = ("figure", offence.slug, None)
        else:
            unknown[text] = column
    if unknown:
        first = min(unknown.values())
        listed = ", ".join(repr(t) for t in unknown)
        raise sheet.error(f"unknown offence column heading(s): {listed}", header, first)
    if not any(kind == "figure" for kind, _, _ in columns.values()):
        raise sheet.error("no offence columns found in the header row", header)
    return columns


def _read_table(
    sheet: Sheet, table_id: str, measure: str, period: Any, warnings: list[str]
) -> tuple[pa.Table, pa.Table]:
    """The figures and populations of one table, in row then column order, a column at a time; a cell the
    columns flag is read by :func:`parse_number`, which raises the error naming it."""
    header = _header_row(sheet)
    columns = _columns(sheet, header)
    symbols = _symbols(sheet)
    rows, areas, unknown = _areas(sheet, header, warnings)
    refuse_repeats(sheet, rows.tolist(), areas, 0)
    order = list(columns)
    # All the cells at once (a few Arrow calls per table, not per column), then row by column for the rows read.
    values, found = number_grid(sheet, rows, order, symbols)
    if unknown:
        raise unknown_error(sheet, "area(s)", unknown, 1)
    kinds = [columns[column][0] for column in order]
    figures = [i for i, kind in enumerate(kinds) if kind != "population"]
    populations = [i for i, kind in enumerate(kinds) if kind == "population"]

    def tile(items: list[Any]) -> np.ndarray:
        """One item per picked column, repeated for every row."""
        return np.tile(np.array(items, dtype=object), len(rows))

    def cells(picked: list[int]) -> dict[str, Any]:
        """The cells of the picked columns, row by row: where they are, their area, value, symbol and reason."""
        count = len(rows) * len(picked)
        symbol = found[:, picked].ravel()
        return {
            "sheet": pa.repeat(pa.scalar(sheet.name, pa.string()), count),
            "source_row": pa.array(np.repeat(rows + 1, len(picked)), pa.int32()),
            "source_column": pa.array(tile([column_letter(order[i]) for i in picked]), pa.string()),
            "area_code": pa.array(np.repeat(np.array(areas, dtype=object), len(picked)), pa.string()),
            "value": pa.array(
                values[:, picked].ravel(), pa.float64(), mask=np.array([s is not None for s in symbol], dtype=bool)
            ),
            "symbol": pa.array(symbol, pa.string()),
            "reason": pa.array([None if s is None else symbols[s] for s in symbol], pa.string()),
            "count": count,
        }

    at = cells(figures)
    figure_table = pa.table(
        {
            **{k: at[k] for k in ("sheet", "source_row", "source_column")},
            "table_id": pa.repeat(pa.scalar(table_id), at["count"]),
            "area_code": at["area_code"],
            "offence": pa.array(tile([columns[order[i]][1] for i in figures]), pa.string()),
            "offence_code": pa.nulls(at["count"], pa.string()),
            "period_end": pa.repeat(pa.scalar(period, pa.date32()), at["count"]),
            "months": pa.repeat(pa.scalar(12, pa.int8()), at["count"]),
            "measure": pa.array(
                tile(["rate_per_1000_households" if kinds[i] == "households_rate" else measure for i in figures]),
                pa.string(),
            ),
            **{k: at[k] for k in ("value", "symbol", "reason")},
        },
        schema=FIGURES_SCHEMA,
    )
    at = cells(populations)
    population_table = pa.table(
        {
            **{k: at[k] for k in ("sheet", "source_row", "source_column", "area_code")},
            "year": pa.array(tile([columns[order[i]][2] for i in populations]), pa.int16()),
            "denominator": pa.array(tile([columns[order[i]][1] for i in populations]), pa.string()),
            **{k: at[k] for k in ("value", "symbol", "reason")},
        },
        schema=POPULATIONS_SCHEMA,
    )
    return figure_table, population_table


def _areas(sheet: Sheet, header: int, warnings: list[str]) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """The rows below the header naming a known area, the code of each, and the first row of each unknown."""
    rows, codes, unknown = [], [], {}
    for index in range(header + 1, len(sheet.rows)):
        code, name = sheet.text(index, 0), sheet.text(index, 1)
        if not name:
            continue  # blank, unit ("Numbers") and footnote rows have nothing in the name column
        area = resolve_area(sheet, index, code, name, warnings)
        if area is None:
            unknown[name or code] = index
            continue
        rows.append(index)
        codes.append(area.code)
    return np.array(rows, dtype=np.int64), codes, unknown
