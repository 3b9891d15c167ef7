"""Normalisation: GenAI (attributes and events, new and old), OpenInference, ids, slices."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from assay.ingest.normalize import SpanBatch, normalize_traces
from assay.ingest.pricing import PriceTable
from assay.projects.service import ProjectConfig
from assay.redaction import RedactionConfig, Redactor
from assay.testing.otlp import (
    IdFactory,
    export_trace_request,
    genai_llm_span,
    make_span,
    openinference_llm_span,
    trace_with_children,
)
from assay.traces.content import parse_content


def normalize(
    spans: list[Any], config: ProjectConfig, prices: PriceTable | None = None, **request: Any
) -> SpanBatch:
    return normalize_traces(export_trace_request(spans, **request), config, prices or PriceTable())


def one(spans: list[Any], config: ProjectConfig, **request: Any) -> dict[str, Any]:
    batch = normalize(spans, config, **request)
    assert batch.rejected == 0
    assert len(batch.rows) == 1
    return batch.rows[0]


def messages(text: str | None) -> Any:
    """Stored content as readers get it (GenAI message JSON is stored as sent)."""
    assert text is not None
    return parse_content(text)


def parts(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


# -- GenAI attributes ---------------------------------------------------------------------


def test_genai_new_conventions(config: ProjectConfig) -> None:
    output = [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Checking."},
                {"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {"q": 1}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    row = one(
        [
            make_span(
                "chat gpt-4o",
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.response.model": "gpt-4o-2024-08-06",
                    "gen_ai.system_instructions": json.dumps(
                        [{"type": "text", "content": "Be brief."}]
                    ),
                    "gen_ai.input.messages": json.dumps([parts("user", "Weather in Paris?")]),
                    "gen_ai.output.messages": json.dumps(output),
                    "gen_ai.usage.input_tokens": 100,
                    "gen_ai.usage.output_tokens": 20,
                    "gen_ai.conversation.id": "conv-1",
                    "enduser.id": "u-7",
                },
            )
        ],
        config,
    )
    assert row["kind"] == "llm"
    assert row["model"] == "gpt-4o-2024-08-06"  # the response model wins
    assert row["provider"] == "openai"
    assert messages(row["input"]) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    assert messages(row["output"]) == [
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [output[0]["parts"][1]],
            "finish_reason": "tool_call",
        }
    ]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (100, 20)
    assert row["cost"] == pytest.approx((100 * 2.50 + 20 * 10.00) / 1e6)
    assert (row["session_id"], row["user_id"]) == ("conv-1", "u-7")
    attributes = orjson.loads(row["attributes"])
    # Content is stored once, as input/output, not again among the attributes.
    for key in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"):
        assert key not in attributes
    assert attributes["gen_ai.usage.input_tokens"] == 100


def test_genai_old_flattened_prompt_and_completion(config: ProjectConfig) -> None:
    row = one(
        [
            make_span(
                "openai.chat",
                attributes={
                    "gen_ai.system": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.prompt.0.role": "system",
                    "gen_ai.prompt.0.content": "Be brief.",
                    "gen_ai.prompt.1.role": "user",
                    "gen_ai.prompt.1.content": "Hi",
                    "gen_ai.completion.0.role": "assistant",
                    "gen_ai.completion.0.content": "Hello!",
                    "gen_ai.usage.prompt_tokens": 10,
                    "gen_ai.usage.completion_tokens": 3,
                },
            )
        ],
        config,
    )
    assert (row["kind"], row["model"], row["provider"]) == ("llm", "gpt-4o-mini", "openai")
    assert messages(row["input"]) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert messages(row["output"]) == [{"role": "assistant", "content": "Hello!"}]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (10, 3)
    assert not any(k.startswith("gen_ai.prompt.") for k in orjson.loads(row["attributes"]))


def test_genai_plain_string_prompt_is_one_user_message(config: ProjectConfig) -> None:
    row = one(
        [make_span("c", attributes={"gen_ai.system": "x", "gen_ai.prompt": "just text"})], config
    )
    assert messages(row["input"]) == [{"role": "user", "content": "just text"}]


def test_genai_events_new_conventions(config: ProjectConfig) -> None:
    events: list[tuple[str, dict[str, Any]]] = [
        ("gen_ai.system.message", {"content": "Be brief."}),
        ("gen_ai.user.message", {"content": "Hi"}),
        ("gen_ai.assistant.message", {"content": "Earlier answer"}),
        ("gen_ai.tool.message", {"content": "22 C", "id": "call-1"}),
        ("gen_ai.choice", {"index": 0, "finish_reason": "stop", "message.content": "x"}),
        ("gen_ai.choice", {"index": 1, "finish_reason": "stop", "content": "Hello!"}),
        ("exception", {"exception.message": "retrying"}),
    ]
    row = one([make_span("chat", attributes={"gen_ai.system": "openai"}, events=events)], config)
    assert messages(row["input"]) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Earlier answer"},
        {"role": "tool", "content": "22 C", "tool_call_id": "call-1"},
    ]
    assert messages(row["output"])[1] == {
        "role": "assistant",
        "content": "Hello!",
        "finish_reason": "stop",
    }
    # Content events are folded into input/output; other events are kept.
    assert [e["name"] for e in orjson.loads(row["events"])] == ["exception"]


def test_genai_events_old_conventions(config: ProjectConfig) -> None:
    events = [
        (
            "gen_ai.content.prompt",
            {"gen_ai.prompt": json.dumps([{"role": "user", "content": "Hi"}])},
        ),
        (
            "gen_ai.content.completion",
            {"gen_ai.completion": json.dumps([{"role": "assistant", "content": "Yo"}])},
        ),
    ]
    row = one([make_span("chat", attributes={"gen_ai.system": "openai"}, events=events)], config)
    assert messages(row["input"]) == [{"role": "user", "content": "Hi"}]
    assert messages(row["output"]) == [{"role": "assistant", "content": "Yo"}]
    assert row["events"] == "[]"


def test_attributes_win_over_events(config: ProjectConfig) -> None:
    span = genai_llm_span(prompt="from attributes", completion="answer")
    span.events.add(name="gen_ai.user.message").attributes.add(
        key="content"
    ).value.string_value = "from events"
    row = one([span], config)
    assert messages(row["input"]) == [{"role": "user", "content": "from attributes"}]


def test_genai_events_with_json_event_content(config: ProjectConfig) -> None:
    events = [
        ("gen_ai.user.message", {"gen_ai.event.content": json.dumps({"content": "Hi"})}),
        (
            "gen_ai.choice",
            {"gen_ai.event.content": json.dumps({"message": {"content": "Hello"}, "index": 0})},
        ),
    ]
    row = one([make_span("chat", attributes={"gen_ai.system": "az.ai"}, events=events)], config)
    assert messages(row["input"]) == [{"role": "user", "content": "Hi"}]
    assert messages(row["output"])[0]["content"] == "Hello"


# -- OpenInference --------------------------------------------------------------------------


def test_openinference_llm_span(config: ProjectConfig) -> None:
    span = openinference_llm_span(
        model="claude-sonnet-4-5",
        provider="anthropic",
        prompt="Hi",
        completion="Hello!",
        prompt_tokens=1000,
        completion_tokens=100,
        attributes={
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.contents.0.message_content.text": "part one, ",
            "llm.input_messages.1.message.contents.1.message_content.text": "part two",
            "session.id": "s-1",
            "user.id": "u-1",
        },
    )
    row = one([span], config)
    assert (row["kind"], row["model"], row["provider"]) == ("llm", "claude-sonnet-4-5", "anthropic")
    # For LLM spans the chat messages win over input.value (the raw request).
    assert messages(row["input"]) == [
        {"role": "user", "content": "Hi"},
        {"role": "user", "content": "part one, part two"},
    ]
    assert messages(row["output"]) == [{"role": "assistant", "content": "Hello!"}]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (1000, 100)
    assert row["cost"] == pytest.approx((1000 * 3.0 + 100 * 15.0) / 1e6)
    assert (row["session_id"], row["user_id"]) == ("s-1", "u-1")
    assert not any(k.startswith("llm.input_messages.") for k in orjson.loads(row["attributes"]))


def test_openinference_tool_calls_are_kept(config: ProjectConfig) -> None:
    prefix = "llm.output_messages.0.message.tool_calls.0.tool_call.function"
    span = openinference_llm_span(
        attributes={f"{prefix}.name": "get_weather", f"{prefix}.arguments": '{"city": "Paris"}'}
    )
    output = messages(one([span], config)["output"])
    assert output[0]["tool_calls"] == [
        {"function.name": "get_weather", "function.arguments": '{"city": "Paris"}'}
    ]


def test_openinference_chain_uses_input_and_output_values(config: ProjectConfig) -> None:
    row = one(
        [
            make_span(
                "pipeline",
                attributes={
                    "openinference.span.kind": "CHAIN",
                    "input.value": "What is 2+2?",
                    "input.mime_type": "text/plain",
                    "output.value": {"answer": 4},
                },
            )
        ],
        config,
    )
    assert (row["kind"], row["input"]) == ("chain", "What is 2+2?")
    assert json.loads(row["output"]) == {"answer": 4}
    assert orjson.loads(row["attributes"]) == {"openinference.span.kind": "CHAIN"}


@pytest.mark.parametrize(
    ("attributes", "kind"),
    [
        ({"openinference.span.kind": "LLM"}, "llm"),
        ({"openinference.span.kind": "chain"}, "chain"),
        ({"openinference.span.kind": "RETRIEVER"}, "retrieval"),
        ({"openinference.span.kind": "TOOL"}, "tool"),
        ({"openinference.span.kind": "AGENT"}, "agent"),
        ({"openinference.span.kind": "EMBEDDING"}, "embedding"),
        ({"openinference.span.kind": "RERANKER"}, "reranker"),
        ({"openinference.span.kind": "GUARDRAIL"}, "guardrail"),
        ({"openinference.span.kind": "EVALUATOR"}, "evaluator"),
        ({"openinference.span.kind": "UNKNOWN"}, "span"),
        ({"gen_ai.operation.name": "chat"}, "llm"),
        ({"gen_ai.operation.name": "text_completion"}, "llm"),
        ({"gen_ai.operation.name": "embeddings"}, "embedding"),
        ({"gen_ai.operation.name": "execute_tool"}, "tool"),
        ({"gen_ai.operation.name": "invoke_agent"}, "agent"),
        ({"gen_ai.request.model": "gpt-4o"}, "llm"),
        ({"retrieval.documents.0.document.content": "doc"}, "retrieval"),
        ({"http.route": "/chat"}, "span"),
        # OpenInference's kind wins over the GenAI operation.
        ({"openinference.span.kind": "TOOL", "gen_ai.operation.name": "chat"}, "tool"),
    ],
)
def test_span_kinds(config: ProjectConfig, attributes: dict[str, Any], kind: str) -> None:
    assert one([make_span("s", attributes=attributes)], config)["kind"] == kind


# -- cost, ids, status, slices ----------------------------------------------------------------


def test_reported_cost_wins_over_the_price_table(config: ProjectConfig) -> None:
    span = genai_llm_span(
        model="gpt-4o",
        input_tokens=1000,
        output_tokens=1000,
        attributes={"gen_ai.usage.cost": 0.123},
    )
    assert one([span], config)["cost"] == 0.123


def test_unknown_model_has_no_cost(config: ProjectConfig) -> None:
    row = one([genai_llm_span(model="in-house-llm-7b", input_tokens=5, output_tokens=5)], config)
    assert (row["cost"], row["prompt_tokens"]) == (None, 5)


def test_ids_parent_status_and_times(config: ProjectConfig) -> None:
    ids = IdFactory("ids")
    root, child = trace_with_children(1, ids=ids)
    child.status.code = Status.STATUS_CODE_ERROR
    child.status.message = "rate limited"
    child.end_time_unix_nano = child.start_time_unix_nano - 5  # a clock going backwards
    rows = normalize([root, child], config).rows
    assert rows[0]["trace_id"] == root.trace_id.hex()
    assert rows[0]["span_id"] == root.span_id.hex()
    assert rows[0]["parent_span_id"] is None
    assert rows[1]["parent_span_id"] == root.span_id.hex()
    assert (rows[1]["status"], rows[1]["status_message"]) == ("error", "rate limited")
    assert rows[0]["status"] == "unset"
    assert rows[1]["end_ns"] == rows[1]["start_ns"]


def test_malformed_ids_are_rejected_and_the_rest_kept(config: ProjectConfig) -> None:
    good = genai_llm_span()
    bad = []
    for n in range(7):
        span = make_span(f"bad{n}")
        span.trace_id = b"\x00" * 16 if n % 2 else b"\x01" * 15
        bad.append(span)
    batch = normalize([good, *bad], config)
    assert len(batch.rows) == 1
    assert batch.rejected == 7
    assert len(batch.errors) == 5  # the message lists a few, not all
    assert "'bad0'" in batch.errors[0]


def test_times_that_do_not_fit_a_bigint_are_rejected(config: ProjectConfig) -> None:
    # Fixed64 on the wire, signed BIGINT in the store: 2^63 ns and later is junk
    # (found by the fuzz test: it used to fail the whole write with a 500).
    late_end = make_span("late_end")
    late_end.end_time_unix_nano = 2**64 - 1
    late_start = make_span("late_start")
    late_start.start_time_unix_nano = 2**63
    batch = normalize([genai_llm_span(), late_end, late_start], config)
    assert [r["name"] for r in batch.rows] == [genai_llm_span().name]
    assert batch.rejected == 2
    assert "2^63" in batch.errors[0]
    assert "'late_end'" in batch.errors[0]
    edge = make_span("edge")
    edge.start_time_unix_nano = edge.end_time_unix_nano = 2**63 - 1
    assert one([edge], config)["end_ns"] == 2**63 - 1


def test_slices_release_and_service(config: ProjectConfig) -> None:
    batch = normalize(
        [make_span("s", attributes={"tier": "pro", "assay.slice.country": "DE", "other": 1})],
        config,
        service_name="support-bot",
        release="v7",
        resource_attributes={"locale": "de-DE", "deployment.environment": "prod"},
    )
    assert batch.slices == [{"locale": "de-DE", "tier": "pro", "country": "DE"}]
    resource = batch.resources[0]
    assert (resource.release_ref, resource.service_name) == ("v7", "support-bot")
    assert orjson.loads(resource.resource_json)["deployment.environment"] == "prod"


def test_service_version_is_the_release_when_assay_release_is_absent(
    config: ProjectConfig,
) -> None:
    batch = normalize([make_span("s")], config, resource_attributes={"service.version": "1.4.2"})
    assert batch.resources[0].release_ref == "1.4.2"


def test_declared_slice_keys(config: ProjectConfig) -> None:
    declared = ProjectConfig(1, config.slice_keys | {"plan"}, config.redactor)
    batch = normalize([make_span("s", attributes={"plan": "enterprise"})], declared)
    assert batch.slices == [{"plan": "enterprise"}]


# -- redaction on the way in ----------------------------------------------------------------


def test_redaction_applies_to_content_attributes_events_and_resource(
    config: ProjectConfig,
) -> None:
    span = genai_llm_span(
        prompt="I am jane@example.com",
        completion="Call +1 (555) 123-4567",
        attributes={
            "app.note": "card 4111 1111 1111 1111",
            "app.list": ["sk-abcdefghijklmnop1234"],
        },
        events=[("feedback", {"text": "mail bob@example.org"})],
    )
    batch = normalize([span], config, resource_attributes={"owner": "ops@example.com"})
    row = batch.rows[0]
    assert "[REDACTED:email]" in row["input"]
    assert "[REDACTED:phone]" in row["output"]
    attributes = orjson.loads(row["attributes"])
    assert attributes["app.note"] == "card [REDACTED:card]"
    assert attributes["app.list"] == ["[REDACTED:api_key]"]
    assert "bob@example.org" not in row["events"]
    assert "ops@example.com" not in batch.resources[0].resource_json
    assert batch.nbytes > 0


def test_redaction_of_a_request_touches_only_the_spans_with_something_to_redact(
    config: ProjectConfig,
) -> None:
    # Each span is redacted, or kept byte for byte, on its own account; the ids read
    # from attributes (a user id may be an e-mail address) are redacted too.
    spans = [
        genai_llm_span(prompt="hello there", completion="hi"),
        genai_llm_span(prompt="plain", completion="ok", attributes={"user.id": "jane@example.com"}),
        genai_llm_span(prompt="what is 2+2?", completion="4"),
        genai_llm_span(
            prompt="card 4111 1111 1111 1111",
            completion="noted",
            attributes={"session.id": "call 555 123 4567"},
        ),
        genai_llm_span(prompt="bye", completion="bye"),
    ]
    rows = normalize(spans, config).rows
    assert [r["user_id"] for r in rows] == [None, "[REDACTED:email]", None, None, None]
    assert rows[3]["session_id"] == "call [REDACTED:phone]"
    assert "[REDACTED:card]" in rows[3]["input"]
    clean = normalize([spans[i] for i in (0, 2, 4)], config).rows
    assert [rows[i] for i in (0, 2, 4)] == clean


def test_span_names_and_error_descriptions_are_redacted(config: ProjectConfig) -> None:
    # An exception message quoting its input, a URL in a client span's name.
    long_name = "x" * 495 + " jane@example.com"
    rows = normalize(
        [
            make_span(
                "GET /users/jane@example.com",
                status="error",
                status_message="ValueError: no account for call 555 123 4567",
            ),
            make_span(long_name, status="error", status_message="timed out"),
            make_span("retrieve", status="error", status_message="plain failure"),
        ],
        config,
    ).rows
    assert rows[0]["name"] == "GET /users/[REDACTED:email]"
    assert rows[0]["status_message"] == "ValueError: no account for call [REDACTED:phone]"
    # Redacted before it is cut to 500 characters: half an address is still personal.
    assert "jane" not in rows[1]["name"]
    assert len(rows[1]["name"]) == 500
    assert rows[2]["name"] == "retrieve"
    assert rows[2]["status_message"] == "plain failure"


def test_no_redaction_keeps_everything(config: ProjectConfig) -> None:
    off = ProjectConfig(1, config.slice_keys, Redactor(RedactionConfig(builtins=[])))
    row = one([genai_llm_span(prompt="I am jane@example.com")], off)
    assert "jane@example.com" in row["input"]
