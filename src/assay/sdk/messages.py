"""Chat messages in the OpenTelemetry GenAI shape.

``gen_ai.input.messages`` and ``gen_ai.output.messages`` hold JSON arrays of
``{"role": ..., "parts": [...]}`` objects (output messages also carry a
``finish_reason``). Apps mostly hold OpenAI-style ``{"role", "content"}`` dicts, so
those are converted; messages that already have ``parts`` pass through untouched.

See https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ for the schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Message = dict[str, Any]
Part = dict[str, Any]


def _as_mapping(message: Any) -> Mapping[str, Any] | None:
    """A message as a mapping: dicts as they are, pydantic objects dumped."""
    if isinstance(message, Mapping):
        return message
    model_dump = getattr(message, "model_dump", None)
    if callable(model_dump):
        dumped = model_dump(mode="json", exclude_none=True)
        if isinstance(dumped, Mapping):
            return dumped
    return None


def _parse_arguments(arguments: Any) -> Any:
    """Tool-call arguments as a JSON value when they are JSON text."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def _content_parts(content: Any) -> list[Part]:
    """OpenAI ``content`` (a string or a list of typed parts) as GenAI parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if not isinstance(content, Sequence):
        return [{"type": "text", "content": str(content)}]
    parts: list[Part] = []
    for item in content:
        if isinstance(item, str):
            parts.append({"type": "text", "content": item})
        elif isinstance(item, Mapping) and item.get("type") == "text":
            parts.append({"type": "text", "content": item.get("text", "")})
        elif isinstance(item, Mapping) and item.get("type") == "image_url":
            image = item.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            parts.append({"type": "uri", "modality": "image", "uri": url})
        elif isinstance(item, Mapping):
            parts.append(dict(item))
        else:
            parts.append({"type": "text", "content": str(item)})
    return parts


def _tool_call_parts(tool_calls: Any) -> list[Part]:
    """OpenAI ``tool_calls`` as GenAI ``tool_call`` parts."""
    parts: list[Part] = []
    for call in tool_calls or ():
        mapping = _as_mapping(call) or {}
        function = mapping.get("function") or {}
        parts.append(
            {
                "type": "tool_call",
                "id": mapping.get("id"),
                "name": function.get("name", mapping.get("name")),
                "arguments": _parse_arguments(function.get("arguments", mapping.get("arguments"))),
            }
        )
    return parts


def to_genai_message(message: Any, *, default_role: str, output: bool = False) -> Message:
    """Convert one message to the GenAI shape.

    Args:
        message: A string (taken as text from ``default_role``), an OpenAI-style
            dict or pydantic message, or a dict already holding ``parts``.
        default_role: Role used when the message has none.
        output: Whether this is an output message, which needs a ``finish_reason``
            (taken from the message, else ``tool_call`` when it calls tools, else
            ``stop``).

    Returns:
        A new dict with ``role`` and ``parts`` (and ``name``/``finish_reason`` where
        they apply).
    """
    mapping = _as_mapping(message)
    if mapping is None:
        text = message if isinstance(message, str) else str(message)
        result: Message = {"role": default_role, "parts": [{"type": "text", "content": text}]}
    elif "parts" in mapping:
        result = dict(mapping)
        result.setdefault("role", default_role)
    else:
        role = str(mapping.get("role") or default_role)
        if role == "tool" and "tool_call_id" in mapping:
            parts = [
                {
                    "type": "tool_call_response",
                    "id": mapping["tool_call_id"],
                    "response": mapping.get("content"),
                }
            ]
        else:
            parts = _content_parts(mapping.get("content"))
            parts += _tool_call_parts(mapping.get("tool_calls"))
        result = {"role": role, "parts": parts}
        if mapping.get("name"):
            result["name"] = mapping["name"]
    if output and "finish_reason" not in result:
        calls_tool = any(part.get("type") == "tool_call" for part in result["parts"])
        finish = mapping.get("finish_reason") if mapping is not None else None
        result["finish_reason"] = finish or ("tool_call" if calls_tool else "stop")
    return result


def to_genai_messages(messages: Any, *, output: bool = False) -> list[Message]:
    """Convert a message list (or a single message or string) to the GenAI shape.

    Args:
        messages: A string, one message, or a sequence of messages.
        output: Whether these are model outputs (default role ``assistant`` and a
            ``finish_reason`` on each) rather than inputs (default role ``user``).

    Returns:
        The converted list.
    """
    default_role = "assistant" if output else "user"
    if isinstance(messages, str) or _as_mapping(messages) is not None:
        messages = [messages]
    return [to_genai_message(m, default_role=default_role, output=output) for m in messages]
