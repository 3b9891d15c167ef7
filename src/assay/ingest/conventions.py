"""What a span means, read from OpenTelemetry GenAI and OpenInference attributes.

Each function takes a span's attribute dict and answers one question (kind, model,
tokens, input, ...), trying the conventions in a documented order. See
docs/concepts/ingest.md for the full mapping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from assay.ingest import messages as msgs

OPENINFERENCE_KINDS = {
    "LLM": "llm",
    "CHAIN": "chain",
    "RETRIEVER": "retrieval",
    "TOOL": "tool",
    "AGENT": "agent",
    "EMBEDDING": "embedding",
    "RERANKER": "reranker",
    "GUARDRAIL": "guardrail",
    "EVALUATOR": "evaluator",
}
GENAI_OPERATIONS = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "embeddings": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "retrieval": "retrieval",
}
KINDS = frozenset({*OPENINFERENCE_KINDS.values(), "span"})


def kind(attrs: dict[str, Any]) -> str:
    """The span kind: llm, retrieval, tool, chain, agent, embedding, ... or ``span``."""
    oi = attrs.get("openinference.span.kind")
    if isinstance(oi, str) and oi.upper() in OPENINFERENCE_KINDS:
        return OPENINFERENCE_KINDS[oi.upper()]
    op = attrs.get("gen_ai.operation.name")
    if isinstance(op, str) and op in GENAI_OPERATIONS:
        return GENAI_OPERATIONS[op]
    if (
        "gen_ai.system" in attrs
        or "gen_ai.provider.name" in attrs
        or "gen_ai.request.model" in attrs
    ):
        return "llm"
    if "retrieval.documents.0.document.content" in attrs:
        return "retrieval"
    return "span"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def model(attrs: dict[str, Any]) -> str | None:
    """The model that answered (the response model wins over the requested one)."""
    return (
        _str(attrs.get("gen_ai.response.model"))
        or _str(attrs.get("gen_ai.request.model"))
        or _str(attrs.get("llm.model_name"))
        or _str(attrs.get("embedding.model_name"))
    )


def provider(attrs: dict[str, Any]) -> str | None:
    """The provider or system (openai, anthropic, ...)."""
    return (
        _str(attrs.get("gen_ai.provider.name"))
        or _str(attrs.get("gen_ai.system"))
        or _str(attrs.get("llm.provider"))
        or _str(attrs.get("llm.system"))
    )


# No call uses a trillion tokens; larger (or negative, or non-finite) counts are
# junk, and would overflow a trace's BIGINT sum.
MAX_TOKENS = 10**12


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value)
    elif isinstance(value, str) and value.isdecimal():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_TOKENS:
        return value
    return None


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None:
            return value
    return None


PROMPT_TOKEN_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
)
COMPLETION_TOKEN_KEYS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
)


def tokens(attrs: dict[str, Any]) -> tuple[int | None, int | None]:
    """Prompt (input) and completion (output) token counts."""
    return _int(_first(attrs, PROMPT_TOKEN_KEYS)), _int(_first(attrs, COMPLETION_TOKEN_KEYS))


def reported_cost(attrs: dict[str, Any]) -> float | None:
    """A cost the app computed itself, in USD."""
    for key in ("llm.cost.total", "gen_ai.usage.cost", "assay.cost"):
        value = attrs.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def session_id(attrs: dict[str, Any]) -> str | None:
    """The conversation or session the span belongs to."""
    return (
        _str(attrs.get("session.id"))
        or _str(attrs.get("gen_ai.conversation.id"))
        or _str(attrs.get("assay.session_id"))
    )


def user_id(attrs: dict[str, Any]) -> str | None:
    """The end user the span served."""
    return (
        _str(attrs.get("user.id"))
        or _str(attrs.get("enduser.id"))
        or _str(attrs.get("assay.user_id"))
    )


class Content:
    """A span's input and output text, and the attribute keys they were read from."""

    __slots__ = ("input", "output", "used")

    def __init__(self) -> None:
        self.input: str | None = None
        self.output: str | None = None
        self.used: set[str] = set()


FLAT_PREFIXES = (
    "llm.input_messages.",
    "llm.output_messages.",
    "gen_ai.prompt.",
    "gen_ai.completion.",
)


