"""Intervals, change tests, funnel limits and rank ranges, checked against values computed independently here.

Expected numbers come from root-finding on the Poisson distribution, formulas written out again in plain Python,
worked examples done by hand in the comments, or published figures (each source is named where it is used);
none is copied from running the code under test.
"""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from crimestats.analytics.uncertainty import (
    EXACT_BELOW,
    LEVELS,
    SMALL_COUNT,
    ChangeTest,
    FunnelLimits,
    Interval,
    RankRange,
    change_test,
    count_interval,
    funnel,
    funnel_curve,
    funnel_limits,
    overdispersion,
    rank_ranges,
    rate_interval,
)

# ---------------------------------------------------------------------------------------------------------------
# Independent reference calculations
# ---------------------------------------------------------------------------------------------------------------


def exact_by_root_finding(k: int, level: float) -> tuple[float, float]:
    """Exact Poisson limits from their definition: P(X >= k | low) = a/2 and P(X <= k | high) = a/2."""
    tail = (1 - level) / 2
    high = optimize.brentq(lambda mu: stats.poisson.cdf(k, mu) - tail, 1e-12, 10 * k + 50, xtol=1e-13, rtol=1e-14)
    if k == 0:
        return 0.0, high
    low = optimize.brentq(lambda mu: stats.poisson.sf(k - 1, mu) - tail, 1e-12, k + 1, xtol=1e-13, rtol=1e-14)
    return low, high


def byar_by_hand(k: float, level: float) -> tuple[float, float]:
    """Byar's limits as printed in the OHID Fingertips guidance, with z from the standard library."""
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    low = k * (1 - 1 / (9 * k) - z / (3 * math.sqrt(k))) ** 3
    high = (k + 1) * (1 - 1 / (9 * (k + 1)) + z / (3 * math.sqrt(k + 1))) ** 3
    return low, high


def poisson_pmf(x: int, mean: float) -> float:
    return math.exp(-mean + x * math.log(mean) - math.lgamma(x + 1))


def e_test_reference(k1: int, n1: float, k2: int, n2: float) -> float:
    """Two-sided E-test p-value, the double sum of Krishnamoorthy & Thomson (2004) eq. 3.5, written out directly.

    Sums P(X1 = x1) P(X2 = x2) over all pairs whose pivot is at least as extreme as the observed one, with
    X1 ~ Poisson(n1 r), X2 ~ Poisson(n2 r), r = (k1 + k2) / (n1 + n2); (0, 0), where the pivot is 0/0, is left
    out. Pairs whose comparison is too close to call in floating point are decided in exact rational arithmetic.
    """
    pooled = (k1 + k2) / (n1 + n2)
    mean1, mean2 = n1 * pooled, n2 * pooled
    d_obs = k1 / n1 - k2 / n2
    v_obs = k1 / n1**2 + k2 / n2**2
    exact_n1, exact_n2 = Fraction(n1), Fraction(n2)
    exact_d_obs = Fraction(k1) / exact_n1 - Fraction(k2) / exact_n2
    exact_v_obs = Fraction(k1) / exact_n1**2 + Fraction(k2) / exact_n2**2

    def extreme(x1: int, x2: int) -> bool:
        # |T| >= |t_obs|  <=>  d^2 * v_obs >= d_obs^2 * v  (both variances are positive here)
        d = x1 / n1 - x2 / n2
        v = x1 / n1**2 + x2 / n2**2
        left, right = d * d * v_obs, d_obs * d_obs * v
        if abs(left - right) > 1e-9 * max(abs(left), abs(right)):
            return left > right
        d_exact = Fraction(x1) / exact_n1 - Fraction(x2) / exact_n2
        v_exact = Fraction(x1) / exact_n1**2 + Fraction(x2) / exact_n2**2
        return d_exact**2 * exact_v_obs >= exact_d_obs**2 * v_exact

    def support(mean: float) -> range:
        spread = 12 * math.sqrt(mean) + 12
        return range(max(0, math.floor(mean - spread)), math.ceil(mean + spread) + 1)

    total = 0.0
    for x1 in support(mean1):
        p1 = poisson_pmf(x1, mean1)
        for x2 in support(mean2):
            if (x1, x2) != (0, 0) and extreme(x1, x2):
                total += p1 * poisson_pmf(x2, mean2)
    return total


