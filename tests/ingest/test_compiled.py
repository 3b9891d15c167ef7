"""The compiled OTLP decoder (``assay.ingest._wire``) against the Python reference path.

:func:`~assay.ingest.compiled.normalize_body` must give exactly the batch that
:func:`~assay.ingest.normalize.normalize_traces` gives for the parsed request: same
rows (attribute JSON byte for byte), resources, slices, rejections, errors, sizes and
feedback, whichever spans the compiled decoder takes and whichever it hands to the
Python path. Requests are generated down to the wire: fields in any order, repeated
singular fields (the last wins), split sub-messages (merged), unknown fields.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import struct
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

import orjson
import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from assay.errors import InvalidInput
from assay.ingest import compiled
from assay.ingest.compiled import PYTHON_PATH, normalize_body, normalize_compiled
from assay.ingest.normalize import SpanBatch, normalize_traces
from assay.ingest.otlp import decode_traces
from assay.ingest.pricing import PriceTable
from assay.projects.service import ProjectConfig
from assay.redaction import RedactionConfig, RedactionPattern, Redactor
from assay.testing.otlp import IdFactory, export_trace_request, genai_llm_span, make_span

PROTOBUF = "application/x-protobuf"
PRICES = PriceTable()
# Two keys the conventions read too: a slice holds what is left after they are read.
SLICE_KEYS = frozenset({"locale", "tier", "channel", "session.id", "input.value"})
T0 = 1_760_000_000_000_000_000


def project(redaction: RedactionConfig, slice_keys: frozenset[str] = SLICE_KEYS) -> ProjectConfig:
    return ProjectConfig(project_id=7, slice_keys=slice_keys, redactor=Redactor(redaction))


OFF = RedactionConfig(builtins=[])
DEFAULT = RedactionConfig()
TICKET = RedactionConfig(patterns=[RedactionPattern(name="ticket", regex="TICKET-[0-9]+")])
CONFIGS = {
    "off": project(OFF),
    "default": project(DEFAULT),
    "off, no slice keys": project(OFF, frozenset()),
    "default, no slice keys": project(DEFAULT, frozenset()),
    "user pattern": project(TICKET),
}


# -- comparing batches ----------------------------------------------------------------------


def canon(value: Any) -> Any:
    """``value`` with every float as its repr and every scalar tagged with its type, so
    that == tells NaN from NaN as equal, -0.0 from 0.0, True from 1 and 1 from 1.0."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, list):
        return ["list", *(canon(v) for v in value)]
    if isinstance(value, tuple):
        return ("tuple", *(canon(v) for v in value))
    if isinstance(value, dict):
        return {("key", k): canon(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, bytes):
        return ("bytes", value.hex())
    if is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            {f.name: canon(getattr(value, f.name)) for f in fields(value)},
        )
    raise TypeError(f"no canonical form for {type(value).__name__}")


def assert_same_batch(got: SpanBatch, want: SpanBatch) -> None:
    """``got`` is ``want``: rows, resources, slices (as dicts), rejections, errors,
    sizes and feedback."""
    assert len(got.rows) == len(want.rows)
    for index, (row, expected) in enumerate(zip(got.rows, want.rows, strict=True)):
        assert canon(row) == canon(expected), f"row {index}"
    assert canon(got.resources) == canon(want.resources)
    assert canon(got.slices) == canon(want.slices)
    assert (got.rejected, got.errors) == (want.rejected, want.errors)
    assert got.nbytes == want.nbytes
    assert canon(got.feedback) == canon(want.feedback)


def reference(body: bytes, config: ProjectConfig) -> SpanBatch:
    return normalize_traces(ExportTraceServiceRequest.FromString(body), config, PRICES)


def decode(body: bytes, config: ProjectConfig) -> Any:
    assert compiled._wire is not None
    return compiled._wire.decode(body, sorted(config.slice_keys), config.redactor.active)


def fast_spans(body: bytes, config: ProjectConfig) -> list[int] | None:
    """Indexes of the spans the compiled path makes rows of itself (None: the whole
    request goes to the Python path)."""
    try:
        decoded = decode(body, config)
    except ValueError:
        return None
    if decoded is None:
        return None
    spans = decoded[1]
    fast = [k for k, span in enumerate(spans) if span[0] != PYTHON_PATH]
    if config.redactor.active:
        candidates = set(config.redactor.candidates([spans[k][compiled._SCAN_BLOB] for k in fast]))
        fast = [k for i, k in enumerate(fast) if i not in candidates]
    return fast


def check_differential(body: bytes) -> tuple[bool, int, int]:
    """normalize_body equals the reference under every config; returns whether the
    compiled path took the request (redaction off), its fast spans and all spans."""
    took = False
    fast_count = 0
    for name, config in CONFIGS.items():
        want = reference(body, config)
        got = normalize_body(body, PROTOBUF, config, PRICES)
        assert_same_batch(got, want)
        direct = normalize_compiled(body, config, PRICES)
        if direct is not None:
            assert_same_batch(direct, want)
        if name == "user pattern":
            assert direct is None
        else:
            # The compiled path takes a request exactly when the decoder reads it.
            fast = fast_spans(body, config)
            assert (fast is not None) == (direct is not None), name
        if name == "off":
            took = direct is not None
            fast_count = len(fast or [])
    total = sum(
        len(scope.spans)
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource.scope_spans
    )
    return took, fast_count, total


# -- the wire -------------------------------------------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_len(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def unknown_field(number: int, kind: int, payload: bytes) -> bytes:
    if kind == 0:
        return field_varint(number, int.from_bytes(payload[:8].ljust(1, b"\0"), "little"))
    if kind == 1:
        return varint(number << 3 | 1) + payload[:8].ljust(8, b"\0")
    if kind == 5:
        return varint(number << 3 | 5) + payload[:4].ljust(4, b"\0")
    return field_len(number, payload)


# -- values ---------------------------------------------------------------------------------

