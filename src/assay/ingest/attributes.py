"""OTLP ``AnyValue`` and ``KeyValue`` lists to plain Python values."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any


def any_value(value: Any) -> Any:
    """Convert an OTLP ``AnyValue`` message to str, int, float, bool, list, dict or None."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def to_dict(key_values: Iterable[Any]) -> dict[str, Any]:
    """Convert a repeated ``KeyValue`` field to a dict (later keys win, as in the SDK)."""
    out: dict[str, Any] = {}
    for kv in key_values:
        v = kv.value
        # Most attributes are non-empty strings: reading the field (empty when
        # another one is set) skips the WhichOneof call, ~35% of this loop.
        text = v.string_value
        out[kv.key] = text if text else any_value(v)
    return out
