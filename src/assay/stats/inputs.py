"""Checked numeric inputs shared by the statistics: score arrays, pairs, cluster labels.

Every public function in :mod:`assay.stats` runs its arguments through these
checks, so a bad input is an :class:`~assay.errors.InvalidInput` naming the
argument and position, never a NumPy error or a NaN further down.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from assay.errors import InvalidInput

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]
ClusterLabels: TypeAlias = Sequence[Hashable | None] | npt.NDArray[Any]
"""One label per case (a source document, conversation or session id); ``None``
means the case belongs to no cluster and is treated as a cluster of its own."""

DIFFERENCE_DECIMALS = 12
"""Paired differences are rounded to this many decimals. Scores such as 0.7 and
0.5 differ by 0.19999999999999996 in floating point; unrounded, that breaks the
ties and zeros the Wilcoxon test ranks. Scores are in [0, 1] (or small latencies
and costs), so 1e-12 is far below any difference that means something."""


def score_array(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a one-dimensional array of finite floats.

    Args:
        values: Numbers (or booleans, read as 0 and 1).
        name: The argument name used in error messages.

    Returns:
        A float64 array.

    Raises:
        InvalidInput: If the values are not numbers, not one-dimensional, or
            contain NaN or infinity.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be numbers: {exc}") from exc
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise InvalidInput(f"{name}[{bad[0]}] is {array[bad[0]]}; scores must be finite")
    return array


def is_binary(values: FloatArray) -> bool:
    """Whether every value is exactly 0 or 1 (pass/fail outcomes).

    Args:
        values: A checked score array.

    Returns:
        True for pass/fail data.
    """
    return bool(np.all((values == 0.0) | (values == 1.0)))


@dataclass(frozen=True, slots=True)
class PairedScores:
    """Two checked score arrays of equal length and their rounded differences.

    Attributes:
        baseline: Baseline scores, one per case.
        candidate: Candidate scores for the same cases in the same order.
        differences: ``candidate - baseline`` rounded to ``DIFFERENCE_DECIMALS``.
        binary: True when both arrays hold only 0 and 1.
    """

    baseline: FloatArray
    candidate: FloatArray
    differences: FloatArray
    binary: bool

    @property
    def n(self) -> int:
        """The number of paired cases."""
        return int(self.differences.size)


def paired_scores(baseline: npt.ArrayLike, candidate: npt.ArrayLike) -> PairedScores:
    """Check two score arrays paired by position.

    Args:
        baseline: Baseline scores.
        candidate: Candidate scores, same cases in the same order.

    Returns:
        The checked pair.

    Raises:
        InvalidInput: If either array is malformed, the lengths differ, or there
            are no cases.
    """
    base = score_array(baseline, "baseline")
    cand = score_array(candidate, "candidate")
    if base.size != cand.size:
        raise InvalidInput(
            f"baseline has {base.size} scores but candidate has {cand.size}; "
            "paired cases must line up one to one"
        )
    if base.size == 0:
        raise InvalidInput("no paired cases: baseline and candidate are empty")
    differences = np.round(cand - base, DIFFERENCE_DECIMALS)
    return PairedScores(base, cand, differences, is_binary(base) and is_binary(cand))


@dataclass(frozen=True, slots=True)
class ClusterIndex:
    """Cases mapped to clusters numbered ``0 .. count - 1``.

    Attributes:
        codes: The cluster number of each case, in case order.
        count: The number of distinct clusters.
    """

    codes: IntArray
    count: int

    def sums(self, values: FloatArray) -> FloatArray:
        """Sum ``values`` within each cluster.

        Args:
            values: One value per case.

        Returns:
            One total per cluster, indexed by cluster number.
        """
        totals = np.bincount(self.codes, weights=values, minlength=self.count)
        return np.asarray(totals, dtype=np.float64)

    def sizes(self) -> IntArray:
        """The number of cases in each cluster, indexed by cluster number."""
        return np.bincount(self.codes, minlength=self.count)


def cluster_index(labels: ClusterLabels, n: int) -> ClusterIndex:
    """Number the clusters of ``n`` cases in order of first appearance.

    Args:
        labels: One hashable label per case; ``None`` puts the case in a cluster
            of its own.
        n: The number of cases the labels must cover.

    Returns:
        The cluster index.

    Raises:
        InvalidInput: If the number of labels is not ``n`` or a label is not
            hashable.
    """
    if isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in "biuUS":
        if labels.size != n:
            raise InvalidInput(f"clusters has {labels.size} labels but there are {n} cases")
        return _sortable_index(labels)
    items = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
    if len(items) != n:
        raise InvalidInput(f"clusters has {len(items)} labels but there are {n} cases")
    numbers: dict[object, int] = {}
    codes = np.empty(n, dtype=np.intp)
    for position, label in enumerate(items):
        # A fresh object() never equals another key: an unlabelled case is a
        # cluster of one.
        key = object() if label is None else label
        try:
            codes[position] = numbers.setdefault(key, len(numbers))
        except TypeError as exc:
            raise InvalidInput(f"clusters[{position}] is not hashable: {label!r}") from exc
    return ClusterIndex(codes, len(numbers))


def _sortable_index(labels: npt.NDArray[Any]) -> ClusterIndex:
    """The same numbering as the dictionary loop, by sorting: a NumPy array of
    integers or strings is numbered about 3 times faster (0.8 ms for 10,000)."""
    distinct, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    renumber = np.empty(distinct.size, dtype=np.intp)
    renumber[np.argsort(first)] = np.arange(distinct.size, dtype=np.intp)
    return ClusterIndex(renumber[inverse], int(distinct.size))
