"""What conditions are evaluated against: a trace's facts, loaded for many traces at once.

:func:`load_facts` reads a batch of traces with one query per table (traces,
feedback, online scores), not one per trace, so routing a thousand traces costs
three queries.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.signals.conditions import Condition
from assay.store.models import Feedback, OnlineScore, OnlineScorer, Trace
from assay.store.reads import load_json
from assay.traces.content import parse_content

IMPLICIT_SOURCE = "implicit"
"""The ``source`` of feedback rows that hold implicit signals (retried, abandoned...)."""

CHUNK = 500
"""Trace ids per ``IN (...)`` list: far below SQLite's bound-parameter limit (999 on
builds before 3.32)."""


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def content_text(stored: str | None, *, role: str | None = None) -> str | None:
    """Stored input or output as one text.

    Plain text is returned as it is. For chat messages: the last message of ``role``
    when given and present (``user`` picks the question out of a prompt), else every
    message's text joined by newlines.
    """
    content = parse_content(stored)
    if content is None or isinstance(content, str):
        return content
    if role is not None:
        for message in reversed(content):
            if message.get("role") == role:
                return _message_text(message)
    return "\n".join(_message_text(m) for m in content)


def _message_text(message: dict[str, Any]) -> str:
    body = message.get("content")
    if isinstance(body, str):
        return body
    if body is None:
        return ""
    if isinstance(body, list):
        # Multi-part content: the text parts, in order.
        texts = [p.get("text") for p in body if isinstance(p, dict)]
        return "\n".join(t for t in texts if isinstance(t, str))
    return orjson.dumps(body).decode()


@dataclass(frozen=True)
class ScoreFact:
    """An online scorer's verdict on a trace, as conditions read it."""

    value: float | None
    passed: bool | None
    confidence: float | None


@dataclass
class TraceFacts:
    """Everything a condition can ask about one trace.

    Attributes:
        row_id: The trace's row id.
        project_id: Its project.
        trace_id: 32 hex digits.
        attributes: The plain fields (status, model, release, service, name,
            latency_ms, cost, tokens, input, output).
        slices: The trace's slices.
        feedback: The latest explicit feedback by name: its number, else its text.
        signals: Implicit signals by name (value, else text).
        scores: Online scores by scorer name (errors are left out: no verdict).
        session_id: The session the trace belongs to, if any.
    """

    row_id: int
    project_id: int
    trace_id: str
    attributes: dict[str, Any]
    slices: dict[str, Any] = field(default_factory=dict)
    feedback: dict[str, Any] = field(default_factory=dict)
    signals: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, ScoreFact] = field(default_factory=dict)
    session_id: str | None = None

    def get(self, name: str) -> Any:
        """The fact a condition's field names, or None when the trace lacks it."""
        if name in self.attributes:
            return self.attributes[name]
        prefix, _, key = name.partition(".")
        if prefix == "feedback":
            return self.feedback.get(key)
        if prefix == "signal":
            return self.signals.get(key)
        if prefix == "slice":
            value = self.slices.get(key)
            return value if isinstance(value, str | int | float | bool) else None
        score = self.scores.get(key)
        if score is None:
            return None
        if prefix == "score":
            return score.value
        if prefix == "passed":
            return score.passed
        if prefix == "confidence":
            return score.confidence
        return None

    def check(self, conditions: Sequence[Condition]) -> bool:
        """Whether every condition holds (an empty list always does)."""
        return all(c.holds(self.get(c.field)) for c in conditions)

    def explain(self, conditions: Sequence[Condition]) -> str:
        """Words for why the conditions hold: each one with this trace's value."""
        parts = []
        for condition in conditions:
            fact = self.get(condition.field)
            if condition.op in ("exists", "missing") or fact is None:
                parts.append(str(condition))
            else:
                parts.append(f"{condition} (was {_short(fact)})")
        return "; ".join(parts)


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def needs(conditions: Collection[Condition]) -> set[str]:
    """Which extra tables the conditions read: ``feedback`` and/or ``scores``."""
    out: set[str] = set()
    for condition in conditions:
        prefix = condition.field.partition(".")[0]
        if prefix in ("feedback", "signal"):
            out.add("feedback")
        elif prefix in ("score", "passed", "confidence"):
            out.add("scores")
    return out


