"""Presentation of eval cases and run results: previews, verdicts, scorer summaries.

Pure functions over the views of :mod:`assay.datasets` and :mod:`assay.experiments`,
so the dataset, run and comparison templates stay free of logic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from assay.datasets.cases import input_text
from assay.experiments import RunView, StoredResult
from assay.scorers import ScorerSpec
from assay.server.ui.trace_view import message_body

PREVIEW_CHARS = 120
"""Characters of a table cell's preview: about one line of a 1400 px page's widest
column; the full text is one click away."""

VerdictKind = Literal["pass", "fail", "error", "score", "missing"]
VERDICTS: tuple[VerdictKind, ...] = ("pass", "fail", "error")
"""The verdicts a run page can filter by."""


def is_chat(value: Any) -> bool:
    """Whether a value is a list of chat messages (objects with a ``role``)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and "role" in m for m in value)
    )


def display_text(value: Any) -> str:
    """A case input, reference or output in full: text as it is, anything else as
    indented JSON ("" for None)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """One line of at most ``limit`` characters (an ellipsis marks a cut).

    Chat input shows its messages' text, other structures their compact JSON.
    """
    if value is None:
        return ""
    text = " ".join(input_text(value).split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def is_long(value: Any, limit: int = PREVIEW_CHARS) -> bool:
    """Whether the preview of a value hides some of it (then a cell can expand)."""
    return value is not None and preview(value, limit) != display_text(value)


@dataclass(frozen=True)
class Verdict:
    """What one scorer said about one result, for a table cell.

    Attributes:
        kind: ``pass``, ``fail``, ``error`` (the scorer or the target failed),
            ``score`` (a value without pass/fail) or ``missing`` (not scored).
        value: The score in [0, 1], when there is one.
        reason: The scorer's reason, or the error message.
    """

    kind: VerdictKind
    value: float | None = None
    reason: str = ""

    @property
    def text(self) -> str:
        """The cell's text: ``pass``, ``fail 0.40``, ``0.82``, ``error`` or a dash."""
        if self.kind == "missing":
            return "—"
        if self.kind == "error" or self.value is None:
            return self.kind
        if self.kind == "score":
            return f"{self.value:.2f}"
        # A pass/fail scorer with a graded value (a judge's 0.6) shows both.
        return self.kind if self.value in (0.0, 1.0) else f"{self.kind} {self.value:.2f}"


def verdict_of(result: StoredResult, label: str) -> Verdict:
    """The verdict of scorer ``label`` on ``result``.

    A failed target call has no scores; each scorer's verdict is then ``error``,
    with the target's error as the reason.
    """
    score = result.scores.get(label)
    if score is None:
        if result.error is not None:
            return Verdict("error", reason=f"target failed: {result.error}")
        return Verdict("missing")
    if score.get("error"):
        return Verdict("error", reason=str(score["error"]))
    value = score.get("value")
    number = float(value) if isinstance(value, (int, float)) else None
    passed = score.get("passed")
    kind: VerdictKind = "pass" if passed is True else "fail" if passed is False else "score"
    return Verdict(kind, number, str(score.get("reason") or ""))


def scorer_labels(scorers: Sequence[dict[str, Any]]) -> list[str]:
    """The labels stored specs have in results (``exact``, ``regex:{...}``)."""
    return [str(ScorerSpec.from_dict(spec)) for spec in scorers]


@dataclass(frozen=True)
class ScorerSummary:
    """One scorer's aggregates over a run.

    Attributes:
        label: The scorer's label.
        n: Results it scored.
        mean: Mean score, None when nothing was scored.
        passed: Results it passed.
        failed: Results it failed.
        errors: Results it could not score.
    """

    label: str
    n: int
    mean: float | None
    passed: int
    failed: int
    errors: int

    @property
    def pass_rate(self) -> float | None:
        """Passed over passed and failed; None for scorers without pass/fail."""
        decided = self.passed + self.failed
        return self.passed / decided if decided else None

    @property
    def text(self) -> str:
        """``83.3% pass`` for pass/fail scorers (``60/60 passed`` when nothing failed:
        "100%" would overstate what 60 cases show), else ``mean 0.812``."""
        if self.pass_rate is not None:
            if not self.failed:
                return f"{self.passed}/{self.passed} passed"
            return f"{self.pass_rate:.1%} pass"
        return "—" if self.mean is None else f"mean {self.mean:.3f}"


def scorer_summaries(run: RunView) -> list[ScorerSummary]:
    """Per-scorer aggregates from the run's summary, in the run's scorer order.

    A run still going (or killed) has no summary yet: its scorers show as unscored.
    """
    stored: dict[str, Any] = run.summary.get("scorers") or {}
    labels = scorer_labels(run.scorers)
    labels += [label for label in stored if label not in labels]
    out: list[ScorerSummary] = []
    for label in labels:
        s = stored.get(label) or {}
        mean = s.get("mean")
        out.append(
            ScorerSummary(
                label=label,
                n=int(s.get("n") or 0),
                mean=float(mean) if isinstance(mean, (int, float)) else None,
                passed=int(s.get("passed") or 0),
                failed=int(s.get("failed") or 0),
                errors=int(s.get("errors") or 0),
            )
        )
    return out


def target_text(target: dict[str, Any]) -> str:
    """What a target calls, in a few words: its function, URL or model."""
    for key in ("function", "url", "model"):
        if target.get(key):
            return str(target[key])
    return ""


TEMPLATE_HELPERS: dict[str, Any] = {
    "is_chat": is_chat,
    "display_text": display_text,
    "preview": preview,
    "is_long": is_long,
    "message_body": message_body,
}
"""What ``_eval.html``'s macros call; pages pass these in and import the macros
``with context``."""
