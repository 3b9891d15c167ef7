"""GenAI content log events: which records are kept, and folding them into their spans
whichever of the two arrives first (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from sqlalchemy import select

from assay.ingest.logs import normalize_logs
from assay.ingest.normalize import normalize_traces
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects import create_api_key, create_project, project_config
from assay.projects.service import ProjectConfig
from assay.server import create_app
from assay.settings import Settings
from assay.store import Store
from assay.store.models import Span, SpanLog, Trace
from assay.testing.otlp import (
    IdFactory,
    export_logs_request,
    export_trace_request,
    genai_chat_log_records,
    genai_llm_span,
    genai_log_record,
    trace_with_children,
)
from assay.traces.content import parse_content

TRACE = "ab" * 16
SPAN = "cd" * 8


def test_keeps_content_events_with_ids(config: ProjectConfig) -> None:
    records = genai_chat_log_records(
        trace_id=TRACE, span_id=SPAN, prompt="Hi", completion="Hello", system="Be brief."
    )
    batch = normalize_logs(export_logs_request(records), config)
    assert batch.rejected == 0
    assert [r["event_name"] for r in batch.rows] == [
        "gen_ai.system.message",
        "gen_ai.user.message",
        "gen_ai.choice",
    ]
    row = batch.rows[2]
    assert (row["trace_id"], row["span_id"], row["project_id"]) == (TRACE, SPAN, 1)
    assert json.loads(row["body"])["message"] == {"role": "assistant", "content": "Hello"}
    assert batch.nbytes > 0


def test_rejects_other_records(config: ProjectConfig) -> None:
    records = [
        genai_log_record("gen_ai.user.message", {"content": "no ids"}),
        genai_log_record("app.started", {"x": 1}, trace_id=TRACE, span_id=SPAN),
        genai_log_record("gen_ai.user.message", {"content": "ok"}, trace_id=TRACE, span_id=SPAN),
    ]
    batch = normalize_logs(export_logs_request(records), config)
    assert (batch.rejected, len(batch.rows)) == (2, 1)


def test_rejects_times_past_the_year_2262(config: ProjectConfig) -> None:
    record = genai_log_record("gen_ai.user.message", {"content": "x"}, trace_id=TRACE, span_id=SPAN)
    record.time_unix_nano = 2**63
    batch = normalize_logs(export_logs_request([record]), config)
    assert (batch.rejected, batch.rows) == (1, [])


def test_event_name_from_the_attribute_and_plain_bodies(config: ProjectConfig) -> None:
    record = genai_log_record("gen_ai.user.message", None, trace_id=TRACE, span_id=SPAN)
    record.event_name = ""  # older SDKs: only the event.name attribute
    record.body.string_value = "plain text body"
    batch = normalize_logs(export_logs_request([record]), config)
    assert batch.rows[0]["event_name"] == "gen_ai.user.message"
    assert json.loads(batch.rows[0]["body"]) == {"content": "plain text body"}


def test_bodies_are_redacted(config: ProjectConfig) -> None:
    records = genai_chat_log_records(
        trace_id=TRACE, span_id=SPAN, prompt="mail jane@example.com", completion="ok"
    )
    body = normalize_logs(export_logs_request(records), config).rows[0]["body"]
    assert "jane@example.com" not in body
    assert "[REDACTED:email]" in body


# -- folding into spans, in the store ---------------------------------------------------


class Ingest:
    """Writes spans and logs of one project the way the server does, synchronously."""

    def __init__(self, store: Store, name: str = "logs") -> None:
        self.store = store
        with store.session() as session:
            project = create_project(session, name)
            self.config = project_config(session, project.id)
        self.writer = Writer(store, queue_bytes=1 << 30, batch_bytes=1 << 30)

    def spans(self, spans: list[Any]) -> None:
        batch = normalize_traces(export_trace_request(spans), self.config, PriceTable())
        self.writer.write_now(spans=batch)

    def logs(self, records: list[Any]) -> None:
        self.writer.write_now(logs=normalize_logs(export_logs_request(records), self.config))

    def both(self, spans: list[Any], records: list[Any]) -> None:
        self.writer.write_now(
            spans=normalize_traces(export_trace_request(spans), self.config, PriceTable()),
            logs=normalize_logs(export_logs_request(records), self.config),
        )

    def span(self, span_id: bytes) -> Span:
        with self.store.session() as session:
            row = session.scalar(
                select(Span).where(
                    Span.project_id == self.config.project_id, Span.span_id == span_id.hex()
                )
            )
            assert row is not None
            return row

    def trace(self, trace_id: bytes) -> Trace:
        with self.store.session() as session:
            row = session.scalar(
                select(Trace).where(
                    Trace.project_id == self.config.project_id, Trace.trace_id == trace_id.hex()
                )
            )
            assert row is not None
            return row


def bare_llm_span(ids: IdFactory, **options: Any) -> Any:
    """A GenAI chat span whose content went to log events (capture off on the span)."""
    return genai_llm_span(include_content=False, ids=ids, **options)


def chat_logs(span: Any, **options: Any) -> list[Any]:
    return genai_chat_log_records(trace_id=span.trace_id, span_id=span.span_id, **options)


def test_span_first_then_logs(store: Store) -> None:
    ingest = Ingest(store)
    span = bare_llm_span(IdFactory("span-first"))
    ingest.spans([span])
    assert ingest.span(span.span_id).input is None
    ingest.logs(chat_logs(span, prompt="Hi", completion="Hello"))
    row = ingest.span(span.span_id)
    assert parse_content(row.input) == [{"role": "user", "content": "Hi"}]
    assert parse_content(row.output)[0]["content"] == "Hello"
    trace = ingest.trace(span.trace_id)
    assert (trace.input, trace.output) == (row.input, row.output)


def test_logs_first_then_span(store: Store) -> None:
    ingest = Ingest(store)
    span = bare_llm_span(IdFactory("logs-first"))
    ingest.logs(chat_logs(span, prompt="Hi", completion="Hello", system="Be brief."))
    ingest.spans([span])
    row = ingest.span(span.span_id)
    assert parse_content(row.input) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert parse_content(row.output)[0]["content"] == "Hello"
    assert ingest.trace(span.trace_id).output == row.output


def test_logs_and_span_in_one_commit(store: Store) -> None:
    ingest = Ingest(store)
    span = bare_llm_span(IdFactory("together"))
    ingest.both([span], chat_logs(span, prompt="Hi", completion="Hello"))
    assert json.loads(ingest.span(span.span_id).output or "")[0]["content"] == "Hello"


def test_logs_in_pieces_fill_in_what_is_missing(store: Store) -> None:
    ingest = Ingest(store)
    span = bare_llm_span(IdFactory("pieces"))
    user, choice = chat_logs(span, prompt="Hi", completion="Hello")
    ingest.spans([span])
    ingest.logs([user])
    assert ingest.span(span.span_id).output is None
    ingest.logs([choice])
    row = ingest.span(span.span_id)
    assert parse_content(row.input) == [{"role": "user", "content": "Hi"}]
    assert parse_content(row.output)[0]["content"] == "Hello"


def test_logs_never_overwrite_content_the_span_has(store: Store) -> None:
    ingest = Ingest(store)
    span = genai_llm_span(prompt="on the span", completion="answer", ids=IdFactory("has"))
    ingest.spans([span])
    ingest.logs(chat_logs(span, prompt="from logs", completion="other"))
    row = ingest.span(span.span_id)
    assert parse_content(row.input) == [{"role": "user", "content": "on the span"}]
    with store.session() as session:
        assert len(session.scalars(select(SpanLog)).all()) == 2  # kept all the same


def test_logs_attach_to_their_own_project_only(store: Store) -> None:
    mine, theirs = Ingest(store, "mine"), Ingest(store, "theirs")
    span = bare_llm_span(IdFactory("scoped"))
    mine.spans([span])
    theirs.logs(chat_logs(span, prompt="Hi"))
    assert mine.span(span.span_id).input is None


def test_root_content_wins_over_logs_for_the_trace(store: Store) -> None:
    ingest = Ingest(store)
    ids = IdFactory("root-wins")

    def child(index: int, trace: bytes, parent: bytes, start: int) -> Any:
        return bare_llm_span(ids, trace_id=trace, parent_span_id=parent, start_ns=start)

    root, llm = trace_with_children(1, child=child, root_input="Q?", root_output="A.", ids=ids)
    ingest.spans([root, llm])
    ingest.logs(chat_logs(llm, prompt="inner prompt", completion="inner answer"))
    trace = ingest.trace(root.trace_id)
    assert (trace.input, trace.output) == ("Q?", "A.")


@pytest.mark.parametrize("order", ["logs-first", "spans-first"])
def test_through_the_receiver(sqlite_store: Store, order: str) -> None:
    with sqlite_store.session() as session:
        project = create_project(session, "http")
        key = create_api_key(session, project.id).secret
    span = bare_llm_span(IdFactory(order))
    logs = export_logs_request(chat_logs(span, prompt="Hi", completion="Hello"))
    extra = genai_log_record("app.log", {"msg": "not content"}, trace_id=TRACE, span_id=SPAN)
    logs.resource_logs[0].scope_logs[0].log_records.append(extra)
    posts = [
        ("/v1/logs", logs.SerializeToString()),
        ("/v1/traces", export_trace_request([span]).SerializeToString()),
    ]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-protobuf"}
    with TestClient(create_app(Settings(), sqlite_store)) as client:
        for path, body in posts if order == "logs-first" else posts[::-1]:
            response = client.post(path, content=body, headers=headers)
            assert response.status_code == 200
            if path == "/v1/logs":
                partial = ExportLogsServiceResponse.FromString(response.content).partial_success
                assert partial.rejected_log_records == 1
                assert "GenAI content events" in partial.error_message
    with sqlite_store.session() as session:
        row = session.scalar(select(Span).where(Span.span_id == span.span_id.hex()))
        assert row is not None
        assert parse_content(row.output)[0]["content"] == "Hello"
