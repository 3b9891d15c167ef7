"""Percentile bootstrap of a mean: agreement with SciPy, reproducibility, coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from assay.errors import InvalidInput
from assay.stats.bootstrap import BootstrapInterval, bootstrap_mean_interval


def _scipy_percentile(values: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    result = stats.bootstrap(
        (values,),
        np.mean,
        n_resamples=resamples,
        method="percentile",
        vectorized=True,
        rng=seed,
    )
    return result.confidence_interval.low, result.confidence_interval.high


def test_continuous_cases_give_scipys_percentile_interval() -> None:
    values = np.random.default_rng(1).normal(0.02, 0.2, 300)
    ours = bootstrap_mean_interval(values, resamples=2_000, seed=7)
    assert (ours.low, ours.high) == pytest.approx(_scipy_percentile(values, 2_000, 7), abs=1e-12)
    assert ours == BootstrapInterval(ours.low, ours.high, 0.95, 2_000, 7, None)


def test_pass_fail_differences_agree_with_scipy_within_monte_carlo_error() -> None:
    # Three distinct values: the counts come from a multinomial, not SciPy's index
    # matrix, so the draws differ but the distribution must not.
    rng = np.random.default_rng(2)
    values = rng.choice([-1.0, 0.0, 1.0], size=2_000, p=[0.1, 0.82, 0.08])
    ours = bootstrap_mean_interval(values, resamples=20_000, seed=3)
    low, high = _scipy_percentile(values, 20_000, 3)
    standard_error = values.std(ddof=1) / math.sqrt(values.size)
    # With 20,000 resamples a 2.5% endpoint moves by about 0.02 SE between seeds.
    assert ours.low == pytest.approx(low, abs=0.1 * standard_error)
    assert ours.high == pytest.approx(high, abs=0.1 * standard_error)


def test_same_seed_same_interval_and_seed_is_recorded() -> None:
    values = np.random.default_rng(4).random(500) - 0.5
    first = bootstrap_mean_interval(values, seed=11, resamples=1_000)
    again = bootstrap_mean_interval(values, seed=11, resamples=1_000)
    other = bootstrap_mean_interval(values, seed=12, resamples=1_000)
    assert first == again
    assert first.seed == 11
    assert first.resamples == 1_000
    assert (first.low, first.high) != (other.low, other.high)


def test_clusters_of_one_are_the_plain_case_bootstrap() -> None:
    values = np.random.default_rng(5).random(200)
    plain = bootstrap_mean_interval(values, resamples=1_000)
    singletons = bootstrap_mean_interval(values, list(range(200)), resamples=1_000)
    assert (singletons.low, singletons.high) == (plain.low, plain.high)
    assert singletons.clusters == 200
    assert plain.clusters is None


def test_unequal_clusters_average_over_cases_not_clusters() -> None:
    # Two clusters: mean 1 over 9 cases and mean 0 over 1 case. A resample holds
    # both clusters with probability 1/2, and then its case-weighted mean is 0.9
    # (averaging the cluster means would give 0.5); so the 40th and 60th
    # percentiles are both 0.9.
    values = [1.0] * 9 + [0.0]
    labels = ["big"] * 9 + ["small"]
    interval = bootstrap_mean_interval(values, labels, resamples=4_000, confidence=0.2)
    assert interval.low == pytest.approx(0.9)
    assert interval.high == pytest.approx(0.9)


def test_interval_contains_the_mean_and_narrows_with_n() -> None:
    rng = np.random.default_rng(6)
    small = rng.normal(0.1, 0.3, 100)
    large = rng.normal(0.1, 0.3, 2_500)
    narrow = bootstrap_mean_interval(large, resamples=2_000)
    wide = bootstrap_mean_interval(small, resamples=2_000)
    assert narrow.contains(float(large.mean()))
    # Width scales as 1/sqrt(n): 25 times the cases, about a fifth of the width.
    ratio = (narrow.high - narrow.low) / (wide.high - wide.low)
    assert ratio == pytest.approx(0.2, rel=0.2)


def test_too_few_units_and_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 2 cases, got 1"):
        bootstrap_mean_interval([0.5])
    with pytest.raises(InvalidInput, match="at least 2 clusters, got 1"):
        bootstrap_mean_interval([0.5, 0.1, 0.2], ["a", "a", "a"])
    with pytest.raises(InvalidInput, match="confidence"):
        bootstrap_mean_interval([0.5, 0.1], confidence=1.0)
    with pytest.raises(InvalidInput, match="resamples"):
        bootstrap_mean_interval([0.5, 0.1], resamples=0)
    with pytest.raises(InvalidInput, match="seed"):
        bootstrap_mean_interval([0.5, 0.1], seed=-1)


def _coverage_tolerance(runs: int, level: float = 0.95) -> float:
    """Three binomial standard deviations of an observed coverage rate: a correct
    95% interval fails this check in about 0.3% of seeds."""
    return 3.0 * math.sqrt(level * (1.0 - level) / runs)


def test_paired_bootstrap_covers_a_known_delta_95_percent_of_the_time() -> None:
    # Pass/fail differences: -1 (regressed) w.p. 0.12, +1 (fixed) w.p. 0.08; the
    # true mean delta is -0.04. 4,000 runs give a binomial sd of 0.34 points,
    # so the accepted band, 95% +- 3 sd, is 93.97%-96.03%.
    runs, n, true_delta = 4_000, 400, -0.04
    rng = np.random.default_rng(12345)
    covered = 0
    for run in range(runs):
        u = rng.random(n)
        d = np.where(u < 0.12, -1.0, np.where(u < 0.20, 1.0, 0.0))
        covered += bootstrap_mean_interval(d, resamples=499, seed=run).contains(true_delta)
    assert abs(covered / runs - 0.95) <= _coverage_tolerance(runs)


def test_cluster_bootstrap_covers_and_naive_intervals_under_cover_on_clustered_cases() -> None:
    # 100 clusters of 5 cases. Half the clusters are fragile (each case regresses
    # w.p. 0.5), half improve (each case is fixed w.p. 0.2), so cases of a cluster
    # move together. True mean delta: 0.5 * -0.5 + 0.5 * 0.2 = -0.15.
    # 2,000 runs: the cluster bootstrap must land within 95% +- 1.46 points
    # (3 binomial sd); resampling cases one by one ignores the clustering and
    # must cover significantly less than 95% on the same data.
    runs, clusters, size, true_delta = 2_000, 100, 5, -0.15
    labels = np.repeat(np.arange(clusters), size)
    regress = np.array([0.5, 0.0])
    fix = np.array([0.0, 0.2])
    rng = np.random.default_rng(1)
    clustered = naive = 0
    for run in range(runs):
        kind = rng.integers(0, 2, clusters)[labels]
        u = rng.random(clusters * size)
        d = np.where(u < regress[kind], -1.0, np.where(u < regress[kind] + fix[kind], 1.0, 0.0))
        interval = bootstrap_mean_interval(d, labels, resamples=499, seed=run)
        clustered += interval.contains(true_delta)
        naive += bootstrap_mean_interval(d, resamples=499, seed=run).contains(true_delta)
    assert abs(clustered / runs - 0.95) <= _coverage_tolerance(runs)
    assert stats.binomtest(naive, runs, 0.95, alternative="less").pvalue < 1e-9
    assert naive / runs < 0.90