# ---------------------------------------------------------------------------------------------------------------
# count_interval and rate_interval
# ---------------------------------------------------------------------------------------------------------------


def test_threshold_follows_ohid_guidance() -> None:
    # OHID Fingertips Public Health Technical Guidance, "Rates": exact method below 10, Byar's method from 10.
    assert EXACT_BELOW == 10
    assert SMALL_COUNT == 50
    assert LEVELS == (0.95, 0.998)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("k", [0, 1, 2, 5, 9])
def test_exact_interval_solves_the_tail_equations(k: int, level: float) -> None:
    interval = count_interval(k, level)
    low, high = exact_by_root_finding(k, level)
    assert interval.method == "exact Poisson"
    assert interval.level == level
    assert interval.low == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert interval.high == pytest.approx(high, rel=1e-9)
    # and the defining probabilities, the other way round
    tail = (1 - level) / 2
    assert stats.poisson.cdf(k, interval.high) == pytest.approx(tail, rel=1e-8)
    if k > 0:
        assert stats.poisson.sf(k - 1, interval.low) == pytest.approx(tail, rel=1e-8)


def test_zero_count() -> None:
    # The 95% upper limit for a zero count is -ln(0.025) = 3.689 (as epitools' pois.exact documents).
    interval = count_interval(0)
    assert interval.low == 0.0
    assert interval.high == pytest.approx(-math.log(0.025), rel=1e-12)
    assert interval.high == pytest.approx(3.689, abs=5e-4)
    assert count_interval(0, 0.998).high == pytest.approx(-math.log(0.001), rel=1e-12)


@pytest.mark.parametrize("level", LEVELS)
def test_the_kept_normal_quantiles_are_scipys(level: float) -> None:
    from scipy.special import ndtri

    from crimestats.analytics.uncertainty import _z

    assert _z(level) == float(ndtri(1 - (1 - level) / 2))  # the same float, not merely close


@pytest.mark.parametrize("level", LEVELS)
def test_switch_to_byar_at_the_threshold(level: float) -> None:
    assert count_interval(EXACT_BELOW - 1, level).method == "exact Poisson"
    assert count_interval(EXACT_BELOW, level).method == "Byar"
    # a non-integer count just below the threshold is still exact
    assert count_interval(EXACT_BELOW - 0.5, level).method == "exact Poisson"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("k", [10, 11, 50, 388, 389, 1000, 25_000])
def test_byar_matches_formula(k: int, level: float) -> None:
    interval = count_interval(k, level)
    low, high = byar_by_hand(k, level)
    assert interval.method == "Byar"
    assert interval.low == pytest.approx(low, rel=1e-12)
    assert interval.high == pytest.approx(high, rel=1e-12)


def test_byar_against_a_documented_example() -> None:
    # No worked example with figures was found in the OHID/PHE guides reachable here. The documentation of the
    # Ruby "byar" gem (research.rubygems.info) gives, for 100 observed events with z = 1.96, an upper bound of
    # 121.628347271806 and a lower SMR bound of 0.9040199067337297 against 90 expected, i.e. a lower bound of
    # 81.3617916. Using z = 1.959964 instead of 1.96 moves them by about 4e-6 relative.
    interval = count_interval(100)
    assert interval.low == pytest.approx(0.9040199067337297 * 90, rel=1e-5)
    assert interval.high == pytest.approx(121.628347271806, rel=1e-5)


@pytest.mark.parametrize("k", [388, 389, 1000])
@pytest.mark.parametrize("level", LEVELS)
def test_byar_close_to_exact_for_large_counts(k: int, level: float) -> None:
    interval = count_interval(k, level)
    low, high = exact_by_root_finding(k, level)
    assert abs(interval.low / low - 1) < 5e-5
    assert abs(interval.high / high - 1) < 5e-5
    if k == 1000:
        assert abs(interval.low / low - 1) < 0.005
        assert abs(interval.high / high - 1) < 0.005


def test_byar_within_published_accuracy_from_ten() -> None:
    # PHE Technical Guide: Confidence Intervals (2018): "Byar's method is within 0.2% of the exact value for
    # numerators of 10 or more" (95% intervals).
    # The worst case is at 10; check every count to 60 and a few beyond.
    for k in [*range(EXACT_BELOW, 60), 100, 250, 389, 1000]:
        interval = count_interval(k)
        low, high = exact_by_root_finding(k, 0.95)
        assert abs(interval.low / low - 1) < 0.002
        assert abs(interval.high / high - 1) < 0.002