TEXTS = [
    "",
    "hello",
    "What is the capital of France?",
    "mail jane.doe@example.com please",
    "jane.doe@example.com",
    "écrire à müller@exämple.de",
    "call +1 (415) 555-0173 today",
    "2025550173",
    "order 12345",
    "the 2019-2024 range",
    "card 4111 1111 1111 1111",
    "TICKET-4521 is open",
    "key sk-proj-abcdefghijklmnop1234",
    "Authorization: Bearer abcdefgh12345678",
    "@app.route('/x')",
    "AKIAIOSFODNN7EXAMPLE",
    "١٢٣",
    "²³",
    "123",
    "0",
    "-5",
    "1e3",
    " 42",
    "日本語のテキスト",
    "emoji 😀 text",
    "ctl \x00\x01\x1f\x7f end",
    "tab\tnew\nline\r",
    'quote " back \\ slash',
    "\u2028\u2029\ufeff",
    "a" * 600,
    "é" * 501,
    "𝔘" * 510,
    "x" * 250,
    "[",
    "[]",
    "[1, 2]",
    "[not json",
    "[{]",
    '{"a": 1}',
    "null",
    "true",
    '[{"role": "user", "content": "hi"}]',
    '[{"role": "user", "parts": [{"type": "text", "content": "mail jane.doe@example.com"}]}]',
    '[{"role": "assistant", "parts": [{"type": "text", "content": "ok"}, {"type": "tool_call",'
    ' "id": "c1", "name": "f", "arguments": {}}], "finish_reason": "stop"}]',
    '[{"type": "text", "content": "Be brief."}]',
    '[{"role": "user", "parts": [{"type": "text", "content": "日本 \\u00e9 \\ud83d\\ude00"}]}]',
]
JSON_MESSAGES = [text for text in TEXTS if text.startswith("[") or text.startswith("{")] + [
    json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]),
    json.dumps([{"role": "assistant", "content": "call 415 555 0173"}]),
]

texts = st.one_of(
    st.sampled_from(TEXTS),
    st.text(max_size=30),
    st.text(alphabet="0123456789 -().+", max_size=20),
    st.text(alphabet="0123456789٠١٢٣४५²", min_size=1, max_size=8),
    st.builds(
        lambda local, words: f"{words} {local}@example.com {words}",
        st.text(alphabet="abcxyz._+-", min_size=1, max_size=8),
        st.text(max_size=10),
    ),
    st.builds(lambda n: "é" * n, st.integers(490, 510)),
)
ints = st.one_of(
    st.integers(0, 5000),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, -1, 7, 10**12, 10**12 + 1, 2**53 + 1, 2**63 - 1, -(2**63)]),
)
doubles = st.one_of(
    st.sampled_from(
        [
            math.nan,
            math.inf,
            -math.inf,
            -0.0,
            0.0,
            1e16,
            5e-324,
            0.1,
            1.5,
            3.0,
            1e12,
            1e12 + 1,
            2.0**63,
            1e-7,
            123456789012345680.0,
            1.7976931348623157e308,
        ]
    ),
    st.floats(),
)
byte_values = st.one_of(
    st.binary(max_size=24),
    # base64 of these holds an AWS key and a seven-digit run: the pre-scan must see them.
    st.sampled_from([b"", base64.b64decode("AKIAIOSFODNN7EXAMPLE"), base64.b64decode("12345678")]),
)
scalars = st.one_of(
    texts.map(lambda s: AnyValue(string_value=s)),
    ints.map(lambda i: AnyValue(int_value=i)),
    doubles.map(lambda d: AnyValue(double_value=d)),
    st.booleans().map(lambda b: AnyValue(bool_value=b)),
    byte_values.map(lambda b: AnyValue(bytes_value=b)),
    st.builds(AnyValue),  # no value at all
)
small_keys = st.one_of(
    st.sampled_from(["role", "content", "a", "", "email", "jane.doe@example.com"]),
    st.text(max_size=8),
)


def nested(inner: st.SearchStrategy[AnyValue]) -> st.SearchStrategy[AnyValue]:
    """Scalars, or arrays and kvlists (duplicate keys and all) of ``inner``."""
    return st.one_of(
        scalars,
        st.lists(inner, max_size=3).map(lambda vs: AnyValue(array_value=ArrayValue(values=vs))),
        st.lists(st.tuples(small_keys, inner), max_size=3).map(
            lambda kvs: AnyValue(
                kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in kvs])
            )
        ),
    )


# Two levels of nesting (deeper: test_nesting_at_the_limits); st.recursive would
# retry draws over its leaf limit, which costs more here than the rest of a request.
any_values = nested(nested(scalars))


def strings(*options: str) -> st.SearchStrategy[AnyValue]:
    return st.sampled_from(options).map(lambda s: AnyValue(string_value=s))


def counts() -> st.SearchStrategy[AnyValue]:
    return st.one_of(
        st.integers(0, 100_000).map(lambda i: AnyValue(int_value=i)),
        st.sampled_from(["12", "0", "١٢", "²", "-3", "1e3", ""]).map(
            lambda s: AnyValue(string_value=s)
        ),
        st.sampled_from([12.0, 12.7, -1.0, 1e12, 1e13, math.nan, math.inf]).map(
            lambda d: AnyValue(double_value=d)
        ),
    )