def _feedback_value(num: float | None, text: str | None) -> Any:
    return num if num is not None else text


def facts_of(row: Trace) -> TraceFacts:
    """The facts of a trace row, without feedback or scores."""
    try:
        slices = load_json(row.slices or "{}")
    except ValueError:
        slices = {}
    return TraceFacts(
        row_id=row.id,
        project_id=row.project_id,
        trace_id=row.trace_id,
        attributes={
            "status": row.status,
            "model": row.model,
            "release": row.release_ref,
            "service": row.service_name,
            "name": row.name,
            "latency_ms": max(0, row.end_ns - row.start_ns) / 1e6,
            "cost": row.cost,
            "tokens": (row.prompt_tokens or 0) + (row.completion_tokens or 0),
            "input": content_text(row.input),
            "output": content_text(row.output),
        },
        slices=slices if isinstance(slices, dict) else {},
        session_id=row.session_id,
    )


def load_facts(
    session: Session,
    project_id: int,
    trace_ids: Collection[str],
    *,
    tables: Collection[str] = ("feedback", "scores"),
) -> dict[str, TraceFacts]:
    """The facts of many traces of one project, by trace id.

    Args:
        session: The session to read with.
        project_id: The project.
        trace_ids: The traces (ids the project has not stored are left out).
        tables: Which extra tables to read (see :func:`needs`): ``feedback``
            (explicit feedback and implicit signals) and ``scores``.

    Returns:
        The facts of every stored trace among ``trace_ids``.
    """
    ids = sorted(set(trace_ids))
    facts: dict[str, TraceFacts] = {}
    for part in chunks(ids):
        rows = session.scalars(
            select(Trace).where(Trace.project_id == project_id, Trace.trace_id.in_(part))
        )
        for row in rows:
            facts[row.trace_id] = facts_of(row)
    found = sorted(facts)
    if "feedback" in tables:
        _add_feedback(session, project_id, found, facts)
    if "scores" in tables:
        _add_scores(session, project_id, found, facts)
    return facts


def _add_feedback(
    session: Session, project_id: int, ids: Sequence[str], facts: dict[str, TraceFacts]
) -> None:
    for part in chunks(ids):
        rows = session.execute(
            select(
                Feedback.trace_id,
                Feedback.name,
                Feedback.value_num,
                Feedback.value_text,
                Feedback.source,
            )
            .where(Feedback.project_id == project_id, Feedback.trace_id.in_(part))
            # Oldest first, so the latest of a name is the one left in the dict.
            .order_by(Feedback.created_at, Feedback.id)
        )
        for trace_id, name, num, text, source in rows:
            target = facts[trace_id]
            value = _feedback_value(num, text)
            if source == IMPLICIT_SOURCE:
                target.signals[name] = value
            else:
                target.feedback[name] = value


def _add_scores(
    session: Session, project_id: int, ids: Sequence[str], facts: dict[str, TraceFacts]
) -> None:
    for part in chunks(ids):
        rows = session.execute(
            select(
                OnlineScore.trace_id,
                OnlineScorer.name,
                OnlineScore.value,
                OnlineScore.passed,
                OnlineScore.confidence,
            )
            .join(OnlineScorer, OnlineScorer.id == OnlineScore.scorer_id)
            .where(
                OnlineScore.project_id == project_id,
                OnlineScore.trace_id.in_(part),
                OnlineScore.error.is_(None),
            )
        )
        for trace_id, name, value, passed, confidence in rows:
            facts[trace_id].scores[name] = ScoreFact(
                value=value,
                passed=None if passed is None else bool(passed),
                confidence=confidence,
            )
