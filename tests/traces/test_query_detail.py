"""One trace's detail: the span tree, content folded from logs, feedback, errors."""

from __future__ import annotations

import pytest

from assay.errors import InvalidInput, NotFound
from assay.store.models import Span, SpanLog, Trace
from assay.testing.otlp import IdFactory, genai_chat_log_records, genai_llm_span, make_span
from assay.traces import get_trace, list_feedback, record_feedback

from .conftest import MS, T0, Ingest

ids = IdFactory("test_query_detail")


def test_detail_span_tree(ingest: Ingest) -> None:
    trace = ids.trace_id()
    top, retrieve, chat, rerank = (ids.span_id() for _ in range(4))
    spans = [
        # Sent out of order: the tree orders children by start time.
        genai_llm_span(
            trace_id=trace,
            span_id=chat,
            parent_span_id=top,
            start_ns=T0 + 50 * MS,
            system="Be brief.",
            prompt="Capital?",
            completion="Paris",
            ids=ids,
        ),
        make_span(
            "retrieve",
            trace_id=trace,
            span_id=retrieve,
            parent_span_id=top,
            start_ns=T0 + 10 * MS,
            attributes={"openinference.span.kind": "RETRIEVER", "k": 3},
            events=[("cache.miss", {"key": "q1"})],
            ids=ids,
        ),
        make_span(
            "rerank",
            trace_id=trace,
            span_id=rerank,
            parent_span_id=retrieve,
            start_ns=T0 + 20 * MS,
            status="error",
            status_message="timeout",
            ids=ids,
        ),
        make_span(
            "pipeline",
            trace_id=trace,
            span_id=top,
            start_ns=T0,
            duration_ms=500,
            attributes={"input.value": "Capital?", "output.value": "Paris"},
            ids=ids,
        ),
    ]
    trace_id = ingest.spans(spans, release="v1", resource_attributes={"deployment": "eu"})
    with ingest.store.session() as session:
        record_feedback(session, ingest.project_id, trace_id, "thumbs", False, comment="wrong")
        detail = get_trace(session, ingest.project_id, trace_id.upper())

    assert detail.trace_id == trace_id
    assert detail.span_count == 4
    assert detail.input == "Capital?"
    assert detail.output == "Paris"
    assert detail.resource["deployment"] == "eu"
    assert detail.release is not None
    assert detail.release.ref == "v1"
    (node,) = detail.spans
    assert node.name == "pipeline"
    assert node.parent_span_id is None
    assert [c.name for c in node.children] == ["retrieve", f"chat {'gpt-4o-mini'}"]
    retrieve_node, chat_node = node.children
    assert retrieve_node.kind == "retrieval"
    assert retrieve_node.attributes["k"] == 3
    assert retrieve_node.events[0]["name"] == "cache.miss"
    assert retrieve_node.events[0]["attributes"] == {"key": "q1"}
    (rerank_node,) = retrieve_node.children
    assert (rerank_node.status, rerank_node.status_message) == ("error", "timeout")
    assert chat_node.kind == "llm"
    assert chat_node.model == "gpt-4o-mini"
    assert chat_node.provider == "openai"
    assert chat_node.input == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital?"},
    ]
    assert isinstance(chat_node.output, list)
    assert chat_node.output[0]["content"] == "Paris"
    assert chat_node.prompt_tokens == 3
    assert chat_node.start_time == "2025-11-20T00:53:20.050000Z"
    assert chat_node.duration_ms == pytest.approx(100.0)
    assert [(f.name, f.value, f.comment) for f in detail.feedback] == [("thumbs", False, "wrong")]
    assert detail.feedback_count == 1


def test_detail_orphans_are_top_level_until_their_parent_arrives(ingest: Ingest) -> None:
    trace = ids.trace_id()
    parent = ids.span_id()
    child = make_span("child", trace_id=trace, parent_span_id=parent, start_ns=T0 + MS, ids=ids)
    trace_id = ingest.spans([child])
    with ingest.store.session() as session:
        (node,) = get_trace(session, ingest.project_id, trace_id).spans
    assert (node.name, node.parent_span_id) == ("child", parent.hex())

    ingest.spans([make_span("parent", trace_id=trace, span_id=parent, start_ns=T0, ids=ids)])
    with ingest.store.session() as session:
        (top,) = get_trace(session, ingest.project_id, trace_id).spans
    assert top.name == "parent"
    assert [c.name for c in top.children] == ["child"]


def test_detail_folds_content_logs_into_spans_that_lack_content(ingest: Ingest) -> None:
    # A span and its logs stored without the writer's folding (an older writer, an
    # import): the read path folds them in.
    trace_id, span_id = ids.trace_id().hex(), ids.span_id().hex()
    records = genai_chat_log_records(
        trace_id=trace_id, span_id=span_id, prompt="Hi?", completion="Hello!", time_ns=T0
    )
    with ingest.store.session() as session:
        session.add(
            Span(
                project_id=ingest.project_id,
                trace_id=trace_id,
                span_id=span_id,
                name="chat",
                kind="llm",
                start_ns=T0,
                end_ns=T0 + MS,
            )
        )
        for index, record in enumerate(records):
            session.add(
                SpanLog(
                    project_id=ingest.project_id,
                    trace_id=trace_id,
                    span_id=span_id,
                    event_name=record.event_name,
                    time_ns=T0 + index,
                    body='{"role": "user", "content": "Hi?"}'
                    if index == 0
                    else '{"index": 0, "message": {"role": "assistant", "content": "Hello!"}}',
                )
            )
        session.add(
            Trace(
                project_id=ingest.project_id,
                trace_id=trace_id,
                name="chat",
                has_root=1,
                start_ns=T0,
                end_ns=T0 + MS,
                span_count=1,
            )
        )
    with ingest.store.session() as session:
        detail = get_trace(session, ingest.project_id, trace_id)
    (node,) = detail.spans
    assert node.input == [{"role": "user", "content": "Hi?"}]
    assert node.output == [{"role": "assistant", "content": "Hello!"}]
    assert detail.input == node.input
    assert detail.input_preview == "Hi?"


def test_detail_of_logs_sent_through_ingest(ingest: Ingest) -> None:
    span = genai_llm_span(include_content=False, start_ns=T0, ids=ids)
    trace_id = ingest.spans([span])
    ingest.logs(
        genai_chat_log_records(
            trace_id=span.trace_id, span_id=span.span_id, prompt="Q", completion="A"
        )
    )
    with ingest.store.session() as session:
        (node,) = get_trace(session, ingest.project_id, trace_id).spans
    assert node.input == [{"role": "user", "content": "Q"}]


def test_detail_unknown_or_malformed_trace(ingest: Ingest) -> None:
    with ingest.store.session() as session:
        with pytest.raises(NotFound, match="does not exist"):
            get_trace(session, ingest.project_id, "ab" * 16)
        with pytest.raises(InvalidInput, match=r"^trace_id:"):
            get_trace(session, ingest.project_id, "xyz")


def test_feedback_before_the_trace_shows_once_it_arrives(ingest: Ingest) -> None:
    trace = ids.trace_id()
    with ingest.store.session() as session:
        early = record_feedback(session, ingest.project_id, trace.hex(), "thumbs", True)
    assert early.trace_known is False
    span = make_span("late", trace_id=trace, start_ns=T0, ids=ids)
    ingest.spans([span])
    with ingest.store.session() as session:
        detail = get_trace(session, ingest.project_id, trace.hex())
        (listed,) = list_feedback(session, ingest.project_id).items
    assert [f.id for f in detail.feedback] == [early.id]
    assert listed.trace_known is True
