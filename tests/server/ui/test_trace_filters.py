"""The trace list's filter form."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from assay.errors import InvalidInput
from assay.server.ui.trace_filters import DEFAULT_LIMIT, MAX_LIMIT, FilterForm, parse_slices
from assay.traces.views import TraceFilter

NOW = 1_800_000_000 * 10**9


def form(query: str) -> FilterForm:
    return FilterForm.from_query(QueryParams(query))


def test_empty_form_filters_nothing() -> None:
    empty = form("")
    assert not empty.active
    assert empty.to_filter(NOW) == TraceFilter()
    assert empty.query() == ""


def test_fields_become_a_trace_filter() -> None:
    f = form(
        "range=1h&release=v2&model=gpt-4o&status=error&kind=tool"
        "&slice=locale%3Dfr&slice=tier%3Dpro,%20channel%3Dweb&q=refund&feedback=with"
    )
    assert f.active
    assert f.to_filter(NOW) == TraceFilter(
        start_from_ns=NOW - 3600 * 10**9,
        release="v2",
        model="gpt-4o",
        status="error",
        kind="tool",
        slices=(("locale", "fr"), ("tier", "pro"), ("channel", "web")),
        q="refund",
        has_feedback=True,
    )


def test_explicit_times_win_over_the_preset() -> None:
    f = form("range=1h&start=2026-11-20T09:30&end=2026-11-20T10:00:00Z")
    got = f.to_filter(NOW)
    assert got.start_from_ns == 1_795_167_000 * 10**9
    assert got.start_to_ns == 1_795_168_800 * 10**9


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("range=2y", "range"),
        ("status=broken", "status"),
        ("feedback=maybe", "feedback"),
        ("start=yesterday", "start"),
        ("slice=locale", "slice"),
        ("slice=%3Dfr", "slice"),
    ],
)
def test_malformed_fields_are_named(query: str, field: str) -> None:
    with pytest.raises(InvalidInput, match=rf"^{field}:"):
        form(query).to_filter(NOW)


def test_query_keeps_filters_and_adds_the_cursor() -> None:
    f = form("status=error&q=a%20b&limit=3&model=")
    assert f.query() == "?status=error&q=a+b&limit=3"
    assert f.query(cursor="abc") == "?status=error&q=a+b&limit=3&cursor=abc"
    assert f.query(status="") == "?q=a+b&limit=3"


@pytest.mark.parametrize(
    ("limit", "size"),
    [("", DEFAULT_LIMIT), ("x", DEFAULT_LIMIT), ("3", 3), ("0", 1), ("9999", MAX_LIMIT)],
)
def test_page_size(limit: str, size: int) -> None:
    assert FilterForm(limit=limit).page_size() == size


def test_parse_slices() -> None:
    assert parse_slices(" locale = fr ,, tier=") == [("locale", "fr"), ("tier", "")]
