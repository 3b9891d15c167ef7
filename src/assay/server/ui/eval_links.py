"""URLs of a project's dataset, run and comparison pages, built in one place.

Run names are free text (a ``/`` included), so every part of a path is quoted here
rather than in templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


def _q(part: str) -> str:
    return quote(part, safe="")


def query(pairs: dict[str, str | int | None]) -> str:
    """``?k=v&...`` of the pairs with a value, or nothing when none has one."""
    kept = [(k, str(v)) for k, v in pairs.items() if v not in (None, "")]
    return f"?{urlencode(kept)}" if kept else ""


@dataclass(frozen=True)
class ProjectLinks:
    """What every set of page links of one project starts from.

    Attributes:
        project: The project's name.
    """

    project: str

    @property
    def base(self) -> str:
        """``/p/<project>``."""
        return f"/p/{_q(self.project)}"

    def path(self, *parts: str | int) -> str:
        """``/p/<project>/<part>/...``, each part quoted."""
        return "/".join([self.base, *(_q(str(p)) for p in parts)])


@dataclass(frozen=True)
class EvalLinks(ProjectLinks):
    """Links between the evaluation pages of one project."""

    @property
    def datasets(self) -> str:
        """The dataset list."""
        return f"{self.base}/datasets"

    def dataset(self, name: str, version: int | None = None, page: int | None = None) -> str:
        """A dataset's page, at a version (None: the latest) and page of cases."""
        return f"{self.datasets}/{_q(name)}" + query(
            {"version": version, "page": page if page and page > 1 else None}
        )

    def version(self, ref: str) -> str:
        """The dataset page of a ``NAME@N`` reference (as runs record it)."""
        name, _, number = ref.rpartition("@")
        if not name or not number.isdigit():
            return self.dataset(ref)
        return self.dataset(name, int(number))

    def runs(self, dataset: str = "") -> str:
        """The run list, optionally of one dataset (``NAME`` or ``NAME@N``)."""
        return f"{self.base}/runs" + query({"dataset": dataset})

    def run(self, name: str) -> str:
        """A run's page."""
        return f"{self.base}/runs/{_q(name)}"

    def compare(self, baseline: str = "", candidate: str = "") -> str:
        """The comparison page (either run may be left for the form to pick)."""
        return f"{self.base}/compare" + query({"baseline": baseline, "candidate": candidate})

    def trace(self, trace_id: str) -> str:
        """A trace's page."""
        return f"{self.base}/traces/{_q(trace_id)}"
