"""Corrections to fine-tuning JSONL records, with a guard against eval contamination.

Two sources give the answer the app should have given:

- **feedback** named ``correction`` (any name can be chosen) whose value is text;
- **review**: resolved review-queue items whose final label has a non-empty
  ``correction`` field (the label an adjudicator set, or the one the annotators
  agreed on).

The newest correction of a trace wins, whichever its source. Its example is the
trace's input as chat messages (text input becomes one user message) followed by
the corrected answer as the assistant's message.

The guard compares each example's question (its last user message, or the whole
input when there is none) with the input of every case ever added to any dataset of
the project, all versions included:

- **exact**: equal once case and runs of whitespace are ignored (the datasets' own
  duplicate rule, :func:`assay.datasets.cases.duplicate_key`);
- **near**: cosine similarity of their embeddings at or above a threshold (the
  datasets' near-duplicate default, 0.95, unless given), when an embedder is given.

Excluded examples are listed with the case they collide with; corrections whose
trace has not arrived or has no input are listed as skipped. A reviewed item that
was promoted to a dataset is therefore excluded: its question is an eval case now.
Choose per item whether a correction tests the app or trains it, not both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson
from sqlalchemy import select

from assay.datasets.cases import duplicate_key, input_text
from assay.errors import InvalidInput
from assay.review import parse_schema
from assay.review.decision import load_label
from assay.store.models import Case, Dataset, Feedback, QueueItem, ReviewQueue, Trace
from assay.store.reads import load_json
from assay.traces.content import Message, parse_content
from assay.traces.times import as_utc

if TYPE_CHECKING:
    from assay.embeddings import Embedder
    from assay.store import Store

Format = Literal["openai", "generic"]
FORMATS: tuple[Format, ...] = ("openai", "generic")
Source = Literal["feedback", "review"]
SOURCES: tuple[Source, ...] = ("feedback", "review")
DEFAULT_THRESHOLD = 0.95
_ROLES = ("system", "user", "assistant", "tool", "developer")


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A correction left out because its question is an eval case's.

    Attributes:
        trace_id: The trace the correction is about.
        kind: ``exact`` or ``near``.
        similarity: Cosine similarity (1.0 for exact).
        dataset: The dataset holding the case.
        case_id: The case.
        question: The example's question.
    """

    trace_id: str
    kind: Literal["exact", "near"]
    similarity: float
    dataset: str
    case_id: str
    question: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A correction that could not become an example, and why."""

    trace_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class FinetuneExport:
    """The records to write and what was left out.

    Attributes:
        format: ``openai`` (chat fine-tuning JSONL) or ``generic``.
        records: One JSON-ready object per example.
        corrections: Corrections found (newest per trace, over the sources read).
        excluded: Left out for colliding with an eval case.
        skipped: Left out for another reason.
        cases_checked: Eval cases compared against.
        threshold: Cosine similarity counted as near; None when not checked.
    """

    format: Format
    records: list[dict[str, Any]]
    corrections: int
    excluded: list[Exclusion] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    cases_checked: int = 0
    threshold: float | None = None

    def jsonl(self) -> bytes:
        """The records as JSON Lines."""
        return b"".join(orjson.dumps(r) + b"\n" for r in self.records)


@dataclass(frozen=True, slots=True)
class _Correction:
    """One corrected answer for a trace, from either source."""

    trace_id: str
    span_id: str | None
    answer: str
    origin: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _Example:
    trace_id: str
    span_id: str | None
    messages: list[Message]
    question: str
    answer: str
    original: Any
    origin: dict[str, Any]


def export_corrections(
    store: Store,
    project_id: int,
    *,
    feedback_name: str = "correction",
    format: Format = "openai",
    embedder: Embedder | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    sources: tuple[Source, ...] = SOURCES,
) -> FinetuneExport:
    """Build fine-tuning records from a project's corrections.

    Args:
        store: The store to read (and to cache embeddings in).
        project_id: The project.
        feedback_name: The feedback that carries corrected answers.
        format: ``openai`` for ``{"messages": [...]}`` lines, ``generic`` for the
            trace id, input, corrected and original output, and the feedback.
        embedder: Checks near duplicates when given; exact ones are always checked.
        threshold: Cosine similarity that counts as near (0.5 to 1).
        sources: Where corrections come from: ``feedback``, ``review`` or both.

    Raises:
        InvalidInput: Unknown format or source, empty feedback name or a threshold
            out of range.
    """
    if format not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise InvalidInput(
            f"sources must be some of {', '.join(SOURCES)}, got {', '.join(map(str, sources))!r}"
        )
    if not feedback_name.strip():
        raise InvalidInput("feedback name must not be empty")
    if not 0.5 <= threshold <= 1.0:
        raise InvalidInput(f"threshold must be between 0.5 and 1, got {threshold}")
    with store.session() as session:
        corrections: list[_Correction] = []
        if "feedback" in sources:
            corrections += _feedback_corrections(session, project_id, feedback_name)
        if "review" in sources:
            corrections += _review_corrections(session, project_id)
        examples, skipped, found = _examples(session, project_id, corrections)
        cases = _cases(session, project_id)
    excluded, kept = _guard(examples, cases, embedder, threshold, store)
    records = [_record(e, format) for e in kept]
    return FinetuneExport(
        format=format,
        records=records,
        corrections=found,
        excluded=excluded,
        skipped=skipped,
        cases_checked=len(cases),
        threshold=threshold if embedder is not None else None,
    )


def _feedback_corrections(session: Any, project_id: int, feedback_name: str) -> list[_Correction]:
    rows = session.scalars(
        select(Feedback)
        .where(
            Feedback.project_id == project_id,
            Feedback.name == feedback_name,
            Feedback.value_text.is_not(None),
            Feedback.value_num.is_(None),
        )
        .order_by(Feedback.created_at, Feedback.id)
    )
    return [
        _Correction(
            trace_id=row.trace_id,
            span_id=row.span_id,
            answer=row.value_text or "",
            origin={
                "source": "feedback",
                "id": row.id,
                "comment": row.comment,
                "created_at": as_utc(row.created_at).isoformat(),
            },
            created_at=as_utc(row.created_at),
        )
        for row in rows
    ]


def _review_corrections(session: Any, project_id: int) -> list[_Correction]:
    """The correction fields of resolved items' final labels."""
    rows = session.execute(
        select(QueueItem, ReviewQueue.name, ReviewQueue.label_schema)
        .join(ReviewQueue, ReviewQueue.id == QueueItem.queue_id)
        .where(
            QueueItem.project_id == project_id,
            QueueItem.status == "resolved",
            QueueItem.label.is_not(None),
        )
    ).all()
    out: list[_Correction] = []
    fields: dict[str, list[str]] = {}
    for item, queue, schema_text in rows:
        if queue not in fields:
            schema = parse_schema(load_json(schema_text))
            fields[queue] = [f.name for f in schema.fields if f.type == "correction"]
        label = load_label(item.label) or {}
        for name in fields[queue]:
            answer = label.get(name)
            if not isinstance(answer, str) or not answer.strip():
                continue
            resolved = as_utc(item.resolved_at or item.created_at)
            out.append(
                _Correction(
                    trace_id=item.trace_id,
                    span_id=None,
                    answer=answer,
                    origin={
                        "source": "review",
                        "queue": queue,
                        "item_id": item.id,
                        "field": name,
                        "resolution": item.resolution,
                        "created_at": resolved.isoformat(),
                    },
                    created_at=resolved,
                )
            )
            break  # the first correction field of the schema
    return out


