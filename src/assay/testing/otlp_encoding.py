"""The OTLP building blocks: deterministic ids, ``AnyValue``/``KeyValue`` encoding,
resources, and the OTLP/JSON encoding of any OTLP protobuf message."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

DEFAULT_SERVICE_NAME = "assay-test-app"
SCOPE_NAME = "assay.testing"
_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})


class IdFactory:
    """Deterministic trace and span ids: SHA-256 of the seed and a counter.

    Args:
        seed: Any int or string; equal seeds give equal id sequences.
    """

    def __init__(self, seed: int | str = 0) -> None:
        self._seed = str(seed)
        self._counter = 0
        self._lock = threading.Lock()

    def _next(self, kind: str, size: int) -> bytes:
        with self._lock:
            self._counter += 1
            counter = self._counter
        return hashlib.sha256(f"{self._seed}:{kind}:{counter}".encode()).digest()[:size]

    def trace_id(self) -> bytes:
        """A new 16-byte trace id."""
        return self._next("trace", 16)

    def span_id(self) -> bytes:
        """A new 8-byte span id."""
        return self._next("span", 8)


DEFAULT_IDS = IdFactory("assay.testing")


def hex_id(raw: bytes) -> str:
    """An id as lowercase hex, the form OTLP/JSON and the assay API use."""
    return raw.hex()


def id_bytes(value: bytes | str | None, size: int, make: Callable[[], bytes]) -> bytes:
    """An id given as bytes or hex (or a new one from ``make``), length-checked.

    Raises:
        ValueError: The id is not ``size`` bytes long.
    """
    raw = make() if value is None else bytes.fromhex(value) if isinstance(value, str) else value
    if len(raw) != size:
        raise ValueError(f"id must be {size} bytes ({size * 2} hex digits); got {len(raw)} bytes")
    return raw


def any_value(value: Any) -> AnyValue:
    """A Python value as an OTLP ``AnyValue``.

    ``None`` is the empty value; ``bool``, ``int``, ``float``, ``str`` and ``bytes``
    map to their fields; sequences to ``array_value``; mappings to ``kvlist_value``;
    anything else to its ``str``.
    """
    if value is None:
        return AnyValue()
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes | bytearray):
        return AnyValue(bytes_value=bytes(value))
    if isinstance(value, Mapping):
        return AnyValue(kvlist_value=KeyValueList(values=key_values(value)))
    if isinstance(value, Sequence):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    return AnyValue(string_value=str(value))


def key_values(attributes: Mapping[str, Any] | None) -> list[KeyValue]:
    """Attributes as OTLP ``KeyValue`` messages, in the mapping's order."""
    return [KeyValue(key=k, value=any_value(v)) for k, v in (attributes or {}).items()]


def make_resource(
    service_name: str = DEFAULT_SERVICE_NAME,
    release: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Resource:
    """A resource with ``service.name``, ``assay.release`` (if given) and extras."""
    merged: dict[str, Any] = {"service.name": service_name}
    if release is not None:
        merged["assay.release"] = release
    merged.update(attributes or {})
    return Resource(attributes=key_values(merged))


def _hex_ids(node: Any) -> Any:
    """Rewrite base64 ``traceId``/``spanId``/``parentSpanId`` values as hex, recursively."""
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex()
            if key in _ID_FIELDS and isinstance(value, str)
            else _hex_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def to_otlp_json(message: Message) -> dict[str, Any]:
    """A protobuf OTLP message in the OTLP/JSON encoding.

    As the OTLP spec requires (and unlike protobuf's generic JSON mapping): trace
    and span ids are hex strings, enums are integers. Keys are lowerCamelCase and
    64-bit integers are strings, as in protobuf's JSON mapping.

    Args:
        message: E.g. an ``ExportTraceServiceRequest`` or ``ExportLogsServiceRequest``.

    Returns:
        A dict ready for ``json.dumps`` and ``POST`` with ``application/json``.
    """
    raw = MessageToDict(message, use_integers_for_enums=True)
    result: dict[str, Any] = _hex_ids(raw)
    return result