LONG_MODEL = "openai/" * 30 + "gpt-4o-mini"  # over 200 characters, priced by its last part
MODELS = strings(
    "gpt-4o",
    "gpt-4o-mini-2024-07-18",
    "claude-3-5-sonnet-20241022",
    "",
    "no-such-model",
    "m" * 250,
    "gpt-4o-" + "0" * 300,
    LONG_MODEL,
)
PROVIDERS = strings("openai", "anthropic", "", "p" * 120)
IDS = strings("s-1", "u-1", "", "jane.doe@example.com", "i" * 250, "会話-7")
MESSAGES = st.sampled_from(JSON_MESSAGES).map(lambda s: AnyValue(string_value=s))
TYPICAL: dict[str, st.SearchStrategy[AnyValue]] = {
    "openinference.span.kind": strings(
        "LLM",
        "llm",
        "Llm",
        "CHAIN",
        "chain",
        "RETRIEVER",
        "TOOL",
        "AGENT",
        "EMBEDDING",
        "RERANKER",
        "GUARDRAIL",
        "EVALUATOR",
        "evaluator",
        "chaın",
        "ſpan",
        "unknown",
        "",
    ),
    "gen_ai.operation.name": strings(
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "execute_tool",
        "invoke_agent",
        "create_agent",
        "retrieval",
        "Chat",
        "other",
        "",
    ),
    "gen_ai.system": PROVIDERS,
    "gen_ai.provider.name": PROVIDERS,
    "llm.provider": PROVIDERS,
    "llm.system": PROVIDERS,
    "gen_ai.request.model": MODELS,
    "gen_ai.response.model": MODELS,
    "llm.model_name": MODELS,
    "embedding.model_name": MODELS,
    **dict.fromkeys(
        [
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
            "llm.token_count.prompt",
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
            "llm.token_count.completion",
            "llm.token_count.total",
        ],
        counts(),
    ),
    **dict.fromkeys(
        ["llm.cost.total", "gen_ai.usage.cost", "assay.cost"],
        st.one_of(
            doubles.map(lambda d: AnyValue(double_value=d)),
            st.integers(-5, 5).map(lambda i: AnyValue(int_value=i)),
            st.booleans().map(lambda b: AnyValue(bool_value=b)),
        ),
    ),
    **dict.fromkeys(
        [
            "session.id",
            "gen_ai.conversation.id",
            "assay.session_id",
            "user.id",
            "enduser.id",
            "assay.user_id",
        ],
        IDS,
    ),
    **dict.fromkeys(
        [
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.system_instructions",
            "gen_ai.prompt",
            "gen_ai.completion",
        ],
        MESSAGES,
    ),
    "input.mime_type": strings("text/plain", "application/json"),
    "output.mime_type": strings("text/plain", "application/json"),
    "input.value": texts.map(lambda s: AnyValue(string_value=s)),
    "output.value": texts.map(lambda s: AnyValue(string_value=s)),
    "locale": strings("fr", "en-GB", "jane.doe@example.com"),
    "tier": strings("free", "pro"),
    "channel": st.one_of(strings("web", "app"), doubles.map(lambda d: AnyValue(double_value=d))),
}
CONVENTION_KEYS = [
    *TYPICAL,
    "retrieval.documents.0.document.content",
    "gen_ai.response.finish_reasons",
    "gen_ai.request.temperature",
]
SPECIAL_KEYS = [
    "llm.input_messages.0.message.role",
    "llm.input_messages.0.message.content",
    "llm.input_messages.1.message.content",
    "llm.input_messages.0.message.contents.0.message_content.text",
    "llm.input_messages.0.message.tool_calls.0.tool_call.function.name",
    "llm.output_messages.0.message.role",
    "llm.output_messages.0.message.content",
    "gen_ai.prompt.0.role",
    "gen_ai.prompt.0.content",
    "gen_ai.prompt.x.content",
    "gen_ai.completion.0.content",
    "assay.slice.x",
    "assay.slice.locale",
    "assay.slice.",
]
GENAI_TEMPLATE = [
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "session.id",
    "user.id",
    "gen_ai.request.temperature",
    "gen_ai.response.finish_reasons",
]
OPENINFERENCE_TEMPLATE = [
    "openinference.span.kind",
    "llm.model_name",
    "llm.provider",
    "llm.system",
    "input.value",
    "input.mime_type",
    "output.value",
    "output.mime_type",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.total",
    "session.id",
]
attribute_keys = st.one_of(
    st.sampled_from(CONVENTION_KEYS),
    st.sampled_from(SPECIAL_KEYS + sorted(SLICE_KEYS)),
    st.text(max_size=16),
)
# Span attributes besides a template's. Flattened-message and assay.slice.* keys send a
# span to the Python path: they come in one span in four that are not plain.
common_keys = st.one_of(st.sampled_from(CONVENTION_KEYS + sorted(SLICE_KEYS)), st.text(max_size=16))
special_keys = st.sampled_from(SPECIAL_KEYS)


# What the conventions read under each key (the rest of the time: any value).
TYPICAL_VALUES: dict[str, st.SearchStrategy[AnyValue]] = {
    **TYPICAL,
    "gen_ai.request.temperature": doubles.map(lambda d: AnyValue(double_value=d)),
    "gen_ai.response.finish_reasons": st.lists(texts, max_size=3).map(
        lambda ss: AnyValue(array_value=ArrayValue(values=[AnyValue(string_value=s) for s in ss]))
    ),
}


def value_of(draw: st.DrawFn, key: str, plain: bool = False) -> AnyValue:
    """A value for ``key``: one its convention reads, if any (but one time in four
    any value, unless ``plain``)."""
    typical = TYPICAL_VALUES.get(key)
    if typical is not None and (plain or not one_in(draw, 4)):
        return draw(typical)
    return draw(any_values)


@functools.cache
def below(n: int) -> st.SearchStrategy[int]:
    return st.integers(0, n - 1)


def one_in(draw: st.DrawFn, n: int) -> bool:
    return draw(below(n)) == 0


KV_TRICKS = st.sampled_from(["key twice", "value split", "unknown", "empty value"])
WIRE_TYPES = st.sampled_from([0, 1, 2, 5])


def key_value_bytes(draw: st.DrawFn, key: str, tricks: bool, plain: bool) -> bytes:
    """One ``KeyValue``, encoded; with tricks sometimes a repeated key, a value split
    in two (merged by protobuf) or an unknown field."""
    encoded = KeyValue(key=key, value=value_of(draw, key, plain)).SerializeToString()
    if tricks and one_in(draw, 5):
        trick = draw(KV_TRICKS)
        if trick == "key twice":
            encoded = field_len(1, draw(small_keys).encode()) + encoded
        elif trick == "value split":
            encoded += field_len(2, draw(scalars).SerializeToString())
        elif trick == "unknown":
            encoded += unknown_field(3 + draw(below(40)), draw(WIRE_TYPES), b"\x01\x02")
        else:
            encoded += field_len(2, b"")
    return encoded


def attribute_list(draw: st.DrawFn, template: list[str], tricks: bool, plain: bool) -> list[bytes]:
    """A span's attributes: most of ``template``'s keys, a few others, sometimes a key
    twice (the later wins)."""
    mask = draw(TEMPLATE_MASK) | draw(TEMPLATE_MASK)
    chosen = [key for i, key in enumerate(template) if mask >> i & 1]
    chosen += draw(EXTRA_KEYS)
    if not plain and one_in(draw, 4):
        chosen.insert(draw(below(len(chosen) + 1)), draw(special_keys))
    if chosen and one_in(draw, 6):
        chosen.append(chosen[draw(below(len(chosen)))])
    return [key_value_bytes(draw, key, tricks, plain) for key in chosen]


TEMPLATE_MASK = st.integers(0, 2**16 - 1)
EXTRA_KEYS = st.lists(common_keys, max_size=4)


