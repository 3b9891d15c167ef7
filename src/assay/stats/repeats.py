"""Repeated samples per case for non-deterministic targets: pass@k, pass^k, flakiness.

With ``--repeat`` each case is run several times. Per case with n samples of
which c pass, the unbiased estimators over k of the n samples are

- pass@k = 1 - C(n - c, k) / C(n, k): the chance at least one of k tries passes
  (Chen et al. 2021, "Evaluating Large Language Models Trained on Code",
  arXiv 2107.03374);
- pass^k = C(c, k) / C(n, k): the chance all k tries pass, the reliability a
  user who asks k times experiences (Yao et al. 2024, "tau-bench",
  arXiv 2406.12045);

each averaged over cases. They are computed with exact integer binomial
coefficients (:func:`math.comb`), which neither SciPy nor statsmodels provides
as these estimators. A case is flaky when its samples disagree (some pass, some
fail); the flakiness rate is the share of flaky cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from assay.errors import InvalidInput
from assay.stats.inputs import is_binary, score_array


@dataclass(frozen=True, slots=True)
class RepeatSummary:
    """Reliability of a non-deterministic target over repeated samples.

    Attributes:
        cases: Number of cases.
        k: The k of pass@k and pass^k.
        passes: Passing samples per case, in case order.
        samples: Samples per case, in case order.
        pass_rate: Mean over cases of the per-case pass fraction (pass@1).
        pass_at_k: Mean over cases of P(at least one of k samples passes).
        pass_hat_k: Mean over cases of P(all k samples pass), "pass^k".
        flaky_cases: Positions of the cases whose samples disagree.
        flakiness_rate: ``len(flaky_cases) / cases``.
    """

    cases: int
    k: int
    passes: tuple[int, ...]
    samples: tuple[int, ...]
    pass_rate: float
    pass_at_k: float
    pass_hat_k: float
    flaky_cases: tuple[int, ...]
    flakiness_rate: float


def summarize_repeats(
    outcomes: Sequence[Sequence[bool | int | float]] | npt.NDArray[np.generic],
    *,
    k: int | None = None,
) -> RepeatSummary:
    """Summarise pass/fail outcomes of repeated samples per case.

    Args:
        outcomes: One sequence of 0/1 (or boolean) outcomes per case; cases may
            have different numbers of samples.
        k: The k of pass@k and pass^k; defaults to the smallest number of
            samples of any case. Every case needs at least k samples.

    Returns:
        The summary.

    Raises:
        InvalidInput: If there are no cases, a case has no samples or fewer than
            k, an outcome is not 0 or 1, or k is not a positive integer.
    """
    rows = [score_array(row, f"outcomes[{i}]") for i, row in enumerate(outcomes)]
    if not rows:
        raise InvalidInput("no cases: outcomes is empty")
    for i, row in enumerate(rows):
        if row.size == 0:
            raise InvalidInput(f"outcomes[{i}] has no samples")
        if not is_binary(row):
            raise InvalidInput(f"outcomes[{i}] must be pass/fail (0 or 1)")
    samples = [int(row.size) for row in rows]
    passes = [int(row.sum()) for row in rows]
    if k is None:
        k = min(samples)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidInput(f"k must be a positive integer, got {k!r}")
    short = [i for i, size in enumerate(samples) if size < k]
    if short:
        raise InvalidInput(
            f"k={k} but outcomes[{short[0]}] has only {samples[short[0]]} samples; "
            "every case needs at least k"
        )
    pairs = list(zip(passes, samples, strict=True))
    at_k = [1.0 - math.comb(n - c, k) / math.comb(n, k) for c, n in pairs]
    all_k = [math.comb(c, k) / math.comb(n, k) for c, n in pairs]
    flaky = tuple(i for i, (c, n) in enumerate(pairs) if 0 < c < n)
    cases = len(rows)
    return RepeatSummary(
        cases=cases,
        k=k,
        passes=tuple(passes),
        samples=tuple(samples),
        pass_rate=float(np.mean([c / n for c, n in pairs])),
        pass_at_k=float(np.mean(at_k)),
        pass_hat_k=float(np.mean(all_k)),
        flaky_cases=flaky,
        flakiness_rate=len(flaky) / cases,
    )
