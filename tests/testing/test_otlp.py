"""OTLP payload builders: protobuf messages and their OTLP/JSON form."""

from __future__ import annotations

import base64
import json

import pytest
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from assay.testing.otlp import (
    IdFactory,
    any_value,
    export_logs_request,
    export_trace_request,
    genai_chat_log_records,
    genai_llm_span,
    genai_log_record,
    genai_operation_details_record,
    hex_id,
    make_span,
    openinference_llm_span,
    to_otlp_json,
    trace_with_children,
)


def attrs(key_values) -> dict[str, object]:
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in key_values}


def test_ids_are_deterministic_per_seed() -> None:
    a, b = IdFactory(seed=7), IdFactory(seed=7)
    assert [a.trace_id(), a.span_id()] == [b.trace_id(), b.span_id()]
    assert IdFactory(seed=8).trace_id() != IdFactory(seed=7).trace_id()
    assert len(a.trace_id()) == 16
    assert len(a.span_id()) == 8
    # The default factory counts up, so separate calls never share a trace.
    assert genai_llm_span().trace_id != genai_llm_span().trace_id


def test_genai_llm_span() -> None:
    span = genai_llm_span(
        ids=IdFactory(1),
        model="gpt-4o",
        system="Be brief.",
        prompt="Capital of France?",
        completion="Paris.",
        start_ns=1_000,
        duration_ms=2,
        attributes={"assay.slice.locale": "fr-FR"},
    )
    assert span.name == "chat gpt-4o"
    assert span.kind == Span.SPAN_KIND_CLIENT
    assert (span.start_time_unix_nano, span.end_time_unix_nano) == (1_000, 2_001_000)
    values = attrs(span.attributes)
    assert values["gen_ai.operation.name"] == "chat"
    assert values["gen_ai.provider.name"] == "openai"
    assert values["gen_ai.request.model"] == "gpt-4o"
    assert values["gen_ai.usage.input_tokens"] == 5  # words of system + prompt
    assert values["gen_ai.usage.output_tokens"] == 1
    assert values["assay.slice.locale"] == "fr-FR"
    assert json.loads(values["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Capital of France?"}]},
    ]
    assert json.loads(values["gen_ai.output.messages"])[0]["finish_reason"] == "stop"
    finish = next(kv for kv in span.attributes if kv.key == "gen_ai.response.finish_reasons")
    assert [v.string_value for v in finish.value.array_value.values] == ["stop"]
    bare = attrs(genai_llm_span(include_content=False, input_tokens=10).attributes)
    assert "gen_ai.input.messages" not in bare
    assert bare["gen_ai.usage.input_tokens"] == 10


def test_openinference_llm_span() -> None:
    span = openinference_llm_span(prompt="hi there", completion="hello", model="llama3")
    values = attrs(span.attributes)
    assert span.name == "ChatCompletion"
    assert span.kind == Span.SPAN_KIND_INTERNAL
    assert values["openinference.span.kind"] == "LLM"
    assert values["llm.model_name"] == "llama3"
    assert json.loads(values["input.value"])["messages"][0]["content"] == "hi there"
    assert values["output.value"] == "hello"
    assert values["llm.token_count.total"] == 3


def test_make_span_options() -> None:
    span = make_span(
        "tool",
        trace_id="ab" * 16,
        span_id="cd" * 8,
        parent_span_id=b"\x01" * 8,
        status="error",
        status_message="boom",
        events=[("exception", {"exception.type": "ValueError"})],
    )
    assert hex_id(span.trace_id) == "ab" * 16
    assert span.parent_span_id == b"\x01" * 8
    assert span.status.code == Status.STATUS_CODE_ERROR
    assert span.status.message == "boom"
    assert span.events[0].name == "exception"
    with pytest.raises(ValueError, match="16 bytes"):
        make_span("x", trace_id="abcd")


def test_trace_with_children() -> None:
    spans = trace_with_children(3, ids=IdFactory("t"), start_ns=10**18, root_attributes={"k": 1})
    root, *children = spans
    assert len(children) == 3
    assert not root.parent_span_id
    assert attrs(root.attributes)["openinference.span.kind"] == "CHAIN"
    assert attrs(root.attributes)["k"] == 1
    for index, child in enumerate(children):
        assert child.trace_id == root.trace_id
        assert child.parent_span_id == root.span_id
        assert root.start_time_unix_nano < child.start_time_unix_nano
        assert child.end_time_unix_nano <= root.end_time_unix_nano
        assert (
            json.loads(attrs(child.attributes)["gen_ai.input.messages"])[0]["parts"][0]["content"]
            == f"question {index}"
        )
    assert len({s.span_id for s in spans}) == 4
    assert trace_with_children(3, ids=IdFactory("t"), start_ns=10**18) == [
        root_without_k(root),
        *children,
    ]


def root_without_k(root: Span) -> Span:
    copy = Span()
    copy.CopyFrom(root)
    del copy.attributes[-1]
    return copy


def test_custom_children() -> None:
    def tool_child(index: int, trace_id: bytes, parent: bytes, start: int) -> Span:
        return make_span(f"tool-{index}", trace_id=trace_id, parent_span_id=parent, start_ns=start)

    _, first, second = trace_with_children(2, child=tool_child)
    assert [first.name, second.name] == ["tool-0", "tool-1"]