def kv_message(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


FEEDBACK_VALUES = st.one_of(
    st.booleans().map(lambda b: AnyValue(bool_value=b)),
    st.sampled_from([4.5, math.nan, math.inf, -0.0]).map(lambda d: AnyValue(double_value=d)),
    st.sampled_from([3, 2**63 - 1]).map(lambda i: AnyValue(int_value=i)),
    texts.map(lambda s: AnyValue(string_value=s)),
    st.builds(AnyValue),
    st.builds(AnyValue, array_value=st.builds(ArrayValue)),
)
EVENT_NAMES = st.sampled_from(
    [
        "gen_ai.user.message",
        "gen_ai.system.message",
        "gen_ai.assistant.message",
        "gen_ai.tool.message",
        "gen_ai.choice",
        "gen_ai.client.inference.operation.details",
        "gen_ai.content.prompt",
        "gen_ai.content.completion",
        "assay.feedback",
        "exception",
        "note jane.doe@example.com",
    ]
)
EVENT_TEXT = st.one_of(texts, st.sampled_from(JSON_MESSAGES)).map(
    lambda s: AnyValue(string_value=s)
)
EVENT_ROLES = strings("user", "system", "tool", "")
CHOICE_ROLES = strings("assistant", "")
FINISH = strings("stop", "length", "")
FEEDBACK_NAMES = strings("thumbs", "", " ", "n" * 101)
FEEDBACK_SOURCES = strings("app", "implicit", "", "s" * 21)
# Never time 0: feedback from such an event is stamped with the current time, which
# differs between the two runs compared.
EVENT_TIMES = st.integers(1, 2**64 - 1)


@st.composite
def events(draw: st.DrawFn) -> Span.Event:
    """A GenAI content event, an ``assay.feedback`` event or another event."""
    name = draw(EVENT_NAMES)
    attrs: list[KeyValue] = []
    if name.startswith("gen_ai.") and name.endswith(".message"):
        attrs.append(kv_message("content", draw(EVENT_TEXT)))
        if draw(st.booleans()):
            attrs.append(kv_message("role", draw(EVENT_ROLES)))
        if one_in(draw, 4):
            attrs.append(kv_message("gen_ai.event.content", draw(EVENT_TEXT)))
    elif name == "gen_ai.choice":
        message = KeyValueList(
            values=[
                kv_message("role", draw(CHOICE_ROLES)),
                kv_message("content", draw(EVENT_TEXT)),
            ]
        )
        attrs.append(kv_message("message", AnyValue(kvlist_value=message)))
        attrs.append(kv_message("finish_reason", draw(FINISH)))
    elif name == "gen_ai.client.inference.operation.details":
        for key in (
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.system_instructions",
        ):
            if draw(st.booleans()):
                attrs.append(kv_message(key, draw(EVENT_TEXT)))
    elif name in ("gen_ai.content.prompt", "gen_ai.content.completion"):
        key = "gen_ai.prompt" if name.endswith("prompt") else "gen_ai.completion"
        attrs.append(kv_message(key, draw(EVENT_TEXT)))
    elif name == "assay.feedback":
        if not one_in(draw, 6):
            attrs.append(kv_message("assay.feedback.name", draw(FEEDBACK_NAMES)))
        if not one_in(draw, 6):
            attrs.append(kv_message("assay.feedback.value", draw(FEEDBACK_VALUES)))
        if draw(st.booleans()):
            attrs.append(kv_message("assay.feedback.comment", draw(EVENT_TEXT)))
        if draw(st.booleans()):
            attrs.append(kv_message("assay.feedback.source", draw(FEEDBACK_SOURCES)))
    else:
        for _ in range(draw(below(4))):
            key = draw(attribute_keys)
            attrs.append(kv_message(key, value_of(draw, key)))
    return Span.Event(time_unix_nano=draw(EVENT_TIMES), name=name, attributes=attrs)


EVENT_LISTS = st.lists(events(), min_size=1, max_size=3)
LINKS = st.builds(
    Span.Link,
    trace_id=st.binary(min_size=16, max_size=16),
    span_id=st.binary(min_size=8, max_size=8),
    trace_state=st.sampled_from(["", "k=v"]),
    attributes=st.lists(st.builds(kv_message, small_keys, scalars), max_size=2),
)


def nonzero(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size).map(lambda b: b if any(b) else b[:-1] + b"\x01")


TRACE_IDS = nonzero(16)
SPAN_IDS = nonzero(8)
BAD_TRACE_IDS = st.sampled_from([b"", bytes(16), b"\x01" * 15, b"\x01" * 17, b"\x01" * 8])
BAD_SPAN_IDS = st.sampled_from([b"", bytes(8), b"\x01" * 7, b"\x01" * 9])
PARENTS = st.one_of(st.just(b""), SPAN_IDS, st.just(bytes(8)), st.just(b"\x05" * 3))
NAMES = st.one_of(
    st.sampled_from(
        [
            "chat gpt-4o",
            "ChatCompletion",
            "",
            "GET /users/jane.doe@example.com",
            "call 415 555 0173",
            "TICKET-42 retry",
            "名前 ✓",
            "a\x00b\x07c",
            "x" * 501,
            "é" * 600,
            "𝔘" * 501,
        ]
    ),
    texts,
)
TIMES = st.one_of(
    st.integers(T0, T0 + 10**12),
    st.sampled_from([0, 1, 2**63 - 1, 2**63, 2**64 - 1]),
    st.integers(0, 2**64 - 1),
)
STARTS = st.one_of(st.integers(T0, T0 + 10**12), st.integers(0, 2**63 - 1))
DURATIONS = st.one_of(st.integers(0, 10**10), st.just(None))
STATUS_CODES = st.sampled_from([0, 1, 2, 3, 99, -1])
STATUS_MESSAGES = st.one_of(st.just(""), texts)
FLAVORS = st.sampled_from(["genai", "openinference", "random"])
SPAN_TRICKS = st.sampled_from(["name", "span_id", "start", "status", "parent", "unknown"])


def span_bytes(draw: st.DrawFn, hostile: bool, tricks: bool) -> bytes:
    """One ``Span``, encoded field by field (with tricks: shuffled, singular fields
    repeated, unknown fields). Without ``hostile``, ids and times are ones the Python
    path keeps."""
    template = {"genai": GENAI_TEMPLATE, "openinference": OPENINFERENCE_TEMPLATE}.get(
        draw(FLAVORS), []
    )
    pieces: list[bytes] = []

    def add(**values: Any) -> None:
        pieces.append(Span(**values).SerializeToString())

    add(trace_id=draw(BAD_TRACE_IDS if hostile and one_in(draw, 4) else TRACE_IDS))
    add(span_id=draw(BAD_SPAN_IDS if hostile and one_in(draw, 4) else SPAN_IDS))
    add(parent_span_id=draw(PARENTS))
    add(name=draw(NAMES))
    if hostile:
        start, end = draw(TIMES), draw(TIMES)
    else:
        start = draw(STARTS)
        duration = draw(DURATIONS)  # None: any end, maybe before the start
        end = min(start + duration if duration is not None else draw(TIMES), 2**63 - 1)
    add(start_time_unix_nano=start)
    add(end_time_unix_nano=end)
    add(status=Status(code=draw(STATUS_CODES), message=draw(STATUS_MESSAGES)))
    add(kind=draw(below(7)))
    if one_in(draw, 4):
        add(trace_state="rojo=00f067aa0ba902b7", flags=draw(below(2**32)))
        add(dropped_attributes_count=3, dropped_events_count=1, dropped_links_count=2)
    # A plain span (one in two) has the values the conventions read and none of the
    # forms the compiled decoder leaves to the Python path (events, links, flattened
    # messages, assay.slice.*), so that it is likely to make its row itself.
    plain = not draw(st.booleans())
    pieces += [field_len(9, kv) for kv in attribute_list(draw, template, tricks, plain)]
    if not plain and one_in(draw, 3):
        pieces += [Span(events=[ev]).SerializeToString() for ev in draw(EVENT_LISTS)]
    if not plain and one_in(draw, 6):
        add(links=[draw(LINKS)])
    if tricks:
        # Singular fields sent again (the last one wins, a message is merged) and
        # fields the decoder does not know.
        for _ in range(draw(below(3))):
            extra = draw(SPAN_TRICKS)
            if extra == "name":
                add(name=draw(NAMES))
            elif extra == "span_id":
                add(span_id=draw(SPAN_IDS))
            elif extra == "start":
                add(start_time_unix_nano=draw(STARTS))
            elif extra == "status":
                add(status=Status(message=draw(texts)))
            elif extra == "parent":
                pieces.append(field_len(4, b""))
            else:
                pieces.append(unknown_field(17 + draw(below(2000)), draw(WIRE_TYPES), b"zz"))
        draw(SHUFFLER).shuffle(pieces)
    return b"".join(pieces)


SHUFFLER = st.randoms(use_true_random=False)
RESOURCE_KEYS = [
    "service.name",
    "service.version",
    "assay.release",
    "service.instance.id",
    "locale",
    "tier",
    "channel",
    "assay.slice.team",
    "deployment.environment",
    "owner",
]
RESOURCE_TYPICAL: dict[str, st.SearchStrategy[AnyValue]] = {
    "service.name": strings("support-bot", "", "svc 415 555 0173", "s" * 300),
    "service.version": strings("1.2.3", "2024.11.05", ""),
    "assay.release": strings("v1.4.2", "0123456789abcdef" * 4, "", "4111 1111 1111 1111"),
    "service.instance.id": strings("i-1234567890", "jane.doe@example.com"),
    "locale": strings("fr", "de"),
    "owner": strings("jane.doe@example.com", "team"),
    # Non-finite: JSON has no form for them, so the Python path takes such a request.
    "channel": st.one_of(
        strings("web", "app"),
        st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e16]).map(
            lambda d: AnyValue(double_value=d)
        ),
    ),
}
RESOURCE_VALUES = {key: st.one_of(typical, any_values) for key, typical in RESOURCE_TYPICAL.items()}
RESOURCE_ATTRIBUTE_KEYS = st.lists(
    st.one_of(st.sampled_from(RESOURCE_KEYS), st.text(max_size=10)), max_size=7
)


