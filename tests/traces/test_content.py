"""Content as text or messages, and one-line previews."""

from __future__ import annotations

import json

from assay.traces.content import PREVIEW_CHARS, parse_content, preview


def test_parse_content_returns_messages_only_for_message_lists() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert parse_content(json.dumps(messages)) == messages
    assert parse_content("plain") == "plain"
    assert parse_content(None) is None
    assert parse_content("[1, 2]") == "[1, 2]"
    assert parse_content("[]") == "[]"
    assert parse_content("[not json") == "[not json"
    assert parse_content('[{"content": "no role"}]') == '[{"content": "no role"}]'


def test_preview_picks_the_question_and_collapses_whitespace() -> None:
    text = json.dumps(
        [
            {"role": "system", "content": "Be nice."},
            {"role": "user", "content": "What\n\n is  2+2?"},
            {"role": "assistant", "content": "4"},
        ]
    )
    assert preview(text, prefer_role="user") == "What is 2+2?"
    assert preview(text) == "4"
    assert preview(None) is None
    assert preview("x" * 500) == "x" * (PREVIEW_CHARS - 1) + "…"


def test_preview_of_tool_calls_and_structured_content() -> None:
    calls = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"type": "function", "function": {"name": "search", "arguments": "{}"}},
                {"name": "lookup"},
            ],
        }
    ]
    assert preview(json.dumps(calls)) == "tool call: search, lookup"
    parts = [{"role": "user", "content": [{"type": "image", "url": "u"}]}]
    assert preview(json.dumps(parts)) == '[{"type":"image","url":"u"}]'
    assert preview(json.dumps([{"role": "user", "content": None}])) == ""
