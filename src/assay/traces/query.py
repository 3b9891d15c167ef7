"""Finding traces: filtered, newest-first pages of trace summaries.

Pages are keyset-paginated on ``(start_ns, id)``, newest first, which the
``ix_traces_project_start`` index serves; span conditions are correlated EXISTS
subqueries on the spans' ``(project_id, trace_id, span_id)`` unique index, so each
costs one index range per candidate trace rather than a join that multiplies rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session, defer

from assay.errors import InvalidInput, NotFound
from assay.ingest.conventions import KINDS
from assay.releases import get_release
from assay.store.dialects import json_text_field
from assay.store.models import Feedback, Release, Span, SpanLog, Trace
from assay.traces.content import parse_content, preview
from assay.traces.cursor import decode_cursor, encode_cursor
from assay.traces.feedback import check_trace_id, feedback_view
from assay.traces.times import ns_to_iso
from assay.traces.tree import LogEvent, build_tree, fold_logs
from assay.traces.views import (
    TraceDetail,
    TraceFilter,
    TracePage,
    TraceRelease,
    TraceSummary,
)

MAX_PAGE = 500
STATUSES = ("ok", "error", "unset")
_CURSOR_KIND = "traces"
# The escape character for LIKE patterns; "/" rather than "\" so that neither
# dialect's string-literal rules get a say.
_ESCAPE = "/"


def list_traces(
    session: Session,
    project_id: int,
    filters: TraceFilter | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> TracePage:
    """A page of a project's traces, newest first.

    Args:
        session: The session to read with.
        project_id: The project.
        filters: Conditions the traces must meet; all traces when None.
        limit: Page size, 1-500.
        cursor: ``next_cursor`` of the previous page, for the page after it. Traces
            that arrive later with a newer start time never shift later pages.

    Returns:
        The page and the cursor of the next one.

    Raises:
        InvalidInput: A malformed filter, limit or cursor (the message names it), or
            a release fingerprint prefix that matches several releases.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: must be between 1 and {MAX_PAGE}; got {limit}")
    conditions = [Trace.project_id == project_id]
    conditions += trace_conditions(session, project_id, filters or TraceFilter())
    if cursor is not None:
        start_ns, row_id = decode_cursor(cursor, _CURSOR_KIND, 2)
        conditions.append(
            or_(Trace.start_ns < start_ns, and_(Trace.start_ns == start_ns, Trace.id < row_id))
        )
    query = (
        select(Trace)
        .options(defer(Trace.resource))
        .where(*conditions)
        .order_by(Trace.start_ns.desc(), Trace.id.desc())
        .limit(limit + 1)
    )
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    items = summarize(session, project_id, rows)
    next_cursor = encode_cursor(_CURSOR_KIND, rows[-1].start_ns, rows[-1].id) if more else None
    return TracePage(items=items, next_cursor=next_cursor)


