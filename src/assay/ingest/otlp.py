"""Reading OTLP/HTTP request bodies: gzip, size limits, protobuf and JSON encodings."""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from assay.errors import InvalidInput, PayloadTooLarge

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
M = TypeVar("M", bound=Message)

# OTLP/JSON encodes these bytes fields as hex, unlike protobuf's JSON mapping (base64).
_HEX_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id"})


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower-cased, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


# Inflate in steps of this size, so the caller can account for memory as it grows
# (a gzip bomb is refused at the limit, not after it has been inflated).
INFLATE_STEP = 1 << 20


def decompress(
    body: bytes,
    content_encoding: str | None,
    max_bytes: int,
    on_grow: Callable[[int], None] | None = None,
) -> bytes:
    """Undo ``Content-Encoding: gzip`` (or deflate), refusing output over ``max_bytes``.

    Concatenated gzip members (which ``gzip`` writes for appended files) are all
    inflated; anything else after the stream is an error.

    Args:
        body: The request body as received.
        content_encoding: The Content-Encoding header.
        max_bytes: The most output allowed.
        on_grow: Called with the output size so far each time it grows, before the
            next step; it may raise (e.g. :class:`~assay.errors.Overloaded`) to stop.

    Raises:
        PayloadTooLarge: the (decompressed) body is over the limit.
        InvalidInput: the encoding is unknown or the compressed data is corrupt.
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"body exceeds the limit of {max_bytes} bytes")
        return body
    if encoding not in ("gzip", "deflate", "x-gzip"):
        raise InvalidInput(
            f"Content-Encoding {content_encoding!r} is not supported; use gzip or none"
        )
    out = bytearray()
    data = body
    try:
        while True:
            # wbits=47 auto-detects zlib or gzip headers.
            inflater = zlib.decompressobj(47)
            while not inflater.eof:
                chunk = inflater.decompress(data, INFLATE_STEP)
                data = inflater.unconsumed_tail
                if not chunk and not data:
                    raise InvalidInput(f"body is truncated {encoding} data")
                out += chunk
                if len(out) > max_bytes:
                    raise PayloadTooLarge(
                        f"decompressed body exceeds the limit of {max_bytes} bytes"
                    )
                if on_grow is not None:
                    on_grow(len(out))
            data = inflater.unused_data
            if not data:
                return bytes(out)
    except zlib.error as exc:
        raise InvalidInput(f"body is not valid {encoding} data: {exc}") from exc


def _hex_ids_to_base64(node: Any, path: str) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _HEX_ID_FIELDS and isinstance(value, str):
                try:
                    out[key] = base64.b64encode(bytes.fromhex(value)).decode() if value else ""
                except ValueError as exc:
                    raise InvalidInput(f"{path}.{key}: {value!r} is not a hex-encoded id") from exc
            else:
                out[key] = _hex_ids_to_base64(value, f"{path}.{key}")
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(v, f"{path}[{i}]") for i, v in enumerate(node)]
    return node


def _decode(body: bytes, content_type: str | None, message: type[M]) -> M:
    kind = media_type(content_type)
    if kind == PROTOBUF:
        try:
            parsed_pb: M = message.FromString(body)
            return parsed_pb
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise InvalidInput(f"body is not a valid protobuf {message.__name__}: {exc}") from exc
    if kind == JSON:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidInput(f"body must be a JSON object ({message.__name__})")
        parsed: M = message()
        try:
            json_format.ParseDict(_hex_ids_to_base64(data, "$"), parsed, ignore_unknown_fields=True)
        except (json_format.ParseError, binascii.Error, ValueError, TypeError) as exc:
            raise InvalidInput(f"body is not a valid OTLP/JSON {message.__name__}: {exc}") from exc
        return parsed
    raise InvalidInput(
        f"Content-Type {content_type or '(none)'!r} is not supported; send {PROTOBUF} or {JSON}"
    )


def decode_traces(body: bytes, content_type: str | None) -> ExportTraceServiceRequest:
    """Parse an OTLP trace export request (protobuf or JSON)."""
    return _decode(body, content_type, ExportTraceServiceRequest)


def decode_logs(body: bytes, content_type: str | None) -> ExportLogsServiceRequest:
    """Parse an OTLP logs export request (protobuf or JSON)."""
    return _decode(body, content_type, ExportLogsServiceRequest)


def encode_response(message: Message, content_type: str | None) -> tuple[bytes, str]:
    """Serialise a response message in the encoding the request used."""
    if media_type(content_type) == JSON:
        return (
            orjson.dumps(json_format.MessageToDict(message, preserving_proto_field_name=False)),
            JSON,
        )
    return message.SerializeToString(), PROTOBUF
