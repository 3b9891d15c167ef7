"""Numbered pages."""

from __future__ import annotations

from assay.server.ui.paging import Pager, page_number


def test_pages() -> None:
    first = Pager.of(1, 120, size=50)
    assert (first.pages, first.offset, first.first, first.last) == (3, 0, 1, 50)
    assert not first.has_previous
    assert first.has_next
    last = Pager.of(9, 120, size=50)  # past the end: the last page
    assert (last.number, last.offset, last.first, last.last) == (3, 100, 101, 120)
    assert not last.has_next
    empty = Pager.of(2, 0)
    assert (empty.number, empty.pages, empty.first, empty.last) == (1, 1, 0, 0)
    assert [page_number(t) for t in ("3", "", None, "x", "-2")] == [3, 1, 1, 1, 1]
