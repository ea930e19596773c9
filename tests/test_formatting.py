"""Numbers as the ONS tables print them: whole-number changes, 1 dp rates rounded half away from zero."""

from __future__ import annotations

import pytest

from crimestats import formatting as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.4, "+12"), (-12.4, "-12"), (12.5, "+13"), (-12.5, "-13"), (0.4, "0"), (-0.31, "0"), (-0.5, "-1"),
     (0.0, "0"), (None, ".."), (float("nan"), "..")],
)  # fmt: skip
def test_signed_percent_never_prints_a_signed_zero(value: float | None, text: str) -> None:
    assert fmt.signed_percent(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(52.65, "52.7"), (52.75, "52.8"), (1.04, "1.0"), (0.0, "0.0"), (0.5, "0.50"), (0.04, "0.040"), (0.01234, "0.012"),
     (0.00155, "0.0016"), (None, "..")],
)  # fmt: skip
def test_rate_is_one_decimal_half_up_with_two_significant_figures_below_one(value: float | None, text: str) -> None:
    assert fmt.rate(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0.0004, "p < 0.001"), (0.0497, "p = 0.0497"), (0.0503, "p = 0.0503"), (0.2345, "p = 0.23")]
)
def test_p_value_is_never_rounded_across_five_percent(value: float, text: str) -> None:
    assert fmt.p_value(value) == text


@pytest.mark.parametrize(
    ("number", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (11, "11th"), (22, "22nd"), (43, "43rd")]
)
def test_ordinal(number: int, text: str) -> None:
    assert fmt.ordinal(number) == text
