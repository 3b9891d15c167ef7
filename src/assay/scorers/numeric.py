"""The ``numeric`` scorer: the output is the reference number, within a tolerance.

Numbers are read in English notation: an optional sign, digits with optional
``,`` thousands separators (``1,234.5``), a decimal point and an exponent
(``6.02e23``); any Unicode decimal digits count (``４２`` is 42). ``nan``, ``inf``
and digit-group underscores are not numbers here. With ``extract`` the first number
in the output's text is taken (a ``-`` glued to a word, as in ``COVID-19``, is not a
sign); otherwise the whole output must be one number. The reference is always read
strictly.

Closeness is :func:`math.isclose`: ``|a - b| <= max(rel_tol * max(|a|, |b|), abs_tol)``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field

from assay.scorers.args import ScorerArgs, spec_of
from assay.scorers.base import Score, ScoreInput, ScorerError
from assay.scorers.match import quote
from assay.scorers.registry import register_scorer
from assay.scorers.text import as_text

_NUMBER = re.compile(
    r"(?<![\w.])[-+]?"
    r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
    r"(?:[eE][-+]?\d+)?"
)


def parse_number(value: Any, *, extract: bool = False) -> float | None:
    """``value`` as a finite float, or ``None`` when it is not a number.

    Args:
        value: A number, or text holding one.
        extract: Take the first number found in the text rather than requiring
            the whole text to be a number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    found = _NUMBER.search(text) if extract else _NUMBER.fullmatch(text)
    if found is None:
        return None
    number = float(found.group(0).replace(",", ""))
    return number if math.isfinite(number) else None


class NumericArgs(ScorerArgs):
    """Arguments of ``numeric``."""

    abs_tol: float = Field(
        default=0.0, ge=0, allow_inf_nan=False, description="Absolute tolerance."
    )
    rel_tol: float = Field(
        default=1e-9,
        ge=0,
        allow_inf_nan=False,
        # 1e-9 is math.isclose's own default: equal up to float rounding.
        description="Relative tolerance, a fraction of the larger magnitude.",
    )
    extract: bool = Field(
        default=False,
        description="Take the first number in the output's text; by default the whole "
        "output must be a number.",
    )


@register_scorer("numeric", args=NumericArgs)
class NumericScorer:
    """Passes when the output is the reference number within `abs_tol`/`rel_tol`."""

    def __init__(self, args: NumericArgs | None = None) -> None:
        """Build the scorer.

        Args:
            args: Its arguments; equality up to float rounding when ``None``.
        """
        self.args = args or NumericArgs()
        self.spec = spec_of("numeric", self.args)

    async def score(self, case: ScoreInput) -> Score:
        """Compare the number in ``case.output`` with ``case.reference``.

        Raises:
            ScorerError: The case has no reference, or its reference is not a number.
        """
        if case.reference is None:
            raise ScorerError("scorer 'numeric' needs a reference, and this case has none")
        reference = parse_number(case.reference)
        if reference is None:
            raise ScorerError(
                f"scorer 'numeric': the reference {quote(as_text(case.reference))} is not a number"
            )
        output = parse_number(case.output, extract=self.args.extract)
        if output is None:
            where = "holds no number" if self.args.extract else "is not a number"
            return Score(0.0, False, f"output {quote(as_text(case.output))} {where}")
        difference = abs(output - reference)
        # Opposite huge numbers overflow to inf, which JSON cannot hold.
        shown_difference = difference if math.isfinite(difference) else None
        metadata = {"output": output, "reference": reference, "difference": shown_difference}
        close = math.isclose(
            output, reference, rel_tol=self.args.rel_tol, abs_tol=self.args.abs_tol
        )
        if close:
            return Score(1.0, True, f"{output:g} is within tolerance of {reference:g}", metadata)
        allowed = max(self.args.rel_tol * max(abs(output), abs(reference)), self.args.abs_tol)
        return Score(
            0.0,
            False,
            f"{output:g} differs from {reference:g} by {difference:g} (allowed {allowed:g})",
            metadata,
        )
