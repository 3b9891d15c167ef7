"""OTLP bodies: gzip and size limits, protobuf and OTLP/JSON (hex ids), AnyValue decoding."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from assay.errors import InvalidInput, PayloadTooLarge
from assay.ingest.attributes import any_value, to_dict
from assay.ingest.otlp import (
    decode_logs,
    decode_traces,
    decompress,
    encode_response,
    media_type,
)
from assay.projects import create_api_key, create_project
from assay.server import create_app
from assay.settings import Settings
from assay.store import Store
from assay.testing.otlp import (
    IdFactory,
    export_logs_request,
    export_trace_request,
    genai_chat_log_records,
    genai_llm_span,
    make_span,
    to_otlp_json,
    trace_with_children,
)
from assay.testing.otlp import (
    any_value as make_any_value,
)

REQUEST = export_trace_request(trace_with_children(2, ids=IdFactory("otlp")))
BODY = REQUEST.SerializeToString()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/x-protobuf", "application/x-protobuf"),
        ("Application/JSON; charset=utf-8", "application/json"),
        ("  application/json ;foo=bar", "application/json"),
        (None, ""),
        ("", ""),
    ],
)
def test_media_type(header: str | None, expected: str) -> None:
    assert media_type(header) == expected


# -- decompress -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", [None, "", "identity", " Identity "])
def test_identity_passes_through(encoding: str | None) -> None:
    assert decompress(BODY, encoding, len(BODY)) == BODY


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("GZIP", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
    ],
)
def test_gzip_and_deflate_round_trip(encoding: str, compress: Callable[[bytes], bytes]) -> None:
    assert decompress(compress(BODY), encoding, len(BODY)) == BODY


def test_decompressed_size_is_what_the_limit_checks() -> None:
    packed = gzip.compress(BODY)
    assert decompress(packed, "gzip", len(BODY)) == BODY
    with pytest.raises(PayloadTooLarge, match="decompressed body exceeds the limit"):
        decompress(packed, "gzip", len(BODY) - 1)


def test_identity_body_over_the_limit() -> None:
    with pytest.raises(PayloadTooLarge, match=f"limit of {len(BODY) - 1} bytes"):
        decompress(BODY, None, len(BODY) - 1)


def test_gzip_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(bytes(64 * 1024 * 1024))  # 64 MiB of zeros in ~64 KiB
    with pytest.raises(PayloadTooLarge):
        decompress(bomb, "gzip", 1024 * 1024)


def test_truncated_gzip_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="truncated gzip"):
        decompress(gzip.compress(BODY)[:-20], "gzip", 10 * len(BODY))


def test_concatenated_gzip_members_are_all_inflated() -> None:
    half = len(BODY) // 2
    body = gzip.compress(BODY[:half]) + gzip.compress(BODY[half:])
    assert decompress(body, "gzip", 10 * len(BODY)) == BODY


def test_garbage_after_the_gzip_stream_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="not valid gzip"):
        decompress(gzip.compress(BODY) + b"trailing junk", "gzip", 10 * len(BODY))


def test_inflating_reports_its_growth_and_can_be_stopped() -> None:
    sizes: list[int] = []
    decompress(gzip.compress(bytes(3 * 1024 * 1024)), "gzip", 8 * 1024 * 1024, sizes.append)
    assert sizes == sorted(sizes)
    assert sizes[-1] == 3 * 1024 * 1024
    assert len(sizes) >= 3  # in steps, so admission can refuse before the end

    def refuse(size: int) -> None:
        raise RuntimeError(f"no room for {size}")

    with pytest.raises(RuntimeError, match="no room"):
        decompress(gzip.compress(bytes(3 * 1024 * 1024)), "gzip", 8 * 1024 * 1024, refuse)


def test_corrupt_gzip_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="not valid gzip"):
        decompress(b"\x1f\x8b\x08\x00garbage-garbage-garbage", "gzip", 10_000)


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_unknown_encoding_is_invalid(encoding: str) -> None:
    with pytest.raises(InvalidInput, match="not supported; use gzip or none"):
        decompress(BODY, encoding, 10 * len(BODY))


# -- decode -----------------------------------------------------------------------------


def test_protobuf_decodes() -> None:
    assert decode_traces(BODY, "application/x-protobuf") == REQUEST


def test_bad_protobuf_names_the_message() -> None:
    with pytest.raises(InvalidInput, match="not a valid protobuf ExportTraceServiceRequest"):
        decode_traces(BODY[:-5], "application/x-protobuf")


def test_otlp_json_with_hex_ids_decodes_to_the_same_request() -> None:
    body = json.dumps(to_otlp_json(REQUEST)).encode()
    decoded = decode_traces(body, "application/json")
    assert decoded == REQUEST
    span = decoded.resource_spans[0].scope_spans[0].spans[1]
    assert span.trace_id == REQUEST.resource_spans[0].scope_spans[0].spans[1].trace_id
    assert (len(span.trace_id), len(span.span_id), len(span.parent_span_id)) == (16, 8, 8)


def test_otlp_json_accepts_snake_case_and_ignores_unknown_fields() -> None:
    body = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": "0af7651916cd43dd8448eb211c80319c",
                                "span_id": "b7ad6b7169203331",
                                "name": "x",
                                "start_time_unix_nano": "1700000000000000000",
                                "futureField": {"a": 1},
                            }
                        ]
                    }
                ]
            }
        ]
    }
    span = decode_traces(json.dumps(body).encode(), "application/json").resource_spans[0]
    decoded = span.scope_spans[0].spans[0]
    assert decoded.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"
    assert decoded.span_id.hex() == "b7ad6b7169203331"
    assert decoded.start_time_unix_nano == 1_700_000_000_000_000_000


def test_otlp_json_bad_hex_id_names_the_field() -> None:
    data = to_otlp_json(REQUEST)
    data["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["spanId"] = "not-hex!"
    with pytest.raises(InvalidInput) as caught:
        decode_traces(json.dumps(data).encode(), "application/json")
    assert "$.resourceSpans[0].scopeSpans[0].spans[1].spanId" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b'{"resourceSpans": 5}', "not a valid OTLP/JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": {"a": 1}}]}]}]}', "OTLP/JSON"),
    ],
)
def test_bad_json_is_invalid(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        decode_traces(body, "application/json")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/grpc", "multipart/x"])
def test_unsupported_content_type_names_both_encodings(content_type: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_traces(BODY, content_type)
    assert "application/x-protobuf" in str(caught.value)
    assert "application/json" in str(caught.value)


def test_logs_decode_in_both_encodings() -> None:
    logs = export_logs_request(genai_chat_log_records(trace_id="ab" * 16, span_id="cd" * 8))
    assert decode_logs(logs.SerializeToString(), "application/x-protobuf") == logs
    as_json = json.dumps(to_otlp_json(logs)).encode()
    assert decode_logs(as_json, "application/json") == logs


def test_response_is_encoded_like_the_request() -> None:
    response = ExportTraceServiceResponse()
    response.partial_success.rejected_spans = 2
    body, media = encode_response(response, "application/json; charset=utf-8")
    assert media == "application/json"
    assert json.loads(body) == {"partialSuccess": {"rejectedSpans": "2"}}
    body, media = encode_response(response, "application/x-protobuf")
    assert media == "application/x-protobuf"
    assert ExportTraceServiceResponse.FromString(body) == response


# -- AnyValue -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["text", "", 42, -(2**63), 2.5, True, False, [1, "a", [2.0]], {"k": {"n": [True]}}, None],
)
def test_any_value_round_trips_json_values(value: object) -> None:
    assert any_value(make_any_value(value)) == value


def test_bytes_become_base64() -> None:
    assert any_value(AnyValue(bytes_value=b"\x00\xff")) == base64.b64encode(b"\x00\xff").decode()


def test_to_dict_later_keys_win() -> None:
    kvs = [
        KeyValue(key="a", value=AnyValue(string_value="first")),
        KeyValue(key="b", value=AnyValue(int_value=1)),
        KeyValue(key="a", value=AnyValue(string_value="second")),
    ]
    assert to_dict(kvs) == {"a": "second", "b": 1}


# -- through the receiver: partial success ------------------------------------------------


@pytest.fixture
def client_and_key(sqlite_store: Store) -> Iterator[tuple[TestClient, str]]:
    with sqlite_store.session() as session:
        project = create_project(session, "otlp")
        key = create_api_key(session, project.id).secret
    with TestClient(create_app(Settings(), sqlite_store)) as client:
        yield client, key


def _partly_malformed() -> ExportTraceServiceRequest:
    good = genai_llm_span(ids=IdFactory("partial"))
    short_id = make_span("short", trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    short_id.span_id = b"\x02" * 4
    zero_trace = make_span("zero", trace_id=b"\x00" * 16, span_id=b"\x03" * 8)
    no_ids = Span(name="no ids")
    return export_trace_request([good, short_id, zero_trace, no_ids])


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_malformed_ids_are_partial_success(
    client_and_key: tuple[TestClient, str], encoding: str
) -> None:
    client, key = client_and_key
    request = _partly_malformed()
    if encoding == "json":
        data = to_otlp_json(request)
        # OTLP/JSON carries ids as hex; a short id is just a short hex string.
        body, content_type = json.dumps(data).encode(), "application/json"
    else:
        body, content_type = request.SerializeToString(), "application/x-protobuf"
    response = client.post(
        "/v1/traces",
        content=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200
    if encoding == "json":
        partial = response.json()["partialSuccess"]
        assert partial["rejectedSpans"] == "3"
        message = partial["errorMessage"]
    else:
        parsed = ExportTraceServiceResponse.FromString(response.content)
        assert parsed.partial_success.rejected_spans == 3
        message = parsed.partial_success.error_message
    for part in ("'short'", "'zero'", "'no ids'", "trace_id must be 16 bytes"):
        assert part in message
