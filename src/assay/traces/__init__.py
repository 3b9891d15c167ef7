"""Traces as readers see them: filtered pages, one trace's span tree, and feedback.

Everything here reads what :mod:`assay.ingest` wrote; nothing here writes spans.
Every function takes the caller's SQLAlchemy session and a project id, and never
returns another project's data.
"""

from assay.traces.content import PREVIEW_CHARS, Content, parse_content, preview
from assay.traces.feedback import (
    check_span_id,
    check_trace_id,
    known_traces,
    list_feedback,
    record_feedback,
)
from assay.traces.query import MAX_PAGE, STATUSES, get_trace, list_traces, release_refs
from assay.traces.times import datetime_to_ns, ns_to_datetime, ns_to_iso, parse_timestamp
from assay.traces.views import (
    FeedbackPage,
    FeedbackValue,
    FeedbackView,
    SpanNode,
    TraceDetail,
    TraceFilter,
    TracePage,
    TraceRelease,
    TraceSummary,
)

__all__ = [
    "MAX_PAGE",
    "PREVIEW_CHARS",
    "STATUSES",
    "Content",
    "FeedbackPage",
    "FeedbackValue",
    "FeedbackView",
    "SpanNode",
    "TraceDetail",
    "TraceFilter",
    "TracePage",
    "TraceRelease",
    "TraceSummary",
    "check_span_id",
    "check_trace_id",
    "datetime_to_ns",
    "get_trace",
    "known_traces",
    "list_feedback",
    "list_traces",
    "ns_to_datetime",
    "ns_to_iso",
    "parse_content",
    "parse_timestamp",
    "preview",
    "record_feedback",
    "release_refs",
]
