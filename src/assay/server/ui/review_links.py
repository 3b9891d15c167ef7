"""URLs of a project's review pages, built in one place.

Queue names may hold any printable character but ``/`` and ``@``, so every part of a
path is quoted here rather than in templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


def _q(part: str) -> str:
    return quote(part, safe="")


@dataclass(frozen=True)
class ReviewLinks:
    """Links between the review pages of one project.

    Attributes:
        project: The project's name.
    """

    project: str

    @property
    def base(self) -> str:
        """``/p/<project>``."""
        return f"/p/{_q(self.project)}"

    @property
    def queues(self) -> str:
        """The queue list."""
        return f"{self.base}/queues"

    def queue(self, name: str, status: str = "", page: int = 1) -> str:
        """A queue's page, its items filtered by ``status`` at page ``page``."""
        pairs = [(k, str(v)) for k, v in (("status", status), ("page", page)) if v and v != 1]
        return f"{self.queues}/{_q(name)}" + (f"?{urlencode(pairs)}" if pairs else "")

    def annotate(self, name: str) -> str:
        """Where an annotator labels the queue's next item."""
        return f"{self.queues}/{_q(name)}/annotate"

    def adjudicate(self, name: str) -> str:
        """The queue's disputed items."""
        return f"{self.queues}/{_q(name)}/adjudicate"

    def adjudicate_item(self, name: str, item_id: int) -> str:
        """Where an adjudicator sets one item's label."""
        return f"{self.queues}/{_q(name)}/items/{item_id}/adjudicate"

    def agreement(self, name: str) -> str:
        """The queue's agreement page."""
        return f"{self.queues}/{_q(name)}/agreement"

    def trace(self, trace_id: str) -> str:
        """A trace's page."""
        return f"{self.base}/traces/{_q(trace_id)}"
