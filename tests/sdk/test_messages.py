"""Conversion of chat messages to the GenAI shape."""

from __future__ import annotations

from assay.sdk.messages import to_genai_message, to_genai_messages


def test_string_and_single_message() -> None:
    assert to_genai_messages("hi") == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]}
    ]
    assert to_genai_messages({"role": "system", "content": "be brief", "name": "sys"}) == [
        {"role": "system", "parts": [{"type": "text", "content": "be brief"}], "name": "sys"}
    ]


def test_parts_pass_through() -> None:
    message = {"role": "user", "parts": [{"type": "blob", "modality": "image"}]}
    assert to_genai_message(message, default_role="user") == message


def test_image_parts() -> None:
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://example.test/cat.png"}},
        ],
    }
    assert to_genai_message(message, default_role="user")["parts"] == [
        {"type": "text", "content": "What is this?"},
        {"type": "uri", "modality": "image", "uri": "https://example.test/cat.png"},
    ]


def test_output_finish_reasons() -> None:
    call = {
        "role": "assistant",
        "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "not json"}}],
    }
    (converted,) = to_genai_messages([call], output=True)
    assert converted["finish_reason"] == "tool_call"
    assert converted["parts"] == [
        {"type": "tool_call", "id": "c1", "name": "f", "arguments": "not json"}
    ]
    (length,) = to_genai_messages([{"content": "cut", "finish_reason": "length"}], output=True)
    assert length["role"] == "assistant"
    assert length["finish_reason"] == "length"
