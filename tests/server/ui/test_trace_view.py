"""Waterfall bars and value display of the trace page."""

from __future__ import annotations

from typing import Any

from assay.server.ui.trace_view import (
    WATERFALL_WIDTH,
    Bar,
    display_value,
    message_body,
    waterfall_bar,
)
from assay.traces.views import SpanNode


def span(start_ns: int, end_ns: int, **fields: Any) -> SpanNode:
    values: dict[str, Any] = {
        "span_id": "0" * 16,
        "parent_span_id": None,
        "name": "s",
        "kind": "span",
        "model": None,
        "provider": None,
        "input": None,
        "output": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "cost": None,
        "start_ns": start_ns,
        "end_ns": end_ns,
        "start_time": "",
        "duration_ms": (end_ns - start_ns) / 1e6,
        "status": "unset",
        "status_message": None,
        "session_id": None,
        "user_id": None,
        "attributes": {},
        "events": [],
    }
    values.update(fields)
    return SpanNode(**values)


def test_bars_are_placed_relative_to_the_trace() -> None:
    assert waterfall_bar(span(0, 1000), 0, 1000) == Bar(0, WATERFALL_WIDTH)
    bar = waterfall_bar(span(250, 500), 0, 1000)
    assert (bar.x, bar.width) == (250, 250)


def test_instant_spans_stay_visible_and_bars_stay_inside() -> None:
    instant = waterfall_bar(span(1000, 1000), 0, 1000)
    assert instant.width >= 1
    assert instant.x + instant.width <= WATERFALL_WIDTH
    # Clock skew: a child reported before its trace, or a zero-length trace.
    assert waterfall_bar(span(-500, 200), 0, 1000).x == 0
    degenerate = waterfall_bar(span(5, 5), 5, 5)
    assert degenerate.x + degenerate.width <= WATERFALL_WIDTH


def test_display_value() -> None:
    assert display_value("text") == "text"
    assert display_value(3) == "3"
    assert display_value(["a", 1]) == '["a", 1]'
    assert display_value({"b": 1, "a": None}) == '{"a": null, "b": 1}'


def test_message_body() -> None:
    assert message_body(None) == ""
    assert message_body("hi") == "hi"
    assert message_body([{"type": "image"}]) == '[\n  {\n    "type": "image"\n  }\n]'
