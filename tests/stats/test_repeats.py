"""Repeats: pass@k, pass^k and flakiness on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InvalidInput
from assay.stats.repeats import RepeatSummary, summarize_repeats

# Three cases, three samples each: always passes, passes 2 of 3, never passes.
OUTCOMES = [[1, 1, 1], [1, 0, 1], [0, 0, 0]]


def test_k2_by_hand() -> None:
    # Case 2 (c=2 of n=3): pass@2 = 1 - C(1,2)/C(3,2) = 1; pass^2 = C(2,2)/C(3,2) = 1/3.
    result = summarize_repeats(OUTCOMES, k=2)
    assert result == RepeatSummary(
        cases=3,
        k=2,
        passes=(3, 2, 0),
        samples=(3, 3, 3),
        pass_rate=pytest.approx(5 / 9),
        pass_at_k=pytest.approx(2 / 3),
        pass_hat_k=pytest.approx(4 / 9),
        flaky_cases=(1,),
        flakiness_rate=pytest.approx(1 / 3),
    )


def test_k_defaults_to_all_samples() -> None:
    # k = n: pass^k is "every sample passed", pass@k "some sample passed".
    result = summarize_repeats(np.array(OUTCOMES, dtype=bool))
    assert result.k == 3
    assert result.pass_hat_k == pytest.approx(1 / 3)
    assert result.pass_at_k == pytest.approx(2 / 3)


def test_k1_is_the_plain_pass_rate() -> None:
    result = summarize_repeats(OUTCOMES, k=1)
    assert result.pass_at_k == pytest.approx(result.pass_rate)
    assert result.pass_hat_k == pytest.approx(result.pass_rate)


def test_cases_may_have_different_sample_counts() -> None:
    # Case 2: c=2 of n=4, k=2: pass@2 = 1 - C(2,2)/C(4,2) = 5/6; pass^2 = 1/6.
    result = summarize_repeats([[True, True], [True, False, False, True]], k=2)
    assert result.pass_at_k == pytest.approx((1 + 5 / 6) / 2)
    assert result.pass_hat_k == pytest.approx((1 + 1 / 6) / 2)
    assert result.flaky_cases == (1,)
    assert result.samples == (2, 4)


def test_pass_hat_k_falls_with_k_for_a_flaky_target() -> None:
    outcomes = [[1, 1, 1, 0, 1, 1, 1, 1, 0, 1]] * 4
    values = [summarize_repeats(outcomes, k=k).pass_hat_k for k in (1, 2, 4, 8)]
    # c=8 of 10: C(8,k)/C(10,k) = 0.8, 0.6222, 0.3333, 0.0222.
    assert values == pytest.approx([0.8, 28 / 45, 70 / 210, 1 / 45])
    assert summarize_repeats(outcomes).flakiness_rate == 1.0


def test_bad_outcomes_are_refused() -> None:
    with pytest.raises(InvalidInput, match="outcomes is empty"):
        summarize_repeats([])
    with pytest.raises(InvalidInput, match=r"outcomes\[1\] has no samples"):
        summarize_repeats([[1], []])
    with pytest.raises(InvalidInput, match=r"outcomes\[0\] must be pass/fail"):
        summarize_repeats([[0.5, 1]])
    with pytest.raises(InvalidInput, match=r"k=3 but outcomes\[1\] has only 2 samples"):
        summarize_repeats([[1, 1, 1], [1, 0]], k=3)
    with pytest.raises(InvalidInput, match="k must be a positive integer"):
        summarize_repeats([[1, 1]], k=0)
