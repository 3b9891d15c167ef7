"""URLs of a project's review pages, built in one place.

Queue names may hold any printable character but ``/`` and ``@``, so every part of a
path is quoted (by :meth:`ProjectLinks.path`) rather than in templates.
"""

from __future__ import annotations

from dataclasses import dataclass

from assay.server.ui.eval_links import ProjectLinks, query


@dataclass(frozen=True)
class ReviewLinks(ProjectLinks):
    """Links between the review pages of one project."""

    @property
    def queues(self) -> str:
        """The queue list."""
        return self.path("queues")

    def queue(self, name: str, status: str = "", page: int = 1) -> str:
        """A queue's page, its items filtered by ``status`` at page ``page``."""
        return self.path("queues", name) + query(
            {"status": status, "page": page if page != 1 else None}
        )

    def annotate(self, name: str) -> str:
        """Where an annotator labels the queue's next item."""
        return self.path("queues", name, "annotate")

    def adjudicate(self, name: str) -> str:
        """The queue's disputed items."""
        return self.path("queues", name, "adjudicate")

    def adjudicate_item(self, name: str, item_id: int) -> str:
        """Where an adjudicator sets one item's label."""
        return self.path("queues", name, "items", item_id, "adjudicate")

    def agreement(self, name: str) -> str:
        """The queue's agreement page."""
        return self.path("queues", name, "agreement")

    def trace(self, trace_id: str) -> str:
        """A trace's page."""
        return self.path("traces", trace_id)