def test_rate_interval_scales_the_count_interval() -> None:
    # 5 offences among 2,000 people: exact limits for 5, times 1000 / 2000.
    low, high = exact_by_root_finding(5, 0.95)
    interval = rate_interval(5, 2000)
    assert interval == Interval(pytest.approx(low / 2), pytest.approx(high / 2), 0.95, "exact Poisson")
    per_100k = rate_interval(1234, 5_678_901, level=0.998, per=100_000)
    low, high = byar_by_hand(1234, 0.998)
    assert per_100k.low == pytest.approx(low / 5_678_901 * 100_000, rel=1e-12)
    assert per_100k.high == pytest.approx(high / 5_678_901 * 100_000, rel=1e-12)
    assert per_100k.method == "Byar"


def test_rate_interval_tiny_population() -> None:
    # One offence among 3 people is a rate of 333 per 1,000 with a very wide interval.
    low, high = exact_by_root_finding(1, 0.95)
    interval = rate_interval(1, 3)
    assert interval.low == pytest.approx(low * 1000 / 3, rel=1e-9)
    assert interval.high == pytest.approx(high * 1000 / 3, rel=1e-9)
    assert interval.low < 1000 / 3 < interval.high
    zero = rate_interval(0, 0.5)
    assert zero.low == 0
    assert zero.high == pytest.approx(-math.log(0.025) * 2000, rel=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rate_interval(5, 0), "population must be greater than zero"),
        (lambda: rate_interval(5, -10), "population must be greater than zero"),
        (lambda: rate_interval(-1, 100), "count must be zero or more"),
        (lambda: rate_interval(float("nan"), 100), "count must be a finite number"),
        (lambda: rate_interval(5, float("nan")), "population must be a finite number"),
        (lambda: rate_interval(5, float("inf")), "population must be a finite number"),
        (lambda: rate_interval(5, 100, per=0), "per must be greater than zero"),
        (lambda: rate_interval("five", 100), "count must be a number"),  # type: ignore[arg-type]
        (lambda: count_interval(5, 95), "level must be between 0 and 1"),
        (lambda: count_interval(5, 0), "level must be between 0 and 1"),
        (lambda: count_interval(-0.1), "count must be zero or more"),
    ],
)
def test_interval_rejects_bad_input(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_intervals_accept_numpy_scalars_and_return_floats() -> None:
    interval = rate_interval(np.int64(120), np.float64(250_000.0))
    assert type(interval.low) is float
    assert type(interval.high) is float
    assert interval.low < 120 / 250 < interval.high


# ---------------------------------------------------------------------------------------------------------------
# change_test
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "published"),
    [
        # Krishnamoorthy & Thomson (2004), section 6, Example 1, as quoted in SciPy's test suite.
        (0, 100, 3, 100, 0.0884),
        (2, 100, 6, 100, 0.1749),
    ],
)
def test_reference_e_test_reproduces_the_paper(k1: int, n1: float, k2: int, n2: float, published: float) -> None:
    assert e_test_reference(k1, n1, k2, n2) == pytest.approx(published, abs=5e-5)


@pytest.mark.parametrize(
    ("count", "population", "previous_count", "previous_population"),
    [
        (85, 100_000, 60, 100_000),
        (60, 100_000, 85, 100_000),
        (120, 2_000_000, 90, 1_900_000),
        (75, 50_000, 52, 48_000),
        (200, 1_000_000, 150, 1_000_000),
        (64, 10_000, 50, 12_500),
    ],
)
def test_change_test_p_value_matches_reference(
    count: int, population: float, previous_count: int, previous_population: float
) -> None:
    result = change_test(count, population, previous_count, previous_population)
    expected = e_test_reference(count, population, previous_count, previous_population)
    assert result.p_value == pytest.approx(expected, rel=1e-7, abs=1e-12)
    assert result.method.startswith("E-test")
    assert result.rate_ratio == pytest.approx((count / population) / (previous_count / previous_population))


def test_change_test_agrees_with_scipy_where_scipy_is_consistent() -> None:
    # Equal populations: SciPy's grid statistic and observed statistic round identically.
    result = change_test(85, 100_000, 60, 100_000)
    scipy_p = stats.poisson_means_test(85, 100_000, 60, 100_000).pvalue
    assert result.p_value == pytest.approx(scipy_p, rel=1e-8)


