"""The run page's result filters: read from the URL query, applied to stored results.

Filters live in the query string (``?scorer=exact&verdict=fail``), so a filtered
list of results is a link someone can share; pagination adds ``page``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from assay.errors import InvalidInput
from assay.experiments import StoredResult
from assay.server.ui.result_view import VERDICTS, display_text, verdict_of


@dataclass(frozen=True)
class ResultFilter:
    """Which results of a run to show.

    Attributes:
        failed: Only results with a failing or errored score, or a failed target call.
        scorer: The scorer ``verdict`` applies to ("" : any scorer).
        verdict: ``pass``, ``fail``, ``error`` or "" (any).
        q: Text the case id or the output contains (case-insensitive).
    """

    failed: bool = False
    scorer: str = ""
    verdict: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, query: QueryParams) -> ResultFilter:
        """The filters as the URL gives them (checked by :meth:`check`)."""
        return cls(
            failed=query.get("failed", "") in ("1", "true", "on", "yes"),
            scorer=query.get("scorer", "").strip(),
            verdict=query.get("verdict", "").strip().lower(),
            q=query.get("q", "").strip(),
        )

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return self.failed or bool(self.verdict or self.q)

    def check(self, labels: Sequence[str]) -> None:
        """Refuse filters the run cannot answer.

        Args:
            labels: The run's scorer labels.

        Raises:
            InvalidInput: an unknown verdict, or a scorer the run does not have
                (the message lists the ones it has).
        """
        if self.verdict and self.verdict not in VERDICTS:
            raise InvalidInput(f"verdict: expected one of {', '.join(VERDICTS)}")
        if self.scorer and self.scorer not in labels:
            known = ", ".join(labels) or "none"
            raise InvalidInput(f"scorer: this run has no scorer {self.scorer!r} (it has: {known})")

    def matches(self, result: StoredResult, labels: Sequence[str]) -> bool:
        """Whether ``result`` passes every filter.

        Args:
            result: One sample of one case.
            labels: The run's scorer labels.
        """
        if self.failed and not (
            result.error is not None
            or any(verdict_of(result, label).kind in ("fail", "error") for label in labels)
        ):
            return False
        if self.verdict:
            scorers = [self.scorer] if self.scorer else labels
            if not any(verdict_of(result, label).kind == self.verdict for label in scorers):
                return False
        if self.q:
            needle = self.q.casefold()
            haystack = f"{result.case_id}\n{display_text(result.output)}".casefold()
            if needle not in haystack:
                return False
        return True

    def query(self, *, page: int = 1, **overrides: str | bool) -> str:
        """This filter's URL query (empty fields left out), at ``page``.

        Args:
            page: The page (1 is left out).
            **overrides: Fields to change.

        Returns:
            ``?a=b&...``, or "" when nothing is set.
        """
        form = replace(self, **overrides) if overrides else self  # type: ignore[arg-type]
        pairs = [
            ("failed", "1" if form.failed else ""),
            ("scorer", form.scorer),
            ("verdict", form.verdict),
            ("q", form.q),
            ("page", str(page) if page > 1 else ""),
        ]
        encoded = urlencode([(k, v) for k, v in pairs if v])
        return f"?{encoded}" if encoded else ""
