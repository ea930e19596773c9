"""Periods: quarter ends, labels and the Home Office financial quarters."""

from __future__ import annotations

import datetime as dt

import pytest

from crimestats.errors import PeriodError
from crimestats.periods import financial_quarter_end, parse_period, parse_year_ending, period_label, shift_months


def test_parse_and_label() -> None:
    assert parse_period("2019-09") == dt.date(2019, 9, 1)
    assert period_label(parse_period("2019-09")) == "year ending September 2019"


@pytest.mark.parametrize(
    "text",
    [
        "2019-09",
        "Sep 2019",
        "Sept 2019",
        "September 2019",
        "YE Sep 2019",
        "ye september 2019",
        "year ending September 2019",
        "  Year Ending  SEPTEMBER  2019 ",
    ],
)
def test_periods_as_people_write_them(text: str) -> None:
    assert parse_period(text) == dt.date(2019, 9, 1)


@pytest.mark.parametrize("text", ["2019-07", "2019", "Jul 2019", "year ending July 2019", "2019-9", "2019-13", ""])
def test_only_quarter_ends(text: str) -> None:
    with pytest.raises(PeriodError, match="is not a quarter end: write 2019-09 or 'Sep 2019'"):
        parse_period(text)


@pytest.mark.parametrize("text", ["Se 2019", "Sep 19", "Smarch 2019", "ending Sep 2019"])
def test_what_is_not_a_month_and_year_is_not_a_period(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


@pytest.mark.parametrize(
    ("quarter", "end"),
    [(1, dt.date(2017, 6, 1)), (2, dt.date(2017, 9, 1)), (3, dt.date(2017, 12, 1)), (4, dt.date(2018, 3, 1))],
)
def test_financial_quarter_1_is_april_to_june(quarter: int, end: dt.date) -> None:
    assert financial_quarter_end("2017/18", quarter) == end


@pytest.mark.parametrize(
    ("title", "end"),
    [
        ("number of offences, year ending December 20191,2", dt.date(2019, 12, 1)),
        ("year ending June 181,2", dt.date(2018, 6, 1)),
        ("year ending September 2018 compared with year ending September 20171,2", dt.date(2018, 9, 1)),
        ("year ending march 2017 compared with year ending March 20181,2,3", dt.date(2018, 3, 1)),
        ("Table C2: ... year ending June 2025 [note 1]", dt.date(2025, 6, 1)),
    ],
)
def test_year_ending_in_published_titles(title: str, end: dt.date) -> None:
    assert parse_year_ending(title) == end


def test_shift_months_crosses_years() -> None:
    assert shift_months(dt.date(2019, 3, 1), -12) == dt.date(2018, 3, 1)
    assert shift_months(dt.date(2019, 12, 1), 3) == dt.date(2020, 3, 1)
