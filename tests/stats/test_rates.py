"""Single pass rates: Wilson interval equal to statsmodels; rule of three at zero failures."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from assay.errors import InvalidInput
from assay.stats.rates import PassRate, pass_rate


@pytest.mark.parametrize(("passes", "n"), [(0, 5), (3, 10), (97, 100), (412, 500), (1, 1)])
def test_wilson_equals_statsmodels(passes: int, n: int) -> None:
    low, high = proportion_confint(passes, n, alpha=0.05, method="wilson")
    result = pass_rate(passes, n)
    assert (result.low, result.high) == (low, high)
    assert result.rate == passes / n
    assert result.failures == n - passes


def test_other_confidence_levels_pass_through() -> None:
    low, high = proportion_confint(40, 50, alpha=0.1, method="wilson")
    assert pass_rate(40, 50, confidence=0.9) == PassRate(40, 50, 0.8, low, high, 0.9, None)


def test_rule_of_three_exactly_when_nothing_failed() -> None:
    perfect = pass_rate(200, 200)
    assert perfect.rate == 1.0
    assert perfect.failure_rate_upper_95 == pytest.approx(0.015)
    # The Wilson interval does not reach 100% either.
    assert perfect.low < 1.0
    assert pass_rate(199, 200).failure_rate_upper_95 is None
    assert pass_rate(0, 200).failure_rate_upper_95 is None


def test_rule_of_three_is_capped_at_one_for_tiny_n() -> None:
    assert pass_rate(2, 2).failure_rate_upper_95 == 1.0
    assert pass_rate(3, 3).failure_rate_upper_95 == 1.0
    assert pass_rate(6, 6).failure_rate_upper_95 == 0.5


def test_bad_counts_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one case"):
        pass_rate(0, 0)
    with pytest.raises(InvalidInput, match="between 0 and n=3"):
        pass_rate(4, 3)
    with pytest.raises(InvalidInput, match="passes must be an integer"):
        pass_rate(1.5, 3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="confidence"):
        pass_rate(1, 3, confidence=95)
