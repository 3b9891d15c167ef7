"""Feedback sent as ``assay.feedback`` span events: stored with the span, once, redacted."""

from __future__ import annotations

from datetime import UTC, datetime

from assay.ingest.normalize import normalize_traces
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects import create_project, project_config
from assay.store import Store
from assay.testing.otlp import export_trace_request, make_span
from assay.traces import get_trace, list_feedback

START = 1_763_600_000_000_000_000  # 2025-11-20T00:53:20Z
THUMBS = ("assay.feedback", {"assay.feedback.name": "thumbs", "assay.feedback.value": False})
CORRECTION = (
    "assay.feedback",
    {
        "assay.feedback.name": "correction",
        "assay.feedback.value": "Lyon. Write to ana@example.com for refunds.",
        "assay.feedback.comment": "from jo@example.com",
        "assay.feedback.source": "validator",
    },
)
BROKEN = ("assay.feedback", {"assay.feedback.name": "rating"})  # no value


def test_feedback_events_become_feedback_once_and_redacted(store: Store) -> None:
    with store.write_session() as session:
        project_id = create_project(session, "bot").id
    with store.session() as session:
        config = project_config(session, project_id)
    span = make_span(
        "answer",
        start_ns=START,
        events=[THUMBS, CORRECTION, BROKEN, ("retry", {"attempt": 2})],
    )
    request = export_trace_request([span])
    batch = normalize_traces(request, config, PriceTable())
    assert batch.rejected == 0
    assert batch.errors == ["span 'answer': feedback event: assay.feedback.value: required"]
    writer = Writer(store, queue_bytes=1 << 20, batch_bytes=1 << 20)
    writer.write_now(spans=batch)
    # An exporter retrying after a timeout sends the same span again.
    writer.write_now(spans=normalize_traces(request, config, PriceTable()))
    trace_id = span.trace_id.hex()
    with store.session() as session:
        items = list_feedback(session, project_id, trace_id=trace_id).items
        detail = get_trace(session, project_id, trace_id)
    by_name = {f.name: f for f in items}
    assert sorted(by_name) == ["correction", "thumbs"]
    assert (by_name["thumbs"].value, by_name["thumbs"].source) == (False, "otel")
    assert by_name["thumbs"].span_id == span.span_id.hex()
    assert by_name["thumbs"].created_at == datetime.fromtimestamp(START / 1e9, UTC)
    correction = by_name["correction"]
    assert correction.source == "validator"
    assert "ana@example.com" not in str(correction.value)
    assert "Lyon." in str(correction.value)
    assert correction.comment is not None
    assert "jo@example.com" not in correction.comment
    # The feedback events are not kept as plain events; other events are.
    (stored,) = detail.spans
    assert [e["name"] for e in stored.events] == ["retry"]


def test_a_span_sent_twice_in_one_group_commit_brings_its_feedback_once(store: Store) -> None:
    from concurrent.futures import Future

    from assay.ingest.writer import _Item

    with store.write_session() as session:
        project_id = create_project(session, "bot").id
    with store.session() as session:
        config = project_config(session, project_id)
    request = export_trace_request([make_span("answer", start_ns=START, events=[THUMBS])])
    first, again = (normalize_traces(request, config, PriceTable()) for _ in range(2))
    writer = Writer(store, queue_bytes=1 << 20, batch_bytes=1 << 20)
    # Two requests carrying the same span, taken by the writer in one transaction.
    results = writer._write([_Item(first, None, 0, Future()), _Item(again, None, 0, Future())])
    assert [r.spans_inserted for r in results] == [1, 0]
    with store.session() as session:
        assert len(list_feedback(session, project_id).items) == 1
