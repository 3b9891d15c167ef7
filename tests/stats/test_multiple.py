"""Holm correction: equal to statsmodels, aligned with the input, undefined tests left out."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from assay.errors import InvalidInput
from assay.stats.multiple import HolmCorrection, holm


@pytest.mark.parametrize("seed", range(4))
def test_equals_statsmodels(seed: int) -> None:
    p_values = np.random.default_rng(seed).random(12) ** 3
    reject, adjusted, _, _ = multipletests(p_values, alpha=0.05, method="holm")
    result = holm(p_values.tolist())
    assert result.adjusted == tuple(adjusted.tolist())
    assert result.reject == tuple(reject.tolist())
    assert result.family == 12


def test_hand_computed_step_down() -> None:
    # Sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1 -> 0.04, 0.09, 0.08 -> 0.09
    # (monotone), 0.5. Only the smallest survives at 0.05.
    result = holm([0.04, 0.01, 0.5, 0.03])
    assert result.adjusted == pytest.approx((0.09, 0.04, 0.5, 0.09))
    assert result.reject == (False, True, False, False)


def test_undefined_p_values_stay_out_of_the_family() -> None:
    result = holm([0.01, None, 0.02], alpha=0.05)
    assert result == HolmCorrection(
        alpha=0.05,
        p_values=(0.01, None, 0.02),
        adjusted=(0.02, None, 0.02),
        reject=(True, False, True),
        family=2,
    )
    assert holm([]) == HolmCorrection(0.05, (), (), (), 0)
    assert holm([None]).reject == (False,)


def test_bad_p_values_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"p_values\[1\] is 1.5"):
        holm([0.1, 1.5])
    with pytest.raises(InvalidInput, match=r"p_values\[0\] is nan"):
        holm([float("nan")])
    with pytest.raises(InvalidInput, match="alpha"):
        holm([0.1], alpha=0.0)
