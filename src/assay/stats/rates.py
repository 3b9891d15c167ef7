"""A single pass rate with a Wilson interval, and the rule of three at zero failures.

The Wilson score interval (Wilson 1927, JASA 22:209-212) keeps close to its
nominal coverage for small n and rates near 0 or 1, where the textbook
``p +- 1.96 sqrt(p(1-p)/n)`` interval collapses to zero width (Brown, Cai &
DasGupta 2001, Statist. Sci. 16:101-133). Computed by
:func:`statsmodels.stats.proportion.proportion_confint` with ``method="wilson"``.

A run that passes every case does not show a 100% pass rate: when there are no
failures the result also carries the rule-of-three bound 3/n, the one-sided 95%
upper confidence bound on the failure rate (Hanley & Lippman-Hand 1983, JAMA
249:1743-1745). The exact bound is 1 - 0.05**(1/n); 3/n is never below it, so
the rule errs on the cautious side. It is capped at 1 for n < 3.
"""

from __future__ import annotations

from dataclasses import dataclass

from statsmodels.stats.proportion import proportion_confint

from assay.errors import InvalidInput

RULE_OF_THREE = 3.0
"""-ln(0.05) = 2.996, rounded: zero events in n trials put the event rate below
3/n with 95% confidence."""


@dataclass(frozen=True, slots=True)
class PassRate:
    """A pass rate with its confidence interval.

    Attributes:
        passes: Cases that passed.
        n: Cases in total.
        rate: ``passes / n``.
        low: Lower end of the Wilson interval.
        high: Upper end of the Wilson interval.
        confidence: Two-sided coverage of the interval, e.g. 0.95.
        failure_rate_upper_95: Present exactly when there are no failures: the
            rule-of-three 95% upper bound on the failure rate, ``min(1, 3/n)``.
            Report "0 failures in n; failure rate below 3/n", never "100%".
    """

    passes: int
    n: int
    rate: float
    low: float
    high: float
    confidence: float
    failure_rate_upper_95: float | None

    @property
    def failures(self) -> int:
        """Cases that failed."""
        return self.n - self.passes


def pass_rate(passes: int, n: int, *, confidence: float = 0.95) -> PassRate:
    """Wilson interval for a pass rate, plus the rule of three when nothing failed.

    Args:
        passes: Number of passing cases.
        n: Number of cases.
        confidence: Two-sided coverage of the interval.

    Returns:
        The rate and its interval.

    Raises:
        InvalidInput: If ``n`` is not positive, ``passes`` is not in
            ``0..n``, or confidence is not between 0 and 1.
    """
    for name, value in (("passes", passes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be an integer, got {value!r}")
    if n < 1:
        raise InvalidInput(f"a pass rate needs at least one case, got n={n}")
    if not 0 <= passes <= n:
        raise InvalidInput(f"passes must be between 0 and n={n}, got {passes}")
    if not 0.0 < confidence < 1.0:
        raise InvalidInput(f"confidence must be between 0 and 1, got {confidence}")
    # Rounded so that confidence 0.95 passes alpha 0.05, not 0.050000000000000044.
    alpha = round(1.0 - confidence, 12)
    low, high = proportion_confint(passes, n, alpha=alpha, method="wilson")
    upper = min(1.0, RULE_OF_THREE / n) if passes == n else None
    return PassRate(passes, n, passes / n, float(low), float(high), confidence, upper)
