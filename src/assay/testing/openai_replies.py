"""Deterministic bodies of the fake OpenAI server: chat completions, chunks, embeddings.

Pure functions of the request, so the same request always gets the same answer:
token counts are whitespace word counts, embeddings come from a SHA-256 of the
model and text, and ids come from a per-server counter.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# A fixed creation time (2023-11-14T22:13:20Z) keeps bodies byte-for-byte reproducible.
CREATED = 1_700_000_000
SYSTEM_FINGERPRINT = "fp_assay_fake"
DEFAULT_EMBEDDING_DIMENSIONS = 16


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake model makes.

    Attributes:
        name: Function name.
        arguments: Arguments, as a dict (sent as JSON) or as JSON text.
        id: Call id; ``call_<n>`` by default.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """A scripted answer of the fake model.

    Attributes:
        content: Assistant text (``None`` with tool calls only).
        tool_calls: Tool calls to make.
        finish_reason: ``stop``/``length``/``tool_calls``/...; by default
            ``tool_calls`` when there are tool calls, else ``stop``.
        status_code: Anything but 200 answers with an OpenAI-style error instead.
        error_message: Message of that error.
        delay_s: Seconds to wait before answering.
    """

    content: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    finish_reason: str | None = None
    status_code: int = 200
    error_message: str = "scripted error"
    delay_s: float = 0.0


Responses = Mapping[str, "str | Reply"] | Callable[[dict[str, Any]], "str | Reply | None"]
"""How answers are scripted: last user message -> answer, or request body -> answer
(``None`` falls back to the default echo)."""


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a chat message: its string content or its text parts joined."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def count_words(text: str) -> int:
    """The fake tokenizer: whitespace-separated words."""
    return len(text.split())


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """Text of the last ``user`` message, or ``""``."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def default_answer(messages: Sequence[Mapping[str, Any]]) -> str:
    """The unscripted answer: an echo of the last user message."""
    text = last_user_text(messages)
    return f"Echo: {text}" if text else "Hello from the assay fake."


def choose_reply(body: dict[str, Any], responses: Responses | None) -> Reply:
    """The reply to a chat request: scripted if ``responses`` has one, else the echo."""
    messages = body["messages"]
    scripted: str | Reply | None = None
    if callable(responses):
        scripted = responses(body)
    elif responses is not None:
        scripted = responses.get(last_user_text(messages))
    if scripted is None:
        return Reply(content=default_answer(messages))
    return Reply(content=scripted) if isinstance(scripted, str) else scripted


def _tool_call_body(call: ToolCall, fallback_id: str) -> dict[str, Any]:
    arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
    return {
        "id": call.id or fallback_id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


@dataclass(frozen=True)
class Completion:
    """One answer resolved against the request's limits.

    Attributes:
        content: Text after ``max_tokens`` is applied, or ``None``.
        tool_calls: Tool calls in the wire format.
        finish_reason: Why generation stopped.
        prompt_tokens: Words in the request's messages.
        completion_tokens: Words in the answer and tool-call arguments.
    """

    content: str | None
    tool_calls: list[dict[str, Any]]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


def resolve(body: dict[str, Any], reply: Reply, call_prefix: str) -> Completion:
    """Apply ``max_tokens``/``max_completion_tokens`` and count tokens.

    Args:
        body: The chat request.
        reply: The chosen reply.
        call_prefix: Prefix for default tool-call ids (unique per response).

    Returns:
        The answer as it will be sent.
    """
    content = reply.content
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if content is not None and isinstance(limit, int) and count_words(content) > limit:
        content = " ".join(content.split()[:limit])
        finish = "length"
    tool_calls = [
        _tool_call_body(call, f"{call_prefix}_{i}") for i, call in enumerate(reply.tool_calls)
    ]
    prompt = sum(count_words(message_text(m)) for m in body["messages"])
    completion = count_words(content or "") + sum(
        count_words(call["function"]["arguments"]) for call in tool_calls
    )
    return Completion(content, tool_calls, finish, prompt, completion)


def usage_body(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    """The ``usage`` object of a response."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion_body(
    response_id: str, model: str, completion: Completion, n: int = 1
) -> dict[str, Any]:
    """A ``chat.completion`` object with ``n`` identical choices."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": completion.content,
        "refusal": None,
    }
    if completion.tool_calls:
        message["tool_calls"] = completion.tool_calls
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [
            {
                "index": index,
                "message": message,
                "logprobs": None,
                "finish_reason": completion.finish_reason,
            }
            for index in range(n)
        ],
        "usage": usage_body(completion.prompt_tokens, completion.completion_tokens * n),
    }


def stream_pieces(text: str) -> list[str]:
    """Split text into stream deltas, one word each with its leading whitespace kept,
    so the deltas concatenate back to exactly ``text``."""
    return [piece for piece in re.split(r"(?<=\s)(?=\S)", text) if piece]


def chunk_bodies(
    response_id: str, model: str, completion: Completion, include_usage: bool
) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer, in order.

    Args:
        response_id: Id shared by all chunks.
        model: Model echoed from the request.
        completion: The answer.
        include_usage: ``stream_options.include_usage``: every chunk has
            ``"usage": null`` and a last chunk with no choices carries the usage.

    Yields:
        Chunk objects (without the SSE framing).
    """

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": response_id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if include_usage:
            body["usage"] = None
        return body

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in stream_pieces(completion.content or ""):
        yield chunk({"content": piece})
    for index, call in enumerate(completion.tool_calls):
        yield chunk({"tool_calls": [{"index": index, **call}]})
    yield chunk({}, completion.finish_reason)
    if include_usage:
        final = chunk({})
        final["choices"] = []
        final["usage"] = usage_body(completion.prompt_tokens, completion.completion_tokens)
        yield final


def embedding_vector(model: str, text: str, dimensions: int) -> list[float]:
    """A unit-length vector determined by ``model`` and ``text`` (no semantics: equal
    texts get equal vectors, different texts unrelated ones)."""
    values: list[float] = []
    block = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{model}\0{text}\0{block}".encode()).digest()
        for offset in range(0, len(digest), 4):
            (word,) = struct.unpack_from(">I", digest, offset)
            values.append(word / 0xFFFFFFFF * 2.0 - 1.0)
        block += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embedding_inputs(raw: Any) -> list[str] | None:
    """The texts of an embeddings request (token arrays become their numbers as text),
    or ``None`` when ``input`` has no usable shape."""
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or not raw:
        return None
    if all(isinstance(item, int) for item in raw):
        return [" ".join(str(item) for item in raw)]
    texts: list[str] = []
    for item in raw:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, list) and all(isinstance(t, int) for t in item):
            texts.append(" ".join(str(t) for t in item))
        else:
            return None
    return texts


def embeddings_body(
    model: str, texts: Sequence[str], dimensions: int, encoding_format: str
) -> dict[str, Any]:
    """An embeddings ``list`` response; ``base64`` packs little-endian float32 as the
    API does (the openai client asks for it by default)."""
    data = []
    for index, text in enumerate(texts):
        vector = embedding_vector(model, text, dimensions)
        encoded: list[float] | str = vector
        if encoding_format == "base64":
            encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(count_words(text) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
