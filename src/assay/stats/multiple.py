"""Holm correction for a family of p-values, e.g. one per slice of a comparison.

Testing every slice at alpha makes some slice "significant" by chance as slices
multiply. Holm's step-down procedure (Holm 1979, Scand. J. Statist. 6:65-70)
controls the family-wise error rate at alpha under any dependence between the
tests and is uniformly more powerful than Bonferroni. Computed by
:func:`statsmodels.stats.multitest.multipletests` with ``method="holm"``.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.multitest import multipletests

from assay.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class HolmCorrection:
    """Holm-adjusted p-values, aligned with the input.

    Attributes:
        alpha: Family-wise error rate the rejections control.
        p_values: The raw p-values as given (None where a test was undefined).
        adjusted: Holm-adjusted p-values; None where the raw one is None.
            Compare an adjusted p-value with ``alpha`` directly.
        reject: Whether each hypothesis is rejected at family-wise ``alpha``;
            False where the p-value is None.
        family: How many defined p-values formed the family.
    """

    alpha: float
    p_values: tuple[float | None, ...]
    adjusted: tuple[float | None, ...]
    reject: tuple[bool, ...]
    family: int


def holm(p_values: Sequence[float | None], *, alpha: float = 0.05) -> HolmCorrection:
    """Adjust p-values by Holm's step-down method.

    Args:
        p_values: Raw p-values. None entries (undefined tests, e.g. a slice with
            one cluster) are left out of the family and stay None.
        alpha: Family-wise error rate.

    Returns:
        The adjusted p-values and rejections, in input order.

    Raises:
        InvalidInput: If a p-value is outside [0, 1] or NaN, or alpha is not
            between 0 and 1.
    """
    if not 0.0 < alpha < 1.0:
        raise InvalidInput(f"alpha must be between 0 and 1, got {alpha}")
    raw = tuple(p_values)
    defined = [i for i, p in enumerate(raw) if p is not None]
    values = np.array([raw[i] for i in defined], dtype=np.float64)
    for i, p in zip(defined, values, strict=True):
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise InvalidInput(f"p_values[{i}] is {p}; a p-value is between 0 and 1")
    adjusted: list[float | None] = [None] * len(raw)
    reject = [False] * len(raw)
    if defined:
        # statsmodels' Holm branch ends in a full gc.collect() (statsmodels 0.15,
        # multitest.py): 70-180 ms per call in a process with SciPy and
        # statsmodels loaded, and a comparison corrects one family per scorer and
        # slice attribute. Frozen generations are invisible to that collect()
        # (0.3 ms); unfreeze() puts every object back, nothing is lost.
        gc.freeze()
        try:
            rejected, corrected, _, _ = multipletests(values, alpha=alpha, method="holm")
        finally:
            gc.unfreeze()
        for i, flag, p in zip(defined, rejected, corrected, strict=True):
            adjusted[i] = float(p)
            reject[i] = bool(flag)
    return HolmCorrection(alpha, raw, tuple(adjusted), tuple(reject), len(defined))
