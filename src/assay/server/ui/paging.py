"""Numbered pages of a list whose length is known (a dataset version, a run's results).

The trace list pages with a cursor, since traces keep arriving; a dataset version and
a finished run never change, so their pages are numbered and a page link stays valid.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 50
"""Rows per page: a screen or two of cases with one-line previews."""


def page_number(text: str | None) -> int:
    """The 1-based page a ``page`` query value asks for; 1 when absent or malformed
    (an old link should land somewhere sensible, not on an error)."""
    try:
        return max(1, int(text or "1"))
    except ValueError:
        return 1


@dataclass(frozen=True)
class Pager:
    """Where one page sits in a list.

    Attributes:
        number: The page, from 1 (clamped to the last page).
        size: Rows per page.
        total: Rows in the whole list.
    """

    number: int
    size: int
    total: int

    @classmethod
    def of(cls, requested: int, total: int, size: int = PAGE_SIZE) -> Pager:
        """The pager for page ``requested`` of ``total`` rows (past the end: the last)."""
        last = max(1, -(-total // size))
        return cls(number=min(max(1, requested), last), size=size, total=total)

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1, so an empty list has page 1)."""
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        """1-based position of this page's first row (0 when the list is empty)."""
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        """1-based position of this page's last row."""
        return min(self.offset + self.size, self.total)

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.number < self.pages