def resource_bytes(draw: st.DrawFn, tricks: bool) -> list[bytes]:
    """A ``Resource``'s encoding, in one piece or (tricks) split in pieces protobuf
    merges."""
    kvs = []
    for key in draw(RESOURCE_ATTRIBUTE_KEYS):
        value = draw(RESOURCE_VALUES.get(key, any_values))
        kvs.append(field_len(1, KeyValue(key=key, value=value).SerializeToString()))
    if one_in(draw, 5):
        kvs.append(field_varint(2, 5))  # dropped_attributes_count
    if tricks and len(kvs) > 1 and draw(st.booleans()):
        cut = 1 + draw(below(len(kvs) - 1))
        return [b"".join(kvs[:cut]), b"".join(kvs[cut:])]
    return [b"".join(kvs)]


SCOPES = st.builds(
    InstrumentationScope,
    name=st.sampled_from(["openinference", "opentelemetry.genai", ""]),
    version=st.sampled_from(["", "1.0"]),
)
SCHEMA = b"https://opentelemetry.io/schemas/1.26.0"


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """An ``ExportTraceServiceRequest`` body: 1-3 resources, 1-2 scopes each, 0-6 spans
    each. One request in four may hold spans the Python path rejects, and one in four
    plays wire tricks."""
    hostile = one_in(draw, 4)
    tricks = one_in(draw, 4)
    body = []
    for _ in range(1 + draw(below(3))):
        pieces = []
        if not one_in(draw, 8):
            pieces += [field_len(1, part) for part in resource_bytes(draw, tricks)]
        for _ in range(1 + draw(below(2))):
            scope_pieces = [field_len(1, draw(SCOPES).SerializeToString())]
            for _ in range(draw(below(7))):
                scope_pieces.append(field_len(2, span_bytes(draw, hostile, tricks)))
            if one_in(draw, 6):
                scope_pieces.append(field_len(3, SCHEMA))
            if tricks:
                draw(SHUFFLER).shuffle(scope_pieces)
            pieces.append(field_len(2, b"".join(scope_pieces)))
        if one_in(draw, 6):
            pieces.append(field_len(3, SCHEMA))
        if tricks:
            draw(SHUFFLER).shuffle(pieces)
        body.append(field_len(1, b"".join(pieces)))
    if tricks and one_in(draw, 4):
        body.insert(draw(below(len(body) + 1)), unknown_field(9, 2, b"junk"))
    return b"".join(body)


# -- 1. the extension is built ------------------------------------------------------------


def test_the_compiled_decoder_is_built() -> None:
    assert compiled.available(), (
        "assay.ingest._wire does not import: this test run needs the compiled decoder "
        "(install assay with a C compiler present so the Cython extension is built)"
    )


# -- 2. common spans take the compiled path and agree ---------------------------------------


EMAIL_PROMPT = "Please forward the invoice to jane.doe@example.com before Friday."


