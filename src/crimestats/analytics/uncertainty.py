"""How sure can we be? Intervals, change tests, funnel plots and rank ranges for recorded crime counts.

Police recorded crime figures are complete counts, not samples, but a count of offences is still the outcome of
a chance process: a force with the same underlying risk would not record exactly the same number next year.
Treating each count as Poisson is the usual way of showing that, and is what public-health statistics in
England do for counts of events. Everything here works on counts and populations; rates are per ``per``
people (1,000 by default, as ONS publishes them).

Methods
-------
- Confidence intervals for a count or rate: the exact Poisson interval from its link with the chi-square
  distribution (Armitage P, Berry G, Matthews JNS. *Statistical methods in medical research*, 4th edn, 2002)
  for small counts and Byar's approximation (Breslow NE, Day NE. *Statistical methods in cancer research*,
  vol. II, IARC 1987) from :data:`EXACT_BELOW` upwards, as in the OHID / PHE guidance: Fingertips
  *Public Health Technical Guidance*, "Rates" (exact method for counts under 10, Byar's method for 10 or
  more) and PHE *Technical Guide: Confidence Intervals* (Public Health Data Science, 25 May 2018), which says
  Byar's 95% limits are within 0.2% of the exact ones from 10 upwards.
- Change between two years: the E-test of Krishnamoorthy K, Thomson J (2004) "A more powerful test for
  comparing two Poisson means", *J Stat Plan Inference* 119:23-35: the same sum (their eq. 3.5) as
  :func:`scipy.stats.poisson_means_test`, evaluated one row at a time. SciPy's dense grid needs gigabytes
  for force-level counts in the hundreds of thousands, and it computes the observed statistic and the grid's
  statistics with differently rounded formulas, so the observed pair itself can drop out of its own p-value
  (SciPy 1.17: ``poisson_means_test(120, 2e6, 90, 1.9e6)`` gives 0.08802 instead of 0.08837).
- Funnel plots: Spiegelhalter DJ (2005) "Funnel plots for comparing institutional performance", *Stat Med*
  24:1185-1202: exact Poisson control limits with the interpolation of its appendix, and, when the units vary
  more than Poisson chance allows, an additive random-effects (over-dispersion) allowance estimated from
  winsorised z-scores (ibid. section 5; also Spiegelhalter DJ (2005) "Handling over-dispersion of performance
  indicators", *Qual Saf Health Care* 14:347-351).
- Rank ranges: parametric (Poisson) simulation of the counts, ranking each simulated set, in the spirit of
  Goldstein H, Spiegelhalter DJ (1996) "League tables and their limitations", *J R Stat Soc A* 159:385-443.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# SciPy is imported inside the functions that use it: answering a question from the materialised statistics
# never needs it, and importing it costs a third of a second.

__all__ = [
    "EXACT_BELOW",
    "LEVELS",
    "SMALL_COUNT",
    "ChangeTest",
    "FunnelLimits",
    "FunnelPoint",
    "Interval",
    "Overdispersion",
    "RankRange",
    "change_test",
    "change_tests",
    "count_interval",
    "count_limits",
    "funnel",
    "funnel_curve",
    "funnel_limits",
    "overdispersion",
    "rank_ranges",
    "rate_interval",
    "rate_limits",
]

#: The confidence levels used for intervals and funnel limits: 95% and 99.8% (roughly 2 and 3 standard errors).
LEVELS = (0.95, 0.998)

#: Counts below this get the exact Poisson interval; counts at or above it get Byar's approximation.
#: Source: OHID Fingertips *Public Health Technical Guidance*, "Rates" ("Counts of 10 or greater" use Byar's
#: method; "Counts of less than 10" the chi-square exact method), the PHE *Technical Guide: Confidence
#: Intervals* (25 May 2018) and PHE's ``PHEindicatormethods::phe_rate`` ("For numerators >= 10 Byar's
#: method is applied"). The release notes of PHE's Excel tool for common public health statistics (February
#: 2018) record the change to 10: "rates and ISRs use exact CI method for numerators <10 and Byar's CI method
#: for numerators >=10". A switch at 389 is found only in older Excel formulas (quoted on Cross Validated,
#: question 281673), not in current guidance. Byar's 95% limits are within 0.2% of the exact ones from 10 up.
EXACT_BELOW: int = 10

#: Below this count in either year, a change is reported as the two counts only: no rate ratio, no test and
#: no direction. ONS does not print a percentage change on a base below 50.
SMALL_COUNT: int = 50

_EXACT = "exact Poisson"
_BYAR = "Byar"
_E_TEST = "E-test (Krishnamoorthy & Thomson 2004)"
_COUNTS_ONLY = f"counts only (fewer than {SMALL_COUNT} offences in a year)"
# The E-test's outer sum runs between these quantiles of the first Poisson distribution, as in SciPy.
_E_TEST_LOW_TAIL = 1e-10
_E_TEST_HIGH_TAIL = 1 - 1e-16
# A rank range is drawn from this mean when a unit's count is zero (see rank_ranges).
_ZERO_COUNT_MEAN = 0.5
#: Running sums of Poisson masses are used when the points asked for span at most this many times their number.
_RUNNING_SUM_SPAN = 20

FloatArray = npt.NDArray[np.float64]


# ---------------------------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------------------------


def _finite(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return number


def _count(value: Any, name: str = "count") -> float:
    number = _finite(value, name)
    if number < 0:
        raise ValueError(f"{name} must be zero or more, not {value!r}")
    return number


def _whole_count(value: Any, name: str) -> int:
    number = _count(value, name)
    if number != int(number):
        raise ValueError(f"{name} must be a whole number of offences, not {value!r}")
    return int(number)


def _positive(value: Any, name: str) -> float:
    number = _finite(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be greater than zero, not {value!r}")
    return number


def _level(level: Any) -> float:
    number = _finite(level, "level")
    if not 0 < number < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), not {level!r}")
    return number


def _vector(values: Sequence[float] | npt.ArrayLike, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list or array of numbers") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, not of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers")
    return array


def _counts_and_populations(counts: Any, populations: Any) -> tuple[FloatArray, FloatArray]:
    count_array = _vector(counts, "counts")
    population_array = _vector(populations, "populations")
    if count_array.shape != population_array.shape:
        raise ValueError(
            f"counts and populations must be the same length ({count_array.size} and {population_array.size})"
        )
    if np.any(count_array < 0):
        raise ValueError("counts must be zero or more")
    if np.any(population_array <= 0):
        raise ValueError("populations must all be greater than zero")
    return count_array, population_array


#: The two-sided standard normal quantiles of the :data:`LEVELS`, as :func:`_z` computes them with SciPy (a test
#: checks that they are the same floats), so that Byar's intervals of a trend need no SciPy.
_Z_OF_LEVEL = {0.95: 1.959963984540054, 0.998: 3.090232306167813}


def _z(level: float) -> float:
    """The two-sided standard normal quantile for a confidence level: 1.95996... for 0.95."""
    if level in _Z_OF_LEVEL:
        return _Z_OF_LEVEL[level]
    from scipy.special import ndtri

    return float(ndtri(1 - (1 - level) / 2))


# ---------------------------------------------------------------------------------------------------------------
# Intervals for a count or a rate
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A confidence interval for a count or a rate, with the method that produced it."""

    low: float
    high: float
    level: float
    method: str


