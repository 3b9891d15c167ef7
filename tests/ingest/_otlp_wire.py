"""OTLP trace requests generated down to the protobuf wire, for the differential tests
of the compiled decoder (``test_compiled.py``): fields in any order, repeated singular
fields (the last wins), split sub-messages (merged), unknown fields, and the span,
attribute, event and resource forms the conventions read."""

from __future__ import annotations

import base64
import functools
import json
import math
from typing import Any

from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

# Two keys the conventions read too: a slice holds what is left after they are read.
SLICE_KEYS = frozenset({"locale", "tier", "channel", "session.id", "input.value"})
T0 = 1_760_000_000_000_000_000


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
