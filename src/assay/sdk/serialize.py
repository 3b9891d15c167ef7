"""Turn arbitrary Python values into span attribute values.

OpenTelemetry attributes hold only strings, booleans, numbers and homogeneous lists
of those. Inputs and outputs of traced calls are anything at all, so they are
written as JSON text (or as the plain string when the value already is one) and
cut at a size limit so one huge prompt cannot blow up an export batch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any, NamedTuple

from opentelemetry.util.types import AttributeValue

# ~100k characters is roughly a 25k-token English prompt: enough to keep a long RAG
# context whole so it can later be replayed as an eval case, while a runaway value
# (a base64 image, a whole file) is cut instead of filling an export batch.
DEFAULT_MAX_VALUE_CHARS = 100_000

TEXT_MIME = "text/plain"
JSON_MIME = "application/json"


class SerializedValue(NamedTuple):
    """A value rendered for a span attribute.

    Attributes:
        text: The attribute text, possibly cut to the size limit.
        mime_type: ``text/plain`` for strings and cut JSON, ``application/json``
            for complete JSON.
        truncated: Whether ``text`` was cut.
    """

    text: str
    mime_type: str
    truncated: bool


def _json_default(value: Any) -> Any:
    """Map a value ``json`` cannot encode to one it can (``json.dumps`` ``default``)."""
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):  # pydantic v2 models, and the openai client's responses
        return model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID | PurePath):
        return str(value)
    return repr(value)


def to_json(value: Any) -> str:
    """Render any value as JSON text, falling back to ``repr`` where JSON cannot.

    Args:
        value: Anything.

    Returns:
        Compact JSON (non-ASCII kept as is); the JSON string of ``repr(value)`` if
        the value is circular or has keys JSON cannot hold.
    """
    try:
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(repr(value), ensure_ascii=False)


def truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut ``text`` to ``max_chars`` characters plus a marker saying how much went.

    Args:
        text: The text to cut.
        max_chars: Most characters kept from ``text``.

    Returns:
        The (possibly cut) text and whether it was cut.
    """
    if len(text) <= max_chars:
        return text, False
    dropped = len(text) - max_chars
    return f"{text[:max_chars]}… [truncated {dropped} chars]", True


def serialize_value(value: Any, max_chars: int) -> SerializedValue:
    """Render a traced input or output as attribute text.

    Strings are kept verbatim (``text/plain``); everything else becomes JSON.

    Args:
        value: The value to record.
        max_chars: Size limit in characters.

    Returns:
        The rendered text, its MIME type and whether it was cut.
    """
    if isinstance(value, str):
        text, cut = truncate(value, max_chars)
        return SerializedValue(text, TEXT_MIME, cut)
    text, cut = truncate(to_json(value), max_chars)
    # Cut JSON no longer parses, so it is not announced as JSON.
    return SerializedValue(text, TEXT_MIME if cut else JSON_MIME, cut)


_PRIMITIVES = (str, bool, int, float)


def to_attribute(value: Any, max_chars: int) -> AttributeValue | None:
    """Coerce a value into something OpenTelemetry accepts as an attribute.

    Args:
        value: Anything.
        max_chars: Size limit for strings and JSON renderings.

    Returns:
        Primitives unchanged (strings cut to size), lists of one primitive type as a
        list, ``None`` for ``None`` (the caller skips it), anything else as JSON text.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return truncate(value, max_chars)[0]
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = list(value)
        for kind in _PRIMITIVES:
            # bool is an int subclass; compare exact types so [1, True] stays mixed.
            if items and all(type(item) is kind for item in items):
                return items
    return truncate(to_json(value), max_chars)[0]
