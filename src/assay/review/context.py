"""What an annotator sees of a trace: its input and output, and the steps that explain
them (retrieved documents, tool calls), with the feedback that brought it to review."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from assay.errors import NotFound
from assay.traces import Content, FeedbackView, SpanNode, TraceDetail, get_trace

_DOCUMENT = "retrieval.documents."


@dataclass(frozen=True, slots=True)
class Document:
    """A document a retrieval step returned (OpenInference ``retrieval.documents.*``).

    Attributes:
        id: The document's id, when sent.
        content: Its text.
        score: Its retrieval score, when sent.
    """

    id: str | None
    content: str | None
    score: float | None


@dataclass(frozen=True, slots=True)
class StepContext:
    """One retrieval or tool step of the trace.

    Attributes:
        span_id: The span.
        name: The span's name (the tool's name for tool calls).
        kind: ``retrieval`` or ``tool``.
        input: What the step got (the query, the tool's arguments).
        output: What it returned.
        status: ``ok``, ``error`` or ``unset``.
        status_message: The error, if the step failed.
        documents: The documents a retrieval returned, in rank order.
        duration_ms: How long it took.
    """

    span_id: str
    name: str
    kind: str
    input: Content
    output: Content
    status: str
    status_message: str | None
    documents: list[Document]
    duration_ms: float


@dataclass(frozen=True, slots=True)
class TraceContext:
    """The parts of a trace an annotator needs to label it.

    Attributes:
        trace_id: The trace.
        name: The root span's name.
        start_time: When it started (ISO 8601 UTC).
        input: The request, as text or chat messages.
        output: The answer, as text or chat messages.
        model: The model that answered.
        status: ``ok``, ``error`` or ``unset``.
        release: The release the app sent, if any.
        slices: Slice attributes (locale, tier, ...).
        retrievals: Retrieval steps, in start order.
        tools: Tool calls, in start order.
        feedback: Feedback on the trace (thumbs, corrections), oldest first.
    """

    trace_id: str
    name: str | None
    start_time: str
    input: Content
    output: Content
    model: str | None
    status: str
    release: str | None
    slices: dict[str, Any]
    retrievals: list[StepContext]
    tools: list[StepContext]
    feedback: list[FeedbackView]


def trace_context(session: Session, project_id: int, trace_id: str) -> TraceContext | None:
    """The annotator's view of a trace; None when the trace has not arrived (yet)."""
    try:
        detail = get_trace(session, project_id, trace_id)
    except NotFound:
        return None
    return context_of(detail)


def context_of(detail: TraceDetail) -> TraceContext:
    """The annotator's view of a trace already read."""
    steps = list(_walk(detail.spans))
    return TraceContext(
        trace_id=detail.trace_id,
        name=detail.name,
        start_time=detail.start_time,
        input=detail.input,
        output=detail.output,
        model=detail.model,
        status=detail.status,
        release=(detail.release.name or detail.release.ref) if detail.release else None,
        slices=detail.slices,
        retrievals=[_step(s) for s in steps if s.kind == "retrieval"],
        tools=[_step(s) for s in steps if s.kind == "tool"],
        feedback=detail.feedback,
    )


def _walk(nodes: list[SpanNode]) -> Iterator[SpanNode]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


def _step(node: SpanNode) -> StepContext:
    return StepContext(
        span_id=node.span_id,
        name=node.name,
        kind=node.kind,
        input=node.input,
        output=node.output,
        status=node.status,
        status_message=node.status_message,
        documents=documents(node.attributes),
        duration_ms=node.duration_ms,
    )


def documents(attributes: dict[str, Any]) -> list[Document]:
    """The retrieved documents held in flat ``retrieval.documents.N.document.*`` keys."""
    found: dict[int, dict[str, Any]] = {}
    for key, value in attributes.items():
        if not key.startswith(_DOCUMENT):
            continue
        index, _, rest = key[len(_DOCUMENT) :].partition(".")
        if index.isdigit() and rest.startswith("document."):
            found.setdefault(int(index), {})[rest.removeprefix("document.")] = value
    out: list[Document] = []
    for _, doc in sorted(found.items()):
        score = doc.get("score")
        out.append(
            Document(
                id=str(doc["id"]) if doc.get("id") is not None else None,
                content=doc.get("content") if isinstance(doc.get("content"), str) else None,
                score=float(score)
                if isinstance(score, (int, float)) and not isinstance(score, bool)
                else None,
            )
        )
    return out