def common_request() -> bytes:
    ids = IdFactory("test_compiled")
    trace_id = ids.trace_id()
    root_id = ids.span_id()
    root = make_span(
        "answer_question",
        trace_id=trace_id,
        span_id=root_id,
        attributes={
            "openinference.span.kind": "CHAIN",
            "input.value": "Which city is the capital of France?",
            "input.mime_type": "text/plain",
            "output.value": "Paris is the capital of France.",
            "output.mime_type": "text/plain",
            "session.id": "session-1",
        },
        start_ns=T0,
        duration_ms=900,
        ids=ids,
    )

    def chat(prompt: str, completion: str, offset: int, **extra: Any) -> Span:
        return genai_llm_span(
            model="gpt-4o-mini",
            prompt=prompt,
            completion=completion,
            system="Answer briefly.",
            input_tokens=41,
            output_tokens=9,
            attributes={
                "gen_ai.response.model": "gpt-4o-mini",  # a dated name is a pre-scan candidate
                "session.id": "session-1",
                "user.id": "user-42",
                "gen_ai.request.temperature": 0.2,
                "gen_ai.response.finish_reasons": ["stop", "length"],
                **extra,
            },
            trace_id=trace_id,
            parent_span_id=root_id,
            start_ns=T0 + offset,
            duration_ms=120,
            ids=ids,
        )

    chats = [
        chat("What is the capital of France?", "Paris.", 1_000_000),
        chat(EMAIL_PROMPT, "I will send it.", 200_000_000),
        chat("And of Italy?", "Rome.", 400_000_000, **{"gen_ai.request.top_p": 0.9}),
    ]
    openinference = [
        make_span(
            "ChatCompletion",
            trace_id=trace_id,
            parent_span_id=root_id,
            attributes={
                "openinference.span.kind": kind,
                "llm.model_name": "gpt-4o",
                "llm.provider": "openai",
                "llm.system": "openai",
                "input.value": question,
                "input.mime_type": "text/plain",
                "output.value": answer,
                "output.mime_type": "text/plain",
                "llm.token_count.prompt": 30,
                "llm.token_count.completion": 8,
                "llm.token_count.total": 38,
                "llm.invocation_parameters": '{"temperature": 0}',
            },
            start_ns=T0 + offset,
            duration_ms=80,
            status="ok",
            ids=ids,
        )
        for kind, question, answer, offset in [
            ("LLM", "Capital of Spain?", "Madrid.", 600_000_000),
            ("llm", "Capital of Portugal?", "Lisbon.", 700_000_000),
            ("RETRIEVER", "capital cities", "[doc 1, doc 2]", 800_000_000),
        ]
    ]
    return export_trace_request(
        [root, *chats, *openinference],
        service_name="support-bot",
        release="v1.4.2",
        resource_attributes={"locale": "fr", "service.version": "1.4.2"},
    ).SerializeToString()


@pytest.mark.parametrize("redaction", ["off", "default"])
def test_common_spans_take_the_compiled_path_and_agree(redaction: str) -> None:
    config = CONFIGS[redaction]
    body = common_request()
    want = reference(body, config)
    batch = normalize_compiled(body, config, PRICES)
    assert batch is not None, "the compiled decoder handed a request of common spans over"
    assert_same_batch(batch, want)
    assert_same_batch(normalize_body(body, PROTOBUF, config, PRICES), want)

    assert len(want.rows) == 7
    assert want.rejected == 0
    email_row = want.rows[2]
    assert email_row["name"] == "chat gpt-4o-mini"
    kinds = [row["kind"] for row in want.rows]
    assert kinds == ["chain", "llm", "llm", "llm", "llm", "llm", "retrieval"]
    fast = fast_spans(body, config)
    if redaction == "off":
        assert EMAIL_PROMPT in (email_row["input"] or "")
        # Every span here is a form the compiled decoder makes the row of itself.
        assert fast == list(range(7))
    else:
        assert "jane.doe@example.com" not in (email_row["input"] or "")
        assert "[REDACTED:email]" in (email_row["input"] or "")
        # Only the span with the address goes to the Python path (to be redacted).
        assert fast == [0, 1, 3, 4, 5, 6]
        for row in batch.rows:
            assert "jane.doe@example.com" not in orjson.dumps(row).decode()
    assert batch.rows[1]["input"].startswith("[")
    assert batch.rows[1]["session_id"] == "session-1"
    assert batch.rows[1]["user_id"] == "user-42"
    # input.value is a declared slice key, but it became the input: not a slice.
    assert batch.slices[0] == {"locale": "fr", "session.id": "session-1"}


# -- 3. generated requests: the compiled path gives the reference batch ----------------------


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=requests())
def test_generated_requests_give_the_reference_batch(body: bytes) -> None:
    took, fast, total = check_differential(body)
    event(f"compiled path took the request: {took}")
    event(f"spans made into rows by the compiled path: {'none' if not fast else 'some'}")
    if total:
        event(f"share of spans on the fast path: {round(4 * fast / total) / 4:.2f}")


def test_generated_requests_are_not_vacuous() -> None:
    """With a fixed seed, the generator makes requests the compiled path takes, and
    spans it makes rows of itself (so the differential test compares something)."""
    tally = {"requests": 0, "compiled": 0, "spans": 0, "fast": 0}

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=requests())
    def run(body: bytes) -> None:
        took, fast, total = check_differential(body)
        tally["requests"] += 1
        tally["compiled"] += took
        tally["spans"] += total
        tally["fast"] += fast

    run()
    assert tally["compiled"] >= tally["requests"] * 0.4, tally
    assert tally["fast"] >= tally["spans"] * 0.2, tally


# -- 3b. hand-made requests at the decoder's limits -------------------------------------------


def fixed64(number: int, value: int) -> bytes:
    return varint(number << 3 | 1) + struct.pack("<Q", value)


def any_string(text: str) -> bytes:
    return field_len(1, text.encode())


def kv_wire(key: str, value: bytes) -> bytes:
    return field_len(1, key.encode()) + field_len(2, value)


def nested_kvlist(depth: int) -> bytes:
    """An AnyValue holding a kvlist ``depth`` levels deep."""
    value = any_string("deep jane.doe@example.com")
    for _ in range(depth):
        value = field_len(6, field_len(1, kv_wire("k", value)))
    return value


def span_wire(*fields: bytes, trace: bytes = b"\x01" * 16, start: int = T0) -> bytes:
    return (
        field_len(1, trace)
        + field_len(2, b"\x02" * 8)
        + field_len(5, b"edge")
        + fixed64(7, start)
        + fixed64(8, start + 1000)
        + b"".join(fields)
    )


def attr(key: str, value: bytes) -> bytes:
    return field_len(9, kv_wire(key, value))