def test_change_test_keeps_the_observed_pair() -> None:
    # SciPy 1.17 computes the observed pivot and the grid's pivots with differently rounded formulas; for these
    # figures the observed pair (120, 90) falls just short of itself and its probability (about 3.6e-4) is lost.
    # The reference sum, deciding ties exactly, includes it.
    result = change_test(120, 2_000_000, 90, 1_900_000)
    expected = e_test_reference(120, 2_000_000, 90, 1_900_000)
    assert result.p_value == pytest.approx(expected, rel=1e-7)
    observed_mass = poisson_pmf(120, 2_000_000 * 210 / 3_900_000) * poisson_pmf(90, 1_900_000 * 210 / 3_900_000)
    assert observed_mass > 3e-4
    assert result.p_value is not None
    assert result.p_value >= stats.poisson_means_test(120, 2_000_000, 90, 1_900_000).pvalue


def test_change_test_verdicts() -> None:
    rise = change_test(200, 100_000, 120, 100_000)
    assert rise.significant is True
    assert rise.verdict == "statistically significant rise"
    assert rise.rate_ratio == pytest.approx(200 / 120)
    fall = change_test(120, 100_000, 200, 100_000)
    assert fall.significant is True
    assert fall.verdict == "statistically significant fall"
    same = change_test(62, 100_000, 60, 100_000)
    assert same.significant is False
    assert same.verdict == "no statistically significant change"
    assert isinstance(same.p_value, float)
    assert same.p_value > 0.5


def test_change_test_compares_rates_not_counts() -> None:
    # The same count in twice the population is a halving of the rate.
    halved = change_test(400, 200_000, 400, 100_000)
    assert halved.rate_ratio == pytest.approx(0.5)
    assert halved.verdict == "statistically significant fall"
    # Population growth in step with the count is no change at all.
    steady = change_test(440, 110_000, 400, 100_000)
    assert steady.rate_ratio == pytest.approx(1.0)
    assert steady.verdict == "no statistically significant change"
    assert steady.p_value == pytest.approx(1.0)


def test_change_test_significance_uses_alpha() -> None:
    result = change_test(85, 100_000, 60, 100_000)
    assert result.p_value is not None
    assert 0.01 < result.p_value < 0.05
    assert change_test(85, 100_000, 60, 100_000, alpha=0.05).significant is True
    assert change_test(85, 100_000, 60, 100_000, alpha=0.01).significant is False


@pytest.mark.parametrize(
    ("count", "previous_count", "verdict"),
    [
        (37, 42, "too few offences to judge a change (42 then 37)"),
        (49, 500, "too few offences to judge a change (500 then 49)"),
        (500, 49, "too few offences to judge a change (49 then 500)"),
        (0, 0, "too few offences to judge a change (0 then 0)"),
    ],
)
def test_change_test_small_counts(count: int, previous_count: int, verdict: str) -> None:
    result = change_test(count, 100_000, previous_count, 100_000)
    assert result == ChangeTest(count, previous_count, None, None, None, verdict, result.method)
    assert "counts only" in result.method


def test_change_test_at_the_small_count_boundary_is_tested() -> None:
    result = change_test(SMALL_COUNT, 10_000, SMALL_COUNT, 10_000)
    assert result.p_value == pytest.approx(1.0)
    assert result.significant is False


