"""Bootstrap intervals of a mean and of its disjoint groups' means, from shared draws.

A comparison wants the interval of the overall mean difference and of each slice's
(``lang=en``, ``lang=de``, ...). Done one by one, the slices of one attribute need
as many random draws again as the overall interval: 10,000 resamples of 10,000
continuous differences is 10^8 uniform draws each time, about half a second of
random numbers alone on a small machine.

The draws can be shared without changing either bootstrap. One plain resample is
n independent uniform draws over all cases. The same thing is got by first drawing
how many of them land in each group, ``K ~ Multinomial(n, n_g / n)``, and then
``K_g`` uniform draws inside each group (cases in no group form one more stratum).
A group's own bootstrap resample is ``n_g`` uniform draws inside the group. So each
group draws ``max(K_g, n_g)`` indices: the first ``K_g`` go into the overall
resample and the first ``n_g`` are the group's resample. Each interval is exactly
the plain percentile bootstrap it replaces, in distribution though not draw for
draw, and a resample costs about ``n + sum |K_g - n_g|`` draws instead of ``2n``.
Strata draw from their own generators, spawned from the seed, so they run on
threads (NumPy releases the GIL while drawing and summing) and the result does not
depend on how many.

Differences with few distinct values (pass/fail) take
:func:`assay.stats.bootstrap_mean_interval`'s multinomial path per group instead,
which costs milliseconds; there the numbers equal the one-by-one intervals exactly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from assay.errors import InvalidInput
from assay.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    BootstrapInterval,
    bootstrap_mean_interval,
    check_bootstrap_args,
    has_few_distinct,
    percentile_interval,
)
from assay.stats.inputs import FloatArray, IntArray, score_array

# Index-matrix chunk, in elements, per stratum and thread: 512 KiB of int64 indices
# stays in cache through the gather and the sums (measured faster than 2**18-2**20).
_CHUNK_ELEMENTS = 1 << 16

# Below this many draws (~25 ms of work here) threads cost more than they save.
_THREADED_DRAWS = 1 << 22


def bootstrap_group_intervals(
    values: npt.ArrayLike,
    groups: Sequence[Sequence[int]],
    *,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[BootstrapInterval, list[BootstrapInterval | None]]:
    """Percentile bootstrap intervals of the mean of ``values`` and of each group's.

    Args:
        values: One value per case, e.g. paired differences.
        groups: Disjoint lists of case positions, e.g. the cases of each value of
            one slice attribute. Cases in no group count only for the overall mean.
        confidence: Two-sided coverage, e.g. 0.95.
        resamples: Number of bootstrap resamples.
        seed: Seed of the draws; recorded in every interval.

    Returns:
        The overall interval, and one interval per group (None for a group of one
        case, which has no interval).

    Raises:
        InvalidInput: Fewer than 2 cases, a group that is empty, out of range or
            overlaps another, malformed values, or an argument out of range.
    """
    check_bootstrap_args(confidence, resamples, seed)
    array = score_array(values, "values")
    if array.size < 2:
        raise InvalidInput(f"a bootstrap interval needs at least 2 cases, got {array.size}")
    members = check_groups(groups, array.size)

    def alone(positions: IntArray) -> BootstrapInterval | None:
        if positions.size < 2:
            return None
        return bootstrap_mean_interval(
            array[positions], confidence=confidence, resamples=resamples, seed=seed
        )

    if has_few_distinct(array):
        overall = bootstrap_mean_interval(
            array, confidence=confidence, resamples=resamples, seed=seed
        )
        return overall, [alone(m) for m in members]

    assigned = np.zeros(array.size, dtype=bool)
    for m in members:
        assigned[m] = True
    rest = np.flatnonzero(~assigned)
    strata = [array[m] for m in members] + ([array[rest]] if rest.size else [])
    sizes = np.array([s.size for s in strata], dtype=np.float64)
    streams = np.random.SeedSequence(seed).spawn(len(strata) + 1)
    landed = np.random.default_rng(streams[0]).multinomial(
        array.size, sizes / array.size, size=resamples
    )

    def draw(s: int) -> tuple[FloatArray, FloatArray | None]:
        own = strata[s].size if s < len(members) and strata[s].size >= 2 else 0
        rng = np.random.default_rng(streams[s + 1])
        return _stratum_sums(strata[s], landed[:, s], own, rng)

    workers = min(len(strata), _cpus()) if array.size * resamples >= _THREADED_DRAWS else 1
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(draw, range(len(strata))))
    else:
        parts = [draw(s) for s in range(len(strata))]
    overall_sums = np.zeros(resamples, dtype=np.float64)
    for shared, _ in parts:
        overall_sums += shared
    overall = percentile_interval(overall_sums / array.size, confidence, resamples, seed, None)
    intervals: list[BootstrapInterval | None] = []
    for s, m in enumerate(members):
        own_sums = parts[s][1]
        intervals.append(
            None
            if own_sums is None
            else percentile_interval(own_sums / m.size, confidence, resamples, seed, None)
        )
    return overall, intervals


def check_groups(groups: Sequence[Sequence[int]], n: int) -> list[IntArray]:
    """The groups as index arrays, checked to be non-empty, in range and disjoint.

    Raises:
        InvalidInput: Naming the first group that is not.
    """
    seen = np.zeros(n, dtype=bool)
    members: list[IntArray] = []
    for number, group in enumerate(groups):
        positions = np.asarray(group, dtype=np.intp).reshape(-1)
        if positions.size == 0:
            raise InvalidInput(f"group {number} is empty")
        if positions.min() < 0 or positions.max() >= n:
            raise InvalidInput(f"group {number} names a case outside 0..{n - 1}")
        if np.unique(positions).size != positions.size or seen[positions].any():
            raise InvalidInput(f"group {number} repeats a case or overlaps an earlier group")
        seen[positions] = True
        members.append(positions)
    return members


def _stratum_sums(
    values: FloatArray, landed: IntArray, own: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray | None]:
    """Per resample: the sum of the first ``landed[b]`` draws, and of the first ``own``.

    Each row draws ``max(landed.max(), own)`` indices; columns past a row's need are
    drawn and ignored, which keeps the work in whole-matrix NumPy operations. The
    sums up to the smaller of the two counts are shared, and the columns between the
    row's smallest and largest count (a band a few standard deviations of ``K``
    wide) are masked per row.
    """
    resamples = landed.size
    shared = np.zeros(resamples, dtype=np.float64)
    mine = np.zeros(resamples, dtype=np.float64) if own else None
    if max(int(landed.max()), own) == 0:
        return shared, mine
    # Rows per chunk from the widest row overall; each chunk draws only as wide as
    # its own widest row.
    step = max(1, _CHUNK_ELEMENTS // max(int(landed.max()), own))
    for start in range(0, resamples, step):
        stop = min(resamples, start + step)
        counts = landed[start:stop]
        width = max(int(counts.max()), own)
        if width == 0:
            continue
        drawn = np.take(values, rng.integers(0, values.size, size=(stop - start, width)))
        low = min(int(counts.min()), own) if own else int(counts.min())
        base = drawn[:, :low].sum(axis=1)
        band = drawn[:, low:]
        columns = np.arange(low, width)
        shared[start:stop] = base + np.where(columns < counts[:, None], band, 0.0).sum(axis=1)
        if mine is not None:
            mine[start:stop] = base + band[:, : own - low].sum(axis=1)
    return shared, mine


def _cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
