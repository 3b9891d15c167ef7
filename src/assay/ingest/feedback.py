"""Feedback values as stored, and feedback sent as OpenTelemetry span events.

The rules for a feedback value (a boolean, a finite number or text, with length
limits) are shared by every way feedback arrives: the REST API and the CLI
(:mod:`assay.traces.feedback`) and span events read at ingest.

An app that already traces can attach feedback to the span it is about, with no
second request: an event named ``assay.feedback`` whose attributes are
``assay.feedback.name``, ``assay.feedback.value`` and optionally
``assay.feedback.comment`` and ``assay.feedback.source`` (``otel`` by default).
The SDK's :func:`assay.sdk.feedback_event` writes one.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from assay.errors import InvalidInput
from assay.redaction import Redactor

FEEDBACK_EVENT = "assay.feedback"
NAME_KEY = "assay.feedback.name"
VALUE_KEY = "assay.feedback.value"
COMMENT_KEY = "assay.feedback.comment"
SOURCE_KEY = "assay.feedback.source"
EVENT_SOURCE = "otel"

MAX_NAME = 100
MAX_SOURCE = 20
RESERVED_SOURCES = frozenset({"implicit"})
"""Sources only assay writes: ``implicit`` marks the signals the worker derives from
sessions, which routing reads as ``signal.<name>`` and never as an explicit reason
to route again."""
# A correction is an answer, not a document; the cap keeps one request from storing
# megabytes in a row that lists load whole.
MAX_TEXT = 100_000


def check_text(value: Any, field: str, limit: int, *, required: bool) -> None:
    """Check an optional or required text field.

    Raises:
        InvalidInput: Missing when required, not text, empty when required, or
            longer than ``limit``; the message names ``field``.
    """
    if value is None:
        if required:
            raise InvalidInput(f"{field}: required")
        return
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: must be text; got {type(value).__name__}")
    if required and not value.strip():
        raise InvalidInput(f"{field}: must not be empty")
    if len(value) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters; got {len(value)}")


def check_source(value: Any, field: str) -> None:
    """Check a feedback source: 1-20 characters, not one assay reserves.

    Raises:
        InvalidInput: Missing, empty, too long, or reserved (the message names ``field``).
    """
    check_text(value, field, MAX_SOURCE, required=True)
    if value.strip().lower() in RESERVED_SOURCES:
        raise InvalidInput(
            f"{field}: {value!r} is reserved for the signals assay derives itself; "
            "use another source (api, web, app, ...)"
        )


def split_value(value: Any) -> tuple[float | None, str | None]:
    """The stored ``(value_num, value_text)`` of a feedback value.

    Booleans are kept as both (1/0 and ``true``/``false``): averages and thresholds
    read the number, displays the text.

    Raises:
        InvalidInput: Not a boolean, a finite number or text of at most
            :data:`MAX_TEXT` characters.
    """
    if isinstance(value, bool):
        return (1.0 if value else 0.0), ("true" if value else "false")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            raise InvalidInput(f"value: {value} is too large") from None
        if not math.isfinite(number):
            raise InvalidInput(f"value: must be a finite number; got {value!r}")
        return number, None
    if isinstance(value, str):
        check_text(value, "value", MAX_TEXT, required=False)
        return None, value
    raise InvalidInput(f"value: must be true/false, a number or text; got {type(value).__name__}")


def feedback_from_event(attributes: dict[str, Any], time_ns: int) -> dict[str, Any]:
    """The feedback columns an ``assay.feedback`` span event carries.

    Args:
        attributes: The event's attributes.
        time_ns: The event's time (0: now).

    Returns:
        ``name``, ``value_num``, ``value_text``, ``comment``, ``source`` and
        ``created_at``; the caller adds the project, trace and span.

    Raises:
        InvalidInput: A missing or malformed attribute, named in the message.
    """
    name = attributes.get(NAME_KEY)
    check_text(name, NAME_KEY, MAX_NAME, required=True)
    if VALUE_KEY not in attributes:
        raise InvalidInput(f"{VALUE_KEY}: required")
    try:
        value_num, value_text = split_value(attributes[VALUE_KEY])
    except InvalidInput as exc:
        raise InvalidInput(f"{VALUE_KEY}: {str(exc).removeprefix('value: ')}") from None
    comment = attributes.get(COMMENT_KEY)
    check_text(comment, COMMENT_KEY, MAX_TEXT, required=False)
    source = attributes.get(SOURCE_KEY, EVENT_SOURCE)
    check_source(source, SOURCE_KEY)
    at = datetime.fromtimestamp(time_ns / 1e9, UTC) if time_ns else datetime.now(UTC)
    return {
        "name": name,
        "value_num": value_num,
        "value_text": value_text,
        "comment": comment,
        "source": source,
        "created_at": at,
    }


def redact_feedback(
    value_num: float | None, value_text: str | None, comment: str | None, redactor: Redactor
) -> tuple[str | None, str | None]:
    """A feedback's text value and comment with the project's redaction applied.

    A text value (a label, a corrected answer) and a comment are the end user's words;
    a number's text form (``true``) is left as it is. Every way feedback arrives goes
    through here, so a comment is redacted alike whether it came as a span event or
    through the API.
    """
    if not redactor.active:
        return value_text, comment
    if value_text is not None and value_num is None:
        value_text = redactor.text(value_text)
    if comment:
        comment = redactor.text(comment)
    return value_text, comment
