"""The scorers of a run, applied to each answer: every scorer concurrently, a
scorer's retryable failures retried, any failure recorded as that score's error
(never as a failing score)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from assay.datasets import CaseSpec
from assay.errors import InvalidInput
from assay.scorers import ScoreInput, Scorer, ScorerError

# Judges behind rate limits answer 429 now and then: a few tries, 1 s apart and more.
_SCORER_ATTEMPTS = 3
_BACKOFF = wait_exponential_jitter(multiplier=1.0, max=20.0, jitter=1.0)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ScorerError) and exc.retryable


class Scoring:
    """A run's scorers, under the labels their scores are stored by.

    A label is the scorer's command-line form (``exact``, ``regex:{"pattern":...}``).

    Raises:
        InvalidInput: two scorers have the same label.
    """

    def __init__(self, scorers: Sequence[Scorer]) -> None:
        self.scorers = list(scorers)
        self.labels = [str(s.spec) for s in self.scorers]
        if len(set(self.labels)) != len(self.labels):
            repeated = sorted({label for label in self.labels if self.labels.count(label) > 1})
            raise InvalidInput(f"the same scorer is given twice: {', '.join(repeated)}")

    @property
    def specs(self) -> list[dict[str, Any]]:
        """The scorers' specs as stored with the run."""
        return [s.spec.to_dict() for s in self.scorers]

    async def score(self, case: CaseSpec, output: Any) -> dict[str, dict[str, Any]]:
        """Every scorer's verdict on ``output`` (or ``{"error": ...}``), by label."""
        if not self.scorers:
            return {}
        seen = ScoreInput(
            input=case.input,
            output=output,
            reference=case.reference,
            rubric=case.rubric,
            metadata={**case.metadata, "tags": list(case.tags), "slices": case.slices},
        )
        if len(self.scorers) == 1:
            return {self.labels[0]: await self._one(self.scorers[0], seen)}
        verdicts = await asyncio.gather(*(self._one(s, seen) for s in self.scorers))
        return dict(zip(self.labels, verdicts, strict=True))

    async def _one(self, scorer: Scorer, seen: ScoreInput) -> dict[str, Any]:
        # The first try outside tenacity: its set-up costs more than a deterministic
        # scorer (measured with bench/runner.py), and most scores need one try.
        try:
            return (await scorer.score(seen)).to_dict()
        except ScorerError as exc:
            if not exc.retryable:
                return {"error": str(exc)}
        except Exception as exc:  # a user's or a plugin's scorer may raise anything
            return {"error": f"{type(exc).__name__}: {exc}"}
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(_SCORER_ATTEMPTS - 1),
                wait=_BACKOFF,
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    return (await scorer.score(seen)).to_dict()
        except ScorerError as exc:
            return {"error": str(exc)}
        except Exception as exc:  # a user's or a plugin's scorer may raise anything
            return {"error": f"{type(exc).__name__}: {exc}"}
        raise AssertionError("unreachable: tenacity re-raises the last error")