def test_export_trace_request_round_trips() -> None:
    request = export_trace_request(
        trace_with_children(1),
        service_name="bot",
        release="v3",
        resource_attributes={"deployment.environment": "staging"},
    )
    decoded = ExportTraceServiceRequest.FromString(request.SerializeToString())
    assert decoded == request
    (resource_spans,) = decoded.resource_spans
    assert attrs(resource_spans.resource.attributes) == {
        "service.name": "bot",
        "assay.release": "v3",
        "deployment.environment": "staging",
    }
    assert resource_spans.scope_spans[0].scope.name == "assay.testing"
    assert len(resource_spans.scope_spans[0].spans) == 2


def _ids_back_to_base64(node):
    if isinstance(node, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in ("traceId", "spanId", "parentSpanId")
            else _ids_back_to_base64(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_ids_back_to_base64(v) for v in node]
    return node


def test_otlp_json_form() -> None:
    spans = trace_with_children(1, ids=IdFactory(3))
    request = export_trace_request(spans, release="v1")
    body = to_otlp_json(request)
    json.dumps(body)
    span_json = body["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    assert span_json["traceId"] == spans[1].trace_id.hex()
    assert span_json["spanId"] == spans[1].span_id.hex()
    assert span_json["parentSpanId"] == spans[0].span_id.hex()
    assert span_json["kind"] == 3  # enums as integers
    assert isinstance(span_json["startTimeUnixNano"], str)  # int64 as strings
    tokens = next(a for a in span_json["attributes"] if a["key"] == "gen_ai.usage.input_tokens")
    assert tokens["value"] == {"intValue": "2"}
    # Nothing is lost: with ids back in protobuf's base64 the message parses again.
    assert ParseDict(_ids_back_to_base64(body), ExportTraceServiceRequest()) == request


def test_any_value() -> None:
    value = any_value(
        {"n": 1, "x": 1.5, "ok": True, "s": "t", "b": b"\x00", "l": [1, "a"], "z": None}
    )
    fields = {kv.key: kv.value for kv in value.kvlist_value.values}
    assert fields["n"].int_value == 1
    assert fields["x"].double_value == 1.5
    assert fields["ok"].bool_value is True
    assert fields["b"].bytes_value == b"\x00"
    assert [v.WhichOneof("value") for v in fields["l"].array_value.values] == [
        "int_value",
        "string_value",
    ]
    assert fields["z"].WhichOneof("value") is None
    assert any_value(object()).string_value.startswith("<object")


def test_genai_log_events() -> None:
    span = genai_llm_span(include_content=False)
    records = genai_chat_log_records(
        trace_id=span.trace_id,
        span_id=span.span_id,
        system="Be brief.",
        prompt="Hi",
        completion="Hello!",
        time_ns=5,
    )
    assert [r.event_name for r in records] == [
        "gen_ai.system.message",
        "gen_ai.user.message",
        "gen_ai.choice",
    ]
    for record in records:
        assert record.trace_id == span.trace_id
        assert record.span_id == span.span_id
        assert record.time_unix_nano == 5
        values = attrs(record.attributes)
        assert values["event.name"] == record.event_name
        assert values["gen_ai.system"] == "openai"
    choice = {kv.key: kv.value for kv in records[2].body.kvlist_value.values}
    assert choice["index"].int_value == 0
    assert choice["finish_reason"].string_value == "stop"
    message = {kv.key: kv.value.string_value for kv in choice["message"].kvlist_value.values}
    assert message == {"role": "assistant", "content": "Hello!"}

    request = export_logs_request(records, service_name="bot", release="v2")
    assert ExportLogsServiceRequest.FromString(request.SerializeToString()) == request
    body = to_otlp_json(request)
    record_json = body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1]
    assert record_json["traceId"] == span.trace_id.hex()
    assert record_json["spanId"] == span.span_id.hex()
    assert record_json["eventName"] == "gen_ai.user.message"
    assert record_json["body"]["kvlistValue"]["values"][1] == {
        "key": "content",
        "value": {"stringValue": "Hi"},
    }


def test_uncorrelated_log_record() -> None:
    record = genai_log_record("gen_ai.user.message", None, attributes={"extra": 1})
    assert not record.trace_id
    assert not record.span_id
    assert not record.HasField("body")
    assert attrs(record.attributes)["extra"] == 1


def test_operation_details_record() -> None:
    record = genai_operation_details_record(
        trace_id="ab" * 16, span_id="cd" * 8, system="Be brief.", prompt="Hi", time_ns=1
    )
    assert record.event_name == "gen_ai.client.inference.operation.details"
    assert not record.HasField("body")
    assert record.trace_id.hex() == "ab" * 16
    values = {kv.key: kv.value for kv in record.attributes}
    assert "gen_ai.system" not in values
    assert values["gen_ai.provider.name"].string_value == "openai"
    inputs = values["gen_ai.input.messages"].array_value.values
    assert [m.kvlist_value.values[0].value.string_value for m in inputs] == ["system", "user"]
    body = to_otlp_json(export_logs_request([record]))
    attributes = body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"]
    output = next(a for a in attributes if a["key"] == "gen_ai.output.messages")
    message = output["value"]["arrayValue"]["values"][0]["kvlistValue"]["values"]
    assert {"key": "finish_reason", "value": {"stringValue": "stop"}} in message
