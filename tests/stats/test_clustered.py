"""Cluster-robust mean: equal to statsmodels OLS, to a t-test on cluster means, and safe at 0."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from assay.errors import InvalidInput
from assay.stats.clustered import ClusterRobustMean, cluster_robust_mean
from assay.stats.significance import SignificanceTest


def test_equals_statsmodels_cluster_robust_ols() -> None:
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 9, 40)
    labels = np.repeat(np.arange(40), sizes)
    values = rng.normal(0.03, 0.2, 40)[labels] + rng.normal(0, 0.2, labels.size)
    fit = sm.OLS(values, np.ones(labels.size)).fit(
        cov_type="cluster", cov_kwds={"groups": labels}, use_t=True
    )
    result = cluster_robust_mean(values, labels.tolist())
    assert result == ClusterRobustMean(
        mean=pytest.approx(fit.params[0]),
        standard_error=pytest.approx(fit.bse[0]),
        t=pytest.approx(fit.tvalues[0]),
        p_value=pytest.approx(fit.pvalues[0]),
        df=39,
        clusters=40,
    )


def test_equal_clusters_match_a_t_test_on_cluster_means() -> None:
    # With equal cluster sizes the sandwich with statsmodels' small-sample factor
    # is exactly the one-sample t-test of the cluster means, df = G - 1.
    rng = np.random.default_rng(1)
    values = rng.normal(0.05, 0.3, (25, 4))
    labels = np.repeat(np.arange(25), 4)
    result = cluster_robust_mean(values.ravel(), labels)
    expected = stats.ttest_1samp(values.mean(axis=1), 0.0)
    assert result.t == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.df == 24
    assert result.test == SignificanceTest("cluster-t", result.p_value, result.t, 24)


def test_clustered_cases_widen_the_standard_error() -> None:
    # Identical cases within a cluster are one observation repeated: the robust
    # SE must be sqrt(5) times the naive SE that treats them as independent.
    base = np.random.default_rng(2).normal(0, 1, 50)
    values = np.repeat(base, 5)
    labels = np.repeat(np.arange(50), 5)
    robust = cluster_robust_mean(values, labels).standard_error
    naive = values.std(ddof=1) / np.sqrt(values.size)
    assert robust / naive == pytest.approx(np.sqrt(5), rel=0.01)


def test_zero_standard_error_gives_a_limit_not_nan() -> None:
    flat = cluster_robust_mean([0.0, 0.0, 0.0, 0.0], ["a", "a", "b", "b"])
    assert flat == ClusterRobustMean(0.0, 0.0, None, 1.0, 1, 2)
    shifted = cluster_robust_mean([-0.1] * 4, ["a", "a", "b", "b"])
    assert shifted.standard_error == 0.0
    assert shifted.p_value == 0.0
    assert shifted.t is None
    # Values vary, but every cluster has the same mean: still no spread between
    # clusters.
    balanced = cluster_robust_mean([1.0, 0.0, 0.0, 1.0], ["a", "a", "b", "b"])
    assert balanced.standard_error == 0.0
    assert balanced.p_value == 0.0


def test_needs_two_clusters() -> None:
    with pytest.raises(InvalidInput, match="at least 2 clusters, got 1"):
        cluster_robust_mean([0.1, 0.2], ["a", "a"])
    with pytest.raises(InvalidInput, match="at least one case"):
        cluster_robust_mean([], [])
