"""The group-commit writer: rows and trace aggregates, duplicates, admission, isolation."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from assay.errors import Overloaded
from assay.ingest.normalize import SpanBatch, normalize_traces
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects import create_api_key, create_project, project_config
from assay.projects.service import ProjectConfig
from assay.server import create_app
from assay.settings import Settings
from assay.store import Store
from assay.store.models import Span, Trace
from assay.testing.otlp import (
    IdFactory,
    export_trace_request,
    genai_llm_span,
    make_span,
    trace_with_children,
)
from assay.traces.content import parse_content


@pytest.fixture
def project(store: Store) -> ProjectConfig:
    with store.session() as session:
        created = create_project(session, "writer")
        return project_config(session, created.id)


@pytest.fixture
def writer(store: Store) -> Writer:
    return Writer(store, queue_bytes=1 << 30, batch_bytes=1 << 30)


def batch_of(spans: list[Any], config: ProjectConfig, **request: Any) -> SpanBatch:
    return normalize_traces(export_trace_request(spans, **request), config, PriceTable())


def span_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Span)).scalar_one())


def the_trace(store: Store, trace_id: bytes) -> Trace:
    with store.session() as session:
        row = session.scalar(select(Trace).where(Trace.trace_id == trace_id.hex()))
        assert row is not None
        return row


def llm_child(ids: IdFactory, tokens: int = 10, status: str = "unset") -> Any:
    def build(index: int, trace: bytes, parent: bytes, start: int) -> Any:
        return genai_llm_span(
            model="gpt-4o",
            input_tokens=tokens,
            output_tokens=tokens,
            prompt=f"q{index}",
            completion=f"a{index}",
            trace_id=trace,
            parent_span_id=parent,
            start_ns=start,
            status=status,
            ids=ids,
        )

    return build


def test_writes_spans_and_one_trace_row(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    ids = IdFactory("write")
    spans = trace_with_children(3, child=llm_child(ids), ids=ids)
    result = writer.write_now(spans=batch_of(spans, project, release="v1"))
    assert (result.spans_inserted, result.spans_duplicate, result.logs_inserted) == (4, 0, 0)
    assert span_count(store) == 4
    trace = the_trace(store, spans[0].trace_id)
    assert (trace.span_count, trace.error_count, trace.has_root) == (4, 0, 1)
    assert (trace.prompt_tokens, trace.completion_tokens) == (30, 30)
    assert trace.cost == pytest.approx(3 * (10 * 2.5 + 10 * 10.0) / 1e6)
    assert (trace.name, trace.input, trace.output) == (
        "answer_question",
        "What is the capital of France?",
        "The capital of France is Paris.",
    )
    assert (trace.model, trace.release_ref, trace.service_name) == (
        "gpt-4o",
        "v1",
        "assay-test-app",
    )
    assert trace.start_ns == spans[0].start_time_unix_nano
    assert trace.end_ns == max(s.end_time_unix_nano for s in spans)


def test_a_retried_request_is_not_double_counted(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    ids = IdFactory("retry")
    spans = trace_with_children(2, child=llm_child(ids, status="error"), ids=ids)
    writer.write_now(spans=batch_of(spans, project))
    before = the_trace(store, spans[0].trace_id)
    again = writer.write_now(spans=batch_of(spans, project))
    assert (again.spans_inserted, again.spans_duplicate) == (0, 3)
    after = the_trace(store, spans[0].trace_id)
    assert span_count(store) == 3
    for column in ("span_count", "error_count", "prompt_tokens", "completion_tokens", "cost"):
        assert getattr(after, column) == getattr(before, column), column
    assert (after.span_count, after.error_count, after.status) == (3, 2, "error")


def test_duplicates_inside_one_request_count_once(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    span = genai_llm_span(input_tokens=7, output_tokens=3, ids=IdFactory("dup-in-one"))
    result = writer.write_now(spans=batch_of([span, span], project))
    assert (result.spans_inserted, result.spans_duplicate) == (1, 1)
    trace = the_trace(store, span.trace_id)
    assert (trace.span_count, trace.prompt_tokens, trace.completion_tokens) == (1, 7, 3)


def test_a_partly_new_request_adds_only_the_new_spans(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    ids = IdFactory("partly")
    root, first, second = trace_with_children(2, child=llm_child(ids, tokens=5), ids=ids)
    writer.write_now(spans=batch_of([root, first], project))
    result = writer.write_now(spans=batch_of([first, second], project))
    assert (result.spans_inserted, result.spans_duplicate) == (1, 1)
    trace = the_trace(store, root.trace_id)
    assert (trace.span_count, trace.prompt_tokens) == (3, 10)


def test_children_before_their_root(store: Store, writer: Writer, project: ProjectConfig) -> None:
    ids = IdFactory("late-root")
    root, *children = trace_with_children(2, child=llm_child(ids), ids=ids)
    writer.write_now(spans=batch_of(children, project, resource_attributes={"tier": "pro"}))
    early = the_trace(store, root.trace_id)
    assert (early.has_root, early.name) == (0, "chat gpt-4o")
    assert parse_content(early.input) == [{"role": "user", "content": "q0"}]  # the earliest
    writer.write_now(spans=batch_of([root], project, resource_attributes={"locale": "fr"}))
    trace = the_trace(store, root.trace_id)
    assert (trace.has_root, trace.name, trace.span_count) == (1, "answer_question", 3)
    assert (trace.input, trace.output) == (
        "What is the capital of France?",
        "The capital of France is Paris.",
    )
    assert trace.start_ns == root.start_time_unix_nano
    assert json.loads(trace.slices) == {"tier": "pro", "locale": "fr"}


def test_an_error_anywhere_makes_the_trace_an_error(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    ids = IdFactory("errors")
    root = make_span("root", status="ok", ids=ids)
    failed = make_span(
        "tool", trace_id=root.trace_id, parent_span_id=root.span_id, status="error", ids=ids
    )
    writer.write_now(spans=batch_of([root], project))
    assert the_trace(store, root.trace_id).status == "ok"
    writer.write_now(spans=batch_of([failed], project))
    trace = the_trace(store, root.trace_id)
    assert (trace.status, trace.error_count) == ("error", 1)


def _one_commit(writer: Writer, batches: list[SpanBatch]) -> list[Any]:
    """Write ``batches`` as one group commit of the writer's thread."""
    writer.start()
    try:
        # Holding the writer's condition keeps its thread from taking the first
        # request alone, so all are queued when it wakes.
        with writer._lock:
            futures = [writer.submit(writer.reserve(1000), spans=b) for b in batches]
        return [f.result(timeout=30) for f in futures]
    finally:
        writer.stop()


