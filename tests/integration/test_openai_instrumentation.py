"""Real OpenAI instrumentations, the real `openai` client and the real OTLP exporters.

An app instrumented with `opentelemetry-instrumentation-openai-v2` (GenAI
conventions, message content in log events) or with OpenInference's OpenAI
instrumentor (content on the span) calls a fake OpenAI-compatible server; its spans
and logs go over OTLP/HTTP into a real assay server, and the stored trace must show
the model, tokens, input and output.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from assay.projects import create_api_key, create_project
from assay.server import create_app
from assay.settings import Settings
from assay.store.models import Span, Trace
from assay.testing.background import serve_app
from assay.testing.openai_server import serve_openai


@pytest.fixture
def assay_server(store) -> Iterator[tuple[str, str, Any]]:
    with store.session() as session:
        create_project(session, "bot")
        key = create_api_key(session, "bot").secret
    with serve_app(create_app(Settings(), store)) as server:
        yield server.base_url, key, store


@pytest.fixture
def captured() -> Iterator[tuple[TracerProvider, InMemorySpanExporter, LoggerProvider, Any]]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider(
        resource=Resource.create({"service.name": "chat-app", "assay.release": "r1"})
    )
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logs = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(resource=Resource.create({"service.name": "chat-app"}))
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    yield tracer_provider, spans, logger_provider, logs
    tracer_provider.shutdown()
    logger_provider.shutdown()


def _chat(base_url: str, question: str) -> str:
    client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": question},
        ],
    )
    client.close()
    return reply.choices[0].message.content or ""


def _export(url: str, key: str, spans: Any, logs: Any, *, logs_first: bool) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    span_exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", headers=headers)
    log_exporter = OTLPLogExporter(endpoint=f"{url}/v1/logs", headers=headers)
    steps = [
        lambda: span_exporter.export(spans.get_finished_spans()),
        lambda: log_exporter.export(logs.get_finished_logs()),
    ]
    for step in reversed(steps) if logs_first else steps:
        assert step().name == "SUCCESS"
    span_exporter.shutdown()
    log_exporter.shutdown()


@pytest.mark.parametrize("logs_first", [False, True], ids=["span-first", "logs-first"])
def test_openai_v2_content_events_attach_to_their_span(
    assay_server, captured, monkeypatch, logs_first
) -> None:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    url, key, store = assay_server
    tracer_provider, spans, logger_provider, logs = captured
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "EVENT_ONLY")
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
    try:
        with serve_openai() as fake:
            answer = _chat(fake.base_url, "How do I reset my password?")
    finally:
        instrumentor.uninstrument()
    chat_spans = [s for s in spans.get_finished_spans() if s.name.startswith("chat")]
    assert len(chat_spans) == 1
    # Content travels in the logs, not on the span: that is what this test is about.
    assert "gen_ai.input.messages" not in (chat_spans[0].attributes or {})
    assert logs.get_finished_logs()

    _export(url, key, spans, logs, logs_first=logs_first)

    trace_hex = format(chat_spans[0].context.trace_id, "032x")
    with store.session() as session:
        span = session.scalars(select(Span).where(Span.trace_id == trace_hex)).one()
        trace = session.scalars(select(Trace).where(Trace.trace_id == trace_hex)).one()
    assert span.kind == "llm"
    assert span.model == "gpt-4o-mini"
    assert span.provider == "openai"
    assert span.prompt_tokens
    assert span.completion_tokens
    assert span.cost is not None
    assert span.cost > 0
    assert "How do I reset my password?" in (span.input or "")
    assert "You answer briefly." in (span.input or "")
    assert answer
    assert answer in (span.output or "")
    assert trace.input == span.input
    assert trace.output == span.output
    assert trace.release_ref == "r1"


def test_openinference_openai_spans_carry_their_content(assay_server, captured) -> None:
    from openinference.instrumentation.openai import OpenAIInstrumentor

    url, key, store = assay_server
    tracer_provider, spans, _, logs = captured
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        with serve_openai() as fake:
            answer = _chat(fake.base_url, "Where is my order?")
    finally:
        instrumentor.uninstrument()
    finished = spans.get_finished_spans()
    assert finished
    _export(url, key, spans, logs, logs_first=False)

    trace_hex = format(finished[0].context.trace_id, "032x")
    with store.session() as session:
        stored = session.scalars(select(Span).where(Span.trace_id == trace_hex)).all()
    llm = [s for s in stored if s.kind == "llm"]
    assert len(llm) == 1
    assert llm[0].model
    assert llm[0].model.startswith("gpt-4o-mini")
    assert "Where is my order?" in (llm[0].input or "")
    assert answer in (llm[0].output or "")
    assert llm[0].prompt_tokens
    assert llm[0].completion_tokens