def _examples(
    session: Any, project_id: int, corrections: list[_Correction]
) -> tuple[list[_Example], list[Skipped], int]:
    newest: dict[str, _Correction] = {}
    for c in sorted(corrections, key=lambda c: c.created_at):
        newest[c.trace_id] = c
    traces = (
        {
            trace_id: (stored_input, stored_output)
            for trace_id, stored_input, stored_output in session.execute(
                select(Trace.trace_id, Trace.input, Trace.output).where(
                    Trace.project_id == project_id, Trace.trace_id.in_(list(newest))
                )
            )
        }
        if newest
        else {}
    )
    examples: list[_Example] = []
    skipped: list[Skipped] = []
    for correction in sorted(newest.values(), key=lambda c: c.created_at):
        if not correction.answer.strip():
            skipped.append(Skipped(correction.trace_id, "the correction is empty"))
            continue
        if correction.trace_id not in traces:
            skipped.append(Skipped(correction.trace_id, "the trace has not arrived"))
            continue
        stored_input, stored_output = traces[correction.trace_id]
        messages = _messages(parse_content(stored_input))
        if not messages:
            skipped.append(Skipped(correction.trace_id, "the trace has no input text"))
            continue
        examples.append(
            _Example(
                trace_id=correction.trace_id,
                span_id=correction.span_id,
                messages=messages,
                question=_question(messages),
                answer=correction.answer,
                original=parse_content(stored_output),
                origin=correction.origin,
            )
        )
    return examples, skipped, len(newest)


