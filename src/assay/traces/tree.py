"""A trace's spans as a tree, with GenAI content logs folded into the spans that lack it.

Ingest folds content log events (``gen_ai.user.message``, ``gen_ai.choice``...) into
their span when it writes either of the two; :func:`fold_logs` repeats that at read
time as a safety net, for spans stored before their logs by an older writer or
written some other way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from assay.ingest.messages import dumps, from_events
from assay.store.models import Span
from assay.traces.content import parse_content
from assay.traces.times import ns_to_iso
from assay.traces.views import SpanNode


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One stored content log event of a span.

    Attributes:
        span_id: The span it belongs to.
        name: Event name (``gen_ai.user.message``, ...).
        body: The event body as JSON text.
    """

    span_id: str
    name: str
    body: str


@dataclass(frozen=True, slots=True)
class FoldedContent:
    """A span's input and output after folding in its log events (stored text form).

    Attributes:
        input: Input text, or None.
        output: Output text, or None.
    """

    input: str | None
    output: str | None


def fold_logs(spans: Sequence[Span], logs: Sequence[LogEvent]) -> dict[str, FoldedContent]:
    """Fill each span's missing input/output from its log events.

    Args:
        spans: The trace's spans.
        logs: The trace's content log events, in time order.

    Returns:
        The content of every span, by span id; what the span already had wins.
    """
    by_span: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for event in logs:
        body = orjson.loads(event.body)
        by_span.setdefault(event.span_id, []).append(
            (event.name, body if isinstance(body, dict) else {"content": body})
        )
    out: dict[str, FoldedContent] = {}
    for span in spans:
        text_in, text_out = span.input, span.output
        events = by_span.get(span.span_id)
        if events and (text_in is None or text_out is None):
            ev_in, ev_out = from_events(events)
            if text_in is None and ev_in:
                text_in = dumps(ev_in)
            if text_out is None and ev_out:
                text_out = dumps(ev_out)
        out[span.span_id] = FoldedContent(input=text_in, output=text_out)
    return out


def build_tree(spans: Sequence[Span], content: dict[str, FoldedContent]) -> list[SpanNode]:
    """The span tree: roots (and orphans) by start time, each node's children likewise.

    Args:
        spans: The trace's spans, ordered by start time then id.
        content: Each span's input and output, from :func:`fold_logs`.

    Returns:
        The top-level nodes. A span whose parent is missing is a top-level node, so
        no span is lost while a trace is still arriving.
    """
    nodes = {span.span_id: _node(span, content[span.span_id]) for span in spans}
    roots: list[SpanNode] = []
    for span in spans:
        node = nodes[span.span_id]
        parent = nodes.get(span.parent_span_id) if span.parent_span_id else None
        if parent is None or parent is node or _is_ancestor(node, parent):
            roots.append(node)
        else:
            parent.children.append(node)
    return roots


def _is_ancestor(node: SpanNode, other: SpanNode) -> bool:
    """Whether ``node`` is above ``other`` already: adding ``node`` under ``other``
    would make a cycle (a broken exporter can send one; it must not hang a reader)."""
    stack = list(node.children)
    while stack:
        current = stack.pop()
        if current is other:
            return True
        stack.extend(current.children)
    return False


def _node(span: Span, content: FoldedContent) -> SpanNode:
    return SpanNode(
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        name=span.name,
        kind=span.kind,
        model=span.model,
        provider=span.provider,
        input=parse_content(content.input),
        output=parse_content(content.output),
        prompt_tokens=span.prompt_tokens,
        completion_tokens=span.completion_tokens,
        cost=span.cost,
        start_ns=span.start_ns,
        end_ns=span.end_ns,
        start_time=ns_to_iso(span.start_ns),
        duration_ms=(span.end_ns - span.start_ns) / 1_000_000,
        status=span.status,
        status_message=span.status_message,
        session_id=span.session_id,
        user_id=span.user_id,
        attributes=_loads(span.attributes, {}),
        events=_loads(span.events, []),
        children=[],
    )


def _loads(text: str | None, empty: Any) -> Any:
    if not text:
        return empty
    value = orjson.loads(text)
    return value if isinstance(value, type(empty)) else empty
