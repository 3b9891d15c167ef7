"""span(), the Span wrapper, kinds and context propagation."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest
from opentelemetry.trace import StatusCode

import assay.sdk
from assay.errors import InvalidInput
from assay.sdk import current_span, current_trace_id, span, trace

HEAVY = ("fastapi", "sqlalchemy", "uvicorn", "jinja2", "alembic", "starlette", "assay.server")


def test_import_is_light() -> None:
    code = (
        "import sys, assay.sdk\n"
        f"heavy = {HEAVY!r}\n"
        "print([m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy)])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_public_names() -> None:
    assert sorted(assay.sdk.__all__) == [
        "FeedbackValue",
        "SdkHandle",
        "Span",
        "SpanKindName",
        "current_span",
        "current_trace_id",
        "feedback",
        "feedback_event",
        "init",
        "span",
        "trace",
    ]
    for name in assay.sdk.__all__:
        member = getattr(assay.sdk, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__.startswith("assay.sdk"), name


@pytest.mark.parametrize(
    ("kind", "openinference", "operation"),
    [
        ("llm", "LLM", "chat"),
        ("retrieval", "RETRIEVER", "retrieval"),
        ("tool", "TOOL", "execute_tool"),
        ("chain", "CHAIN", None),
        ("agent", "AGENT", "invoke_agent"),
        ("embedding", "EMBEDDING", "embeddings"),
    ],
)
def test_kind_attributes(pipeline, kind, openinference, operation) -> None:
    with span("step", kind=kind):
        pass
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.attributes["openinference.span.kind"] == openinference
    assert finished.attributes.get("gen_ai.operation.name") == operation


def test_tool_and_agent_names(pipeline) -> None:
    with span("lookup_order", kind="tool"), span("planner", kind="agent"):
        pass
    agent, tool = pipeline.exporter.get_finished_spans()
    assert tool.attributes["gen_ai.tool.name"] == "lookup_order"
    assert agent.attributes["gen_ai.agent.name"] == "planner"


def test_unknown_kind_is_rejected(pipeline) -> None:
    with pytest.raises(InvalidInput, match="kind must be one of"), span("x", kind="bogus"):  # type: ignore[arg-type]
        pass
    assert pipeline.exporter.get_finished_spans() == ()


def test_setters(pipeline) -> None:
    with span("generate", kind="llm", temperature=0.2, tags=["a", "b"], extra={"k": 1}) as s:
        s.set_input({"question": "What is 2+2?"})
        s.set_output("4")
        s.set_model("gpt-4o-mini", provider="openai")
        s.set_usage(12, 3)
        s.set_slice("locale", "de-DE")
        s.set_slice("tier", 2)
        s.set_attribute("none_is_skipped", None)
    (finished,) = pipeline.exporter.get_finished_spans()
    attrs = finished.attributes
    assert json.loads(attrs["input.value"]) == {"question": "What is 2+2?"}
    assert attrs["input.mime_type"] == "application/json"
    assert attrs["output.value"] == "4"
    assert attrs["output.mime_type"] == "text/plain"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.usage.input_tokens"] == 12
    assert attrs["gen_ai.usage.output_tokens"] == 3
    assert attrs["assay.slice.locale"] == "de-DE"
    assert attrs["assay.slice.tier"] == 2
    assert attrs["temperature"] == 0.2
    assert attrs["tags"] == ("a", "b")
    assert json.loads(attrs["extra"]) == {"k": 1}
    assert "none_is_skipped" not in attrs
    assert finished.status.status_code is StatusCode.UNSET


def test_set_messages_converts_to_genai_shape(pipeline) -> None:
    inputs = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "-3C"},
    ]
    with span("chat", kind="llm") as s:
        s.set_messages(inputs, [{"role": "assistant", "content": "It is -3C."}])
    (finished,) = pipeline.exporter.get_finished_spans()
    attrs = finished.attributes
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "weather",
                    "arguments": {"city": "Oslo"},
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "-3C"}],
        },
    ]
    assert json.loads(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "It is -3C."}],
            "finish_reason": "stop",
        }
    ]
    # With no explicit input/output the messages are the span's input and output.
    assert json.loads(attrs["input.value"]) == inputs
    assert json.loads(attrs["output.value"]) == [{"role": "assistant", "content": "It is -3C."}]


def test_explicit_input_wins_over_messages(pipeline) -> None:
    with span("chat", kind="llm") as s:
        s.set_input("Weather in Oslo?")
        s.set_messages(["Weather in Oslo?"], "It is -3C.")
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.attributes["input.value"] == "Weather in Oslo?"
    assert json.loads(finished.attributes["gen_ai.output.messages"])[0]["parts"] == [
        {"type": "text", "content": "It is -3C."}
    ]


def test_set_documents(pipeline) -> None:
    class LangChainLikeDoc:
        def __init__(self) -> None:
            self.page_content = "Refunds take 5 days."
            self.metadata = {"source": "faq.md"}

    with span("retrieve", kind="retrieval") as s:
        s.set_input("refund time")
        s.set_documents(
            [
                "plain text",
                {"id": "d2", "content": "Shipping is free.", "score": 0.5},
                LangChainLikeDoc(),
            ]
        )
    (finished,) = pipeline.exporter.get_finished_spans()
    attrs = finished.attributes
    assert attrs["retrieval.documents.0.document.content"] == "plain text"
    assert attrs["retrieval.documents.1.document.id"] == "d2"
    assert attrs["retrieval.documents.1.document.score"] == 0.5
    assert attrs["retrieval.documents.2.document.content"] == "Refunds take 5 days."
    assert json.loads(attrs["retrieval.documents.2.document.metadata"]) == {"source": "faq.md"}
    assert [d["content"] for d in json.loads(attrs["output.value"])] == [
        "plain text",
        "Shipping is free.",
        "Refunds take 5 days.",
    ]


def test_error_is_recorded_and_propagates(pipeline) -> None:
    with pytest.raises(ValueError, match="boom"), span("fails"):
        raise ValueError("boom")
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.status.description == "ValueError: boom"
    assert finished.attributes["error.type"] == "ValueError"
    (event,) = finished.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "boom"


def test_nested_spans_share_trace_and_parent(pipeline) -> None:
    @trace
    def inner() -> str:
        return current_trace_id() or ""

    with span("outer", kind="agent") as outer:
        with span("middle") as middle:
            seen = inner()
        assert middle.trace_id == outer.trace_id == seen
    by_name = {s.name: s for s in pipeline.exporter.get_finished_spans()}
    outer_span, middle_span = by_name["outer"], by_name["middle"]
    inner_span = by_name["test_nested_spans_share_trace_and_parent.<locals>.inner"]
    assert outer_span.parent is None
    assert middle_span.parent.span_id == outer_span.context.span_id
    assert inner_span.parent.span_id == middle_span.context.span_id
    assert format(outer_span.context.trace_id, "032x") == outer.trace_id


def test_ids_are_hex(pipeline) -> None:
    with span("ids") as s:
        trace_id, span_id = s.trace_id, s.span_id
    assert len(trace_id) == 32
    assert len(span_id) == 16
    int(trace_id, 16), int(span_id, 16)
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.context.span_id == int(span_id, 16)


def test_current_trace_id_and_span_outside_any_span() -> None:
    assert current_trace_id() is None
    assert current_span() is None


def test_current_span_adds_to_decorated_call(pipeline) -> None:
    @trace(kind="llm")
    def call(prompt: str) -> str:
        active = current_span()
        assert active is not None
        active.set_model("llama-3", provider="ollama")
        active.set_usage(5, None)
        return "ok"

    call("hi")
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.attributes["gen_ai.request.model"] == "llama-3"
    assert finished.attributes["gen_ai.usage.input_tokens"] == 5
    assert "gen_ai.usage.output_tokens" not in finished.attributes


def test_spans_work_before_init() -> None:
    # Without init() spans go to the global provider (a no-op unless the app set one).
    with span("before-init") as s:
        s.set_input("x")
    assert len(s.trace_id) == 32
