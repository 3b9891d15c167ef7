"""Malformed and hostile bodies: never a 5xx, never a crash, nothing stored.

Hypothesis drives the in-process app (fast); one subprocess test checks that the
real server survives the worst cases over a real socket.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from assay.ingest.normalize import normalize_traces
from assay.ingest.pricing import PriceTable
from assay.projects import create_api_key, create_project
from assay.projects.service import ProjectConfig
from assay.redaction import RedactionConfig, Redactor
from assay.server import create_app
from assay.settings import Settings
from assay.store import Store
from assay.store.models import Span
from assay.testing.otlp import IdFactory, export_trace_request, make_span, trace_with_children

from ._live import count_spans
from .conftest import StartServer

LIMIT = 256 * 1024
PROTOBUF = "application/x-protobuf"
PRICES = PriceTable()
VALID = export_trace_request(trace_with_children(3)).SerializeToString()
EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)
otlp_keys = st.sampled_from(
    ["resourceSpans", "scopeSpans", "spans", "traceId", "spanId", "name", "attributes", "resource"]
)
otlp_like_json = st.recursive(
    st.none() | st.integers() | st.text(max_size=40) | st.just("00" * 16),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(otlp_keys, inner, max_size=4),
    max_leaves=25,
)


class Ingest:
    """The in-process app on a SQLite store, with a key and a stored-span counter."""

    def __init__(self, client: TestClient, store: Store, key: str) -> None:
        self.client = client
        self.store = store
        self.headers = {"Authorization": f"Bearer {key}"}

    def post(self, body: bytes, content_type: str = PROTOBUF, **headers: str) -> Any:
        return self.client.post(
            "/v1/traces",
            content=body,
            headers={**self.headers, "Content-Type": content_type, **headers},
        )

    def stored(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Span)).scalar_one())

    def rejects(self, response: Any) -> None:
        """The response is a clear 4xx error and nothing was stored."""
        assert 400 <= response.status_code < 500, response.text
        if response.headers["content-type"].startswith(PROTOBUF):
            assert Status.FromString(response.content).message
        assert self.stored() == 0


@pytest.fixture
def ingest(sqlite_store: Store) -> Iterator[Ingest]:
    with sqlite_store.session() as session:
        project = create_project(session, "fuzz")
        key = create_api_key(session, project.id).secret
    app = create_app(Settings(max_body_bytes=LIMIT), sqlite_store)
    with TestClient(app) as client:
        yield Ingest(client, sqlite_store, key)
        assert client.get("/healthz").status_code == 200


def check(
    ingest: Ingest, strategy: st.SearchStrategy[bytes], send: Callable[[bytes], None]
) -> None:
    """Run ``send`` on every example of ``strategy``, then check the app still serves."""

    @EXAMPLES
    @given(strategy)
    def run(body: bytes) -> None:
        send(body)

    run()
    assert ingest.client.get("/healthz").status_code == 200


def test_random_bytes_as_protobuf(ingest: Ingest) -> None:
    def send(body: bytes) -> None:
        response = ingest.post(body)
        assert response.status_code < 500
        assert ingest.stored() == 0

    check(ingest, st.binary(max_size=2048), send)


def test_truncated_protobuf(ingest: Ingest) -> None:
    def send(cut: bytes) -> None:
        ingest.rejects(ingest.post(cut))

    check(ingest, st.integers(1, len(VALID) - 1).map(lambda n: VALID[:n]), send)


def test_flipped_bytes_never_5xx_and_errors_store_nothing(ingest: Ingest) -> None:
    def flip(data: tuple[int, int]) -> bytes:
        at, mask = data
        body = bytearray(VALID)
        body[at] ^= mask
        return bytes(body)

    def send(body: bytes) -> None:
        before = ingest.stored()
        response = ingest.post(body)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert ingest.stored() == before

    check(ingest, st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)).map(flip), send)


def test_random_json(ingest: Ingest) -> None:
    def send(body: bytes) -> None:
        response = ingest.post(body, "application/json")
        assert response.status_code < 500, response.text
        assert ingest.stored() == 0

    bodies = st.one_of(json_values, otlp_like_json).map(lambda v: json.dumps(v).encode())
    check(ingest, bodies | st.binary(max_size=256), send)


def test_wrong_content_types(ingest: Ingest) -> None:
    def send(content_type: bytes) -> None:
        ingest.rejects(ingest.post(VALID, content_type.decode()))

    types = st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
    ).filter(lambda t: t.split(";")[0].strip().lower() not in (PROTOBUF, "application/json"))
    check(ingest, types.map(str.encode), send)


def test_bad_gzip(ingest: Ingest) -> None:
    def send(body: bytes) -> None:
        ingest.rejects(ingest.post(body, **{"Content-Encoding": "gzip"}))

    truncated = st.integers(1, 30).map(lambda n: gzip.compress(VALID)[:n])
    check(ingest, st.binary(max_size=512) | truncated, send)


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, gzip", "identity;q=0", "x"])
def test_unsupported_content_encoding(ingest: Ingest, encoding: str) -> None:
    ingest.rejects(ingest.post(VALID, **{"Content-Encoding": encoding}))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb_over_the_limit_is_413(ingest: Ingest, encoding: str) -> None:
    zeros = bytes(64 * LIMIT)  # 16 MiB of zeros: ~16 KiB compressed
    bomb = gzip.compress(zeros) if encoding == "gzip" else zlib.compress(zeros)
    assert len(bomb) < LIMIT
    response = ingest.post(bomb, **{"Content-Encoding": encoding})
    assert response.status_code == 413
    ingest.rejects(response)


def test_body_over_the_limit_is_413(ingest: Ingest) -> None:
    response = ingest.post(os.urandom(LIMIT + 1))
    assert response.status_code == 413
    ingest.rejects(response)


@pytest.mark.parametrize("length", [str(10**15), str(LIMIT + 1)])
def test_huge_content_length_is_413(ingest: Ingest, length: str) -> None:
    response = ingest.post(VALID, **{"Content-Length": length})
    assert response.status_code == 413
    ingest.rejects(response)


# -- well-formed protobuf, hostile attribute values -------------------------------------

CONVENTION_KEYS = [
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.prompt",
    "gen_ai.prompt.0.role",
    "gen_ai.prompt.0.content",
    "gen_ai.completion.0.content",
    "llm.input_messages.0.message.role",
    "llm.input_messages.0.message.content",
    "llm.input_messages.x.message.content",
    "llm.input_messages.0.message.contents.0.message_content.text",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
    "input.value",
    "output.value",
    "openinference.span.kind",
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "llm.token_count.prompt",
    "llm.cost.total",
    "session.id",
    "user.id",
    "locale",
    "assay.slice.x",
]
MESSAGE_KEYS = ["role", "parts", "content", "type", "name", "arguments", "message", "tool_calls"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=30)
)
message_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(MESSAGE_KEYS), inner, max_size=4)
    ),
    max_leaves=15,
)
attribute_values = (
    scalars
    | st.lists(scalars, max_size=3)
    | message_json.map(json.dumps)
    | st.dictionaries(st.text(max_size=5), scalars, max_size=3)
)
content_events = st.tuples(
    st.sampled_from(
        ["gen_ai.user.message", "gen_ai.choice", "gen_ai.tool.message", "gen_ai.content.prompt"]
    ),
    st.dictionaries(
        st.sampled_from(["content", "role", "message", "gen_ai.prompt", "tool_calls", "id"]),
        attribute_values,
        max_size=3,
    ),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    attributes=st.dictionaries(st.sampled_from(CONVENTION_KEYS), attribute_values, max_size=8),
    events=st.lists(content_events, max_size=3),
)
def test_normalize_never_raises_on_attribute_values(
    attributes: dict[str, Any], events: list[tuple[str, dict[str, Any]]]
) -> None:
    request = export_trace_request([make_span("s", attributes=attributes, events=events)])
    config = ProjectConfig(1, frozenset({"locale"}), Redactor(RedactionConfig()))
    normalize_traces(request, config, PRICES)


@pytest.mark.parametrize(
    "attributes",
    [
        {"gen_ai.input.messages": json.dumps([{"role": "user", "parts": None}])},
        {"gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": 5}])},
        {"gen_ai.usage.input_tokens": float("inf")},
        {"gen_ai.usage.output_tokens": float("nan")},
        {"llm.token_count.prompt": "²"},
    ],
    ids=["parts-null", "parts-int", "tokens-inf", "tokens-nan", "tokens-superscript"],
)
def test_odd_attribute_values_are_not_a_server_error(
    ingest: Ingest, attributes: dict[str, Any]
) -> None:
    body = export_trace_request([make_span("s", attributes=attributes)]).SerializeToString()
    assert ingest.post(body).status_code < 500


def test_huge_token_counts_are_not_a_server_error(ingest: Ingest) -> None:
    ids = IdFactory("huge-tokens")
    root = make_span("root", ids=ids, attributes={"gen_ai.usage.input_tokens": 2**63 - 1})
    child = make_span(
        "child",
        ids=ids,
        trace_id=root.trace_id,
        parent_span_id=root.span_id,
        attributes={"gen_ai.usage.input_tokens": 2**63 - 1},
    )
    assert ingest.post(export_trace_request([root, child]).SerializeToString()).status_code < 500


def test_unknown_key_is_401_and_stores_nothing(ingest: Ingest) -> None:
    response = ingest.client.post(
        "/v1/traces",
        content=VALID,
        headers={"Content-Type": PROTOBUF, "Authorization": "Bearer ak_nope"},
    )
    ingest.rejects(response)
    assert response.status_code == 401


# -- the real server over a real socket ------------------------------------------------


def raw_http(port: int, request: bytes, *, read: bool = True) -> bytes:
    """Send bytes on a fresh connection; the first chunk of the answer (b"" if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        if not read:
            return b""
        try:
            return sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            return b""


@pytest.mark.slow
def test_real_server_survives_the_worst_cases(sqlite_url: str, start_server: StartServer) -> None:
    server = start_server(sqlite_url, max_body_bytes=LIMIT)
    auth = f"Authorization: Bearer {server.api_key}\r\n".encode()
    head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n" + auth

    bomb = gzip.compress(bytes(256 * 1024 * 1024))  # 256 MiB of zeros, ~250 KiB
    assert len(bomb) <= LIMIT
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        headers = {"Authorization": f"Bearer {server.api_key}", "Content-Type": PROTOBUF}
        assert (
            client.post(
                "/v1/traces", content=bomb, headers={**headers, "Content-Encoding": "gzip"}
            ).status_code
            == 413
        )

        def endless() -> Iterator[bytes]:
            chunk = os.urandom(64 * 1024)
            for _ in range(64):  # 4 MiB, chunked, no Content-Length
                yield chunk

        assert client.post("/v1/traces", content=endless(), headers=headers).status_code == 413
        assert (
            client.post("/v1/traces", content=os.urandom(LIMIT), headers=headers).status_code == 400
        )
        assert client.post("/v1/traces", content=VALID[:-3], headers=headers).status_code == 400

    # A Content-Length far beyond the body, then the client goes away.
    answer = raw_http(
        server.port,
        head + b"Content-Type: application/x-protobuf\r\n"
        b"Content-Length: 1000000000000000\r\n\r\n" + VALID,
    )
    assert answer.startswith(b"HTTP/1.1 413")
    raw_http(
        server.port,
        head + b"Content-Type: application/x-protobuf\r\n"
        b"Content-Length: 100000\r\n\r\n" + VALID[:100],
        read=False,
    )
    # Not HTTP at all, and a negative length.
    raw_http(server.port, os.urandom(2048))
    answer = raw_http(server.port, head + b"Content-Length: -1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 4")

    assert server.alive()
    assert count_spans(sqlite_url) == 0