def request_wire(*spans: bytes, resource: bytes = b"") -> bytes:
    scope = field_len(2, b"".join(field_len(2, span) for span in spans))
    return field_len(1, (field_len(1, resource) if resource else b"") + scope)


CHAT = (
    attr("gen_ai.operation.name", any_string("chat"))
    + attr("gen_ai.input.messages", any_string('[{"role": "user", "content": "hi"}]'))
    + attr("gen_ai.usage.input_tokens", field_varint(3, 12))
)
EDGE_REQUESTS = {
    "empty body": b"",
    "a resource without spans": field_len(1, field_len(1, field_len(1, kv_wire("a", b"")))),
    "300 attributes": request_wire(
        span_wire(*(attr(f"k{i}", any_string(str(i))) for i in range(300)))
    ),
    "300 resource attributes": request_wire(
        span_wire(CHAT),
        resource=b"".join(field_len(1, kv_wire(f"r{i}", any_string("v"))) for i in range(300)),
    ),
    "a kvlist 31 deep": request_wire(span_wire(CHAT, attr("nested", nested_kvlist(31)))),
    "a kvlist 40 deep": request_wire(span_wire(CHAT, attr("nested", nested_kvlist(40)))),
    "a kvlist 120 deep": request_wire(span_wire(CHAT, attr("nested", nested_kvlist(120)))),
    "a group": request_wire(span_wire(CHAT, varint(50 << 3 | 3), varint(50 << 3 | 4))),
    "an end group alone": request_wire(span_wire(CHAT, varint(50 << 3 | 4))),
    "string_value_strindex": request_wire(span_wire(CHAT, attr("idx", field_varint(8, 5)))),
    "string and int in one AnyValue": request_wire(
        span_wire(CHAT, attr("two", any_string("a") + field_varint(3, 1)))
    ),
    "key_strindex": request_wire(
        span_wire(CHAT, field_len(9, field_varint(3, 4) + field_len(2, any_string("v"))))
    ),
    "a KeyValue without a value": request_wire(span_wire(CHAT, field_len(9, field_len(1, b"k")))),
    "the resource twice": field_len(
        1,
        field_len(1, field_len(1, kv_wire("locale", any_string("fr"))))
        + field_len(1, field_len(1, kv_wire("tier", any_string("pro"))))
        + field_len(2, field_len(2, span_wire(CHAT))),
    ),
    "a NaN resource slice": request_wire(
        span_wire(CHAT), resource=field_len(1, kv_wire("channel", fixed64(4, 0x7FF8000000000001)))
    ),
    "a NaN span attribute": request_wire(
        span_wire(CHAT, attr("tier", fixed64(4, 0xFFF8000000000000)), attr("x", fixed64(4, 0)))
    ),
    "an int of ten varint bytes": request_wire(
        span_wire(CHAT, attr("big", varint(3 << 3) + b"\xff" * 9 + b"\x7f"))
    ),
    "an int of eleven varint bytes": request_wire(
        span_wire(CHAT, attr("big", varint(3 << 3) + b"\xff" * 10 + b"\x01"))
    ),
    "a bool of 2 and an overlong false": request_wire(
        span_wire(CHAT, attr("t", field_varint(2, 2)), attr("f", varint(2 << 3) + b"\x80\x00"))
    ),
    "an overlong tag": request_wire(span_wire(CHAT, b"\xca\x00" + varint(4) + b"name")),
    "a name of the wrong wire type": request_wire(span_wire(CHAT, field_varint(5, 7))),
    "a negative status code and two messages": request_wire(
        span_wire(
            CHAT,
            field_len(15, field_len(2, b"first") + field_varint(3, 2**64 - 1)),
            field_len(15, field_len(2, b"second")),
        )
    ),
    "kind out of range": request_wire(span_wire(CHAT, field_varint(6, 2**32 + 3))),
    "start after end": request_wire(span_wire(CHAT, fixed64(8, T0 - 5))),
    "end past 2**63": request_wire(span_wire(CHAT, fixed64(8, 2**63))),
    "an all-zero trace id": request_wire(span_wire(CHAT, trace=bytes(16))),
    "a model over 200 characters with tokens": request_wire(
        span_wire(CHAT, attr("gen_ai.request.model", any_string(LONG_MODEL)))
    ),
    "a model over 200 characters with a cost": request_wire(
        span_wire(
            CHAT,
            attr("gen_ai.request.model", any_string(LONG_MODEL)),
            attr("assay.cost", fixed64(4, struct.unpack("<Q", struct.pack("<d", 0.5))[0])),
        )
    ),
    "a name of 600 characters with an address": request_wire(
        span_wire(CHAT, field_len(5, ("é" * 600 + " jane.doe@example.com").encode()))
    ),
    "invalid UTF-8 in a key": request_wire(span_wire(CHAT, attr("k\xff", any_string("v")))),
    "invalid UTF-8 in an event name": request_wire(
        span_wire(CHAT, field_len(11, fixed64(1, 1) + field_len(2, b"\xed\xa0\x80")))
    ),
    "invalid UTF-8 in a scope name": field_len(
        1, field_len(2, field_len(1, field_len(1, b"\xc0\xaf")) + field_len(2, span_wire(CHAT)))
    ),
    "invalid UTF-8 in an unknown field": request_wire(span_wire(CHAT, field_len(99, b"\xff"))),
}


def check_edge(body: bytes) -> None:
    try:
        ExportTraceServiceRequest.FromString(body)
    except DecodeError:
        pass
    else:
        check_differential(body)
    check_malformed(body)


@pytest.mark.parametrize("body", list(EDGE_REQUESTS.values()), ids=list(EDGE_REQUESTS))
def test_edge_requests(body: bytes) -> None:
    check_edge(body)


def nested_in(where: str, depth: int) -> bytes:
    """A request with a kvlist ``depth`` deep in the attributes of ``where``."""
    value = kv_wire("nested", nested_kvlist(depth))
    if where == "resource":
        return request_wire(span_wire(CHAT), resource=field_len(1, value))
    if where == "scope":
        scope = field_len(1, field_len(1, b"scope") + field_len(3, value))
        return field_len(1, field_len(2, scope + field_len(2, span_wire(CHAT))))
    if where == "span":
        return request_wire(span_wire(CHAT, field_len(9, value)))
    if where == "event":
        event = fixed64(1, T0) + field_len(2, b"event") + field_len(3, value)
        return request_wire(span_wire(CHAT, field_len(11, event)))
    link = field_len(1, b"\x03" * 16) + field_len(2, b"\x04" * 8) + field_len(4, value)
    return request_wire(span_wire(CHAT, field_len(13, link)))