TRACE_COLUMNS = (
    "name",
    "has_root",
    "start_ns",
    "end_ns",
    "status",
    "model",
    "input",
    "output",
    "span_count",
    "error_count",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "release_ref",
    "service_name",
    "session_id",
    "user_id",
    "slices",
    "resource",
)


def _trace_columns(store: Store, project_id: int, trace_id: bytes) -> dict[str, Any]:
    with store.session() as session:
        row = session.scalar(
            select(Trace).where(Trace.project_id == project_id, Trace.trace_id == trace_id.hex())
        )
        assert row is not None
        return {column: getattr(row, column) for column in TRACE_COLUMNS}


@pytest.mark.parametrize(
    "split",
    [[[1, 0], [2, 3]], [[3], [0], [1, 2]], [[2], [3, 1, 0]]],
    ids=["root-in-first", "root-alone-between", "root-last"],
)
def test_a_trace_split_across_requests_of_one_commit_is_aggregated_as_one(
    store: Store, writer: Writer, project: ProjectConfig, split: list[list[int]]
) -> None:
    # Each request's trace rows are aggregated before the writer takes it; a trace
    # that several requests of one commit share must come out as if they were one.
    ids = IdFactory("split")
    spans = trace_with_children(3, child=llm_child(ids, status="error"), ids=ids)
    spans[2] = llm_child(ids, tokens=4)(7, spans[0].trace_id, spans[0].span_id, 5)
    with store.session() as session:
        whole = project_config(session, create_project(session, "whole").id)
    writer.write_now(spans=batch_of([spans[i] for part in split for i in part], whole))
    results = _one_commit(writer, [batch_of([spans[i] for i in part], project) for part in split])
    assert [r.spans_inserted for r in results] == [len(part) for part in split]
    expected = _trace_columns(store, whole.project_id, spans[0].trace_id)
    assert _trace_columns(store, project.project_id, spans[0].trace_id) == expected
    assert (expected["span_count"], expected["error_count"], expected["has_root"]) == (4, 2, 1)


