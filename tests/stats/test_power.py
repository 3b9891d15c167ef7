"""Minimum detectable effect: the formula, and a planted drop of one MDE detected ~80%."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import TTestPower

from assay.errors import InvalidInput
from assay.stats.paired import PairedComparison, compare_paired
from assay.stats.power import minimum_detectable_effect


def test_large_n_is_the_normal_approximation() -> None:
    # (z_0.975 + z_0.8) * SE = 2.8016 SE once the t distribution is near normal.
    factor = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert minimum_detectable_effect(0.01, 100_000) == pytest.approx(factor * 0.01, rel=1e-4)


def test_equals_statsmodels_t_test_power() -> None:
    effect = TTestPower().solve_power(effect_size=None, nobs=30, alpha=0.01, power=0.9)
    sd = 0.25
    mde = minimum_detectable_effect(sd / math.sqrt(30), 30, alpha=0.01, power=0.9)
    assert mde == pytest.approx(effect * sd)
    # Small n pays for estimating the variance: more than the normal 2.8 SE.
    assert minimum_detectable_effect(1.0, 5) > 3.5


def test_bad_arguments_and_unsolvable_equations_are_refused() -> None:
    with pytest.raises(InvalidInput, match="standard_error must be positive"):
        minimum_detectable_effect(0.0, 10)
    with pytest.raises(InvalidInput, match="at least 2 independent units"):
        minimum_detectable_effect(0.1, 1)
    with pytest.raises(InvalidInput, match="alpha"):
        minimum_detectable_effect(0.1, 10, alpha=1.5)
    with pytest.raises(InvalidInput, match="power"):
        minimum_detectable_effect(0.1, 10, power=0.01)
    # statsmodels' solver silently returns effect 10 (power 0.02) here.
    with pytest.raises(InvalidInput, match="no reliable effect size"):
        minimum_detectable_effect(0.1, 2, alpha=0.001, power=0.99)


RUNS = 400
"""Simulated comparisons per power check. The detection rate's binomial sd at 80%
is 2 points; the check accepts 80% +- 3 sd (74%-86%)."""


def _planted_drop(standard_error_at: Callable[[float], float], units: int) -> float:
    """The drop equal to its own MDE (the variance of pass/fail differences grows
    with the drop, so iterate to the fixed point; converges in a few steps)."""
    drop = 0.05
    for _ in range(20):
        drop = minimum_detectable_effect(standard_error_at(drop), units)
    return drop


def _check_power(drop: float, comparisons: list[PairedComparison]) -> None:
    detected = sum(c.significant and c.delta < 0 for c in comparisons)
    assert abs(detected / RUNS - 0.8) <= 3 * math.sqrt(0.8 * 0.2 / RUNS)
    # The drop planted is the MDE the comparisons report.
    assert float(np.median([c.mde for c in comparisons])) == pytest.approx(drop, rel=0.05)


def test_pass_fail_drop_of_one_mde_is_detected_80_percent_of_the_time() -> None:
    # Each case regresses w.p. 0.05 + drop and is fixed w.p. 0.05; exact McNemar.
    n, churn = 1_000, 0.05
    drop = _planted_drop(lambda d: math.sqrt((2 * churn + d - d * d) / n), n)
    rng = np.random.default_rng(3)
    comparisons = []
    for seed in range(RUNS):
        baseline = (rng.random(n) < 0.7).astype(float)
        u = rng.random(n)
        regressed = u < churn + drop
        fixed = (u >= churn + drop) & (u < 2 * churn + drop)
        baseline[regressed], baseline[fixed] = 1.0, 0.0
        candidate = baseline.copy()
        candidate[regressed], candidate[fixed] = 0.0, 1.0
        comparisons.append(compare_paired(baseline, candidate, resamples=100, seed=seed))
    assert comparisons[0].test.name == "mcnemar-exact"
    _check_power(drop, comparisons)


def test_score_drop_of_one_mde_is_detected_about_80_percent_of_the_time() -> None:
    # Continuous scores, normal noise: Wilcoxon, whose efficiency relative to the
    # t-test the MDE assumes is 0.955, so its power here is about 78%.
    n, sd = 100, 0.1
    drop = _planted_drop(lambda _: sd / math.sqrt(n), n)
    rng = np.random.default_rng(4)
    comparisons = []
    for seed in range(RUNS):
        baseline = rng.uniform(0.3, 0.7, n)
        candidate = baseline - drop + rng.normal(0, sd, n)
        comparisons.append(compare_paired(baseline, candidate, resamples=100, seed=seed))
    assert comparisons[0].test.name == "wilcoxon"
    _check_power(drop, comparisons)


def test_clustered_drop_of_one_mde_is_detected_80_percent_of_the_time() -> None:
    # 40 clusters of 5: a cluster effect (sd 0.1) and a case effect (sd 0.1).
    # The SE of the mean is sqrt(0.1^2 + 0.1^2 / 5) / sqrt(40), with 40 units.
    clusters, size = 40, 5
    labels = np.repeat(np.arange(clusters), size)
    drop = _planted_drop(lambda _: math.sqrt(0.01 + 0.01 / size) / math.sqrt(clusters), clusters)
    rng = np.random.default_rng(5)
    comparisons = []
    for seed in range(RUNS):
        baseline = rng.uniform(0.3, 0.7, clusters * size)
        noise = rng.normal(0, 0.1, clusters)[labels] + rng.normal(0, 0.1, clusters * size)
        candidate = baseline - drop + noise
        comparisons.append(
            compare_paired(baseline, candidate, clusters=labels, resamples=100, seed=seed)
        )
    assert comparisons[0].test.name == "cluster-t"
    _check_power(drop, comparisons)


@pytest.mark.parametrize("units", [2, 3, 30, 100, 120, 10_000])
def test_solver_answers_for_any_n(units: int) -> None:
    # statsmodels returns a float for some n and a one-element array for others
    # (n=120); both must come back as the same kind of number.
    mde = minimum_detectable_effect(1.0, units)
    assert isinstance(mde, float)
    # SE 1 with n units is an sd of sqrt(n): the standardised effect is mde / sqrt(n).
    assert TTestPower().power(mde / math.sqrt(units), units, 0.05) == pytest.approx(0.8, abs=1e-4)
