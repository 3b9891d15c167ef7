"""Feedback on traces: record it, list it.

Feedback usually comes from the app right after it answered, often before the
app's batch span exporter has flushed the trace (the OpenTelemetry SDK's default
schedule delay is 5 s). So feedback for a trace id the project has not stored yet
is accepted, as long as the id is well formed, and is tied to the trace when its
spans arrive (feedback and traces are matched by ``(project, trace_id)`` when read).
``trace_known`` in every view tells whether the trace has arrived.

Feedback is always stored under the caller's project: a trace id of another
project only ever names a trace of the caller's own project.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import InvalidInput
from assay.ingest.feedback import (
    MAX_NAME,
    MAX_TEXT,
    check_source,
    check_text,
    redact_feedback,
    split_value,
)
from assay.projects.service import project_config
from assay.redaction import Redactor
from assay.store.models import Feedback, Trace
from assay.traces.cursor import decode_cursor, encode_cursor
from assay.traces.times import as_utc
from assay.traces.views import FeedbackPage, FeedbackValue, FeedbackView

MAX_PAGE = 500
_CURSOR_KIND = "feedback"
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")


def check_trace_id(trace_id: str, *, field: str = "trace_id") -> str:
    """A trace id in canonical form (lowercase).

    Raises:
        InvalidInput: Not 32 hex digits, or all zero (OpenTelemetry's invalid id).
    """
    value = trace_id.strip().lower() if isinstance(trace_id, str) else ""
    if not _TRACE_ID.fullmatch(value) or not value.strip("0"):
        raise InvalidInput(f"{field}: must be 32 hex digits, not all zero; got {trace_id!r}")
    return value


def check_span_id(span_id: str, *, field: str = "span_id") -> str:
    """A span id in canonical form (lowercase).

    Raises:
        InvalidInput: Not 16 hex digits, or all zero.
    """
    value = span_id.strip().lower() if isinstance(span_id, str) else ""
    if not _SPAN_ID.fullmatch(value) or not value.strip("0"):
        raise InvalidInput(f"{field}: must be 16 hex digits, not all zero; got {span_id!r}")
    return value


def _value_of(row: Feedback) -> FeedbackValue:
    if row.value_num is not None and row.value_text in ("true", "false"):
        return row.value_text == "true"
    if row.value_num is not None:
        return row.value_num
    return row.value_text or ""


def feedback_view(row: Feedback, *, trace_known: bool) -> FeedbackView:
    """The view of a feedback row."""
    return FeedbackView(
        id=row.id,
        trace_id=row.trace_id,
        span_id=row.span_id,
        name=row.name,
        value=_value_of(row),
        value_num=row.value_num,
        value_text=row.value_text,
        comment=row.comment,
        source=row.source,
        created_at=as_utc(row.created_at),
        trace_known=trace_known,
    )


def record_feedback(
    session: Session,
    project_id: int,
    trace_id: str,
    name: str,
    value: FeedbackValue | int,
    comment: str | None = None,
    span_id: str | None = None,
    source: str = "api",
    redactor: Redactor | None = None,
) -> FeedbackView:
    """Store feedback on a trace, or on one span of it, redacted by the project's rules.

    The trace need not have arrived yet (see the module docstring); the span is not
    checked either, for the same reason.

    Args:
        session: The session to write with; the caller commits.
        project_id: The caller's project.
        trace_id: The trace, 32 hex digits (any case).
        name: What is measured, 1-100 characters (``thumbs``, ``rating``...).
        value: True/False (stored as 1/0 and as ``true``/``false``), a finite
            number, or text (a label or a corrected answer).
        comment: Free text.
        span_id: The span, 16 hex digits; the whole trace when None.
        source: Who sends it, 1-20 characters.
        redactor: The project's redaction (the server passes the one it keeps with
            the key); read from the store when omitted.

    Returns:
        The stored feedback.

    Raises:
        InvalidInput: A field is malformed (the message names it); nothing is stored.
    """
    trace = check_trace_id(trace_id)
    span = check_span_id(span_id) if span_id is not None else None
    check_text(name, "name", MAX_NAME, required=True)
    check_text(comment, "comment", MAX_TEXT, required=False)
    check_source(source, "source")
    if value is None:
        raise InvalidInput("value: required")
    value_num, value_text = split_value(value)
    if redactor is None:
        redactor = project_config(session, project_id).redactor
    value_text, comment = redact_feedback(value_num, value_text, comment, redactor)
    row = Feedback(
        project_id=project_id,
        trace_id=trace,
        span_id=span,
        name=name,
        value_num=value_num,
        value_text=value_text,
        comment=comment,
        source=source,
    )
    session.add(row)
    session.flush()
    known = session.scalar(
        select(Trace.id).where(Trace.project_id == project_id, Trace.trace_id == trace)
    )
    return feedback_view(row, trace_known=known is not None)


def list_feedback(
    session: Session,
    project_id: int,
    *,
    trace_id: str | None = None,
    name: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> FeedbackPage:
    """A project's feedback, newest first, a page at a time.

    Args:
        session: The session to read with.
        project_id: The project.
        trace_id: Only feedback on this trace.
        name: Only feedback of this name.
        limit: Page size, 1-500.
        cursor: ``next_cursor`` of the previous page.

    Returns:
        The page.

    Raises:
        InvalidInput: A malformed trace id, limit or cursor.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: must be between 1 and {MAX_PAGE}; got {limit}")
    query = select(Feedback).where(Feedback.project_id == project_id)
    if trace_id is not None:
        query = query.where(Feedback.trace_id == check_trace_id(trace_id))
    if name is not None:
        query = query.where(Feedback.name == name)
    if cursor is not None:
        (last_id,) = decode_cursor(cursor, _CURSOR_KIND, 1)
        query = query.where(Feedback.id < last_id)
    rows = list(session.scalars(query.order_by(Feedback.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    known = known_traces(session, project_id, {row.trace_id for row in rows})
    items = [feedback_view(row, trace_known=row.trace_id in known) for row in rows]
    next_cursor = encode_cursor(_CURSOR_KIND, rows[-1].id) if more else None
    return FeedbackPage(items=items, next_cursor=next_cursor)


def known_traces(session: Session, project_id: int, trace_ids: set[str]) -> set[str]:
    """Which of ``trace_ids`` the project has stored."""
    if not trace_ids:
        return set()
    found = session.scalars(
        select(Trace.trace_id).where(
            Trace.project_id == project_id, Trace.trace_id.in_(sorted(trace_ids))
        )
    )
    return set(found)
