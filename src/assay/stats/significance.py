"""Significance tests for paired cases assumed independent: exact McNemar and Wilcoxon.

- Pass/fail outcomes: the exact McNemar test (a binomial test on the discordant
  pairs: cases that passed in one run and failed in the other), from
  :func:`statsmodels.stats.contingency_tables.mcnemar` with ``exact=True``.
  Exact rather than the chi-square version because eval sets often have few
  discordant pairs, where the chi-square approximation is poor.
- Continuous scores: the Wilcoxon signed-rank test of the differences, from
  :func:`scipy.stats.wilcoxon`, which makes no normality assumption. Zero
  differences are dropped (Wilcoxon's own rule, ``zero_method="wilcox"``).

Both assume the cases are independent. With clustered cases use the
cluster-robust test in :mod:`assay.stats.clustered` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from assay.errors import InvalidInput
from assay.stats.inputs import DIFFERENCE_DECIMALS, FloatArray, paired_scores, score_array

# SciPy's method="auto" runs an exhaustive sign-flip permutation test when there
# are at most 13 differences with ties or zeros (2**13 = 8,192 sign patterns fit
# in its default 9,999 resamples), but evaluates the statistic once per pattern
# in Python: 1.3 s at n = 12 and 2.5 s at n = 13 on the dev machine, for every
# small slice. The same test with a vectorised statistic gives the same p-value
# (tests hold it to SciPy) in milliseconds.
_EXHAUSTIVE_MAX_N = 13
_PERMUTATIONS = 9_999

TestName: TypeAlias = Literal["mcnemar-exact", "wilcoxon", "cluster-t"]
"""Which test produced a p-value: exact McNemar (pass/fail), Wilcoxon signed-rank
(continuous), or the cluster-robust t-test (clustered cases)."""


@dataclass(frozen=True, slots=True)
class SignificanceTest:
    """The outcome of a two-sided test of "no difference between the runs".

    Attributes:
        name: The test used.
        p_value: The two-sided p-value, or None when the test is undefined
            (a cluster-robust test with a single cluster).
        statistic: The test statistic: for ``mcnemar-exact`` the smaller of the
            two discordant counts, for ``wilcoxon`` the smaller of the signed-rank
            sums, for ``cluster-t`` the t statistic. None when undefined (also
            for ``cluster-t`` when the standard error is 0).
        df: Degrees of freedom of the t distribution for ``cluster-t`` (clusters
            minus one); None for the other tests.
    """

    name: TestName
    p_value: float | None
    statistic: float | None
    df: int | None = None

    def rejects(self, alpha: float) -> bool:
        """Whether the p-value is defined and below ``alpha``.

        Args:
            alpha: The significance level.

        Returns:
            True if the null hypothesis of no difference is rejected.
        """
        return self.p_value is not None and self.p_value < alpha


def mcnemar_exact(baseline: npt.ArrayLike, candidate: npt.ArrayLike) -> SignificanceTest:
    """Exact McNemar test of paired pass/fail outcomes.

    Args:
        baseline: 0/1 (or boolean) outcomes of the baseline run.
        candidate: 0/1 outcomes of the candidate run, same cases in the same order.

    Returns:
        The test; with no discordant pairs the p-value is 1.

    Raises:
        InvalidInput: If the arrays are malformed, differ in length, are empty,
            or hold values other than 0 and 1.
    """
    pair = paired_scores(baseline, candidate)
    if not pair.binary:
        raise InvalidInput("the McNemar test needs pass/fail outcomes (0 or 1) in both runs")
    base = pair.baseline == 1.0
    cand = pair.candidate == 1.0
    # Rows: baseline pass/fail; columns: candidate pass/fail.
    table = np.array(
        [
            [np.sum(base & cand), np.sum(base & ~cand)],
            [np.sum(~base & cand), np.sum(~base & ~cand)],
        ]
    )
    result = mcnemar(table, exact=True)
    return SignificanceTest("mcnemar-exact", float(result.pvalue), float(result.statistic))


def wilcoxon_signed_rank(differences: npt.ArrayLike) -> SignificanceTest:
    """Wilcoxon signed-rank test that the paired differences are centred on zero.

    Calls ``scipy.stats.wilcoxon(d, zero_method="wilcox", correction=False,
    alternative="two-sided", method="auto")`` after rounding the differences to
    12 decimals (so that floating-point noise does not break ties). SciPy's
    ``auto`` is deterministic: exact for up to 50 differences without ties or
    zeros, an exhaustive permutation test for up to 13 with them (run here with
    a vectorised statistic, same p-value, ~1000 times faster), the normal
    approximation otherwise.

    Args:
        differences: Candidate minus baseline, one per case.

    Returns:
        The test. When every difference is zero there is no evidence of any
        change: p = 1 and statistic 0 (SciPy itself would return NaN).

    Raises:
        InvalidInput: If the differences are malformed or empty.
    """
    d = np.round(score_array(differences, "differences"), DIFFERENCE_DECIMALS)
    if d.size == 0:
        raise InvalidInput("the Wilcoxon test needs at least one difference")
    if not np.any(d):
        return SignificanceTest("wilcoxon", 1.0, 0.0)
    nonzero = d[d != 0]
    tied = np.unique(np.abs(nonzero)).size < nonzero.size
    if d.size <= _EXHAUSTIVE_MAX_N and (tied or nonzero.size < d.size):
        return _exhaustive_signed_rank(d)
    result = stats.wilcoxon(
        d, zero_method="wilcox", correction=False, alternative="two-sided", method="auto"
    )
    return SignificanceTest("wilcoxon", float(result.pvalue), float(result.statistic))


def _exhaustive_signed_rank(d: FloatArray) -> SignificanceTest:
    """SciPy's own small-sample path (an exhaustive sign-flip permutation test of
    the positive rank sum, zeros dropped from the ranking) with a vectorised
    statistic."""
    ranks = np.zeros(d.size)
    nonzero = d != 0
    ranks[nonzero] = stats.rankdata(np.abs(d[nonzero]))

    def positive_rank_sum(flipped: FloatArray, axis: int) -> FloatArray:
        return np.asarray(np.sum(np.where(flipped > 0, ranks, 0.0), axis=axis))

    result = stats.permutation_test(
        (d,),
        positive_rank_sum,
        permutation_type="samples",
        vectorized=True,
        n_resamples=_PERMUTATIONS,
        alternative="two-sided",
    )
    observed = float(positive_rank_sum(d, -1))
    statistic = min(observed, float(ranks.sum()) - observed)
    return SignificanceTest("wilcoxon", float(result.pvalue), statistic)


def paired_test(baseline: npt.ArrayLike, candidate: npt.ArrayLike) -> SignificanceTest:
    """The test :func:`~assay.stats.paired.compare_paired` uses for independent cases.

    Args:
        baseline: Baseline scores.
        candidate: Candidate scores, same cases in the same order.

    Returns:
        Exact McNemar when both runs are pass/fail (only 0 and 1), else Wilcoxon
        signed-rank on the differences.

    Raises:
        InvalidInput: If the arrays are malformed, differ in length, or are empty.
    """
    pair = paired_scores(baseline, candidate)
    if pair.binary:
        return mcnemar_exact(pair.baseline, pair.candidate)
    return wilcoxon_signed_rank(pair.differences)
