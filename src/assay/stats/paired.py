"""Paired comparison of one scorer between a baseline and a candidate run.

Cases are paired (the caller lines them up by case id), so each case is compared
with itself and case-to-case difficulty cancels out of the differences; this is
what makes a paired comparison far more sensitive than comparing two means
(Miller 2024, "Adding Error Bars to Evals", arXiv 2411.00640).

Independent cases: percentile paired bootstrap CI of the mean difference, exact
McNemar p-value for pass/fail outcomes or Wilcoxon signed-rank for continuous
scores, and the MDE from the standard deviation of the differences.

Clustered cases: the bootstrap resamples whole clusters, the standard error is
cluster-robust, the p-value comes from the cluster-robust t-test with G-1 degrees
of freedom (McNemar and Wilcoxon assume independent cases), and the MDE uses the
cluster-robust standard error with G units.

Undefined statistics are None with a sentence in ``notes`` saying why; they are
never NaN. No cases at all is an :class:`~assay.errors.InvalidInput`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from assay.errors import InvalidInput
from assay.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    BootstrapInterval,
    bootstrap_mean_interval,
    check_bootstrap_args,
)
from assay.stats.clustered import cluster_robust_mean
from assay.stats.grouped import bootstrap_group_intervals, check_groups
from assay.stats.inputs import ClusterLabels, PairedScores, cluster_index, paired_scores
from assay.stats.power import DEFAULT_POWER, minimum_detectable_effect
from assay.stats.significance import SignificanceTest, paired_test


@dataclass(frozen=True, slots=True)
class PairedComparison:
    """One scorer compared between two runs over the same cases.

    Attributes:
        n: Number of paired cases.
        mean_baseline: Mean baseline score (the pass rate for pass/fail).
        mean_candidate: Mean candidate score.
        delta: Mean of candidate minus baseline; negative is a drop.
        ci: Bootstrap confidence interval of ``delta`` (cluster bootstrap when
            clustered); None with fewer than 2 cases or clusters.
        test: The significance test used and its p-value.
        standard_error: Standard error of ``delta`` (cluster-robust when
            clustered); None with fewer than 2 cases or clusters.
        mde: Minimum detectable effect: the smallest true drop (or gain) this
            comparison detects with probability ``power`` at level ``alpha``.
            None when undefined (fewer than 2 units, or differences with zero
            variance, which say nothing about how much they could vary).
        alpha: Significance level the MDE was computed for.
        power: Power the MDE was computed for.
        binary: True when both runs are pass/fail (only 0 and 1).
        clusters: Number of distinct clusters when cluster labels were given
            (the statistics are then cluster-robust), else None.
        worse: Cases where the candidate scored lower (regressed).
        better: Cases where the candidate scored higher (fixed or improved).
        tied: Cases with equal scores.
        notes: Why any statistic is None or degenerate, in plain sentences.
    """

    n: int
    mean_baseline: float
    mean_candidate: float
    delta: float
    ci: BootstrapInterval | None
    test: SignificanceTest
    standard_error: float | None
    mde: float | None
    alpha: float
    power: float
    binary: bool
    clusters: int | None
    worse: int
    better: int
    tied: int
    notes: tuple[str, ...] = ()

    @property
    def clustered(self) -> bool:
        """Whether cluster-robust statistics were used."""
        return self.clusters is not None

    @property
    def p_value(self) -> float | None:
        """The test's two-sided p-value, None when undefined."""
        return self.test.p_value

    @property
    def significant(self) -> bool:
        """Whether the p-value is defined and below ``alpha``."""
        return self.test.rejects(self.alpha)


