"""Nanosecond timestamps and their ISO 8601 forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from assay.errors import InvalidInput
from assay.traces.times import as_utc, datetime_to_ns, ns_to_iso, parse_timestamp

NS = 1_763_600_000_123_456_789


def test_iso_truncates_to_microseconds() -> None:
    assert ns_to_iso(NS) == "2025-11-20T00:53:20.123456Z"
    assert ns_to_iso(0) == "1970-01-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1763600000123456789", NS),
        ("2025-11-20T00:53:20.123456Z", NS - 789),
        ("2025-11-20T01:53:20.123456+01:00", NS - 789),
        ("2025-11-20T00:53:20.123456", NS - 789),
        ("2025-11-20", 1_763_596_800_000_000_000),
    ],
)
def test_parse_timestamp(text: str, expected: int) -> None:
    assert parse_timestamp(text, field="start_from") == expected


@pytest.mark.parametrize("text", ["", "yesterday", "-5", "2025-13-01", "1.5"])
def test_parse_timestamp_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^start_to: expected nanoseconds"):
        parse_timestamp(text, field="start_to")


def test_datetime_to_ns_and_as_utc() -> None:
    naive = datetime(2025, 11, 20, 0, 53, 20)
    aware = naive.replace(tzinfo=UTC)
    assert datetime_to_ns(naive) == datetime_to_ns(aware) == 1_763_600_000_000_000_000
    assert as_utc(naive) == aware
    plus_two = timezone(timedelta(hours=2))
    assert as_utc(aware.astimezone(plus_two)).tzinfo is UTC
