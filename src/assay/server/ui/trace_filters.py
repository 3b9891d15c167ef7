"""The trace list's filter form: read from the URL query, turned into a TraceFilter.

Filters live in the query string (``?status=error&q=refund``), so a filtered list is
a link someone can share; pagination adds ``cursor`` to the same query.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from assay.errors import InvalidInput
from assay.traces.times import parse_timestamp
from assay.traces.views import TraceFilter

RANGES: Mapping[str, int] = {
    "15m": 15 * 60,
    "1h": 3600,
    "24h": 24 * 3600,
    "7d": 7 * 24 * 3600,
    "30d": 30 * 24 * 3600,
}
"""Time-range presets: URL value to seconds before now."""
RANGE_LABELS: Mapping[str, str] = {
    "": "Any time",
    "15m": "Last 15 minutes",
    "1h": "Last hour",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}
STATUSES = ("ok", "error", "unset")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class FilterForm:
    """The filter form's fields as the URL carries them (text, unvalidated).

    Attributes:
        range: A preset of :data:`RANGES`, or "" for any time.
        start: Earliest start, ISO 8601 (UTC when no offset); wins over ``range``.
        end: Latest start, ISO 8601 (UTC when no offset).
        release: Release name, fingerprint (prefix) or raw ref.
        model: Model of the trace or any span.
        status: ``ok``, ``error``, ``unset`` or "".
        kind: A span kind the trace must contain, or "".
        slice: ``key=value`` pairs separated by commas.
        q: Text the trace's or a span's input or output contains.
        feedback: ``with``, ``without`` or "".
        limit: Page size, as text.
    """

    range: str = ""
    start: str = ""
    end: str = ""
    release: str = ""
    model: str = ""
    status: str = ""
    kind: str = ""
    slice: str = ""
    q: str = ""
    feedback: str = ""
    limit: str = ""

    @classmethod
    def from_query(cls, query: QueryParams) -> FilterForm:
        """The form as submitted; repeated ``slice`` parameters are joined."""
        values = {f.name: query.get(f.name, "").strip() for f in fields(cls)}
        values["slice"] = ", ".join(s.strip() for s in query.getlist("slice") if s.strip())
        return cls(**values)

    @property
    def active(self) -> bool:
        """Whether any filter (not counting the page size) is set."""
        return any(getattr(self, f.name) for f in fields(self) if f.name != "limit")

    def page_size(self) -> int:
        """The page size: ``limit`` when valid, clamped to 1..:data:`MAX_LIMIT`."""
        try:
            return max(1, min(MAX_LIMIT, int(self.limit)))
        except ValueError:
            return DEFAULT_LIMIT

    def to_filter(self, now_ns: int | None = None) -> TraceFilter:
        """The query these fields ask for.

        Args:
            now_ns: "Now" for relative ranges; the current time by default.

        Raises:
            InvalidInput: A field is malformed (the message names it).
        """
        start_from: int | None = None
        start_to: int | None = None
        if self.start:
            start_from = parse_timestamp(self.start, field="start")
        elif self.range:
            if self.range not in RANGES:
                raise InvalidInput(
                    f"range: unknown preset {self.range!r}; choose one of {', '.join(RANGES)}"
                )
            now = now_ns if now_ns is not None else time.time_ns()
            start_from = now - RANGES[self.range] * 1_000_000_000
        if self.end:
            start_to = parse_timestamp(self.end, field="end")
        if self.status and self.status not in STATUSES:
            raise InvalidInput(f"status: expected one of {', '.join(STATUSES)}")
        has_feedback = {"with": True, "without": False}.get(self.feedback)
        if self.feedback and has_feedback is None:
            raise InvalidInput("feedback: expected 'with' or 'without'")
        return TraceFilter(
            start_from_ns=start_from,
            start_to_ns=start_to,
            release=self.release or None,
            model=self.model or None,
            status=self.status or None,
            kind=self.kind or None,
            slices=tuple(parse_slices(self.slice)),
            q=self.q or None,
            has_feedback=has_feedback,
        )

    def query(self, **overrides: str) -> str:
        """This form's URL query (empty fields left out), with ``overrides`` applied.

        Args:
            **overrides: Fields to change (``cursor`` too, which is not a field).

        Returns:
            ``?a=b&...``, or "" when nothing is set.
        """
        cursor = overrides.pop("cursor", "")
        form = replace(self, **overrides) if overrides else self
        pairs = [(f.name, getattr(form, f.name)) for f in fields(form)]
        if cursor:
            pairs.append(("cursor", cursor))
        encoded = urlencode([(k, v) for k, v in pairs if v])
        return f"?{encoded}" if encoded else ""


def parse_slices(text: str) -> list[tuple[str, str]]:
    """``locale=fr, tier=pro`` as ``[("locale", "fr"), ("tier", "pro")]``.

    Raises:
        InvalidInput: A pair has no ``=`` or an empty key.
    """
    pairs: list[tuple[str, str]] = []
    for part in text.split(","):
        item = part.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"slice: expected key=value pairs separated by commas; got {item!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs
