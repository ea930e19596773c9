"""ONS mid-year population estimates by local authority (sheet MYE4) and the LA → CSP → PFA lookup.

MYE4 has one row per area (country, region, county, local authority) and one column per mid-year
(``Mid-2023`` … ``Mid-2011``). All rows are stored; analytics sum local authorities to police force areas
through the official lookup, so the estimates and the lookup can be ingested in either order. When the
workbook has sheet MYE5 (population density), each area's land area in sq km is stored too, as a
``populations`` row with denominator ``area_sq_km``, for population density.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from crimestats import reference
from crimestats.sources._base import (
    LOOKUP_SCHEMA,
    POPULATIONS_SCHEMA,
    Batch,
    Probe,
    Sheet,
    column_letter,
    number_grid,
    path_of,
    read_csv,
    read_workbook,
    refuse_repeats,
    table,
    unknown_error,
)

MYE = "ons-mye"
LOOKUP = "ons-lookup"
_LOOKUP_COLUMNS = re.compile(r"^(LAD|CSP|PFA)(\d\d)(CD|NM)$")


def recognise_mye(probe: Probe) -> bool:
    """A workbook with sheet MYE4, or with MYE sheets and a mid-year estimates title (MYE4 renamed)."""
    names = {s.strip() for s in probe.sheets}
    return "MYE4" in names or (any(n.startswith("MYE") for n in names) and probe.mentions("mid-year population"))


def read_mye(file: Path | Probe) -> Batch:
    path = path_of(file)
    sheets = read_workbook(file)
    if "MYE4" not in sheets:
        raise Sheet(path.name, None, []).error(f"no sheet 'MYE4' (sheets: {', '.join(sheets)})")
    sheet = sheets["MYE4"]
    header = _header_row(sheet)
    years: dict[int, int] = {}
    for column in range(3, len(sheet.rows[header])):
        match = re.match(r"^mid-(\d{4})$", sheet.text(header, column).lower())
        if match:
            years[column] = int(match.group(1))
    if not years:
        raise sheet.error("no 'Mid-YYYY' columns in the header row", header)
    rows = [index for index in range(header + 1, len(sheet.rows)) if sheet.text(index, 0)]
    for index in rows:
        if not re.match(r"^[EWKNS]\d{8}$", code := sheet.text(index, 0)):
            raise sheet.error(f"{code!r} is not an ONS area code", index, 0)
    refuse_repeats(sheet, rows, [sheet.text(index, 0) for index in rows], 0)
    populations = _cells(sheet, rows, years, "residents")
    latest = max(years.values())
    if "MYE5" in sheets:
        populations.extend(_land_areas(sheets["MYE5"], latest))
    return Batch(MYE, f"mid-{latest}", populations=table(populations, POPULATIONS_SCHEMA))


def _header_row(sheet: Sheet) -> int:
    header = next((i for i, r in enumerate(sheet.rows[:20]) if r and str(r[0]).strip() == "Code"), None)
    if header is None:
        raise sheet.error("no header row starting 'Code' in the first 20 rows")
    return header


def _land_areas(sheet: Sheet, year: int) -> list[dict[str, Any]]:
    """Land area in sq km of every area in sheet MYE5 (the boundaries of the estimates' latest year)."""
    header = _header_row(sheet)
    column = next((i for i, h in enumerate(sheet.headings(header)) if h.lower().startswith("area (sq km")), None)
    if column is None:
        raise sheet.error("no 'Area (sq km)' column in the header row", header)
    rows = [index for index in range(header + 1, len(sheet.rows)) if sheet.text(index, 0)]
    refuse_repeats(sheet, rows, [sheet.text(index, 0) for index in rows], 0)
    return _cells(sheet, rows, {column: year}, "area_sq_km")


def _cells(sheet: Sheet, rows: list[int], years: dict[int, int], denominator: str) -> list[dict[str, Any]]:
    """The numbers of these rows of an MYE sheet in the columns of ``years`` (column → mid-year), row by row, as
    ``populations`` rows, each area code read from column A."""
    values, _ = number_grid(sheet, np.array(rows, dtype=np.int64), list(years), {})
    return [
        {
            "sheet": sheet.name,
            "source_row": row + 1,
            "source_column": column_letter(column),
            "area_code": sheet.text(row, 0),
            "year": year,
            "denominator": denominator,
            "value": float(value),
            "symbol": None,
            "reason": None,
        }
        for row, row_values in zip(rows, values, strict=True)
        for (column, year), value in zip(years.items(), row_values, strict=True)
    ]


def recognise_lookup(probe: Probe) -> bool:
    """A CSV whose first row has an ``LADyyCD`` column and a CSP or PFA column."""
    first = probe.rows[0] if probe.rows else ()
    return any(re.match(r"^LAD\d\dCD$", c.strip()) for c in first) and any(
        re.match(r"^(PFA|CSP)\d\d", c.strip()) for c in first
    )


def read_lookup(file: Path | Probe) -> Batch:
    sheet = read_csv(path_of(file))
    header = sheet.headings(0)
    found = {m.group(1) + m.group(3): i for i, h in enumerate(header) if (m := _LOOKUP_COLUMNS.match(h))}
    for needed in ("LADCD", "LADNM", "PFACD"):
        if needed not in found:
            raise sheet.error(f"missing column {needed[:3]}YYCD/NM (found: {', '.join(header)})", 0)
    year = _LOOKUP_COLUMNS.match(header[found["LADCD"]]).group(2)  # type: ignore[union-attr]
    rows, unknown = [], {}
    for index in range(1, len(sheet.rows)):
        if not any(c.strip() for c in sheet.rows[index]):
            continue
        sheet.require_width(index, len(header))
        pfa = sheet.text(index, found["PFACD"])
        area = reference.find_area(pfa)
        if area is None or area.kind != "force":
            unknown[pfa] = index
            continue
        rows.append(
            {
                "source_row": index + 1,
                "lad_code": sheet.text(index, found["LADCD"]),
                "lad_name": sheet.text(index, found["LADNM"]),
                "csp_code": sheet.text(index, found["CSPCD"]) if "CSPCD" in found else None,
                "csp_name": sheet.text(index, found["CSPNM"]) if "CSPNM" in found else None,
                "pfa_code": area.code,
            }
        )
    if unknown:
        raise unknown_error(sheet, "police force area code(s)", unknown, found["PFACD"])
    if not rows:
        raise sheet.error("no rows below the header", 1)
    return Batch(LOOKUP, f"20{year}", lookup=table(rows, LOOKUP_SCHEMA))
