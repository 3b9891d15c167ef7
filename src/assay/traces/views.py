"""What the trace queries return: named, frozen shapes for the API, CLI and UI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assay.traces.content import Content

FeedbackValue = bool | float | str
"""A feedback value as read back: thumbs (bool), a score (float) or text."""


@dataclass(frozen=True, slots=True)
class TraceFilter:
    """Which traces :func:`~assay.traces.query.list_traces` returns. All given
    conditions must hold; None (or empty) means "any".

    Attributes:
        start_from_ns: Traces starting at or after this time (ns since the epoch).
        start_to_ns: Traces starting before this time (ns since the epoch).
        release: A release name, full fingerprint or fingerprint prefix of a
            registered release (matches traces that sent its name or its
            fingerprint), or else a raw release ref as the app sent it.
        model: The trace's model or the model of any of its spans.
        status: ``ok``, ``error`` or ``unset``.
        kind: Traces with at least one span of this kind (``llm``, ``tool``, ...).
        slices: ``(key, value)`` pairs, compared as text. Pairs with different keys
            must all match; several values for one key match any of them.
        q: Case-insensitive text that the trace's or any span's input or output
            contains (``%`` and ``_`` are literal).
        session_id: The trace's session id.
        user_id: The trace's user id.
        has_feedback: True: traces with feedback; False: traces without.
    """

    start_from_ns: int | None = None
    start_to_ns: int | None = None
    release: str | None = None
    model: str | None = None
    status: str | None = None
    kind: str | None = None
    slices: Sequence[tuple[str, str]] = ()
    q: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    has_feedback: bool | None = None


@dataclass(frozen=True, slots=True)
class TraceRelease:
    """The release a trace sent, resolved against the registry.

    Attributes:
        ref: What the app sent (``assay.release`` or ``service.version``).
        name: The registered release's name; None when ``ref`` matches no release.
        fingerprint: The registered release's fingerprint; None when unregistered.
    """

    ref: str
    name: str | None
    fingerprint: str | None


@dataclass(frozen=True, slots=True)
class FeedbackView:
    """One piece of feedback on a trace (or one span of it).

    Attributes:
        id: Row id; newer feedback has a larger id.
        trace_id: The trace, 32 lowercase hex digits.
        span_id: The span, 16 lowercase hex digits, or None for the whole trace.
        name: What was measured (``thumbs``, ``rating``, ``correction``...).
        value: True/False, a number or text, as sent.
        value_num: The numeric value (1.0/0.0 for True/False), None for text.
        value_text: The text value (``true``/``false`` for booleans), None for numbers.
        comment: Free text that came with it.
        source: Who sent it: ``api``, ``sdk``, ``ui``, ...
        created_at: When it was recorded (UTC).
        trace_known: Whether the trace has arrived. Feedback may come before the
            app's exporter flushes the spans; it attaches when they arrive.
    """

    id: int
    trace_id: str
    span_id: str | None
    name: str
    value: FeedbackValue
    value_num: float | None
    value_text: str | None
    comment: str | None
    source: str
    created_at: datetime
    trace_known: bool


@dataclass(frozen=True, slots=True)
class FeedbackPage:
    """A page of feedback, newest first.

    Attributes:
        items: The feedback on this page.
        next_cursor: Pass it back for the next page; None on the last page.
    """

    items: list[FeedbackView]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceSummary:
    """A trace as a row of a list.

    Attributes:
        trace_id: 32 lowercase hex digits.
        name: The root span's name (the earliest span's while the root is missing).
        service_name: The app's ``service.name``.
        start_ns: Start, ns since the epoch.
        end_ns: End, ns since the epoch.
        start_time: Start as ISO 8601 UTC.
        duration_ms: End minus start, in milliseconds.
        status: ``ok``, ``error`` (any span failed) or ``unset``.
        model: The first model seen in the trace.
        input_preview: A one-line preview of the input.
        output_preview: A one-line preview of the output.
        span_count: Spans stored.
        error_count: Spans with status error.
        prompt_tokens: Input tokens over all spans.
        completion_tokens: Output tokens over all spans.
        total_tokens: Sum of both.
        cost: Cost over all spans, USD.
        release: The release the app sent, resolved; None if it sent none.
        session_id: The conversation or session id.
        user_id: The end user's id.
        slices: Slice attributes (locale, tier, ...), by key.
        feedback_count: How much feedback the trace has.
    """

    trace_id: str
    name: str | None
    service_name: str | None
    start_ns: int
    end_ns: int
    start_time: str
    duration_ms: float
    status: str
    model: str | None
    input_preview: str | None
    output_preview: str | None
    span_count: int
    error_count: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float
    release: TraceRelease | None
    session_id: str | None
    user_id: str | None
    slices: dict[str, Any]
    feedback_count: int


@dataclass(frozen=True, slots=True)
class TracePage:
    """A page of traces, newest first.

    Attributes:
        items: The traces on this page.
        next_cursor: Pass it back for the next page; None on the last page.
    """

    items: list[TraceSummary]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpanNode:
    """One span of a trace with its children, every normalised field included.

    Attributes:
        span_id: 16 lowercase hex digits.
        parent_span_id: The parent's span id; None for the root. A span whose
            parent never arrived is listed among the roots with this still set.
        name: Span name.
        kind: ``llm``, ``retrieval``, ``tool``, ``chain``, ``agent``, ... or ``span``.
        model: Model that answered (model spans).
        provider: Provider or system (``openai``, ...).
        input: Input as text or chat messages.
        output: Output as text or chat messages.
        prompt_tokens: Input tokens, if reported.
        completion_tokens: Output tokens, if reported.
        cost: Cost in USD, reported or priced from the tokens.
        start_ns: Start, ns since the epoch.
        end_ns: End, ns since the epoch.
        start_time: Start as ISO 8601 UTC.
        duration_ms: Duration in milliseconds.
        status: ``ok``, ``error`` or ``unset``.
        status_message: The error description, if any.
        session_id: Session id attribute.
        user_id: User id attribute.
        attributes: The remaining span attributes.
        events: Span events (``name``, ``time_ns``, ``attributes``).
        children: Child spans, by start time.
    """

    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    model: str | None
    provider: str | None
    input: Content
    output: Content
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    start_ns: int
    end_ns: int
    start_time: str
    duration_ms: float
    status: str
    status_message: str | None
    session_id: str | None
    user_id: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    children: list[SpanNode] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceDetail(TraceSummary):
    """A whole trace: the summary's fields plus full content, spans and feedback.

    Attributes:
        input: The trace's input as text or chat messages.
        output: The trace's output as text or chat messages.
        resource: The OTLP resource attributes of the root span.
        spans: The span tree: root spans (with orphans whose parent has not
            arrived), by start time, each with its children.
        feedback: The trace's feedback, oldest first.
    """

    input: Content
    output: Content
    resource: dict[str, Any]
    spans: list[SpanNode]
    feedback: list[FeedbackView]
