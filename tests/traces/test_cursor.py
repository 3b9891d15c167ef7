"""Opaque keyset cursors."""

from __future__ import annotations

import base64

import pytest

from assay.errors import InvalidInput
from assay.traces.cursor import decode_cursor, encode_cursor


def test_round_trip_is_urlsafe() -> None:
    cursor = encode_cursor("traces", 1_763_600_000_123_456_789, 42)
    assert cursor.replace("-", "").replace("_", "").isalnum()
    assert decode_cursor(cursor, "traces", 2) == [1_763_600_000_123_456_789, 42]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        "é",
        base64.urlsafe_b64encode(b"{}").decode(),
        base64.urlsafe_b64encode(b'["traces", 1, "2"]').decode(),
        base64.urlsafe_b64encode(b'["traces", 1, true]').decode(),
        encode_cursor("traces", 1),
        encode_cursor("feedback", 1, 2),
    ],
)
def test_malformed(cursor: str) -> None:
    with pytest.raises(InvalidInput, match=r"^cursor: malformed"):
        decode_cursor(cursor, "traces", 2)