def flat_prefixes(keys: Iterable[str]) -> frozenset[str]:
    """Which flattened message-list prefixes occur among ``keys``."""
    found = [k for k in keys if k.startswith(FLAT_PREFIXES)]
    if not found:
        return frozenset()
    return frozenset(p for p in FLAT_PREFIXES if any(k.startswith(p) for k in found))


def _messages(
    attrs: dict[str, Any], side: str, flat: frozenset[str]
) -> tuple[list[msgs.Message] | None, set[str]]:
    """Chat messages of one side (``input`` or ``output``) and the keys they came from."""
    role = "user" if side == "input" else "assistant"
    genai_key = f"gen_ai.{side}.messages"
    oi_prefix = f"llm.{side}_messages"
    legacy = "gen_ai.prompt" if side == "input" else "gen_ai.completion"
    if genai_key in attrs:
        found = msgs.from_genai_json(attrs[genai_key], role)
        keys = {genai_key}
        system = attrs.get("gen_ai.system_instructions")
        if side == "input" and found is not None and system is not None:
            sys_msgs = msgs.from_genai_json(system, "system") or []
            found = [{**m, "role": "system"} for m in sys_msgs] + found
            keys.add("gen_ai.system_instructions")
        return found, keys
    if oi_prefix + "." in flat:
        return msgs.from_flat(attrs, oi_prefix, ("message.role", "message.content")), {
            oi_prefix + "."
        }
    if legacy + "." in flat:
        return msgs.from_flat(attrs, legacy, ("role", "content")), {legacy + "."}
    if isinstance(attrs.get(legacy), str):
        return msgs.from_genai_json(attrs[legacy], role), {legacy}
    return None, set()


def content(
    attrs: dict[str, Any],
    span_kind: str,
    events: list[tuple[str, dict[str, Any]]],
    flat: frozenset[str] = frozenset(),
) -> Content:
    """Input and output of a span, from attributes first, then from content events.

    For LLM and embedding spans chat messages win over ``input.value`` (which
    OpenInference fills with the raw request); for other spans the value wins.
    """
    out = Content()
    prefer_messages = span_kind in ("llm", "embedding")
    for side in ("input", "output"):
        value = attrs.get(f"{side}.value")
        genai_key = f"gen_ai.{side}.messages"
        genai = attrs.get(genai_key)
        text: str | None = None
        if (
            isinstance(genai, str)
            and genai[:1] == "["
            and (prefer_messages or value is None)
            and (side == "output" or "gen_ai.system_instructions" not in attrs)
        ):
            # Stored as sent: GenAI message JSON is folded into role/content messages
            # when read (assay.traces.content), which spares the hot path a parse and
            # a re-serialisation per span (~40% of normalising a chat span).
            out.used.add(genai_key)
            if side == "input":
                out.input = genai
            else:
                out.output = genai
            continue
        found, keys = _messages(attrs, side, flat)
        if found and (prefer_messages or value is None):
            text = msgs.dumps(found)
            out.used |= keys
        elif value is not None:
            text = value if isinstance(value, str) else msgs.dumps(value)
            out.used |= {f"{side}.value", f"{side}.mime_type"}
        if side == "input":
            out.input = text
        else:
            out.output = text
    if (out.input is None or out.output is None) and events:
        ev_in, ev_out = msgs.from_events(events)
        if out.input is None and ev_in:
            out.input = msgs.dumps(ev_in)
        if out.output is None and ev_out:
            out.output = msgs.dumps(ev_out)
    return out


def drop_used(attrs: dict[str, Any], used: set[str], flat_keys: Iterable[str]) -> None:
    """Remove the attributes folded into input/output, so they are not kept twice.

    ``used`` holds exact keys and flattened-list prefixes (``llm.input_messages.``);
    ``flat_keys`` are the keys that may start with one of those prefixes.
    """
    for key in used:
        attrs.pop(key, None)
    prefixes = tuple(p for p in FLAT_PREFIXES if p in used)
    if prefixes:
        for key in flat_keys:
            if key.startswith(prefixes):
                attrs.pop(key, None)
