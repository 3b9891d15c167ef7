"""Shared-draw bootstrap of a mean and its groups' means: same intervals, fewer draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assay.errors import InvalidInput
from assay.stats import grouped
from assay.stats.bootstrap import bootstrap_mean_interval
from assay.stats.grouped import bootstrap_group_intervals


def _groups(sizes: list[int]) -> list[list[int]]:
    out, start = [], 0
    for size in sizes:
        out.append(list(range(start, start + size)))
        start += size
    return out


def test_each_interval_agrees_with_its_own_bootstrap_within_monte_carlo_error() -> None:
    # Groups of unequal size with different means, and 100 cases in no group.
    rng = np.random.default_rng(3)
    sizes = [1_500, 1_000, 400]
    values = np.concatenate(
        [rng.normal(mean, 0.3, size) for mean, size in zip([0.1, -0.2, 0.0], sizes, strict=True)]
        + [rng.normal(0.5, 0.3, 100)]
    )
    groups = _groups(sizes)
    overall, parts = bootstrap_group_intervals(values, groups, resamples=20_000, seed=1)
    alone = [bootstrap_mean_interval(values, resamples=20_000, seed=2)] + [
        bootstrap_mean_interval(values[g], resamples=20_000, seed=2) for g in groups
    ]
    subsets = [values] + [values[g] for g in groups]
    for ours, theirs, data in zip([overall, *parts], alone, subsets, strict=True):
        assert ours is not None
        standard_error = data.std(ddof=1) / math.sqrt(data.size)
        # Two independent 20,000-resample endpoints differ by ~0.03 SE (sd).
        assert ours.low == pytest.approx(theirs.low, abs=0.12 * standard_error)
        assert ours.high == pytest.approx(theirs.high, abs=0.12 * standard_error)
        assert (ours.confidence, ours.resamples, ours.seed) == (0.95, 20_000, 1)
        assert ours.clusters is None


def test_overall_and_group_intervals_cover_their_true_means() -> None:
    # Three groups with different true means (uniform scores shifted per group).
    # Each interval must cover its true mean in 95% of runs, within 3 binomial sd
    # (+- 1.9 points at 1,200 runs), allowing below that the percentile interval's
    # own small-sample shortfall: over 4,000 runs of this simulation the one-by-one
    # bootstrap covered 94.2-94.6% of the groups' means, and this one the same.
    runs, sizes, means = 1_200, [200, 120, 80], [0.05, -0.10, 0.20]
    true_overall = sum(m * s for m, s in zip(means, sizes, strict=True)) / sum(sizes)
    groups = _groups(sizes)
    rng = np.random.default_rng(11)
    covered = np.zeros(4)
    for run in range(runs):
        values = np.concatenate(
            [rng.uniform(m - 0.5, m + 0.5, s) for m, s in zip(means, sizes, strict=True)]
        )
        overall, parts = bootstrap_group_intervals(values, groups, resamples=399, seed=run)
        covered[0] += overall.contains(true_overall)
        for i, (part, mean) in enumerate(zip(parts, means, strict=True), start=1):
            assert part is not None
            covered[i] += part.contains(mean)
    band = 3.0 * math.sqrt(0.95 * 0.05 / runs)
    coverage = covered / runs
    assert np.all((coverage >= 0.95 - band - 0.01) & (coverage <= 0.95 + band)), coverage


def test_same_seed_same_intervals_whatever_the_number_of_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = np.random.default_rng(5).random(3_000) - 0.5
    groups = _groups([1_000, 1_000, 500])
    monkeypatch.setattr(grouped, "_cpus", lambda: 1)
    one = bootstrap_group_intervals(values, groups, resamples=2_000, seed=4)
    monkeypatch.setattr(grouped, "_cpus", lambda: 4)
    four = bootstrap_group_intervals(values, groups, resamples=2_000, seed=4)
    other = bootstrap_group_intervals(values, groups, resamples=2_000, seed=5)
    assert one == four
    assert one != other


def test_pass_fail_differences_give_exactly_the_one_by_one_intervals() -> None:
    rng = np.random.default_rng(6)
    values = rng.choice([-1.0, 0.0, 1.0], size=4_000, p=[0.1, 0.82, 0.08])
    groups = _groups([2_000, 1_500])
    overall, parts = bootstrap_group_intervals(values, groups, resamples=3_000, seed=8)
    assert overall == bootstrap_mean_interval(values, resamples=3_000, seed=8)
    assert parts == [bootstrap_mean_interval(values[g], resamples=3_000, seed=8) for g in groups]


def test_a_group_of_one_has_no_interval_and_cases_outside_groups_count_overall() -> None:
    values = np.array([0.1, 0.9, 0.4, 0.35, 0.6, 0.05, 0.7, 0.2, 0.8, 0.3] * 10)
    overall, parts = bootstrap_group_intervals(values, [[0], list(range(1, 40))], seed=2)
    assert parts[0] is None
    assert parts[1] is not None
    assert overall.contains(float(values.mean()))
    # The overall interval is about the mean of all 100 cases, not of the 40 grouped.
    assert overall.high - overall.low < parts[1].high - parts[1].low


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([[0, 1], []], "group 1 is empty"),
        ([[0, 5]], "group 0 names a case outside 0..4"),
        ([[0, -1]], "group 0 names a case outside 0..4"),
        ([[0, 1], [1, 2]], "group 1 repeats a case or overlaps an earlier group"),
        ([[2, 2]], "group 0 repeats a case"),
    ],
)
def test_bad_groups_are_refused(groups: list[list[int]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        bootstrap_group_intervals([0.1, 0.2, 0.3, 0.4, 0.5], groups)


def test_too_few_cases_and_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 2 cases"):
        bootstrap_group_intervals([0.5], [])
    with pytest.raises(InvalidInput, match="resamples"):
        bootstrap_group_intervals([0.5, 0.2], [], resamples=0)
    with pytest.raises(InvalidInput, match="confidence"):
        bootstrap_group_intervals([0.5, 0.2], [], confidence=1.0)
