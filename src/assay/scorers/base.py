"""What a scorer is: the `Scorer` protocol, its input (`ScoreInput`) and its `Score`.

A scorer looks at one case's output and says how good it is: a value in [0, 1], a
pass/fail where the scorer defines one, a reason a person can read, and metadata
(the raw judge response, the matched span, the embedding model). Every scorer
carries the :class:`~assay.scorers.spec.ScorerSpec` that rebuilds it, so a stored
result can be re-scored later.

A scorer that *cannot* score a case (the judge answered no verdict, the user's
function raised, the case has no reference to compare with) raises
:class:`ScorerError` rather than returning a failing score: the runner records an
error for that case, and errors are not counted as regressions.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from assay.errors import AssayError, InvalidInput
from assay.scorers.spec import ScorerSpec


class ScorerError(AssayError):
    """A scorer could not score this case; the runner records an error, not a fail.

    Attributes:
        retryable: Whether trying again may succeed (an HTTP 429 or 5xx from a
            judge, a dropped connection); the runner retries only these.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Score:
    """The verdict of one scorer on one case.

    Attributes:
        value: How good the output is, from 0 (worst) to 1 (best).
        passed: Pass/fail where the scorer defines one (exact match, a threshold),
            else ``None``.
        reason: Why, for a person reading the result.
        metadata: JSON-able details: the raw judge response, the matched text, ...

    Raises:
        InvalidInput: ``value`` is not a number in [0, 1] or ``metadata`` is not JSON.
    """

    value: float
    passed: bool | None = None
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"score value must be a number, got {type(value).__name__}")
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise InvalidInput(f"score value must be in [0, 1], got {value!r}")
        object.__setattr__(self, "value", float(value))
        if self.passed is not None and not isinstance(self.passed, bool):
            raise InvalidInput(f"score passed must be a bool or None, got {self.passed!r}")
        if not isinstance(self.reason, str):
            raise InvalidInput(f"score reason must be text, got {type(self.reason).__name__}")
        try:
            json.dumps(self.metadata, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"score metadata must be JSON-able: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The score as a JSON object (how results store it)."""
        return {
            "value": self.value,
            "passed": self.passed,
            "reason": self.reason,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Score:
        """Read a score written by :meth:`to_dict`.

        Raises:
            InvalidInput: A field is missing, unknown or of the wrong type.
        """
        unknown = set(data) - {"value", "passed", "reason", "metadata"}
        if unknown:
            raise InvalidInput(f"score has unknown fields: {', '.join(sorted(unknown))}")
        if "value" not in data:
            raise InvalidInput("score has no value")
        return cls(
            value=data["value"],
            passed=data.get("passed"),
            reason=data.get("reason") or "",
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass(frozen=True)
class ScoreInput:
    """What a scorer sees of one case and the target's answer to it.

    Attributes:
        input: The case input (text, chat messages, an object).
        output: What the target produced: text or a JSON-able value; ``None`` when
            it produced nothing.
        reference: The expected output, if the case has one.
        rubric: The case's own instructions for a judge, if any.
        metadata: The case's metadata (tags, slices, anything else).
    """

    input: Any
    output: Any
    reference: Any | None = None
    rubric: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Scorer(Protocol):
    """Scores one case at a time.

    ``score`` is async because judges call HTTP; deterministic scorers simply
    return. Implementations raise :class:`ScorerError` when a case cannot be scored.
    """

    @property
    def spec(self) -> ScorerSpec:
        """The name and arguments that rebuild this scorer (stored with every result)."""
        ...

    async def score(self, case: ScoreInput) -> Score:
        """Score one case.

        Args:
            case: The case and the target's output.

        Returns:
            The score.

        Raises:
            ScorerError: The case cannot be scored (see the module docstring).
        """
        ...