def _exact_count_limits(counts: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Exact (Garwood) Poisson limits: half the chi-square quantiles on 2k and 2k + 2 degrees of freedom, which
    are the inverse regularised incomplete gamma function at k and k + 1 (as :func:`scipy.stats.chi2.ppf`
    computes them)."""
    from scipy.special import gammaincinv

    tail = (1 - level) / 2
    low = np.where(counts == 0, 0.0, gammaincinv(np.maximum(counts, 1e-300), tail))
    return low, gammaincinv(counts + 1, 1 - tail)


def _byar_count_limits(counts: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Byar's approximation (Breslow & Day 1987): cube-root normal approximation to the exact limits."""
    z = _z(level)
    k = np.maximum(counts, EXACT_BELOW)  # only used from EXACT_BELOW upwards; avoids dividing by zero
    low = k * (1 - 1 / (9 * k) - z / (3 * np.sqrt(k))) ** 3
    upper = k + 1
    high = upper * (1 - 1 / (9 * upper) + z / (3 * np.sqrt(upper))) ** 3
    return np.maximum(low, 0.0), high


def count_limits(counts: Sequence[float] | npt.ArrayLike, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """The limits of :func:`count_interval` for many counts at once: arrays of lower and upper limits."""
    k = _vector(counts, "counts")
    if np.any(k < 0):
        raise ValueError("counts must be zero or more")
    level = _level(level)
    exact = k < EXACT_BELOW
    byar_low, byar_high = _byar_count_limits(k, level)
    if not exact.any():
        return byar_low, byar_high
    exact_low, exact_high = _exact_count_limits(np.where(exact, k, 0.0), level)
    return np.where(exact, exact_low, byar_low), np.where(exact, exact_high, byar_high)


def count_interval(count: float, level: float = 0.95) -> Interval:
    """Confidence interval for a Poisson count.

    Counts below :data:`EXACT_BELOW` get the exact interval, ``low = chi2.ppf(a/2, 2k) / 2`` (0 when k is 0)
    and ``high = chi2.ppf(1 - a/2, 2k + 2) / 2`` with ``a = 1 - level`` (Armitage & Berry 2002); larger counts
    get Byar's approximation, ``k (1 - 1/(9k) - z/(3 sqrt k))^3`` and ``(k+1) (1 - 1/(9(k+1)) + z/(3 sqrt(k+1)))^3``
    (Breslow & Day 1987), following the OHID Fingertips technical guidance on rates.
    """
    k = _count(count)
    level = _level(level)
    low, high = count_limits([k], level)
    return Interval(float(low[0]), float(high[0]), level, _EXACT if k < EXACT_BELOW else _BYAR)


def rate_limits(
    counts: Sequence[float] | npt.ArrayLike,
    populations: Sequence[float] | npt.ArrayLike,
    level: float = 0.95,
    per: float = 1000,
) -> tuple[FloatArray, FloatArray]:
    """The limits of :func:`rate_interval` for many rates at once: arrays of lower and upper limits."""
    k, population = _counts_and_populations(counts, populations)
    scale = _positive(per, "per") / population
    low, high = count_limits(k, level)
    return low * scale, high * scale


def rate_interval(count: float, population: float, level: float = 0.95, per: float = 1000) -> Interval:
    """Confidence interval for a rate per ``per`` people: the :func:`count_interval` scaled by ``per / population``.

    The population is treated as fixed and the count as Poisson (OHID Fingertips technical guidance, "Rates").
    """
    k = _count(count)
    population = _positive(population, "population")
    per = _positive(per, "per")
    interval = count_interval(k, level)
    scale = per / population
    return Interval(interval.low * scale, interval.high * scale, interval.level, interval.method)


# ---------------------------------------------------------------------------------------------------------------
# Change between two years
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeTest:
    """Whether a count (or rate) changed between two years by more than Poisson chance would explain.

    ``rate_ratio`` is this year's rate over last year's (the count ratio when populations are equal);
    ``rate_ratio``, ``p_value`` and ``significant`` are ``None`` when either count is below
    :data:`SMALL_COUNT`. ``verdict`` says the result in plain words.
    """

    count: int
    previous_count: int
    rate_ratio: float | None
    p_value: float | None
    significant: bool | None
    verdict: str
    method: str


def _e_test_p_values(k1: FloatArray, n1: FloatArray, k2: FloatArray, n2: FloatArray) -> FloatArray:
    """Two-sided E-test p-values (Krishnamoorthy & Thomson 2004, eq. 3.5) for many pairs of counts.

    Under the null both counts are Poisson with the pooled rate: ``X1 ~ Poisson(n1 * r)``, ``X2 ~ Poisson(n2 * r)``
    with ``r = (k1 + k2) / (n1 + n2)``. The p-value is the probability that the pivot
    ``T = (X1/n1 - X2/n2) / sqrt(X1/n1^2 + X2/n2^2)`` is at least as far from zero as the observed one. For
    fixed x1, T decreases as x2 grows, so ``|T| >= |t_obs|`` holds for x2 up to the smaller root of
    ``(x1/n1 - x2/n2)^2 = t_obs^2 (x1/n1^2 + x2/n2^2)`` and from the larger root upwards; each row of the sum is
    then a Poisson cdf plus a survival function (:func:`_e_test_sum`). x1 runs between the 1e-10 and 1 - 1e-16
    quantiles of its distribution, as in :func:`scipy.stats.poisson_means_test`.
    """

    pairs = list(zip(k1.tolist(), n1.tolist(), k2.tolist(), n2.tolist(), strict=True))
    found = {pair: p for pair in dict.fromkeys(pairs) if (p := _E_TESTS.get(pair)) is not None}
    new = [pair for pair in dict.fromkeys(pairs) if pair not in found]
    summed = [pair for pair in new if _e_test_sum_needed(*pair)]
    if summed:
        # The range of x1 of every pair at once: the quantiles cost tens of microseconds a call, one at a time.
        means = np.array([n1 * ((k1 + k2) / (n1 + n2)) for k1, n1, k2, n2 in summed])  # as _e_test_p_value
        lows = _poisson_ppf(_E_TEST_LOW_TAIL, means).tolist()
        highs = _poisson_ppf(_E_TEST_HIGH_TAIL, means).tolist()
        for pair, low, high in zip(summed, lows, highs, strict=True):
            found[pair] = _e_test_p_value(*pair, int(low), int(high))
    found |= {pair: 1.0 for pair in new if pair not in found}
    if len(_E_TESTS) + len(new) > _E_TESTS_KEPT:
        _E_TESTS.clear()
    _E_TESTS.update({pair: found[pair] for pair in new})  # another thread's clear() loses nothing asked here
    return np.array([found[pair] for pair in pairs], dtype=np.float64)


#: E-test p-values kept for the process by their four numbers, (k1, n1, k2, n2) → p: a process computing
#: several option sets (a web server, a test session) sums each pair once. At most :data:`_E_TESTS_KEPT`.
_E_TESTS: dict[tuple[float, float, float, float], float] = {}
_E_TESTS_KEPT = 1 << 17


def forget_kept() -> None:
    """Forget the rank ranges, funnels and E-tests this process keeps (a benchmark timing the computation
    itself calls it; the results never go stale, as they depend on their arguments only)."""
    _E_TESTS.clear()
    for kept in (_rank_ranges, _funnel):
        kept.cache_clear()


def _e_test_sum_needed(k1: float, n1: float, k2: float, n2: float) -> bool:
    """Whether the pair's p-value needs the sum: it is 1 when the pooled rate is zero or the rates are equal."""
    return (k1 + k2) / (n1 + n2) > 0 and _t_observed(k1, n1, k2, n2) > 0


def _t_observed(k1: float, n1: float, k2: float, n2: float) -> float:
    return abs(k1 / n1 - k2 / n2) / math.sqrt(k1 / n1**2 + k2 / n2**2)


def _e_test_p_value(k1: float, n1: float, k2: float, n2: float, low: int, high: int) -> float:
    """The E-test p-value of one pair (see :func:`_e_test_p_values`), x1 running from ``low`` to ``high``."""
    pooled = (k1 + k2) / (n1 + n2)
    mean1, mean2 = n1 * pooled, n2 * pooled
    x1 = np.arange(low, high + 1, dtype=np.float64)
    return _e_test_sum(x1, n1, n2, _t_observed(k1, n1, k2, n2), mean1, mean2)


def _e_test_sum(x1: FloatArray, n1: float, n2: float, t_obs: float, mean1: float, mean2: float) -> float:
    """The E-test double sum over the x1 values given (see :func:`_e_test_p_values`)."""
    a = x1 / n1
    c = t_obs**2 / n2
    root = np.sqrt(4 * a * c + c**2 + 4 * t_obs**2 * a / n1)
    # T >= t_obs for x2 <= smaller root; T <= -t_obs for x2 >= larger root (both as counts). The slack keeps
    # pairs lying exactly on the boundary, such as the observed pair itself, despite rounding.
    smaller = n2 * (2 * a + c - root) / 2
    larger = n2 * (2 * a + c + root) / 2
    at_most = np.floor(smaller + 1e-9 * np.maximum(1.0, np.abs(smaller)))
    at_most[x1 == 0] = -1  # T(0, 0) is undefined and T(0, x2) < 0 otherwise: no x2 gives T >= t_obs.
    at_least = np.ceil(larger - 1e-9 * np.maximum(1.0, larger))
    inner = _poisson_cdfs(np.maximum(at_most, -1), mean2) + _poisson_sfs(at_least - 1, mean2)
    return float(min(1.0, np.sum(_poisson_pmf_from(int(x1[0]), x1.size, mean1) * inner)))


def _poisson_ppf(q: float | FloatArray, means: FloatArray) -> FloatArray:
    """The smallest k with ``P(X <= k) >= q``, X ~ Poisson(mean), for 0 < q < 1: :func:`scipy.stats.poisson.ppf`'s
    formula (the inverse of the incomplete gamma, then one step down where that still reaches q), without
    importing scipy.stats."""
    from scipy import special

    above: FloatArray = np.ceil(special.pdtrik(q, means))
    below = np.maximum(above - 1, 0)
    quantiles: FloatArray = np.where(special.pdtr(below, means) >= q, below, above)
    return quantiles


def _poisson_pmf(ks: FloatArray, mean: float) -> FloatArray:
    """``P(X = k)``, X ~ Poisson(mean): :func:`scipy.stats.poisson.pmf`'s formula, without its argument checks.

    ``exp(xlogy(k, mean) - gammaln(k + 1) - mean)``, with ``gammaln(k + 1)`` looked up in
    :func:`_log_factorials` and ``xlogy(k, mean)`` as SciPy evaluates it (``k * log(mean)``, 0 at k = 0): the
    same values, bit for bit, at a quarter of the cost (an E-test needs tens of thousands of masses).
    """
    from scipy import special

    if mean <= 0 or ks.size == 0 or ks.min() < 0:
        general: FloatArray = np.exp(special.xlogy(ks, mean) - special.gammaln(ks + 1) - mean)
        return general
    log_mean = float(special.xlogy(1.0, mean))
    exponents = np.where(ks == 0, 0.0, ks * log_mean) - _log_factorials(int(ks.max()))[ks.astype(np.int64)] - mean
    masses: FloatArray = np.exp(exponents)
    return masses


def _poisson_pmf_from(first: int, size: int, mean: float) -> FloatArray:
    """:func:`_poisson_pmf` of the ``size`` whole numbers from ``first`` (>= 0) up, bit for bit: the running
    sums and the E-test's x1 are such ranges, so the log-factorials are a slice rather than a lookup of each."""
    if mean <= 0 or size == 0 or first < 0:
        return _poisson_pmf(np.arange(first, first + size, dtype=np.float64), mean)
    from scipy import special

    ks = np.arange(first, first + size, dtype=np.float64)
    log_factorials = _log_factorials(first + size - 1)[first : first + size]
    masses: FloatArray = np.exp(ks * float(special.xlogy(1.0, mean)) - log_factorials - mean)
    return masses


#: ``gammaln(k + 1)`` for k = 0, 1, …, extended as larger k are asked for (see :func:`_log_factorials`).
_LOG_FACTORIALS: list[FloatArray] = [np.zeros(0)]


def _log_factorials(top: int) -> FloatArray:
    """``log(k!)`` for k = 0 … at least ``top``, as :func:`scipy.special.gammaln` gives ``gammaln(k + 1)``,
    kept for the session (a million values are 8 MB)."""
    from scipy import special

    known = _LOG_FACTORIALS[0]
    if known.size <= top:
        size = max(top + 1, 2 * known.size)
        known = np.concatenate([known, special.gammaln(np.arange(known.size, size, dtype=np.float64) + 1)])
        _LOG_FACTORIALS[0] = known
    return known


def _poisson_cdfs(ks: FloatArray, mean: float) -> FloatArray:
    """``P(X <= k)`` for each whole k (>= -1) of an array, X ~ Poisson(mean).

    The same values as :func:`scipy.stats.poisson.cdf`, at a fraction of the cost for the thousands of points
    an E-test needs: one incomplete-gamma evaluation at the smallest k, then running sums of the probability
    mass up to the largest (every term is positive, so the sums lose no precision in either tail). A span far
    wider than the points asked for falls back to SciPy.
    """
    from scipy import special

    low, high = ks.min(), ks.max()
    if high - low > _RUNNING_SUM_SPAN * ks.size:
        cdfs: FloatArray = np.where(ks < 0, 0.0, special.pdtr(np.maximum(ks, 0), mean))
        return cdfs
    start = float(special.pdtr(low, mean)) if low >= 0 else 0.0
    masses = _poisson_pmf_from(int(low) + 1, int(high - low), mean)
    running: FloatArray = np.minimum(np.append(start, start + np.cumsum(masses)), 1.0)
    picked: FloatArray = running[(ks - low).astype(np.int64)]
    return picked


def _poisson_sfs(ks: FloatArray, mean: float) -> FloatArray:
    """``P(X > k)`` for each whole k of an array, X ~ Poisson(mean): as :func:`_poisson_cdfs`, summed from the
    largest k downwards."""
    from scipy import special

    low, high = ks.min(), ks.max()
    if high - low > _RUNNING_SUM_SPAN * ks.size:
        sfs: FloatArray = np.where(ks < 0, 1.0, special.pdtrc(np.maximum(ks, 0), mean))
        return sfs
    top = float(special.pdtrc(high, mean)) if high >= 0 else 1.0
    masses = _poisson_pmf_from(int(low) + 1, int(high - low), mean)
    running: FloatArray = np.minimum(np.append(top + np.cumsum(masses[::-1])[::-1], top), 1.0)
    picked: FloatArray = running[(ks - low).astype(np.int64)]
    return picked


def change_test(
    count: int, population: float, previous_count: int, previous_population: float, alpha: float = 0.05
) -> ChangeTest:
    """Test whether the rate changed from the previous year: the two-sided Poisson E-test.

    Krishnamoorthy K, Thomson J (2004) "A more powerful test for comparing two Poisson means", J Stat Plan
    Inference 119:23-35, with the populations as exposures (so populations may differ between the years; pass
    the same population twice to compare counts). The p-value is the sum computed by
    :func:`scipy.stats.poisson_means_test`, evaluated one x1 at a time so that it works for any size of count.

    When either count is below :data:`SMALL_COUNT` no test is made and the verdict gives the counts in time
    order ("too few offences to judge a change (42 then 37)": 42 last year, 37 this year), consistent with ONS
    not printing a percentage change on a base under 50.
    """
    return change_tests([count], [population], [previous_count], [previous_population], alpha)[0]


def change_tests(
    counts: Sequence[int],
    populations: Sequence[float],
    previous_counts: Sequence[int],
    previous_populations: Sequence[float],
    alpha: float = 0.05,
) -> list[ChangeTest]:
    """:func:`change_test` for many pairs at once (the E-test sums are evaluated together: fast for thousands)."""
    k1 = [_whole_count(count, "count") for count in counts]
    k2 = [_whole_count(previous, "previous_count") for previous in previous_counts]
    n1 = [_positive(population, "population") for population in populations]
    n2 = [_positive(previous, "previous_population") for previous in previous_populations]
    alpha = _finite(alpha, "alpha")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (e.g. 0.05), not {alpha!r}")
    tested = [i for i in range(len(k1)) if k1[i] >= SMALL_COUNT and k2[i] >= SMALL_COUNT]
    p_values = _e_test_p_values(*(np.array([v[i] for i in tested], dtype=np.float64) for v in (k1, n1, k2, n2)))
    found = dict(zip(tested, p_values.tolist(), strict=True))
    return [_change_verdict(k1[i], n1[i], k2[i], n2[i], found.get(i), alpha) for i in range(len(k1))]


def _change_verdict(k1: int, n1: float, k2: int, n2: float, p_value: float | None, alpha: float) -> ChangeTest:
    if p_value is None:
        verdict = f"too few offences to judge a change ({k2} then {k1})"
        return ChangeTest(k1, k2, None, None, None, verdict, _COUNTS_ONLY)
    rate_ratio = (k1 / n1) / (k2 / n2)
    significant = p_value < alpha
    if not significant:
        verdict = "no statistically significant change"
    elif rate_ratio > 1:
        verdict = "statistically significant rise"
    else:
        verdict = "statistically significant fall"
    return ChangeTest(k1, k2, float(rate_ratio), p_value, significant, verdict, _E_TEST)


# ---------------------------------------------------------------------------------------------------------------
# Funnel plots
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelLimits:
    """95% and 99.8% control limits for a rate per ``per`` people at one population size."""

    lower_95: float
    upper_95: float
    lower_998: float
    upper_998: float


def _exact_poisson_limits(expected: FloatArray, p: float) -> FloatArray:
    """The interpolated p-quantile of Poisson(expected), as a count (Spiegelhalter 2005, appendix A.1.1), for
    each expected count, with the functions :mod:`scipy.stats`' Poisson quantile and distribution use, called
    directly on all of them at once (for the thousands of limits a materialisation needs).

    ``r_p`` is the smallest r with ``F(r) >= p``; ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))``; the limit
    is ``r_p - alpha``, which makes the limit move smoothly as the population grows instead of in steps.
    """
    from scipy import special

    r_p = _poisson_ppf(p, expected)
    f_r = special.pdtr(r_p, expected)
    f_below = np.where(r_p >= 1, special.pdtr(np.maximum(r_p - 1, 0.0), expected), 0.0)
    limits: FloatArray = np.maximum(r_p - (f_r - p) / (f_r - f_below), 0.0)
    return limits


def funnel_limits(target_rate: float, population: float, per: float = 1000, tau2: float = 0.0) -> FunnelLimits:
    """Funnel-plot control limits for a rate per ``per`` at one population (Spiegelhalter 2005, Stat Med 24:1185).

    With ``tau2 == 0``: exact Poisson limits. The expected count is ``E = target_rate * population / per``; each
    limit is the interpolated Poisson quantile of appendix A.1.1, ``r_p - alpha`` with ``r_p`` the smallest r
    with ``F(r) >= p`` and ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))``, converted back to a rate as
    ``(r_p - alpha) / population * per``, for p = 0.025, 0.975, 0.001 and 0.999.

    With ``tau2 > 0`` (additive random effects for over-dispersion, ibid. section 5): the normal approximation
    ``target_rate +/- z * sqrt(target_rate / n + tau2)``, where ``n = population / per`` is the population in
    units of ``per`` people, so ``target_rate / n`` is the Poisson variance of the rate per ``per`` and
    ``tau2`` (from :func:`overdispersion`) is a variance in the same squared rate-per-``per`` units.

    Lower limits are never below zero.
    """
    target_rate, per, tau2 = _funnel_arguments(target_rate, per, tau2)
    population = _positive(population, "population")
    return _funnel_limits_at(target_rate, np.array([population], dtype=np.float64), per, tau2)[0]


def _funnel_arguments(target_rate: Any, per: Any, tau2: Any) -> tuple[float, float, float]:
    """The target rate, ``per`` and ``tau2`` of a funnel, checked."""
    target_rate, per, tau2 = _positive(target_rate, "target_rate"), _positive(per, "per"), _finite(tau2, "tau2")
    if tau2 < 0:
        raise ValueError(f"tau2 must be zero or more, not {tau2!r}")
    return target_rate, per, tau2


def _funnel_limits_at(target_rate: float, populations: FloatArray, per: float, tau2: float) -> list[FunnelLimits]:
    """:func:`funnel_limits` at each of many populations (checked already), worked out together."""
    limits: list[FloatArray] = []
    for level in LEVELS:
        tail = (1 - level) / 2
        if tau2 == 0:
            expected = target_rate * populations / per
            low = _exact_poisson_limits(expected, tail) / populations * per
            high = _exact_poisson_limits(expected, 1 - tail) / populations * per
        else:
            spread = _z(level) * np.sqrt(target_rate / (populations / per) + tau2)
            low, high = np.maximum(target_rate - spread, 0.0), target_rate + spread
        limits.extend((low, high))
    return [FunnelLimits(*values) for values in zip(*(array.tolist() for array in limits), strict=True)]


@dataclass(frozen=True)
class Overdispersion:
    """How much more the units vary than Poisson chance allows (Spiegelhalter 2005).

    ``phi`` is the over-dispersion ratio (1 means Poisson variation only); ``tau2`` the between-unit variance
    of the rate per ``per`` (0 when not adjusted); ``winsorised`` the fraction of z-scores pulled in at each
    end before estimating; ``adjusted`` whether ``tau2`` is positive (``I * phi > I - 1``).
    """

    phi: float
    tau2: float
    winsorised: float
    adjusted: bool


def overdispersion(
    counts: Sequence[float] | npt.ArrayLike,
    populations: Sequence[float] | npt.ArrayLike,
    target_rate: float,
    per: float = 1000,
    winsorise: float = 0.1,
) -> Overdispersion:
    """Estimate over-dispersion and the additive random-effects variance ``tau2`` (Spiegelhalter 2005, section 5).

    On the rate-per-``per`` scale, with ``n_i = population_i / per``, ``y_i = count_i / n_i`` and
    ``s_i = sqrt(target_rate / n_i)``, the z-scores ``z_i = (y_i - target_rate) / s_i`` are winsorised (those
    below the ``winsorise`` quantile set to it, those above the ``1 - winsorise`` quantile likewise; quantiles
    by linear interpolation between order statistics, R's type 7); then ``phi = sum(z_w^2) / I``. If
    ``I * phi > I - 1``, ``tau2 = (I * phi - (I - 1)) / (sum(w) - sum(w^2) / sum(w))`` with ``w_i = 1 / s_i^2``
    (a DerSimonian-Laird moment estimate); otherwise ``tau2 = 0`` and no adjustment is made.
    """
    count_array, population_array = _counts_and_populations(counts, populations)
    if count_array.size < 2:
        raise ValueError("over-dispersion needs at least two units")
    target_rate = _positive(target_rate, "target_rate")
    per = _positive(per, "per")
    winsorise = _finite(winsorise, "winsorise")
    if not 0 <= winsorise < 0.5:
        raise ValueError(f"winsorise must be at least 0 and below 0.5, not {winsorise!r}")
    units = population_array / per
    rates = count_array / units
    variances = target_rate / units
    z = (rates - target_rate) / np.sqrt(variances)
    low, high = np.quantile(z, [winsorise, 1 - winsorise])
    z_w = np.clip(z, low, high)
    size = z.size
    phi = float(np.sum(z_w**2) / size)
    if size * phi <= size - 1:
        return Overdispersion(phi, 0.0, winsorise, False)
    weights = 1 / variances
    tau2 = (size * phi - (size - 1)) / (np.sum(weights) - np.sum(weights**2) / np.sum(weights))
    return Overdispersion(phi, float(tau2), winsorise, True)


@dataclass(frozen=True)
class FunnelPoint:
    """One unit on a funnel plot: its control limits and whether its rate is above, within or below them.

    ``position`` is judged against the 99.8% limits.
    """

    lower_95: float
    upper_95: float
    lower_998: float
    upper_998: float
    position: str


def funnel(
    counts: Sequence[float] | npt.ArrayLike,
    populations: Sequence[float] | npt.ArrayLike,
    per: float = 1000,
    overdispersion_adjust: bool = True,
) -> tuple[float, Overdispersion | None, list[FunnelPoint]]:
    """A funnel plot for rates per ``per``: the target, the over-dispersion estimate and each unit's limits.

    Spiegelhalter (2005), Stat Med 24:1185-1202. The target is the pooled rate
    ``sum(counts) / sum(populations) * per``. With ``overdispersion_adjust``, :func:`overdispersion` is
    estimated and, if it finds extra variation, the limits use its ``tau2``; otherwise they are the exact
    Poisson limits (a single unit gets no estimate: ``None``). Each unit's limits are at its own population,
    and it is ``'above'``, ``'within'`` or ``'below'`` according to its rate against the 99.8% limits (a rate
    on a limit is within).
    """
    count_array, population_array = _counts_and_populations(counts, populations)
    per = _positive(per, "per")
    if float(np.sum(count_array)) == 0:
        raise ValueError("a funnel plot needs at least one offence in total (every count is zero)")
    target, spread, points = _funnel(count_array.tobytes(), population_array.tobytes(), per, overdispersion_adjust)
    return target, spread, list(points)


@functools.lru_cache(maxsize=1 << 12)
def _funnel(
    counts: bytes, populations: bytes, per: float, overdispersion_adjust: bool
) -> tuple[float, Overdispersion | None, tuple[FunnelPoint, ...]]:
    """:func:`funnel` of checked arrays (as bytes), kept for the process by its arguments."""
    count_array, population_array = np.frombuffer(counts), np.frombuffer(populations)
    total = float(np.sum(count_array))
    target = total / float(np.sum(population_array)) * per
    spread: Overdispersion | None = None
    tau2 = 0.0
    if overdispersion_adjust and count_array.size >= 2:
        spread = overdispersion(count_array, population_array, target, per)
        tau2 = spread.tau2
    points: list[FunnelPoint] = []
    every_limit = _funnel_limits_at(target, population_array, per, tau2)
    for count, population, limits in zip(count_array, population_array, every_limit, strict=True):
        rate = float(count) / float(population) * per
        if rate > limits.upper_998:
            position = "above"
        elif rate < limits.lower_998:
            position = "below"
        else:
            position = "within"
        points.append(FunnelPoint(limits.lower_95, limits.upper_95, limits.lower_998, limits.upper_998, position))
    return target, spread, tuple(points)


def funnel_curve(
    target_rate: float,
    min_population: float,
    max_population: float,
    per: float = 1000,
    tau2: float = 0.0,
    points: int = 60,
) -> list[dict[str, float]]:
    """The funnel's control lines for drawing: :func:`funnel_limits` on a geometric grid of populations.

    Returns ``points`` dicts with keys ``population``, ``lower_95``, ``upper_95``, ``lower_998`` and
    ``upper_998``, populations running from ``min_population`` to ``max_population`` in equal ratios
    (Spiegelhalter 2005).
    """
    low = _positive(min_population, "min_population")
    high = _positive(max_population, "max_population")
    if high < low:
        raise ValueError(f"max_population ({max_population!r}) must not be below min_population ({min_population!r})")
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 2:
        raise ValueError(f"points must be a whole number of at least 2, not {points!r}")
    grid = np.geomspace(low, high, int(points))
    curve: list[dict[str, float]] = []
    target_rate, per, tau2 = _funnel_arguments(target_rate, per, tau2)
    for population, limits in zip(grid, _funnel_limits_at(target_rate, grid, per, tau2), strict=True):
        curve.append(
            {
                "population": float(population),
                "lower_95": limits.lower_95,
                "upper_95": limits.upper_95,
                "lower_998": limits.lower_998,
                "upper_998": limits.upper_998,
            }
        )
    return curve


# ---------------------------------------------------------------------------------------------------------------
# Rank ranges
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankRange:
    """The plausible range of a unit's rank (1 = lowest rate)."""

    low: int
    high: int


def _min_ranks(rates: FloatArray) -> npt.NDArray[np.int64]:
    """Rank along the last axis, 1 = lowest, tied rates sharing the lowest of their ranks ("min" ranking)."""
    order = np.argsort(rates, axis=-1, kind="stable")
    ordered = np.take_along_axis(rates, order, axis=-1)
    positions = np.broadcast_to(np.arange(rates.shape[-1], dtype=np.int64), rates.shape)
    first_of_value = np.ones(rates.shape, dtype=bool)
    first_of_value[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    sorted_ranks = np.maximum.accumulate(np.where(first_of_value, positions, 0), axis=-1) + 1
    ranks = np.empty(rates.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, sorted_ranks, axis=-1)
    return ranks


def rank_ranges(
    counts: Sequence[float] | npt.ArrayLike,
    populations: Sequence[float] | npt.ArrayLike,
    simulations: int = 2000,
    level: float = 0.95,
    seed: int = 20190930,
) -> list[RankRange]:
    """Plausible rank range for each unit's rate (rank 1 = lowest rate; tied rates share the lower rank).

    Parametric Poisson simulation (cf. Goldstein & Spiegelhalter 1996, J R Stat Soc A 159:385-443): each
    simulation draws every unit's count from a Poisson distribution with its observed count as mean, divides
    by the population and ranks the rates. A unit's range runs from the ``(1 - level) / 2`` quantile of its
    simulated ranks (rounded down) to the ``1 - (1 - level) / 2`` quantile (rounded up), widened if need be to
    include its observed rank. A zero count is drawn with mean 0.5 (the Jeffreys posterior mean for a zero
    Poisson count) rather than 0, which would pin the unit to the lowest rank however small its population and
    so claim a certainty the data do not give. Deterministic for a given ``seed``.
    """
    count_array, population_array = _counts_and_populations(counts, populations)
    if isinstance(simulations, bool) or not isinstance(simulations, int | np.integer) or simulations < 1:
        raise ValueError(f"simulations must be a whole number of at least 1, not {simulations!r}")
    level = _level(level)
    return list(_rank_ranges(count_array.tobytes(), population_array.tobytes(), int(simulations), level, int(seed)))


@functools.lru_cache(maxsize=1 << 12)
def _rank_ranges(counts: bytes, populations: bytes, simulations: int, level: float, seed: int) -> tuple[RankRange, ...]:
    """:func:`rank_ranges` of checked arrays (as bytes), kept for the process by its arguments: a process
    computing several option sets simulates each league once."""
    count_array, population_array = np.frombuffer(counts), np.frombuffer(populations)
    means = np.where(count_array == 0, _ZERO_COUNT_MEAN, count_array)
    rng = np.random.default_rng(seed)
    draws = rng.poisson(means, size=(int(simulations), count_array.size))
    simulated = _min_ranks(draws / population_array)
    observed = _min_ranks(count_array / population_array)
    tail = (1 - level) / 2
    low_quantile, high_quantile = np.quantile(simulated, [tail, 1 - tail], axis=0)
    low = np.minimum(np.floor(low_quantile).astype(np.int64), observed)
    high = np.maximum(np.ceil(high_quantile).astype(np.int64), observed)
    size = count_array.size
    return tuple(
        RankRange(int(min(max(lo, 1), size)), int(min(max(hi, 1), size))) for lo, hi in zip(low, high, strict=True)
    )
