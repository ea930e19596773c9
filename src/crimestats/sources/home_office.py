"""Home Office police recorded crime open data tables, police force area level.

Quarterly rows by force and Home Office offence code: ``Financial Year, Financial Quarter, Force Name,
Offence Description, Offence Group, Offence Subgroup, Offence Code, Number of Offences`` (the count column
is also published as ``Offence Count``). The official download is an .ods with one sheet per financial year;
single sheets saved as .csv or .xlsx are read the same way. The vintage is the latest quarter a file covers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crimestats import reference
from crimestats.periods import financial_quarter_end, format_period
from crimestats.sources._base import (
    FIGURES_SCHEMA,
    Batch,
    Probe,
    Sheet,
    parse_count,
    path_of,
    read_sheets,
    table,
    unknown_error,
)

NAME = "home-office"
REQUIRED = ("Financial Year", "Financial Quarter", "Force Name", "Offence Code")
COUNT_COLUMNS = ("Number of Offences", "Offence Count")


def recognise(probe: Probe) -> bool:
    """A header row naming (at least three of) the financial year, quarter, force and offence code columns."""
    return probe.has_header(*REQUIRED, at_least=3)


def read(file: Path | Probe) -> Batch:
    """Every sheet with the open data header; other sheets (cover, notes) are passed over."""
    rows: list[dict[str, Any]] = []
    for sheet in read_sheets(file):
        header = _header_row(sheet)
        if header is not None:
            rows.extend(_read_sheet(sheet, header))
    if not rows:
        raise Sheet(path_of(file).name, None, []).error(f"no sheet has the open data header ({', '.join(REQUIRED)})")
    latest = max(row["period_end"] for row in rows)
    return Batch(source=NAME, vintage=format_period(latest), figures=table(rows, FIGURES_SCHEMA))


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


def _read_sheet(sheet: Sheet, header: int) -> list[dict[str, Any]]:
    columns = _columns(sheet, header)
    unknown_forces: dict[str, int] = {}
    unknown_codes: dict[str, int] = {}
    rows = []
    for index in range(header + 1, len(sheet.rows)):
        if not any(str(c).strip() for c in sheet.rows[index]):
            continue
        sheet.require_width(index, max(columns.values()) + 1)
        force_name = sheet.text(index, columns["Force Name"])
        code = sheet.text(index, columns["Offence Code"])
        area = reference.find_area(force_name)
        offence = reference.offence_for_code(code)
        if area is None or area.kind in ("region", "country", "national"):
            unknown_forces.setdefault(force_name, index)
        if offence is None:
            unknown_codes.setdefault(code, index)
        if area is None or offence is None:
            continue
        rows.append(
            {
                "sheet": sheet.name,
                "source_row": index + 1,
                "source_column": None,
                "table_id": "open-data",
                "area_code": area.code,
                "offence": offence,
                "offence_code": code,
                "period_end": _quarter_end(sheet, index, columns),
                "months": 3,
                "measure": "count",
                "value": float(parse_count(sheet, index, columns["count"])),
                "symbol": None,
                "reason": None,
            }
        )
    if unknown_forces:
        raise unknown_error(sheet, "force name(s)", unknown_forces, columns["Force Name"])
    if unknown_codes:
        raise unknown_error(sheet, "Home Office offence code(s)", unknown_codes, columns["Offence Code"])
    return rows


def _quarter_end(sheet: Sheet, index: int, columns: dict[str, int]) -> Any:
    year = sheet.text(index, columns["Financial Year"])
    quarter_text = sheet.text(index, columns["Financial Quarter"])
    if quarter_text not in ("1", "2", "3", "4"):
        raise sheet.error(f"financial quarter {quarter_text!r} is not 1-4", index, columns["Financial Quarter"])
    try:
        return financial_quarter_end(year, int(quarter_text))
    except Exception as exc:
        raise sheet.error(str(exc), index, columns["Financial Year"]) from exc