def get_trace(session: Session, project_id: int, trace_id: str) -> TraceDetail:
    """One trace with its span tree and feedback.

    Args:
        session: The session to read with.
        project_id: The project; a trace of another project is not found.
        trace_id: 32 hex digits (any case).

    Returns:
        The trace.

    Raises:
        InvalidInput: ``trace_id`` is malformed.
        NotFound: The project has no such trace.
    """
    trace_id = check_trace_id(trace_id)
    row = session.scalar(
        select(Trace).where(Trace.project_id == project_id, Trace.trace_id == trace_id)
    )
    if row is None:
        raise NotFound(f"trace {trace_id} does not exist in this project")
    in_trace = (Span.project_id == project_id, Span.trace_id == trace_id)
    spans = list(session.scalars(select(Span).where(*in_trace).order_by(Span.start_ns, Span.id)))
    logs: list[LogEvent] = []
    if any(span.input is None or span.output is None for span in spans):
        logs = [
            LogEvent(span_id=span_id, name=name, body=body)
            for span_id, name, body in session.execute(
                select(SpanLog.span_id, SpanLog.event_name, SpanLog.body)
                .where(SpanLog.project_id == project_id, SpanLog.trace_id == trace_id)
                .order_by(SpanLog.time_ns, SpanLog.id)
            )
        ]
    content = fold_logs(spans, logs)
    feedback = [
        feedback_view(fb, trace_known=True)
        for fb in session.scalars(
            select(Feedback)
            .where(Feedback.project_id == project_id, Feedback.trace_id == trace_id)
            .order_by(Feedback.id)
        )
    ]
    releases = resolve_releases(session, project_id, [row.release_ref])
    fields = summary_fields(row, releases, len(feedback))
    trace_in, trace_out = row.input, row.output
    if (trace_in is None or trace_out is None) and spans:
        # The writer copies the root's (or earliest span's) content to the trace;
        # content folded from logs just now has not been copied.
        first = next((s for s in spans if s.parent_span_id is None), spans[0])
        trace_in = trace_in if trace_in is not None else content[first.span_id].input
        trace_out = trace_out if trace_out is not None else content[first.span_id].output
        fields["input_preview"] = preview(trace_in, prefer_role="user")
        fields["output_preview"] = preview(trace_out)
    return TraceDetail(
        **fields,
        input=parse_content(trace_in),
        output=parse_content(trace_out),
        resource=_json_object(row.resource),
        spans=build_tree(spans, content),
        feedback=feedback,
    )


def trace_conditions(
    session: Session, project_id: int, filters: TraceFilter
) -> list[ColumnElement[bool]]:
    """The WHERE conditions on :class:`Trace` that express ``filters``.

    Raises:
        InvalidInput: A malformed filter.
    """
    out: list[ColumnElement[bool]] = []
    if filters.start_from_ns is not None:
        out.append(Trace.start_ns >= filters.start_from_ns)
    if filters.start_to_ns is not None:
        out.append(Trace.start_ns < filters.start_to_ns)
    if filters.release is not None:
        out.append(Trace.release_ref.in_(release_refs(session, project_id, filters.release)))
    if filters.model is not None:
        out.append(or_(Trace.model == filters.model, _has_span(Span.model == filters.model)))
    if filters.status is not None:
        if filters.status not in STATUSES:
            raise InvalidInput(
                f"status: must be one of {', '.join(STATUSES)}; got {filters.status!r}"
            )
        out.append(Trace.status == filters.status)
    if filters.kind is not None:
        if filters.kind not in KINDS:
            raise InvalidInput(
                f"kind: must be one of {', '.join(sorted(KINDS))}; got {filters.kind!r}"
            )
        out.append(_has_span(Span.kind == filters.kind))
    dialect = session.get_bind().dialect.name
    for key, values in _group_slices(filters.slices).items():
        # Cast: SQLite's json_extract returns numbers as numbers, which never equal text.
        field = cast(json_text_field(dialect, Trace.slices, key), Text)
        out.append(field.in_(values))
    if filters.q is not None and filters.q != "":
        pattern = "%" + _escape_like(filters.q) + "%"
        out.append(
            or_(
                Trace.input.ilike(pattern, escape=_ESCAPE),
                Trace.output.ilike(pattern, escape=_ESCAPE),
                _has_span(
                    or_(
                        Span.input.ilike(pattern, escape=_ESCAPE),
                        Span.output.ilike(pattern, escape=_ESCAPE),
                    )
                ),
            )
        )
    if filters.session_id is not None:
        out.append(Trace.session_id == filters.session_id)
    if filters.user_id is not None:
        out.append(Trace.user_id == filters.user_id)
    if filters.has_feedback is not None:
        has = exists().where(
            Feedback.project_id == Trace.project_id, Feedback.trace_id == Trace.trace_id
        )
        out.append(has if filters.has_feedback else ~has)
    return out


