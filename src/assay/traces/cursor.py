"""Opaque page cursors for keyset pagination.

A cursor is the sort key of the last item of a page, tagged with what it pages
through, as urlsafe base64 of JSON. Keyset pages never skip or repeat an item when
newer items arrive between requests, and cost the same at any depth (an OFFSET
would rescan every earlier page).
"""

from __future__ import annotations

import base64
import binascii

import orjson

from assay.errors import InvalidInput


def encode_cursor(kind: str, *key: int) -> str:
    """A cursor for the page after the item whose sort key is ``key``.

    Args:
        kind: What is paged (``traces``, ``feedback``); a cursor of one kind is
            refused by the other.
        *key: The sort key of the last item on the page.
    """
    raw = orjson.dumps([kind, *key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, size: int) -> list[int]:
    """The sort key in a cursor made by :func:`encode_cursor`.

    Args:
        cursor: The cursor text as a client sent it back.
        kind: The kind expected.
        size: How many integers the key has.

    Raises:
        InvalidInput: The cursor was not made by :func:`encode_cursor` for ``kind``.
    """
    problem = InvalidInput("cursor: malformed; pass the next_cursor of a previous page unchanged")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeEncodeError, ValueError, orjson.JSONDecodeError):
        raise problem from None
    if (
        not isinstance(data, list)
        or len(data) != size + 1
        or data[0] != kind
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in data[1:])
    ):
        raise problem
    return [int(v) for v in data[1:]]