def test_change_test_large_counts_are_near_normal() -> None:
    # For counts in the hundreds of thousands the E-test statistic is close to standard normal under the null.
    result = change_test(100_000, 9_000_000, 99_000, 9_000_000)
    z = 1000 / math.sqrt(199_000)
    normal_p = 2 * (1 - NormalDist().cdf(z))
    assert result.p_value == pytest.approx(normal_p, abs=1e-3)
    assert result.verdict == "statistically significant rise"
    huge = change_test(900_000, 9_000_000, 880_000, 8_900_000)
    assert huge.significant is True
    assert type(huge.count) is int


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((60.5, 1000, 60, 1000), "count must be a whole number"),
        ((60, 1000, -60, 1000), "previous_count must be zero or more"),
        ((60, 0, 60, 1000), "population must be greater than zero"),
        ((60, 1000, 60, -5), "previous_population must be greater than zero"),
        ((60, 1000, float("nan"), 1000), "previous_count must be a finite number"),
    ],
)
def test_change_test_rejects_bad_input(args: tuple[float, float, float, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        change_test(*args)  # type: ignore[arg-type]


def test_change_test_rejects_bad_alpha() -> None:
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        change_test(60, 1000, 60, 1000, alpha=5)


def test_change_test_accepts_integral_floats_and_numpy() -> None:
    result = change_test(np.int64(85), np.float64(1e5), 60.0, 100_000)  # type: ignore[arg-type]
    assert result.count == 85
    assert type(result.previous_count) is int


# ---------------------------------------------------------------------------------------------------------------
# funnel_limits and funnel_curve
# ---------------------------------------------------------------------------------------------------------------


def interpolated_quantile_by_hand(expected: float, p: float) -> float:
    """Spiegelhalter (2005) appendix A.1.1: r_p - (F(r_p) - p) / (F(r_p) - F(r_p - 1)), walking the cdf."""
    pmf = math.exp(-expected)
    cdf_below, cdf, r = 0.0, pmf, 0
    while cdf < p:
        r += 1
        pmf *= expected / r
        cdf_below, cdf = cdf, cdf + pmf
    return r - (cdf - p) / (cdf - cdf_below)


def test_funnel_limits_hand_computed() -> None:
    # Target 2.5 per 1,000 and 12,000 people: E = 30 offences expected.
    limits = funnel_limits(2.5, 12_000)
    expected = 2.5 * 12_000 / 1000
    by_hand = [interpolated_quantile_by_hand(expected, p) / 12_000 * 1000 for p in (0.025, 0.975, 0.001, 0.999)]
    assert limits == FunnelLimits(*(pytest.approx(value, rel=1e-9) for value in by_hand))
    # The quantiles themselves, via SciPy: r_0.025 = 20 and r_0.975 = 41 for Poisson(30).
    assert stats.poisson.ppf([0.025, 0.975], 30).tolist() == [20.0, 41.0]
    assert 19 / 12 < limits.lower_95 < 20 / 12
    assert 40 / 12 < limits.upper_95 < 41 / 12


def test_funnel_limits_approach_normal_for_large_populations() -> None:
    target, population = 2.5, 100_000_000
    limits = funnel_limits(target, population)
    for level, (low, high) in zip(
        LEVELS, [(limits.lower_95, limits.upper_95), (limits.lower_998, limits.upper_998)], strict=True
    ):
        half_width = NormalDist().inv_cdf(1 - (1 - level) / 2) * math.sqrt(target / (population / 1000))
        assert low == pytest.approx(target - half_width, abs=0.01 * half_width)
        assert high == pytest.approx(target + half_width, abs=0.01 * half_width)


def test_funnel_limits_with_overdispersion() -> None:
    # Normal approximation on the rate-per-1,000 scale: 4 +/- z * sqrt(4 / 50 + 0.3) for 50,000 people.
    limits = funnel_limits(4.0, 50_000, tau2=0.3)
    spread_95 = NormalDist().inv_cdf(0.975) * math.sqrt(4 / 50 + 0.3)
    spread_998 = NormalDist().inv_cdf(0.999) * math.sqrt(4 / 50 + 0.3)
    assert limits.lower_95 == pytest.approx(4 - spread_95, rel=1e-12)
    assert limits.upper_95 == pytest.approx(4 + spread_95, rel=1e-12)
    assert limits.lower_998 == pytest.approx(4 - spread_998, rel=1e-12)
    assert limits.upper_998 == pytest.approx(4 + spread_998, rel=1e-12)
    # per 100,000: the same people, rates 100 times bigger and tau2 (a squared rate) 100^2 times bigger
    scaled = funnel_limits(400.0, 50_000, per=100_000, tau2=0.3 * 100**2)
    assert scaled.upper_95 == pytest.approx(limits.upper_95 * 100, rel=1e-12)


def test_funnel_limits_never_negative_and_ordered() -> None:
    for population in [10, 300, 5_000, 80_000, 2_000_000]:
        for tau2 in [0.0, 0.5]:
            limits = funnel_limits(3.0, population, tau2=tau2)
            assert 0 <= limits.lower_998 <= limits.lower_95 <= 3.0 <= limits.upper_95 <= limits.upper_998
    assert funnel_limits(3.0, 10).lower_95 == 0.0


def test_funnel_narrows_as_population_grows() -> None:
    widths = [
        funnel_limits(3.0, population).upper_998 - funnel_limits(3.0, population).lower_998
        for population in (1_000, 10_000, 100_000, 1_000_000)
    ]
    assert widths == sorted(widths, reverse=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_rate": 0, "population": 1000}, "target_rate must be greater than zero"),
        ({"target_rate": 2, "population": 0}, "population must be greater than zero"),
        ({"target_rate": 2, "population": 1000, "tau2": -1}, "tau2 must be zero or more"),
        ({"target_rate": 2, "population": 1000, "per": -1}, "per must be greater than zero"),
    ],
)
def test_funnel_limits_reject_bad_input(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        funnel_limits(**kwargs)


def test_funnel_curve_is_a_geometric_grid_of_limits() -> None:
    curve = funnel_curve(2.0, 1_000, 1_000_000, points=4)
    assert [row["population"] for row in curve] == pytest.approx([1_000, 10_000, 100_000, 1_000_000])
    for row in curve:
        limits = funnel_limits(2.0, row["population"])
        assert row == {
            "population": row["population"],
            "lower_95": limits.lower_95,
            "upper_95": limits.upper_95,
            "lower_998": limits.lower_998,
            "upper_998": limits.upper_998,
        }
    assert len(funnel_curve(2.0, 500, 600_000)) == 60
    adjusted = funnel_curve(2.0, 500, 600_000, tau2=0.2, points=2)
    assert adjusted[-1]["upper_95"] == pytest.approx(2 + 1.959964 * math.sqrt(2 / 600 + 0.2), rel=1e-6)


def test_funnel_curve_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="points must be a whole number of at least 2"):
        funnel_curve(2.0, 1_000, 10_000, points=1)
    with pytest.raises(ValueError, match="must not be below min_population"):
        funnel_curve(2.0, 10_000, 1_000)


# ---------------------------------------------------------------------------------------------------------------
# overdispersion and funnel
# ---------------------------------------------------------------------------------------------------------------


def test_overdispersion_hand_worked() -> None:
    # Ten units of 4,000 people (n = 4 in thousands) against a target of 4 per 1,000, so s = sqrt(4/4) = 1 and
    # z = rate - 4 = count/4 - 4:
    #   counts  0   8  12  16  16  16  20  24  28  60
    #   z      -4  -2  -1   0   0   0   1   2   3  11
    # 10th percentile (type 7, h = 9 * 0.1 = 0.9): -4 + 0.9 * (-2 - -4) = -2.2
    # 90th percentile (h = 9 * 0.9 = 8.1): 3 + 0.1 * (11 - 3) = 3.8
    # winsorised z: -2.2 -2 -1 0 0 0 1 2 3 3.8; squares sum to 4.84 + 4 + 1 + 1 + 4 + 9 + 14.44 = 38.28
    # phi = 38.28 / 10 = 3.828; I * phi = 38.28 > I - 1 = 9, so adjust.
    # w = 1 / s^2 = 1 each: sum w - sum w^2 / sum w = 10 - 10/10 = 9; tau2 = (38.28 - 9) / 9 = 3.25333...
    counts = [0, 8, 12, 16, 16, 16, 20, 24, 28, 60]
    result = overdispersion(counts, [4000] * 10, 4.0)
    assert result.phi == pytest.approx(3.828, rel=1e-12)
    assert result.tau2 == pytest.approx(29.28 / 9, rel=1e-12)
    assert result.winsorised == 0.1
    assert result.adjusted is True
    assert type(result.phi) is float


def test_overdispersion_unequal_populations_step_by_step() -> None:
    counts = [30, 95, 12, 210, 64, 7, 150, 41, 88, 120, 19, 300]
    populations = [9_000, 31_000, 5_500, 52_000, 20_000, 4_000, 61_000, 10_000, 24_000, 47_000, 8_000, 70_000]
    target = sum(counts) / sum(populations) * 1000
    units = [p / 1000 for p in populations]
    s = [math.sqrt(target / n) for n in units]
    z = [(c / n - target) / si for c, n, si in zip(counts, units, s, strict=True)]
    ordered = sorted(z)

    def type7(q: float) -> float:
        h = (len(ordered) - 1) * q
        below = math.floor(h)
        return ordered[below] + (h - below) * (ordered[min(below + 1, len(ordered) - 1)] - ordered[below])

    low, high = type7(0.1), type7(0.9)
    z_w = [min(max(value, low), high) for value in z]
    phi = sum(value * value for value in z_w) / len(z)
    w = [1 / si**2 for si in s]
    tau2 = (len(z) * phi - (len(z) - 1)) / (sum(w) - sum(wi * wi for wi in w) / sum(w))
    result = overdispersion(counts, populations, target)
    assert result.phi == pytest.approx(phi, rel=1e-12)
    assert result.tau2 == pytest.approx(max(tau2, 0.0), rel=1e-12)
    assert result.adjusted is (len(z) * phi > len(z) - 1)


def test_no_overdispersion_gives_zero_tau2() -> None:
    # Every unit exactly on target: all z are 0, phi = 0.
    populations = [10_000, 25_000, 40_000, 80_000]
    counts = [3 * p / 1000 for p in populations]
    result = overdispersion(counts, populations, 3.0)
    assert result.phi == 0.0
    assert result.tau2 == 0.0
    assert result.adjusted is False
    # Less scatter than Poisson chance: n = 1, target 4, s = 2, z = (count - 4) / 2 = -0.5, 0.5, -0.25, 0.25.
    # Sorted -0.5 -0.25 0.25 0.5; 10th percentile (h = 0.3) -0.5 + 0.3 * 0.25 = -0.425, 90th (h = 2.7)
    # 0.25 + 0.7 * 0.25 = 0.425; winsorised squares 2 * 0.425^2 + 2 * 0.25^2 = 0.48625; phi = 0.1215625 and
    # I * phi = 0.48625 <= I - 1 = 3, so no adjustment.
    result = overdispersion([3, 5, 3.5, 4.5], [1000] * 4, 4.0)
    assert result.phi == pytest.approx(0.1215625, rel=1e-12)
    assert result.tau2 == 0.0
    assert result.adjusted is False


def test_overdispersion_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        overdispersion([1, 2, 3], [10, 20], 1.0)
    with pytest.raises(ValueError, match="at least two units"):
        overdispersion([1], [10], 1.0)
    with pytest.raises(ValueError, match="winsorise must be"):
        overdispersion([1, 2], [10, 20], 1.0, winsorise=0.5)
    with pytest.raises(ValueError, match="populations must all be greater than zero"):
        overdispersion([1, 2], [10, 0], 1.0)
    with pytest.raises(ValueError, match="counts must be zero or more"):
        overdispersion([1, -2], [10, 20], 1.0)


def test_funnel_without_adjustment_flags_outliers() -> None:
    counts = [100, 95, 105, 300, 20, 98]
    populations = [50_000] * 6
    target, spread, points = funnel(counts, populations, overdispersion_adjust=False)
    assert target == pytest.approx(718 / 300_000 * 1000)
    assert spread is None
    assert [point.position for point in points] == ["within", "within", "within", "above", "below", "within"]
    for point in points:
        limits = funnel_limits(target, 50_000)
        assert (point.lower_95, point.upper_95, point.lower_998, point.upper_998) == (
            limits.lower_95,
            limits.upper_95,
            limits.lower_998,
            limits.upper_998,
        )


def test_funnel_with_adjustment_widens_limits() -> None:
    counts = [100, 95, 105, 300, 20, 98, 160, 60, 130, 75]
    populations = [50_000, 48_000, 52_000, 51_000, 49_000, 50_000, 55_000, 45_000, 50_000, 50_000]
    target, spread, points = funnel(counts, populations)
    assert spread is not None
    assert spread == overdispersion(counts, populations, target)
    assert spread.adjusted
    unadjusted = funnel(counts, populations, overdispersion_adjust=False)[2]
    for point, plain, population in zip(points, unadjusted, populations, strict=True):
        limits = funnel_limits(target, population, tau2=spread.tau2)
        assert point.upper_998 == limits.upper_998
        assert point.upper_998 > plain.upper_998
    assert sum(point.position != "within" for point in points) < sum(p.position != "within" for p in unadjusted)


def test_funnel_accepts_numpy_and_rejects_all_zero() -> None:
    target, _, points = funnel(np.array([5, 10]), np.array([1000.0, 2000.0]))
    assert type(target) is float
    assert len(points) == 2
    with pytest.raises(ValueError, match="at least one offence"):
        funnel([0, 0], [100, 100])
    with pytest.raises(ValueError, match="must not be empty"):
        funnel([], [])


# ---------------------------------------------------------------------------------------------------------------
# rank_ranges
# ---------------------------------------------------------------------------------------------------------------


def observed_min_ranks(counts: list[float], populations: list[float]) -> list[int]:
    rates = [c / p for c, p in zip(counts, populations, strict=True)]
    return [1 + sum(other < rate for other in rates) for rate in rates]


FORCE_COUNTS = [int(c) for c in np.random.default_rng(7).poisson(2_000, 42)]
FORCE_POPULATIONS = [float(p) for p in np.random.default_rng(8).uniform(500_000, 3_000_000, 42)]


def test_rank_ranges_deterministic_for_a_seed() -> None:
    first = rank_ranges(FORCE_COUNTS, FORCE_POPULATIONS)
    assert first == rank_ranges(FORCE_COUNTS, FORCE_POPULATIONS)
    assert first == rank_ranges(np.array(FORCE_COUNTS), np.array(FORCE_POPULATIONS))
    assert all(type(r.low) is int and type(r.high) is int for r in first)


def test_rank_ranges_contain_the_observed_rank() -> None:
    ranges = rank_ranges(FORCE_COUNTS, FORCE_POPULATIONS)
    for observed, rank_range in zip(observed_min_ranks(FORCE_COUNTS, FORCE_POPULATIONS), ranges, strict=True):
        assert rank_range.low <= observed <= rank_range.high


def test_clearly_separated_units_have_fixed_ranks() -> None:
    counts = [100, 5_000, 5_100, 4_900, 5_050, 50_000]
    populations = [1_000_000] * 6
    ranges = rank_ranges(counts, populations)
    assert ranges[0] == RankRange(1, 1)
    assert ranges[-1] == RankRange(6, 6)
    for middle in ranges[1:-1]:
        assert 2 <= middle.low <= middle.high <= 5


def total_width(ranges: list[RankRange]) -> int:
    return sum(r.high - r.low for r in ranges)


def test_small_counts_give_wider_ranges() -> None:
    rates = np.linspace(1.0, 2.0, 20)
    big = rank_ranges((rates * 1000).round(), [1_000_000] * 20)
    small = rank_ranges((rates * 10).round(), [10_000] * 20)
    assert total_width(small) > 2 * total_width(big)


def test_ties_share_the_lowest_rank_and_the_same_range() -> None:
    ranges = rank_ranges([50, 50, 80, 10], [1000, 1000, 1000, 1000])
    assert ranges[0] == ranges[1]
    assert ranges[0].low <= 2 <= ranges[0].high


def test_zero_count_in_a_small_population_is_not_certainly_lowest() -> None:
    # A force with no offences among 10,000 people next to forces with rates near 0.05 per 1,000: a single
    # offence would put it at the top, so its plausible ranks must run well above 1.
    counts = [0, 50, 55, 60, 45, 52]
    populations = [10_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000]
    ranges = rank_ranges(counts, populations)
    assert ranges[0].low == 1
    assert ranges[0].high >= 5


def test_rank_ranges_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="simulations must be"):
        rank_ranges([1, 2], [10, 10], simulations=0)
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        rank_ranges([1, 2], [10, 10], level=1.5)
    with pytest.raises(ValueError, match="same length"):
        rank_ranges([1, 2, 3], [10, 10])
    with pytest.raises(ValueError, match="finite"):
        rank_ranges([1, float("nan")], [10, 10])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5_000), st.floats(100, 5_000_000, allow_nan=False, allow_infinity=False)),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.8, 0.95, 0.99]),
)
def test_rank_ranges_properties(units: list[tuple[int, float]], seed: int, level: float) -> None:
    counts = [float(c) for c, _ in units]
    populations = [p for _, p in units]
    ranges = rank_ranges(counts, populations, simulations=200, level=level, seed=seed)
    assert len(ranges) == len(units)
    for observed, rank_range in zip(observed_min_ranks(counts, populations), ranges, strict=True):
        assert 1 <= rank_range.low <= rank_range.high <= len(units)
        assert rank_range.low <= observed <= rank_range.high
