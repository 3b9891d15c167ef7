"""Chat messages in the shapes instrumentations send, folded into one shape.

assay stores a span's input and output as text: plain text when the app sent a
value, or a JSON list of ``{"role": ..., "content": ...}`` messages (with
``tool_calls`` when present) when it sent chat messages, in whichever of these forms:

- OpenTelemetry GenAI attributes ``gen_ai.input.messages`` / ``gen_ai.output.messages``
  (JSON with ``parts``), ``gen_ai.system_instructions``;
- the older ``gen_ai.prompt.N.role/content`` and ``gen_ai.completion.N.*`` attributes;
- OpenInference ``llm.input_messages.N.message.role/content`` (flattened);
- GenAI events on the span or as OTLP log records (``gen_ai.user.message``,
  ``gen_ai.choice``, ...).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

Message = dict[str, Any]

EVENT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE_EVENT = "gen_ai.choice"
# The newer GenAI conventions (OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental)
# send one event per call with the messages as structured attributes.
OPERATION_DETAILS = "gen_ai.client.inference.operation.details"
CONTENT_EVENTS = frozenset(
    {
        *EVENT_ROLES,
        CHOICE_EVENT,
        OPERATION_DETAILS,
        "gen_ai.content.prompt",
        "gen_ai.content.completion",
    }
)


def dumps(messages: list[Message]) -> str:
    """Serialise messages the way they are stored."""
    return orjson.dumps(messages).decode()


def _split_parts(parts: Any) -> tuple[Any, list[Any]]:
    """Content and tool calls of GenAI ``parts``, in one pass.

    The content is the text parts joined when every other part is a tool call; the
    non-call parts themselves when some are not text (images, ...); None when
    there are none.
    """
    if not isinstance(parts, list):
        return None, []
    texts: list[str] = []
    calls: list[Any] = []
    other: list[Any] = []
    for part in parts:
        if isinstance(part, dict):
            kind = part.get("type")
            if kind == "tool_call":
                calls.append(part)
                continue
            if kind == "text" and isinstance(part.get("content"), str):
                texts.append(part["content"])
                other.append(part)
                continue
        other.append(part)
    if not other:
        return None, calls
    if len(texts) == len(other):
        return "\n".join(texts), calls
    return other, calls


def from_genai_json(raw: Any, default_role: str = "user") -> list[Message] | None:
    """Messages from ``gen_ai.input.messages`` / ``gen_ai.output.messages``."""
    data = raw
    if isinstance(raw, str):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return [{"role": default_role, "content": raw}]
    if not isinstance(data, list):
        return None
    out: list[Message] = []
    for item in data:
        if not isinstance(item, dict):
            continue
        msg: Message = {"role": item.get("role", default_role)}
        if "parts" in item:
            msg["content"], calls = _split_parts(item["parts"])
            if calls:
                msg["tool_calls"] = calls
        else:
            msg["content"] = item.get("content")
        if "finish_reason" in item:
            msg["finish_reason"] = item["finish_reason"]
        out.append(msg)
    return out


def from_flat(
    attrs: dict[str, Any], prefix: str, content_keys: tuple[str, ...]
) -> list[Message] | None:
    """Messages from flattened attributes such as ``llm.input_messages.0.message.role``.

    Args:
        attrs: The span attributes.
        prefix: e.g. ``llm.input_messages`` or ``gen_ai.prompt``.
        content_keys: Suffixes naming the role and content, e.g.
            ``("message.role", "message.content")`` or ``("role", "content")``.
    """
    role_key, content_key = content_keys
    head = prefix + "."
    by_index: dict[int, Message] = {}
    for key, value in attrs.items():
        if not key.startswith(head):
            continue
        index_str, _, rest = key[len(head) :].partition(".")
        if not index_str.isdecimal():
            continue
        msg = by_index.setdefault(int(index_str), {})
        if rest == role_key:
            msg["role"] = value
        elif rest == content_key:
            msg["content"] = value
        elif rest.endswith("message_content.text"):
            previous = msg.get("content")
            msg["content"] = (previous if isinstance(previous, str) else "") + str(value)
        elif "tool_calls" in rest:
            msg.setdefault("tool_calls_flat", {})[rest] = value
    if not by_index:
        return None
    out = []
    for index in sorted(by_index):
        msg = by_index[index]
        msg.setdefault("role", "user")
        msg.setdefault("content", None)
        flat = msg.pop("tool_calls_flat", None)
        if flat:
            msg["tool_calls"] = _unflatten_tool_calls(flat)
        out.append(msg)
    return out


def _unflatten_tool_calls(flat: dict[str, Any]) -> list[dict[str, Any]]:
    calls: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        m = re.search(r"tool_calls\.(\d+)\.(.+)$", key)
        if not m:
            continue
        call = calls.setdefault(m.group(1), {})
        field = m.group(2).replace("tool_call.", "")
        call[field] = value
    return [calls[k] for k in sorted(calls, key=int)]


def is_flat_content_key(key: str) -> bool:
    """Whether an attribute key is part of a flattened message list."""
    return key.startswith(
        ("llm.input_messages.", "llm.output_messages.", "gen_ai.prompt.", "gen_ai.completion.")
    )


def _event_body(body: dict[str, Any]) -> dict[str, Any]:
    """An event's fields, unpacking ``gen_ai.event.content``.

    Azure AI Inference and Semantic Kernel put the whole event body, as JSON, in
    that one attribute.
    """
    packed = body.get("gen_ai.event.content")
    if isinstance(packed, str):
        try:
            unpacked = orjson.loads(packed)
        except orjson.JSONDecodeError:
            return {**body, "content": packed}
        if isinstance(unpacked, dict):
            return {**body, **unpacked}
    return body


def from_events(events: list[tuple[str, dict[str, Any]]]) -> tuple[list[Message], list[Message]]:
    """Input and output messages from GenAI events (span events or log records).

    Args:
        events: ``(event name, body-or-attributes)`` pairs in time order.
    """
    inputs: list[Message] = []
    outputs: list[Message] = []
    for name, raw_body in events:
        body = _event_body(raw_body)
        if name in EVENT_ROLES:
            msg: Message = {
                "role": body.get("role") or EVENT_ROLES[name],
                "content": body.get("content"),
            }
            if body.get("tool_calls"):
                msg["tool_calls"] = body["tool_calls"]
            if body.get("id"):
                msg["tool_call_id"] = body["id"]
            inputs.append(msg)
        elif name == CHOICE_EVENT:
            inner = body.get("message")
            message: dict[str, Any] = inner if isinstance(inner, dict) else body
            out: Message = {
                "role": message.get("role") or "assistant",
                "content": message.get("content"),
            }
            if message.get("tool_calls"):
                out["tool_calls"] = message["tool_calls"]
            if body.get("finish_reason"):
                out["finish_reason"] = body["finish_reason"]
            outputs.append(out)
        elif name == OPERATION_DETAILS:
            system = body.get("gen_ai.system_instructions")
            if system is not None:
                inputs.extend(
                    {**m, "role": "system"} for m in from_genai_json(system, "system") or []
                )
            inputs.extend(from_genai_json(body.get("gen_ai.input.messages"), "user") or [])
            outputs.extend(from_genai_json(body.get("gen_ai.output.messages"), "assistant") or [])
        elif name == "gen_ai.content.prompt":
            prompt = body.get("gen_ai.prompt")
            parsed = from_genai_json(prompt) if prompt is not None else None
            inputs.extend(parsed or [])
        elif name == "gen_ai.content.completion":
            completion = body.get("gen_ai.completion")
            parsed = from_genai_json(completion, "assistant") if completion is not None else None
            outputs.extend(parsed or [])
    return inputs, outputs