@pytest.mark.parametrize("depth", [19, 20, 21, 30, 31, 32, 33])
@pytest.mark.parametrize("where", ["resource", "scope", "span", "event", "link"])
def test_nesting_at_the_limits(where: str, depth: int) -> None:
    # protobuf refuses messages nested over 100 deep: a kvlist adds 3 levels (AnyValue,
    # KeyValueList, KeyValue), and the request, its parts and the attribute 5 to 7.
    check_edge(nested_in(where, depth))


# -- 4. malformed bodies ----------------------------------------------------------------------


def outcome(call: Callable[[], SpanBatch]) -> Any:
    try:
        batch = call()
    except InvalidInput as exc:
        return ("InvalidInput", str(exc))
    return ("batch", {name: canon(getattr(batch, name)) for name in SpanBatch.__dataclass_fields__})


def describe(result: Any) -> str:
    kind, detail = result
    if kind == "batch":
        return f"a batch of {len(detail['rows']) - 1} rows"
    return f"{kind}({detail!r})"


def check_malformed(body: bytes) -> None:
    """The compiled decoder raises ValueError, hands over (None) or reads ``body`` as
    protobuf does; either way normalize_body gives what the reference path gives: the
    same batch, or InvalidInput with the same message."""
    for name in ("off", "default"):
        config = CONFIGS[name]
        got = outcome(lambda config=config: normalize_body(body, PROTOBUF, config, PRICES))
        want = outcome(
            lambda config=config: normalize_traces(decode_traces(body, PROTOBUF), config, PRICES)
        )
        assert got[0] == want[0], (
            f"{name}: normalize_body gave {describe(got)}, the reference {describe(want)}"
        )
        assert got == want, name
        try:
            decoded = decode(body, config)
        except ValueError:
            decoded = None
        if decoded is not None:
            # The decoder read it: protobuf must read it too, to the same batch.
            try:
                ExportTraceServiceRequest.FromString(body)
            except DecodeError as exc:
                pytest.fail(f"the compiled decoder read a body protobuf refuses: {exc}")
            direct = normalize_compiled(body, config, PRICES)
            assert direct is not None
            assert_same_batch(direct, reference(body, config))


MALFORMED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(MALFORMED, max_examples=400)
@given(body=st.one_of(st.binary(max_size=300), st.binary(max_size=40).map(lambda b: b"\x0a" + b)))
def test_random_bytes(body: bytes) -> None:
    check_malformed(body)


mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 2**16), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 2**16)),
    st.tuples(st.just("insert"), st.integers(0, 2**16), st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("delete"), st.integers(0, 2**16), st.integers(1, 6)),
    st.tuples(st.just("set"), st.integers(0, 2**16), st.sampled_from([0x00, 0x7F, 0x80, 0xFF])),
)


def mutate(body: bytes, mutation: tuple[Any, ...]) -> bytes:
    op, where, *rest = mutation
    data = bytearray(body)
    at = where % (len(data) + 1)
    if op == "flip" and data:
        data[at % len(data)] ^= 1 << rest[0]
    elif op == "truncate":
        del data[at:]
    elif op == "insert":
        data[at:at] = rest[0]
    elif op == "delete":
        del data[at : at + rest[0]]
    elif op == "set" and data:
        data[at % len(data)] = rest[0]
    return bytes(data)


@MALFORMED
@given(body=requests(), changes=st.lists(mutations, min_size=1, max_size=3))
def test_mutated_requests(body: bytes, changes: list[tuple[Any, ...]]) -> None:
    for change in changes:
        body = mutate(body, change)
    check_malformed(body)


# -- 5. doubles are written as orjson writes them -----------------------------------------


EDGE_DOUBLES = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.0**-1074,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1e-323,
    1e-7,
    1e-6,
    1e-5,
    5e-7,
    0.1,
    0.2,
    0.30000000000000004,
    1 / 3,
    1.0,
    -1.0,
    1.5,
    4.35,
    100.0,
    123.456,
    1e15,
    1e16,
    -1e16,
    1e17,
    1e21,
    1e22,
    1e23,
    9007199254740992.0,
    9007199254740993.0,
    123456789012345680.0,
    2.0**63,
    2.0**64,
    1e300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
]


@pytest.mark.parametrize("x", EDGE_DOUBLES, ids=repr)
def test_format_double_edge_values(x: float) -> None:
    assert compiled._wire is not None
    assert compiled._wire.format_double(x) == orjson.dumps(x).decode()


finite_doubles = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(0, 2**64 - 1)
    .map(lambda bits: struct.unpack("<d", struct.pack("<Q", bits))[0])
    .filter(math.isfinite),
)


@settings(max_examples=500, deadline=None)
@given(x=finite_doubles)
def test_format_double_is_orjson(x: float) -> None:
    assert compiled._wire is not None
    assert compiled._wire.format_double(x) == orjson.dumps(x).decode()


# -- 6. compiled=False stays off the compiled decoder ---------------------------------------


class _Refuses:
    """A stand-in for ``_wire`` that fails any test that reaches it."""

    def decode(self, *_: Any) -> Any:
        raise AssertionError("the compiled decoder was called")


def test_compiled_false_never_calls_the_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    body = common_request()
    monkeypatch.setattr(compiled, "_wire", _Refuses())
    for config in CONFIGS.values():
        got = normalize_body(body, PROTOBUF, config, PRICES, compiled=False)
        assert_same_batch(got, reference(body, config))
    # The stand-in is the decoder normalize_body would call.
    with pytest.raises(AssertionError, match="compiled decoder was called"):
        normalize_body(body, PROTOBUF, CONFIGS["off"], PRICES)


# -- 7. a project's own patterns take the Python path ---------------------------------------


def test_user_patterns_take_the_python_path_and_redact() -> None:
    config = CONFIGS["user pattern"]
    body = export_trace_request(
        [
            genai_llm_span(
                prompt="Status of TICKET-4521? Reply to jane.doe@example.com",
                completion="TICKET-4521 is closed.",
                ids=IdFactory("ticket"),
                start_ns=T0,
            )
        ]
    ).SerializeToString()
    assert normalize_compiled(body, config, PRICES) is None
    batch = normalize_body(body, PROTOBUF, config, PRICES)
    assert_same_batch(batch, reference(body, config))
    row = batch.rows[0]
    for text in (row["input"], row["output"]):
        assert "TICKET-4521" not in text
        assert "[REDACTED:ticket]" in text
    assert "[REDACTED:email]" in row["input"]