def release_refs(session: Session, project_id: int, ref: str) -> list[str]:
    """The ``release_ref`` values that mean release ``ref``.

    A registered release (by name, fingerprint or fingerprint prefix) is sent by
    apps as its name or its fingerprint; any other ``ref`` is taken as a raw ref.

    Raises:
        InvalidInput: ``ref`` is empty, or a prefix matching several releases.
    """
    try:
        release = get_release(session, project_id, ref)
    except NotFound:
        return [ref]
    return [release.name, release.fingerprint]


def summarize(session: Session, project_id: int, rows: Sequence[Trace]) -> list[TraceSummary]:
    """Summaries of trace rows, with releases and feedback counts in two queries."""
    trace_ids = [row.trace_id for row in rows]
    counts = feedback_counts(session, project_id, trace_ids)
    releases = resolve_releases(session, project_id, (row.release_ref for row in rows))
    return [
        TraceSummary(**summary_fields(row, releases, counts.get(row.trace_id, 0))) for row in rows
    ]


def summary_fields(
    row: Trace, releases: dict[str, TraceRelease], feedback_count: int
) -> dict[str, Any]:
    """The fields of :class:`TraceSummary` for one trace row (shared with the detail)."""
    return {
        "trace_id": row.trace_id,
        "name": row.name,
        "service_name": row.service_name,
        "start_ns": row.start_ns,
        "end_ns": row.end_ns,
        "start_time": ns_to_iso(row.start_ns),
        "duration_ms": (row.end_ns - row.start_ns) / 1_000_000,
        "status": row.status,
        "model": row.model,
        "input_preview": preview(row.input, prefer_role="user"),
        "output_preview": preview(row.output),
        "span_count": row.span_count,
        "error_count": row.error_count,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "total_tokens": row.prompt_tokens + row.completion_tokens,
        "cost": row.cost,
        "release": releases.get(row.release_ref) if row.release_ref is not None else None,
        "session_id": row.session_id,
        "user_id": row.user_id,
        "slices": _json_object(row.slices),
        "feedback_count": feedback_count,
    }


def feedback_counts(session: Session, project_id: int, trace_ids: list[str]) -> dict[str, int]:
    """How much feedback each of ``trace_ids`` has (absent: none)."""
    if not trace_ids:
        return {}
    rows = session.execute(
        select(Feedback.trace_id, func.count())
        .where(Feedback.project_id == project_id, Feedback.trace_id.in_(trace_ids))
        .group_by(Feedback.trace_id)
    )
    return {trace_id: count for trace_id, count in rows}


def resolve_releases(
    session: Session, project_id: int, refs: Iterable[str | None]
) -> dict[str, TraceRelease]:
    """Each ref resolved against the project's releases, by name first, then fingerprint.

    Returns:
        A :class:`TraceRelease` per distinct non-None ref; name and fingerprint are
        None for refs that match no release.
    """
    wanted = sorted({ref for ref in refs if ref is not None})
    if not wanted:
        return {}
    matches = session.execute(
        select(Release.name, Release.fingerprint).where(
            Release.project_id == project_id,
            or_(Release.name.in_(wanted), Release.fingerprint.in_(wanted)),
        )
    ).all()
    by_name = {name: (name, fp) for name, fp in matches}
    by_fingerprint = {fp: (name, fp) for name, fp in matches}
    out: dict[str, TraceRelease] = {}
    for ref in wanted:
        hit = by_name.get(ref) or by_fingerprint.get(ref)
        out[ref] = TraceRelease(
            ref=ref, name=hit[0] if hit else None, fingerprint=hit[1] if hit else None
        )
    return out


def _has_span(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS a span of the outer trace meeting ``condition``."""
    return exists().where(
        Span.project_id == Trace.project_id, Span.trace_id == Trace.trace_id, condition
    )


def _group_slices(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, value in pairs:
        if not key:
            raise InvalidInput(f"slice: the key is empty in {key}:{value}")
        grouped[key].append(value)
    return dict(grouped)


def _escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards and the escape character made literal."""
    return (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )


def _json_object(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    data = orjson.loads(text)
    return data if isinstance(data, dict) else {}
