"""Periods are quarter ends: ``2019-09`` is the year ending September 2019 (October 2018 to September 2019).

Home Office financial quarter 1 is April to June, so ``2017/18`` quarter 1 ends ``2017-06``.
"""

from __future__ import annotations

import datetime as dt
import re

from crimestats.errors import PeriodError

__all__ = [
    "financial_quarter_end",
    "format_period",
    "month_label",
    "parse_month",
    "parse_period",
    "parse_year_ending",
    "period_label",
    "shift_months",
]

MONTHS = [
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
]
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
#: 'Sep 2019', 'September 2019', 'YE Sep 2019', 'year ending September 2019' (any letter case).
_WRITTEN = re.compile(r"^(?:(?:ye|year ending)\s+)?([a-z]+)\.?\s+(\d{4})$", flags=re.IGNORECASE)


def parse_period(text: str | dt.date) -> dt.date:
    """``'2019-09'`` → the first day of its end month; only March, June, September, December. Periods as people
    write them are read too: ``'Sep 2019'``, ``'September 2019'``, ``'YE Sep 2019'``, ``'year ending September
    2019'``. A period already parsed (a date) is returned as it is, so a value parsed where it enters is not
    parsed again inside."""
    if isinstance(text, dt.date):
        return text
    month = _month_of(" ".join(text.split()))
    if month is None or month.month not in (3, 6, 9, 12):
        raise PeriodError(
            f"period {text!r} is not a quarter end: write 2019-09 or 'Sep 2019' for the year ending September 2019 "
            "(years end in March, June, September or December)"
        )
    return month


def parse_month(text: str | dt.date) -> dt.date:
    """A month, as data.police.uk's monthly files are dated: ``'2024-01'`` (or ``'Jan 2024'``) → 2024-01-01."""
    if isinstance(text, dt.date):
        return text
    month = _month_of(" ".join(text.split()))
    if month is None:
        raise PeriodError(f"month {text!r} is not a month: write 2024-01 or 'Jan 2024'")
    return month


def _month_of(text: str) -> dt.date | None:
    """The month a period names, quarter end or not, or None if it is not written as a period."""
    if numeric := _PERIOD.match(text):
        year, month = int(numeric.group(1)), int(numeric.group(2))
        return dt.date(year, month, 1) if 1 <= month <= 12 else None
    written = _WRITTEN.match(text)
    named = _month_number(written.group(1)) if written else None
    return dt.date(int(written.group(2)), named, 1) if written and named else None


def format_period(month: dt.date) -> str:
    """The first day of a month → ``'2019-09'``."""
    return f"{month.year:04d}-{month.month:02d}"


def month_label(month: dt.date) -> str:
    """``2019-09-01`` → ``'September 2019'``."""
    return f"{MONTHS[month.month - 1]} {month.year}"


def period_label(month: dt.date) -> str:
    """``2019-09-01`` → ``'year ending September 2019'``."""
    return f"year ending {month_label(month)}"


def shift_months(month: dt.date, months: int) -> dt.date:
    """Move a month forward (or back, if negative) by whole months."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def financial_quarter_end(financial_year: str, quarter: int) -> dt.date:
    """Home Office ``('2017/18', 1)`` → 2017-06: quarter 1 is April to June of the first year."""
    match = re.match(r"^(\d{4})/(\d{2})$", financial_year.strip())
    if not match or quarter not in (1, 2, 3, 4):
        raise PeriodError(f"financial year {financial_year!r} quarter {quarter!r} is not like 2017/18 quarter 1-4")
    return shift_months(dt.date(int(match.group(1)), 6, 1), 3 * (quarter - 1))


def parse_year_ending(text: str) -> dt.date | None:
    """The latest 'year ending <Month> <year>' in a title, ignoring footnote digits glued on.

    ``'... year ending December 20191,2'`` → 2019-12; ``'year ending June 181,2'`` → 2018-06.
    """
    found = []
    for name, digits in re.findall(r"year ending\s+([A-Za-z]+)\s+(\d+)", text, flags=re.IGNORECASE):
        month = _month_number(name)
        if month:
            year = int(digits[:4]) if digits.startswith("20") and len(digits) >= 4 else 2000 + int(digits[:2])
            found.append(dt.date(year, month, 1))
    return max(found, default=None)


def _month_number(name: str) -> int | None:
    """'Sep', 'Sept' or 'September' → 9: a month's name or its first three letters or more."""
    for number, month in enumerate(MONTHS, start=1):
        if len(name) >= 3 and month.lower().startswith(name.lower()):
            return number
    return None