def test_a_span_in_two_requests_of_one_commit_is_written_once(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    ids = IdFactory("twice")
    root, first, second = trace_with_children(2, child=llm_child(ids, tokens=5), ids=ids)
    results = _one_commit(
        writer, [batch_of([root, first], project), batch_of([first, second], project)]
    )
    assert [(r.spans_inserted, r.spans_duplicate) for r in results] == [(2, 0), (1, 1)]
    trace = the_trace(store, root.trace_id)
    assert (trace.span_count, trace.prompt_tokens) == (3, 10)
    assert span_count(store) == 3


def test_stored_and_new_spans_in_one_commit(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    ids = IdFactory("mixed")
    root, first, second = trace_with_children(2, child=llm_child(ids, tokens=5), ids=ids)
    other = genai_llm_span(input_tokens=2, output_tokens=1, ids=IdFactory("mixed-other"))
    writer.write_now(spans=batch_of([root, first], project))
    results = _one_commit(writer, [batch_of([first, second], project), batch_of([other], project)])
    assert [(r.spans_inserted, r.spans_duplicate) for r in results] == [(1, 1), (1, 0)]
    trace = the_trace(store, root.trace_id)
    assert (trace.span_count, trace.prompt_tokens) == (3, 10)
    assert the_trace(store, other.trace_id).span_count == 1
    assert writer.stats["spans"] == 2 + 2  # write_now's two, then the two new ones


# -- the thread: group commit, admission, isolation --------------------------------------


def test_queued_requests_share_one_commit(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    writer.start()
    try:
        batches = [batch_of([genai_llm_span(ids=IdFactory(f"g{i}"))], project) for i in range(5)]
        # Holding the writer's condition keeps its thread from taking the first request
        # alone, so all five are queued when it wakes.
        with writer._lock:
            futures = [writer.submit(writer.reserve(1000), spans=b) for b in batches]
        results = [f.result(timeout=30) for f in futures]
    finally:
        writer.stop()
    assert [r.spans_inserted for r in results] == [1] * 5
    assert writer.stats["batches"] == 1
    assert span_count(store) == 5


def test_one_bad_request_does_not_fail_its_neighbours(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    good = [batch_of([genai_llm_span(ids=IdFactory(f"ok{i}"))], project) for i in range(2)]
    bad = batch_of([genai_llm_span(ids=IdFactory("bad"))], project)
    bad.rows[0]["project_id"] = project.project_id + 999  # no such project: FK violation
    writer.start()
    try:
        with writer._lock:
            futures = [
                writer.submit(writer.reserve(1000), spans=b) for b in (good[0], bad, good[1])
            ]
        assert futures[0].result(timeout=30).spans_inserted == 1
        assert futures[2].result(timeout=30).spans_inserted == 1
        with pytest.raises(IntegrityError):
            futures[1].result(timeout=30)
    finally:
        writer.stop()
    assert span_count(store) == 2


def test_admission_is_bounded_in_bytes(store: Store) -> None:
    writer = Writer(store, queue_bytes=1000, batch_bytes=1000)
    first = writer.reserve(600)
    with pytest.raises(Overloaded) as caught:
        writer.reserve(600)
    assert caught.value.retry_after >= 1
    assert writer.stats["rejected_overload"] == 1
    assert writer.queued_bytes == 600
    first.release()
    first.release()  # idempotent
    assert writer.queued_bytes == 0
    # A request bigger than the whole queue still gets in when the queue is empty.
    huge = writer.reserve(5000)
    with pytest.raises(Overloaded):
        writer.reserve(1)
    huge.release()
    writer.reserve(400).release()


def test_submit_after_stop_is_refused(store: Store, project: ProjectConfig) -> None:
    writer = Writer(store, queue_bytes=1 << 20, batch_bytes=1 << 20)
    writer.start()
    writer.stop()
    future = writer.submit(writer.reserve(10), spans=batch_of([genai_llm_span()], project))
    with pytest.raises(Overloaded, match="shutting down"):
        future.result(timeout=5)


def test_stop_writes_what_is_queued(store: Store, project: ProjectConfig) -> None:
    writer = Writer(store, queue_bytes=1 << 20, batch_bytes=200)
    writer.start()
    with writer._lock:
        futures = [
            writer.submit(
                writer.reserve(150),
                spans=batch_of([genai_llm_span(ids=IdFactory(f"s{i}"))], project),
            )
            for i in range(4)
        ]
    writer.stop()
    assert all(f.result(timeout=0).spans_inserted == 1 for f in futures)
    # batch_bytes=200 fits one 150-byte request per transaction.
    assert writer.stats["batches"] == 4
    assert span_count(store) == 4


def test_occupied_time_counts_only_while_requests_are_in_flight(writer: Writer) -> None:
    # The background worker divides its growth by the time passed to tell a
    # saturating burst from traffic with idle gaps.
    assert writer.occupied_s() == 0.0
    first = writer.reserve(100)
    second = writer.reserve(100)
    time.sleep(0.02)
    during = writer.occupied_s()
    assert during >= 0.02
    first.release()
    assert writer.occupied_s() >= during  # still in flight: the second request
    second.release()
    after = writer.occupied_s()
    time.sleep(0.02)
    assert writer.occupied_s() == after  # idle: the counter stands still
    third = writer.reserve(100)
    time.sleep(0.01)
    assert writer.occupied_s() >= after + 0.01
    third.release()


def test_busy_while_requests_wait_and_for_a_while_after_a_commit(
    store: Store, writer: Writer, project: ProjectConfig
) -> None:
    # The server's background worker gives way while this says busy.
    assert not writer.busy()
    reservation = writer.reserve(100)
    assert writer.busy(within_s=0)  # a request is in flight
    writer.start()
    try:
        future = writer.submit(reservation, spans=batch_of([genai_llm_span()], project))
        future.result(timeout=30)
        reservation.release()
        writer.stop()  # the commit has ended once the thread is gone
        assert writer.queued_bytes == 0
        assert writer.busy(within_s=3600)  # it committed a moment ago
        assert not writer.busy(within_s=0)
    finally:
        writer.stop()


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker-process"])
def test_the_route_prepares_each_request_before_the_writer_takes_it(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # The writer thread bounds the ingest rate, so the trace rows and keys it needs
    # are worked out in the request's thread: a batch reaches submit() prepared.
    submitted: list[SpanBatch] = []
    real_submit = Writer.submit

    def spy(self: Writer, reservation: Any, spans: Any = None, logs: Any = None) -> Any:
        if spans is not None:
            submitted.append(spans)
            assert spans.prepared is not None, "submitted before prepare()"
        return real_submit(self, reservation, spans=spans, logs=logs)

    monkeypatch.setattr(Writer, "submit", spy)
    with sqlite_store.session() as session:
        project_row = create_project(session, "prepared")
        key = create_api_key(session, project_row.id).secret
    ids = IdFactory("prepared")
    spans = trace_with_children(2, child=llm_child(ids), ids=ids)
    body = export_trace_request(spans).SerializeToString()
    app = create_app(Settings(ingest_workers=workers), sqlite_store)
    with TestClient(app) as client:
        response = client.post(
            "/v1/traces",
            content=body,
            headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200
    assert len(submitted) == 1
    prepared = submitted[0].prepared
    assert prepared is not None
    assert len(prepared.keys) == 3
    assert [t["span_count"] for t in prepared.traces.values()] == [3]
    assert the_trace(sqlite_store, spans[0].trace_id).span_count == 3
