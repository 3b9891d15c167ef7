"""Span trees: ordering, orphans, cycles; folding content logs."""

from __future__ import annotations

from assay.store.models import Span
from assay.traces.tree import FoldedContent, LogEvent, build_tree, fold_logs


def span(span_id: str, parent: str | None, start: int, **fields: object) -> Span:
    return Span(
        span_id=span_id,
        parent_span_id=parent,
        name=span_id,
        kind="span",
        start_ns=start,
        end_ns=start + 10,
        status="unset",
        attributes="{}",
        events="[]",
        **fields,
    )


def tree(spans: list[Span]) -> list[tuple[str, list[object]]]:
    content = {s.span_id: FoldedContent(None, None) for s in spans}

    def shape(node: object) -> tuple[str, list[object]]:
        return (node.span_id, [shape(c) for c in node.children])  # type: ignore[attr-defined]

    return [shape(n) for n in build_tree(spans, content)]


def test_children_by_start_and_orphans_on_top() -> None:
    spans = [span("r", None, 0), span("b", "r", 1), span("o", "missing", 2), span("a", "r", 3)]
    assert tree(spans) == [("r", [("b", []), ("a", [])]), ("o", [])]


def test_cycles_do_not_hang_or_lose_spans() -> None:
    spans = [span("x", "y", 0), span("y", "x", 1), span("z", "z", 2)]
    assert tree(spans) == [("y", [("x", [])]), ("z", [])]


def test_fold_logs_fills_only_what_is_missing() -> None:
    spans = [span("a", None, 0, input="kept"), span("b", None, 1), span("c", None, 2)]
    logs = [
        LogEvent("a", "gen_ai.user.message", '{"content": "ignored"}'),
        LogEvent("a", "gen_ai.choice", '{"message": {"content": "out"}}'),
        LogEvent("b", "gen_ai.user.message", '"bare text"'),
    ]
    folded = fold_logs(spans, logs)
    assert folded["a"].input == "kept"
    assert folded["a"].output == '[{"role":"assistant","content":"out"}]'
    assert folded["b"].input == '[{"role":"user","content":"bare text"}]'
    assert folded["b"].output is None
    assert folded["c"] == FoldedContent(None, None)