def compare_paired(
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    clusters: ClusterLabels | None = None,
    alpha: float = 0.05,
    power: float = DEFAULT_POWER,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> PairedComparison:
    """Compare a candidate run with a baseline run on the same cases.

    Args:
        baseline: Baseline scores, one per case (0/1 for pass/fail).
        candidate: Candidate scores for the same cases in the same order.
        clusters: Optional cluster label per case (source document,
            conversation, session). When given, every statistic is
            cluster-robust; ``None`` labels are clusters of one.
        alpha: Two-sided significance level, used for the MDE and
            :attr:`PairedComparison.significant`.
        power: Power for the MDE.
        confidence: Coverage of the bootstrap interval.
        resamples: Bootstrap resamples.
        seed: Bootstrap seed, recorded in the interval.

    Returns:
        The comparison.

    Raises:
        InvalidInput: If there are no cases, the arrays differ in length or hold
            non-finite values, the cluster labels do not match the cases, or an
            argument is out of range.
    """
    pair = paired_scores(baseline, candidate)
    _check(confidence, resamples, seed, alpha, power)
    found = _independent(pair) if clusters is None else _clustered(pair, clusters)
    ci = None
    if found.units >= 2:
        ci = bootstrap_mean_interval(
            pair.differences, clusters, confidence=confidence, resamples=resamples, seed=seed
        )
    return _assemble(pair, found, ci, clusters is not None, alpha, power)


def compare_paired_groups(
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    groups: Sequence[Sequence[int]],
    *,
    clusters: ClusterLabels | None = None,
    alpha: float = 0.05,
    power: float = DEFAULT_POWER,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[PairedComparison, list[PairedComparison]]:
    """Compare all cases and each of some disjoint groups of them (one slice attribute).

    The same as :func:`compare_paired` on all cases and then on each group, except
    that without clusters the bootstrap intervals share their random draws
    (:func:`assay.stats.grouped.bootstrap_group_intervals`): each interval is the
    same bootstrap in distribution, for about half the draws.

    Args:
        baseline: Baseline scores, one per case.
        candidate: Candidate scores for the same cases in the same order.
        groups: Disjoint lists of case positions.
        clusters: Optional cluster label per case; with clusters every group is
            compared on its own (cluster bootstrap).
        alpha: As for :func:`compare_paired`.
        power: As for :func:`compare_paired`.
        confidence: As for :func:`compare_paired`.
        resamples: As for :func:`compare_paired`.
        seed: As for :func:`compare_paired`.

    Returns:
        The comparison over all cases and one per group, in the order given.

    Raises:
        InvalidInput: As :func:`compare_paired`, and for groups that are empty,
            out of range or overlapping.
    """
    pair = paired_scores(baseline, candidate)
    _check(confidence, resamples, seed, alpha, power)
    check_groups(groups, pair.n)
    if clusters is not None or pair.n < 2:
        labels = list(clusters) if clusters is not None else None

        def alone(at: Sequence[int]) -> PairedComparison:
            return compare_paired(
                pair.baseline[list(at)],
                pair.candidate[list(at)],
                clusters=None if labels is None else [labels[i] for i in at],
                alpha=alpha,
                power=power,
                confidence=confidence,
                resamples=resamples,
                seed=seed,
            )

        return alone(range(pair.n)), [alone(group) for group in groups]
    ci, cis = bootstrap_group_intervals(
        pair.differences, groups, confidence=confidence, resamples=resamples, seed=seed
    )
    overall = _assemble(pair, _independent(pair), ci, False, alpha, power)
    parts = []
    for group, group_ci in zip(groups, cis, strict=True):
        at = list(group)
        sub = paired_scores(pair.baseline[at], pair.candidate[at])
        parts.append(_assemble(sub, _independent(sub), group_ci, False, alpha, power))
    return overall, parts


def _check(confidence: float, resamples: int, seed: int, alpha: float, power: float) -> None:
    check_bootstrap_args(confidence, resamples, seed)
    if not 0.0 < alpha < 1.0:
        raise InvalidInput(f"alpha must be between 0 and 1, got {alpha}")
    if not alpha < power < 1.0:
        raise InvalidInput(f"power must be between alpha ({alpha}) and 1, got {power}")


def _assemble(
    pair: PairedScores,
    found: _Inference,
    ci: BootstrapInterval | None,
    clustered: bool,
    alpha: float,
    power: float,
) -> PairedComparison:
    d = pair.differences
    notes = list(found.notes)
    mde = _mde(pair, found, alpha, power, notes)
    return PairedComparison(
        n=pair.n,
        mean_baseline=float(pair.baseline.mean()),
        mean_candidate=float(pair.candidate.mean()),
        delta=float(d.mean()),
        ci=ci,
        test=found.test,
        standard_error=found.standard_error,
        mde=mde,
        alpha=alpha,
        power=power,
        binary=pair.binary,
        clusters=found.units if clustered else None,
        worse=int(np.count_nonzero(d < 0)),
        better=int(np.count_nonzero(d > 0)),
        tied=int(np.count_nonzero(d == 0)),
        notes=tuple(notes),
    )


@dataclass(frozen=True, slots=True)
class _Inference:
    """The test and standard error, over ``units`` independent cases or clusters."""

    test: SignificanceTest
    standard_error: float | None
    units: int
    unit_name: str
    notes: tuple[str, ...] = ()


def _independent(pair: PairedScores) -> _Inference:
    """Exact McNemar or Wilcoxon, and the plain standard error of the mean."""
    d = pair.differences
    test = paired_test(pair.baseline, pair.candidate)
    if pair.n < 2:
        note = "one case: the interval, standard error and MDE need at least 2"
        return _Inference(test, None, pair.n, "cases", (note,))
    # ptp, not std: the std of equal values can come out as 1e-17.
    spread = float(d.std(ddof=1)) if np.ptp(d) > 0 else 0.0
    return _Inference(test, spread / math.sqrt(pair.n), pair.n, "cases")


def _clustered(pair: PairedScores, clusters: ClusterLabels) -> _Inference:
    """The cluster-robust t-test and standard error."""
    count = cluster_index(clusters, pair.n).count
    if count < 2:
        note = (
            "all cases are in a single cluster: the cluster-robust p-value, standard "
            "error, interval and MDE are undefined"
        )
        return _Inference(
            SignificanceTest("cluster-t", None, None), None, count, "clusters", (note,)
        )
    robust = cluster_robust_mean(pair.differences, clusters)
    return _Inference(robust.test, robust.standard_error, count, "clusters")


def _mde(
    pair: PairedScores, found: _Inference, alpha: float, power: float, notes: list[str]
) -> float | None:
    """The MDE, or None with a note saying why it is undefined."""
    if found.standard_error is None:
        return None
    if found.standard_error == 0.0:
        spread = (
            "every paired difference is equal"
            if np.ptp(pair.differences) == 0
            else "every cluster has the same mean difference"
        )
        notes.append(
            f"{spread}: the standard error is 0, so the MDE is undefined and the "
            "interval has zero width"
        )
        return None
    try:
        return minimum_detectable_effect(
            found.standard_error, found.units, alpha=alpha, power=power
        )
    except InvalidInput as exc:
        notes.append(f"the MDE is undefined with {found.units} {found.unit_name}: {exc}")
        return None