def _messages(content: Any) -> list[Message]:
    """Chat messages with text content (tool calls and other parts are left out)."""
    if isinstance(content, str):
        return [{"role": "user", "content": content}] if content.strip() else []
    if not isinstance(content, list):
        return []
    out: list[Message] = []
    for message in content:
        role = message.get("role")
        body = message.get("content")
        if role in _ROLES and isinstance(body, str) and body.strip():
            out.append({"role": role, "content": body})
    return out


def _question(messages: list[Message]) -> str:
    """The last user message, or all the text when there is none."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    return users[-1] if users else "\n".join(m["content"] for m in messages)


def _case_question(value: Any) -> str:
    """A case input's question: its last user message for chat input, else its text."""
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        messages = _messages(value)
        if messages:
            return _question(messages)
    return input_text(value)


def _cases(session: Any, project_id: int) -> list[tuple[str, str, Any]]:
    """(dataset, case id, input) of every case of the project's datasets."""
    rows = session.execute(
        select(Dataset.name, Case.case_id, Case.input)
        .join(Dataset, Dataset.id == Case.dataset_id)
        .where(Dataset.project_id == project_id)
        .order_by(Dataset.name, Case.case_id)
    )
    return [(name, case_id, load_json(text)) for name, case_id, text in rows]


def _guard(
    examples: list[_Example],
    cases: list[tuple[str, str, Any]],
    embedder: Embedder | None,
    threshold: float,
    store: Store,
) -> tuple[list[Exclusion], list[_Example]]:
    exact: dict[str, tuple[str, str]] = {}
    for dataset, case_id, value in cases:
        for key in (duplicate_key(value), duplicate_key(_case_question(value))):
            exact.setdefault(key, (dataset, case_id))
    excluded: list[Exclusion] = []
    left: list[_Example] = []
    for example in examples:
        hit = exact.get(duplicate_key(example.question))
        if hit is None:
            left.append(example)
        else:
            excluded.append(
                Exclusion(example.trace_id, "exact", 1.0, hit[0], hit[1], example.question)
            )
    if embedder is None or not left or not cases:
        return excluded, left
    from assay.embeddings import CachedEmbedder, best_matches

    cached = CachedEmbedder(embedder, store)
    texts = [_case_question(value) for _, _, value in cases]
    best = best_matches(
        cached.embed([e.question for e in left]), cached.embed(texts), exclude_self=False
    )
    near = set(int(i) for i in best.above(threshold))
    kept: list[_Example] = []
    for i, example in enumerate(left):
        if i in near:
            dataset, case_id, _ = cases[int(best.match[i])]
            excluded.append(
                Exclusion(
                    example.trace_id,
                    "near",
                    round(float(best.similarity[i]), 4),
                    dataset,
                    case_id,
                    example.question,
                )
            )
        else:
            kept.append(example)
    return excluded, kept


def _record(example: _Example, format: Format) -> dict[str, Any]:
    if format == "openai":
        return {"messages": [*example.messages, {"role": "assistant", "content": example.answer}]}
    return {
        "trace_id": example.trace_id,
        "span_id": example.span_id,
        "input": example.messages,
        "output": example.answer,
        "original_output": example.original,
        "correction": example.origin,
    }
