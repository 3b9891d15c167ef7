"""Paired comparison: fields, the test chosen, A/A false-positive rate, undefined cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from assay.errors import InvalidInput
from assay.stats.bootstrap import bootstrap_mean_interval
from assay.stats.clustered import cluster_robust_mean
from assay.stats.paired import PairedComparison, compare_paired, compare_paired_groups
from assay.stats.power import minimum_detectable_effect
from assay.stats.significance import SignificanceTest, mcnemar_exact, wilcoxon_signed_rank


def _assert_no_nan(result: PairedComparison) -> None:
    for value in dataclasses.astuple(result):
        if isinstance(value, float):
            assert math.isfinite(value)


def test_pass_fail_comparison_fields() -> None:
    baseline = [1, 1, 1, 1, 0, 0, 1, 1, 0, 1]
    candidate = [1, 0, 0, 1, 0, 1, 1, 0, 0, 1]
    result = compare_paired(baseline, candidate, resamples=2_000, seed=5)
    assert result.n == 10
    assert result.mean_baseline == pytest.approx(0.7)
    assert result.mean_candidate == pytest.approx(0.5)
    assert result.delta == pytest.approx(-0.2)
    assert (result.worse, result.better, result.tied) == (3, 1, 6)
    assert result.binary
    assert not result.clustered
    assert result.clusters is None
    assert result.test == mcnemar_exact(baseline, candidate)
    assert result.p_value == result.test.p_value
    assert result.ci == bootstrap_mean_interval(
        np.subtract(candidate, baseline, dtype=float), resamples=2_000, seed=5
    )
    d = np.subtract(candidate, baseline, dtype=float)
    assert result.standard_error == pytest.approx(d.std(ddof=1) / math.sqrt(10))
    assert result.mde == pytest.approx(minimum_detectable_effect(result.standard_error, 10))
    assert result.notes == ()


def test_continuous_scores_use_wilcoxon() -> None:
    rng = np.random.default_rng(0)
    baseline = rng.random(60)
    candidate = np.clip(baseline - 0.05 + rng.normal(0, 0.1, 60), 0, 1)
    result = compare_paired(baseline, candidate)
    assert not result.binary
    assert result.test == wilcoxon_signed_rank(np.round(candidate - baseline, 12))
    assert result.ci is not None
    assert result.ci.resamples == 10_000
    assert result.ci.seed == 0
    assert result.ci.low < result.delta < result.ci.high


def test_same_seed_same_result() -> None:
    rng = np.random.default_rng(1)
    baseline, candidate = rng.random(300), rng.random(300)
    assert compare_paired(baseline, candidate, seed=9) == compare_paired(
        baseline, candidate, seed=9
    )


def test_clusters_switch_every_statistic_to_cluster_robust() -> None:
    rng = np.random.default_rng(2)
    labels = np.repeat([f"doc{i}" for i in range(30)], 4)
    baseline = (rng.random(120) < 0.7).astype(float)
    candidate = np.where(rng.random(120) < 0.2, 1 - baseline, baseline)
    result = compare_paired(baseline, candidate, clusters=labels, resamples=1_000, seed=3)
    robust = cluster_robust_mean(candidate - baseline, labels)
    assert result.clustered
    assert result.clusters == 30
    assert result.binary
    # Pass/fail, but McNemar assumes independent cases: the cluster-robust t-test.
    assert result.test == robust.test
    assert result.test.df == 29
    assert result.standard_error == robust.standard_error
    assert result.mde == pytest.approx(minimum_detectable_effect(robust.standard_error, 30))
    assert result.ci == bootstrap_mean_interval(
        candidate - baseline, labels, resamples=1_000, seed=3
    )
    assert result.ci is not None
    assert result.ci.clusters == 30


def test_no_cases_or_mismatched_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput, match="no paired cases"):
        compare_paired([], [])
    with pytest.raises(InvalidInput, match="baseline has 2 scores but candidate has 1"):
        compare_paired([1, 0], [1])
    with pytest.raises(InvalidInput, match="clusters has 1 labels but there are 2 cases"):
        compare_paired([1, 0], [1, 1], clusters=["a"])
    with pytest.raises(InvalidInput, match="alpha"):
        compare_paired([1, 0], [1, 1], alpha=0)
    with pytest.raises(InvalidInput, match="power"):
        compare_paired([1, 0], [1, 1], power=1.0)
    with pytest.raises(InvalidInput, match="resamples"):
        compare_paired([1, 0], [1, 1], resamples=0)


def test_one_case_leaves_interval_and_mde_undefined() -> None:
    result = compare_paired([1.0], [0.0])
    assert result.n == 1
    assert result.delta == -1.0
    assert result.ci is None
    assert result.standard_error is None
    assert result.mde is None
    assert result.test == SignificanceTest("mcnemar-exact", 1.0, 0.0)
    assert result.notes == ("one case: the interval, standard error and MDE need at least 2",)
    _assert_no_nan(result)


def test_identical_runs_are_not_significant_and_say_why_there_is_no_mde() -> None:
    for scores in ([1, 0, 1, 1, 0, 1], [0.2, 0.4, 0.9, 0.7, 0.1, 0.3]):
        result = compare_paired(scores, scores, resamples=200)
        assert result.delta == 0.0
        assert result.p_value == 1.0
        assert not result.significant
        assert result.standard_error == 0.0
        assert result.mde is None
        assert result.ci is not None
        assert (result.ci.low, result.ci.high) == (0.0, 0.0)
        assert result.notes == (
            "every paired difference is equal: the standard error is 0, so the MDE is "
            "undefined and the interval has zero width",
        )
        _assert_no_nan(result)


def test_every_case_dropping_the_same_amount_is_a_significant_drop() -> None:
    baseline = [0.9, 0.8, 0.7, 0.9, 0.6, 0.8, 0.7, 0.9]
    candidate = [round(b - 0.3, 2) for b in baseline]
    result = compare_paired(baseline, candidate, resamples=200)
    assert result.delta == pytest.approx(-0.3)
    assert result.significant
    assert result.mde is None
    clustered = compare_paired(baseline, candidate, clusters=[1, 1, 2, 2, 3, 3, 4, 4])
    assert clustered.p_value == 0.0
    assert clustered.test.statistic is None
    _assert_no_nan(clustered)


def test_a_single_cluster_leaves_the_robust_statistics_undefined() -> None:
    result = compare_paired([1, 1, 0, 1], [0, 1, 0, 0], clusters=["s"] * 4)
    assert result.clusters == 1
    assert result.test == SignificanceTest("cluster-t", None, None)
    assert not result.significant
    assert (result.ci, result.standard_error, result.mde) == (None, None, None)
    assert result.delta == pytest.approx(-0.5)
    assert "single cluster" in result.notes[0]
    _assert_no_nan(result)


def test_cases_without_a_cluster_count_as_their_own() -> None:
    result = compare_paired([1, 1, 0, 1], [0, 1, 0, 0], clusters=["s", "s", None, None])
    assert result.clusters == 3


RUNS = 400
"""A/A comparisons per check. A correct test rejects in at most alpha of them; the
check allows the 99.9% binomial quantile, binom.ppf(0.999, 400, 0.05) = 35."""


def _false_positive_rate_ok(rejections: int) -> bool:
    return rejections <= stats.binom.ppf(0.999, RUNS, 0.05)


def test_a_a_pass_fail_rejects_at_most_alpha() -> None:
    # Each case has its own pass probability; both runs draw from it independently.
    rng = np.random.default_rng(2024)
    rejections = 0
    for seed in range(RUNS):
        quality = rng.beta(4, 1.5, 300)
        baseline = (rng.random(300) < quality).astype(float)
        candidate = (rng.random(300) < quality).astype(float)
        rejections += compare_paired(baseline, candidate, resamples=100, seed=seed).significant
    assert _false_positive_rate_ok(rejections)


def test_a_a_scores_reject_at_most_alpha() -> None:
    rng = np.random.default_rng(2025)
    rejections = 0
    for seed in range(RUNS):
        quality = rng.uniform(0.2, 0.8, 200)
        baseline = quality + rng.normal(0, 0.05, 200)
        candidate = quality + rng.normal(0, 0.05, 200)
        rejections += compare_paired(baseline, candidate, resamples=100, seed=seed).significant
    assert _false_positive_rate_ok(rejections)


def test_a_a_clustered_rejects_at_most_alpha_and_naive_tests_do_not() -> None:
    # 30 clusters of 4; the candidate moves whole clusters up or down at random
    # (mean 0). The cluster-robust test holds alpha; Wilcoxon, which assumes
    # independent cases, rejects far more often on the same data.
    rng = np.random.default_rng(2026)
    labels = np.repeat(np.arange(30), 4)
    robust = naive = 0
    for seed in range(RUNS):
        quality = rng.uniform(0.2, 0.8, 30)[labels]
        baseline = quality + rng.normal(0, 0.1, 120)
        candidate = quality + rng.normal(0, 0.1, 30)[labels] + rng.normal(0, 0.1, 120)
        result = compare_paired(baseline, candidate, clusters=labels, resamples=100, seed=seed)
        robust += result.significant
        naive += compare_paired(baseline, candidate, resamples=100, seed=seed).significant
    assert _false_positive_rate_ok(robust)
    assert stats.binomtest(naive, RUNS, 0.05, alternative="greater").pvalue < 1e-9


def test_groups_share_draws_but_every_other_statistic_is_compare_paireds() -> None:
    rng = np.random.default_rng(21)
    baseline = rng.random(900)
    candidate = np.clip(baseline + rng.normal(-0.02, 0.1, 900), 0.0, 1.0)
    groups = [list(range(0, 900, 3)), list(range(1, 900, 3))]
    overall, parts = compare_paired_groups(baseline, candidate, groups, resamples=500, seed=2)
    expected = [compare_paired(baseline, candidate, resamples=500, seed=2)] + [
        compare_paired(baseline[g], candidate[g], resamples=500, seed=2) for g in groups
    ]
    for ours, alone in zip([overall, *parts], expected, strict=True):
        assert ours.ci is not None
        assert alone.ci is not None
        assert dataclasses.replace(ours, ci=alone.ci) == alone
        assert ours.ci.contains(ours.delta)


def test_clustered_groups_are_compared_one_by_one() -> None:
    baseline = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0]
    candidate = [0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0]
    labels = ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e", "f", "f"]
    groups = [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9]]
    overall, parts = compare_paired_groups(
        baseline, candidate, groups, clusters=labels, resamples=300, seed=1
    )
    assert overall == compare_paired(baseline, candidate, clusters=labels, resamples=300, seed=1)
    for group, part in zip(groups, parts, strict=True):
        assert part == compare_paired(
            [baseline[i] for i in group],
            [candidate[i] for i in group],
            clusters=[labels[i] for i in group],
            resamples=300,
            seed=1,
        )


def test_overlapping_groups_are_refused() -> None:
    with pytest.raises(InvalidInput, match="overlaps"):
        compare_paired_groups([1, 0, 1], [1, 1, 1], [[0, 1], [1, 2]])
