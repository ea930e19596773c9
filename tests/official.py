"""An independent reading of the published ONS tables, used as the oracle for golden tests.

Deliberately separate from crimestats.sources: openpyxl instead of calamine, and only what the tests need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl

CODE = re.compile(r"^([EWK]\d{8})")


@dataclass(frozen=True)
class Published:
    """One published table: (area code, heading) → cell value (a number, or a symbol string)."""

    vintage: str
    cells: dict[tuple[str, str], object]
    headings: list[str]
    names: dict[str, str]


def ons_round(value: float, places: int = 1) -> Decimal:
    """Round half away from zero, as Excel displays the published cells."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def heading_key(text: str) -> str:
    """'Stalking\\nand harassment 5' → 'stalking and harassment'."""
    text = " ".join(str(text).replace("(", " ").replace(")", " ").split()).lower()
    return re.sub(r"[\d,\s]+$", "", text).replace("residental", "residential").replace(" - ", " ")


def read_table(path: Path, table: str) -> Published:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = next(book[name] for name in book.sheetnames if name.strip() == f"Table {table}")
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    title = str(rows[0][0])
    header = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).strip() == "Area Code")
    headings = {}
    for j in range(2, len(rows[header])):
        text = rows[header][j] or rows[header - 1][j]
        if text:
            headings[j] = heading_key(text)
    cells: dict[tuple[str, str], object] = {}
    names: dict[str, str] = {}
    for row in rows[header + 1 :]:
        name = str(row[1] or "").strip()
        code = CODE.match(str(row[0] or "").strip())
        if not name or not code:
            continue
        names[code.group(1)] = name
        for j, heading in headings.items():
            cells[(code.group(1), heading)] = row[j] if j < len(row) else None
    book.close()
    return Published(title, cells, list(headings.values()), names)


#: ONS headings → crimestats offence slugs (the published words, mapped by hand for the oracle).
HEADINGS = {
    "total recorded crime excluding fraud": "total-excluding-fraud",
    "violence against the person": "violence-against-the-person",
    "homicide": "homicide",
    "violence with injury": "violence-with-injury",
    "violence without injury": "violence-without-injury",
    "stalking and harassment": "stalking-and-harassment",
    "death or serious injury unlawful driving": "death-or-serious-injury-unlawful-driving",
    "sexual offences": "sexual-offences",
    "robbery": "robbery",
    "theft offences": "theft-offences",
    "burglary": "burglary",
    "residential burglary": "residential-burglary",
    "non residential burglary": "non-residential-burglary",
    "vehicle offences": "vehicle-offences",
    "theft from the person": "theft-from-the-person",
    "bicycle theft": "bicycle-theft",
    "shoplifting": "shoplifting",
    "other theft offences": "all-other-theft-offences",
    "all other theft offences": "all-other-theft-offences",
    "criminal damage and arson": "criminal-damage-and-arson",
    "drug offences": "drug-offences",
    "possession of weapons offences": "possession-of-weapons-offences",
    "public order offences": "public-order-offences",
    "miscellaneous crimes": "miscellaneous-crimes-against-society",
    "miscellaneous crimes against society": "miscellaneous-crimes-against-society",
}

FORCE_CODE = re.compile(r"^(E23|W15)\d{6}$")
