"""Span and trace input/output as callers read it: text, or a list of chat messages.

Ingest stores content as plain text, as a JSON list of ``{"role", "content"}``
messages (with ``tool_calls`` when present; see :mod:`assay.ingest.messages`), or as
the OpenTelemetry GenAI message JSON the app sent (``parts``), folded into the same
messages here.
Readers get the messages back as a list, and lists of traces get one short line.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import orjson

from assay.ingest.messages import from_genai_json

Message: TypeAlias = dict[str, Any]
Content: TypeAlias = str | list[Message] | None
"""Plain text, a list of chat messages, or None when nothing was recorded."""

PREVIEW_CHARS = 200
"""Length of a preview in trace lists: about two lines of a table cell."""


def parse_content(text: str | None) -> Content:
    """Stored content as text or messages.

    Only a JSON list whose items are all objects with a ``role`` counts as
    messages; any other text (JSON or not) is returned as it was stored.
    """
    if text is None or not text.startswith("["):
        return text
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    if isinstance(data, list) and data and all(isinstance(m, dict) and "role" in m for m in data):
        if any("parts" in m for m in data):
            # GenAI `gen_ai.*.messages` are stored as the app sent them.
            return from_genai_json(data) or text
        return data
    return text


def preview(text: str | None, *, prefer_role: str | None = None) -> str | None:
    """One line standing for stored content in a list of traces.

    Args:
        text: The stored content.
        prefer_role: For messages, show the last message of this role (``user`` for
            an input: the question rather than the system prompt); the last message
            otherwise.

    Returns:
        Whitespace-collapsed text of at most :data:`PREVIEW_CHARS` characters (cut
        ones end in ``…``), or None when there is no content.
    """
    content = parse_content(text)
    if content is None:
        return None
    line = content if isinstance(content, str) else _message_line(content, prefer_role)
    line = " ".join(line.split())
    if len(line) > PREVIEW_CHARS:
        return line[: PREVIEW_CHARS - 1] + "…"
    return line


def _message_line(messages: list[Message], prefer_role: str | None) -> str:
    chosen = messages[-1]
    if prefer_role is not None:
        for message in reversed(messages):
            if message.get("role") == prefer_role:
                chosen = message
                break
    body = chosen.get("content")
    if isinstance(body, str) and body:
        return body
    calls = chosen.get("tool_calls")
    if isinstance(calls, list) and calls:
        names = [_tool_call_name(call) for call in calls]
        return "tool call: " + ", ".join(names)
    if body is None or body == "":
        return ""
    return orjson.dumps(body).decode()


def _tool_call_name(call: Any) -> str:
    if not isinstance(call, dict):
        return "?"
    function = call.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return str(function["name"])
    name = call.get("name")
    return name if isinstance(name, str) else "?"
