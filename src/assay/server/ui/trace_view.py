"""Presentation of one trace: waterfall bars, span counts, attribute values.

Pure functions over :class:`~assay.traces.views.TraceDetail`, so the template stays
free of arithmetic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assay.traces.views import SpanNode, TraceDetail

WATERFALL_WIDTH = 1000
"""The SVG viewBox width of a waterfall bar; bars scale to the column's width."""
# A zero-length span still gets a visible sliver: 0.3% of the trace.
_MIN_BAR = 3


@dataclass(frozen=True)
class Bar:
    """Where a span sits in the trace's timeline, in viewBox units.

    Attributes:
        x: Offset from the trace's start.
        width: Length (at least a sliver, so instant spans show).
    """

    x: int
    width: int


def waterfall_bar(span: SpanNode, trace_start_ns: int, trace_end_ns: int) -> Bar:
    """The bar of ``span`` on a timeline from the trace's start to its end."""
    total = max(trace_end_ns - trace_start_ns, 1)
    x = round((span.start_ns - trace_start_ns) / total * WATERFALL_WIDTH)
    x = min(max(x, 0), WATERFALL_WIDTH - _MIN_BAR)
    width = round((span.end_ns - span.start_ns) / total * WATERFALL_WIDTH)
    width = min(max(width, _MIN_BAR), WATERFALL_WIDTH - x)
    return Bar(x=x, width=width)


def walk(spans: list[SpanNode]) -> Iterator[SpanNode]:
    """Every span of a tree, depth first."""
    for span in spans:
        yield span
        yield from walk(span.children)


@dataclass(frozen=True)
class Timeline:
    """The span of time the waterfall covers.

    Attributes:
        start_ns: Earliest start of the trace or any span.
        end_ns: Latest end of the trace or any span.
    """

    start_ns: int
    end_ns: int


def timeline(trace: TraceDetail) -> Timeline:
    """The trace's extent, widened to spans that spill outside it (clock skew)."""
    starts = [trace.start_ns, *(s.start_ns for s in walk(trace.spans))]
    ends = [trace.end_ns, *(s.end_ns for s in walk(trace.spans))]
    return Timeline(start_ns=min(starts), end_ns=max(ends))


def display_value(value: Any) -> str:
    """An attribute value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def message_body(content: Any) -> str:
    """A chat message's content as text (multi-part content as indented JSON)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return json.dumps(content, indent=2, ensure_ascii=False, sort_keys=True, default=str)
