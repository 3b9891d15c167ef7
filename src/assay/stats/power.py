"""Minimum detectable effect: the smallest true change a comparison would likely catch.

For m independent units (cases, or clusters when cases are clustered) whose mean
difference has standard error SE, the minimum detectable effect (MDE) at
significance level alpha and power 1 - beta is

    MDE = d(m, alpha, power) * sqrt(m) * SE

where d is the standardised effect size at which a two-sided one-sample t-test
with m observations (m - 1 degrees of freedom) has the requested power; d solves
the non-central t power equation in :class:`statsmodels.stats.power.TTestPower`.
For large m this is the familiar normal approximation
``(z_{1-alpha/2} + z_{power}) * SE`` = 2.80 SE at alpha 0.05 and 80% power; for
small m the t distribution makes it larger. For independent cases
``SE = sd(differences) / sqrt(n)``, so ``MDE = d * sd``.

This is the paired t-test's MDE. The comparison reports exact McNemar (pass/fail)
or Wilcoxon (continuous) p-values for independent cases, whose power at this
effect is a little lower: simulated in ``tests/stats/test_power.py``, 77% for
exact McNemar on 1,000 pass/fail cases (the exact test is conservative) and 77%
for Wilcoxon on 100 normal differences (its efficiency relative to the t-test is
0.955); with clusters the reported test is this t-test (81% simulated).
See Miller 2024, "Adding Error Bars to Evals" (arXiv 2411.00640), on power
analysis for evals.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from statsmodels.stats.power import TTestPower

from assay.errors import InvalidInput

DEFAULT_POWER = 0.8
"""The conventional 80% power (Cohen 1988)."""

# The solver's answer is accepted if its power is this close to the target:
# statsmodels' solve_power returns a wrong root silently when it fails (n=2,
# alpha=0.001, power=0.99 returns d=10, whose power is 0.02).
_POWER_TOLERANCE = 1e-4


def minimum_detectable_effect(
    standard_error: float,
    units: int,
    *,
    alpha: float = 0.05,
    power: float = DEFAULT_POWER,
) -> float:
    """The smallest true mean difference detected with probability ``power``.

    Args:
        standard_error: Standard error of the mean difference (cluster-robust
            when cases are clustered); must be positive.
        units: Independent units behind it: cases, or clusters when clustered.
        alpha: Two-sided significance level.
        power: Desired probability of detecting the effect.

    Returns:
        The MDE, in the units of the scores (0.05 is five percentage points of
        pass rate).

    Raises:
        InvalidInput: If an argument is out of range, or the power equation has
            no reliable solution (tiny ``units`` with extreme alpha and power).
    """
    if not (math.isfinite(standard_error) and standard_error > 0.0):
        raise InvalidInput(f"standard_error must be positive, got {standard_error}")
    if isinstance(units, bool) or not isinstance(units, int) or units < 2:
        raise InvalidInput(f"the MDE needs at least 2 independent units, got {units!r}")
    if not 0.0 < alpha < 1.0:
        raise InvalidInput(f"alpha must be between 0 and 1, got {alpha}")
    if not alpha < power < 1.0:
        raise InvalidInput(f"power must be between alpha ({alpha}) and 1, got {power}")
    return _standardised_effect(units, alpha, power) * math.sqrt(units) * standard_error


# Solving the power equation takes about 5 ms; comparisons repeat the same
# (units, alpha, power) for every scorer and for slices of equal size.
@functools.lru_cache(maxsize=4096)
def _standardised_effect(units: int, alpha: float, power: float) -> float:
    """The effect in standard deviations at which the t-test reaches ``power``."""
    analysis = TTestPower()
    # solve_power returns a float or a 1-element array depending on which root
    # finder succeeded (a float for nobs=100, an array for nobs=120).
    effect = _scalar(
        analysis.solve_power(
            effect_size=None, nobs=units, alpha=alpha, power=power, alternative="two-sided"
        )
    )
    reached = _scalar(analysis.power(effect, units, alpha, alternative="two-sided"))
    if not (math.isfinite(reached) and abs(reached - power) <= _POWER_TOLERANCE):
        raise InvalidInput(
            f"no reliable effect size reaches power {power} with {units} units at alpha {alpha}"
        )
    return effect


def _scalar(value: object) -> float:
    """A float from a float or a one-element array."""
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])
