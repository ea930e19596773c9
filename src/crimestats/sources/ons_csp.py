"""ONS Table C2: police recorded crime by community safety partnership (CSP) area.

Rows carry the police force area code and name, the CSP code and name and the local authority. A row with
no CSP is the force total; "Unassigned <force>" and similar rows without a CSP code are stored under
``<force code>/<slug of the row name>`` so that CSP rows still add up to the force total.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from crimestats import reference
from crimestats.periods import format_period, parse_year_ending
from crimestats.sources._base import (
    ACCESSIBLE_SYMBOLS,
    FIGURES_SCHEMA,
    Batch,
    Probe,
    Sheet,
    column_letter,
    number_grid,
    path_of,
    read_sheets,
    refuse_repeats,
    resolve_area,
    shorthand,
    table,
    unknown_error,
)

NAME = "ons-csp"
FIRST_OFFENCE_COLUMN = 6  # after the force, partnership and local authority codes and names
SYMBOLS = {**ACCESSIBLE_SYMBOLS, "x": "data unavailable", "..": "data not available"}


def recognise(probe: Probe) -> bool:
    """A header row with police force area and community safety partnership columns (either may be misnamed)."""
    columns = ("Police Force Area code", "Police Force Area name", "Community Safety Partnership code")
    return probe.has_header(*columns, at_least=2)


def read(file: Path | Probe) -> Batch:
    sheet = next((s for s in read_sheets(file) if _header_row(s) is not None), None)
    if sheet is None:
        raise Sheet(path_of(file).name, None, []).error("no sheet has a 'Police Force Area code' header row")
    header = _header_row(sheet)
    assert header is not None
    title = " ".join(sheet.text(i, 0) for i in range(header))
    symbols = {**SYMBOLS, **shorthand(title)}  # the cover text's "[x] indicates data are unavailable."
    period = parse_year_ending(title)
    if period is None:
        raise sheet.error("cannot find 'year ending <month> <year>' in the title rows", 0, 0)
    columns = _offence_columns(sheet, header)
    read: list[int] = []  # the rows read, with the area and force of each
    areas: list[str] = []
    forces: list[str] = []
    warnings: list[str] = []
    unknown: dict[str, int] = {}
    for index in range(header + 1, len(sheet.rows)):
        pfa_code, pfa_name = sheet.text(index, 0), sheet.text(index, 1)
        if not pfa_code and not pfa_name:
            continue
        sheet.require_width(index, max(columns) + 1)
        _require_headed(sheet, index, columns, header)
        if sheet.is_blank(index, list(columns)):
            warnings.append(
                f"{sheet.file}, row {index + 1}: no figures for {sheet.text(index, 3) or pfa_name!r}; skipped"
            )
            continue
        force = resolve_area(sheet, index, pfa_code, pfa_name, warnings)
        if force is None or force.kind != "force":
            unknown[pfa_name or pfa_code] = index
            continue
        read.append(index)
        areas.append(_area_code(force, sheet.text(index, 2), sheet.text(index, 3)))
        forces.append(force.code)
    refuse_repeats(sheet, read, areas, 2)
    values, symbols_found = number_grid(sheet, np.array(read, dtype=np.int64), list(columns), symbols)
    rows: list[dict[str, Any]] = [
        {
            "sheet": sheet.name,
            "source_row": index + 1,
            "source_column": column_letter(column),
            "table_id": "C2",
            "area_code": area_code,
            "offence": offence,
            "offence_code": None,
            "period_end": period,
            "months": 12,
            "measure": "count",
            "value": None if symbol is not None else float(value),
            "symbol": symbol,
            "reason": None if symbol is None else symbols[symbol],
        }
        for index, area_code, row_values, row_symbols in zip(read, areas, values, symbols_found, strict=True)
        for (column, offence), value, symbol in zip(columns.items(), row_values, row_symbols, strict=True)
    ]
    forces = [force for force in forces for _ in columns]  # the force of each figure
    if unknown:
        raise unknown_error(sheet, "police force area(s)", unknown, 1)
    rows += _missing_force_totals(rows, forces)
    return Batch(NAME, format_period(period), figures=table(rows, FIGURES_SCHEMA), warnings=tuple(warnings))


def _missing_force_totals(rows: list[dict[str, Any]], forces: list[str]) -> list[dict[str, Any]]:
    """Force totals for forces printed only as their partnerships (City of London is one CSP, no total row),
    summed from those rows and marked as such. A total is missing (None) if any part is."""
    printed = {row["area_code"] for row in rows}
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for row, force in zip(rows, forces, strict=True):
        if force in printed:
            continue
        total = sums.setdefault(
            (force, row["offence"]),
            {**row, "area_code": force, "value": 0.0, "reason": "summed from the force's partnership rows"},
        )
        total["value"] = None if total["value"] is None or row["value"] is None else total["value"] + row["value"]
    return list(sums.values())


def _header_row(sheet: Sheet) -> int | None:
    for index, cells in enumerate(sheet.rows[:30]):
        if cells and " ".join(str(cells[0]).split()).lower() == "police force area code":
            return index
    return None


def _offence_columns(sheet: Sheet, header: int) -> dict[int, str]:
    columns: dict[int, str] = {}
    unknown: dict[str, int] = {}
    for column in range(FIRST_OFFENCE_COLUMN, len(sheet.rows[header])):
        text = sheet.text(header, column)
        if not text:
            continue
        offence = reference.find_offence(text)
        if offence is None:
            unknown[" ".join(text.split())] = column
        elif offence.slug in columns.values():
            raise sheet.error(f"a second column headed {text!r}", header, column)
        else:
            columns[column] = offence.slug
    if unknown:
        raise sheet.error(
            f"unknown offence column heading(s): {', '.join(map(repr, unknown))}", header, min(unknown.values())
        )
    return columns


def _require_headed(sheet: Sheet, row: int, columns: dict[int, str], header: int) -> None:
    """A figure in a column with no offence heading means the header row lost a cell (every figure after it
    would be under the wrong offence) or a heading was blanked: the row cannot be read."""
    for column in range(FIRST_OFFENCE_COLUMN, len(sheet.rows[row])):
        if column not in columns and sheet.text(row, column):
            raise sheet.error(
                f"a figure under no offence heading (the header row, row {header + 1}, has"
                f" {len(sheet.rows[header])} cells); is a heading missing or blank?",
                row,
                column,
            )


def _area_code(force: reference.Area, csp_code: str, csp_name: str) -> str:
    if csp_code:
        return csp_code
    if csp_name:
        return f"{force.code}/{reference.slugify(csp_name)}"
    return force.code
