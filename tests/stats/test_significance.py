"""Exact McNemar and Wilcoxon signed-rank: equal to statsmodels and SciPy called directly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from assay.errors import InvalidInput
from assay.stats.significance import (
    SignificanceTest,
    mcnemar_exact,
    paired_test,
    wilcoxon_signed_rank,
)


def _runs(both: int, regressed: int, fixed: int, neither: int) -> tuple[list[int], list[int]]:
    """Baseline and candidate outcomes with the given 2x2 counts."""
    baseline = [1] * both + [1] * regressed + [0] * fixed + [0] * neither
    candidate = [1] * both + [0] * regressed + [1] * fixed + [0] * neither
    return baseline, candidate


def test_mcnemar_published_example() -> None:
    # Fagerland, Lydersen & Laake 2013, "The McNemar test for binary matched-pairs
    # data: mid-p and asymptotic are better than exact conditional", BMC Medical
    # Research Methodology 13:91, the airway hyper-responsiveness example (Bentur
    # et al. 2009): 21 pairs, discordant counts 1 and 7. Published: exact
    # conditional P = 0.070 (= 2 * 9/256), asymptotic P = 0.034.
    baseline, candidate = _runs(both=1, regressed=7, fixed=1, neither=12)
    result = mcnemar_exact(baseline, candidate)
    assert result == SignificanceTest("mcnemar-exact", pytest.approx(18 / 256), 1.0)
    assert round(result.p_value or 0.0, 3) == 0.070


@pytest.mark.parametrize("seed", range(5))
def test_mcnemar_equals_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    baseline = rng.random(150) < 0.7
    candidate = np.where(rng.random(150) < 0.15, ~baseline, baseline)
    table = [
        [np.sum(baseline & candidate), np.sum(baseline & ~candidate)],
        [np.sum(~baseline & candidate), np.sum(~baseline & ~candidate)],
    ]
    expected = mcnemar(table, exact=True)
    result = mcnemar_exact(baseline, candidate)
    assert result.p_value == expected.pvalue
    assert result.statistic == expected.statistic


def test_mcnemar_without_discordant_pairs_is_p_one() -> None:
    assert mcnemar_exact([1, 0, 1], [1, 0, 1]).p_value == 1.0


def test_mcnemar_refuses_scores() -> None:
    with pytest.raises(InvalidInput, match="pass/fail"):
        mcnemar_exact([1.0, 0.5], [1.0, 1.0])


def _scipy_wilcoxon(d: np.ndarray) -> tuple[float, float]:
    result = stats.wilcoxon(
        d, zero_method="wilcox", correction=False, alternative="two-sided", method="auto"
    )
    return float(result.statistic), float(result.pvalue)


@pytest.mark.parametrize(
    ("n", "grid"),
    [
        (30, None),  # SciPy's exact distribution (no ties, n <= 50)
        (200, None),  # normal approximation
        # Ties and zeros, n <= 13: SciPy's exhaustive permutation test, which
        # assay runs with a vectorised statistic (SciPy's own call is the slow
        # part of this test: 0.3 s at n = 10, 2.5 s at n = 13).
        (10, 0.25),
        (7, 0.1),
        (300, 0.1),  # ties and zeros: normal approximation with tie correction
    ],
)
def test_wilcoxon_equals_scipy(n: int, grid: float | None) -> None:
    rng = np.random.default_rng(n)
    d = rng.normal(0.05, 0.2, n)
    if grid is not None:
        d = np.round(d / grid) * grid
    d = np.round(d, 12)
    statistic, p_value = _scipy_wilcoxon(d)
    result = wilcoxon_signed_rank(d)
    assert result == SignificanceTest("wilcoxon", p_value, statistic)


def test_wilcoxon_with_all_zero_differences_is_p_one() -> None:
    assert wilcoxon_signed_rank([0.0, 0.0, 0.0]) == SignificanceTest("wilcoxon", 1.0, 0.0)


def test_wilcoxon_sees_floating_point_noise_as_ties() -> None:
    # The differences are +-0.2 and +-0.3 in exact arithmetic, but floating point
    # gives 0.19999999999999996, -0.2, ...; unrounded, SciPy ranks them apart
    # and returns statistic 11.5, p = 0.719 instead of 10.5, p = 0.672.
    baseline = np.array([0.5, 0.5, 0.1, 0.6, 0.2, 0.9, 0.4])
    candidate = np.array([0.7, 0.3, 0.3, 0.4, 0.5, 0.6, 0.8])
    result = paired_test(baseline, candidate)
    statistic, p_value = _scipy_wilcoxon(np.array([0.2, -0.2, 0.2, -0.2, 0.3, -0.3, 0.4]))
    assert result == SignificanceTest("wilcoxon", p_value, statistic)
    assert result.statistic == 10.5


def test_paired_test_picks_mcnemar_only_for_pass_fail() -> None:
    assert paired_test([1, 0, 1], [0, 0, 1]).name == "mcnemar-exact"
    assert paired_test([True, False], [False, False]).name == "mcnemar-exact"
    assert paired_test([1, 0, 1], [0.5, 0, 1]).name == "wilcoxon"


def test_rejects_needs_a_defined_p_value() -> None:
    assert SignificanceTest("wilcoxon", 0.01, 3.0).rejects(0.05)
    assert not SignificanceTest("wilcoxon", 0.05, 3.0).rejects(0.05)
    assert not SignificanceTest("cluster-t", None, None).rejects(0.05)
