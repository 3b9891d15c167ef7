"""Trace times: integer nanoseconds since the epoch in the store, ISO 8601 for people.

The store keeps OTLP's nanoseconds; :class:`datetime` holds microseconds, so the
conversions below truncate to the microsecond for display and read either form back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assay.errors import InvalidInput

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_US = 1_000


def ns_to_datetime(ns: int) -> datetime:
    """A timestamp in nanoseconds as a timezone-aware UTC datetime (to the microsecond)."""
    return EPOCH + timedelta(microseconds=ns // _NS_PER_US)


def ns_to_iso(ns: int) -> str:
    """A timestamp in nanoseconds as ISO 8601 UTC text, e.g. ``2026-11-20T09:30:00.123456Z``."""
    return ns_to_datetime(ns).isoformat(timespec="microseconds").replace("+00:00", "Z")


def datetime_to_ns(value: datetime) -> int:
    """A datetime as nanoseconds since the epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // timedelta(microseconds=1) * _NS_PER_US


def parse_timestamp(text: str, *, field: str) -> int:
    """Read a time bound given as nanoseconds since the epoch or as ISO 8601.

    Args:
        text: ``1763631000000000000``, ``2026-11-20T09:30:00Z``, ``2026-11-20`` ...
            An ISO datetime without an offset is UTC.
        field: The parameter's name, for the error message.

    Returns:
        Nanoseconds since the epoch.

    Raises:
        InvalidInput: ``text`` is neither form.
    """
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    try:
        return datetime_to_ns(datetime.fromisoformat(raw))
    except ValueError:
        raise InvalidInput(
            f"{field}: expected nanoseconds since the epoch or an ISO 8601 datetime "
            f"(2026-11-20T09:30:00Z); got {text!r}"
        ) from None


def as_utc(value: datetime) -> datetime:
    """A stored datetime as timezone-aware UTC (SQLite hands back naive ones)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
