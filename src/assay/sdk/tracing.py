"""Spans for an app's own steps: the ``span()`` block and the ``Span`` it yields.

(The ``@trace`` decorator, in :mod:`assay.sdk.decorator`, builds on ``span()``.)

Each span carries two vocabularies so any backend reads it:

- OpenTelemetry GenAI semantic conventions (``gen_ai.operation.name``,
  ``gen_ai.request.model``, ``gen_ai.usage.*``, ``gen_ai.input.messages``, ...);
- OpenInference names for the generic parts (``openinference.span.kind``,
  ``input.value``/``output.value`` with their ``*.mime_type``), which is what the
  assay server reads for a span's input, output and kind.

Spans are made on the provider chosen by :func:`assay.sdk.init`, or on the global
provider before ``init()`` (a no-op until someone configures OpenTelemetry), and
nest through the ordinary OpenTelemetry context, so they parent correctly under
and over spans from other instrumentation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, get_args

from opentelemetry import trace as trace_api
from opentelemetry.trace import Status, StatusCode

from assay.errors import InvalidInput
from assay.sdk.config import active_handle
from assay.sdk.messages import to_genai_messages
from assay.sdk.serialize import (
    DEFAULT_MAX_VALUE_CHARS,
    serialize_value,
    to_attribute,
    to_json,
    truncate,
)

SpanKindName = Literal["llm", "retrieval", "tool", "chain", "agent", "embedding"]
"""What a span does; decides ``openinference.span.kind`` and ``gen_ai.operation.name``."""

SPAN_KINDS: tuple[str, ...] = get_args(SpanKindName)

OPENINFERENCE_KINDS: dict[str, str] = {
    "llm": "LLM",
    "retrieval": "RETRIEVER",
    "tool": "TOOL",
    "chain": "CHAIN",
    "agent": "AGENT",
    "embedding": "EMBEDDING",
}
# A chain is an app-defined step with no GenAI operation of its own.
GENAI_OPERATIONS: dict[str, str] = {
    "llm": "chat",
    "retrieval": "retrieval",
    "tool": "execute_tool",
    "agent": "invoke_agent",
    "embedding": "embeddings",
}
SLICE_PREFIX = "assay.slice."
TRACER_NAME = "assay.sdk"

_tracer_cache: tuple[trace_api.TracerProvider, trace_api.Tracer] | None = None


def _tracer() -> trace_api.Tracer:
    """The tracer of the provider ``init()`` chose, else of the global provider."""
    global _tracer_cache
    handle = active_handle()
    provider = handle.tracer_provider if handle is not None else trace_api.get_tracer_provider()
    cached = _tracer_cache
    if cached is not None and cached[0] is provider:
        return cached[1]
    tracer = provider.get_tracer(TRACER_NAME)
    _tracer_cache = (provider, tracer)
    return tracer


def _max_chars() -> int:
    handle = active_handle()
    return handle.max_value_chars if handle is not None else DEFAULT_MAX_VALUE_CHARS


def check_kind(kind: str) -> None:
    """Raise :class:`InvalidInput` unless ``kind`` is a :data:`SpanKindName`."""
    if kind not in SPAN_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(SPAN_KINDS)}; got {kind!r}")


def _format_trace_id(trace_id: int) -> str:
    return format(trace_id, "032x")


def _format_span_id(span_id: int) -> str:
    return format(span_id, "016x")


class Span:
    """A live span with helpers for the attributes assay understands.

    Obtained from :func:`span` or :func:`current_span`; every setter returns
    nothing and may be called any number of times (the last value wins).
    """

    def __init__(self, otel_span: trace_api.Span, max_chars: int | None = None) -> None:
        self._span = otel_span
        self._max_chars = max_chars if max_chars is not None else _max_chars()
        self._has_input = False
        self._has_output = False

    @property
    def otel_span(self) -> trace_api.Span:
        """The underlying OpenTelemetry span, for anything not covered here."""
        return self._span

    @property
    def trace_id(self) -> str:
        """The trace id as 32 lowercase hex digits."""
        return _format_trace_id(self._span.get_span_context().trace_id)

    @property
    def span_id(self) -> str:
        """The span id as 16 lowercase hex digits."""
        return _format_span_id(self._span.get_span_context().span_id)

    def set_attribute(self, key: str, value: Any) -> None:
        """Set an attribute; non-primitive values are stored as JSON text.

        Args:
            key: Attribute name.
            value: Any value; ``None`` is ignored.
        """
        coerced = to_attribute(value, self._max_chars)
        if coerced is not None:
            self._span.set_attribute(key, coerced)

    def _set_value(self, prefix: str, value: Any) -> None:
        text, mime_type, cut = serialize_value(value, self._max_chars)
        self._span.set_attribute(f"{prefix}.value", text)
        self._span.set_attribute(f"{prefix}.mime_type", mime_type)
        if cut:
            self._span.set_attribute(f"assay.{prefix}.truncated", True)

    def set_input(self, value: Any) -> None:
        """Record the step's input (``input.value``; strings verbatim, else JSON).

        Args:
            value: The input.
        """
        self._set_value("input", value)
        self._has_input = True

    def set_output(self, value: Any) -> None:
        """Record the step's output (``output.value``; strings verbatim, else JSON).

        Args:
            value: The output.
        """
        self._set_value("output", value)
        self._has_output = True

    def set_model(self, model: str, provider: str | None = None) -> None:
        """Record the model called (``gen_ai.request.model``, ``gen_ai.provider.name``).

        Args:
            model: Model name as sent to the provider, e.g. ``gpt-4o-mini``.
            provider: Provider name in GenAI terms, e.g. ``openai``, ``anthropic``,
                ``aws.bedrock``.
        """
        self._span.set_attribute("gen_ai.request.model", model)
        if provider is not None:
            self._span.set_attribute("gen_ai.provider.name", provider)

    def set_usage(self, input_tokens: int | None, output_tokens: int | None) -> None:
        """Record token counts (``gen_ai.usage.input_tokens``/``output_tokens``).

        Args:
            input_tokens: Prompt tokens; ``None`` leaves it unset.
            output_tokens: Completion tokens; ``None`` leaves it unset.
        """
        if input_tokens is not None:
            self._span.set_attribute("gen_ai.usage.input_tokens", int(input_tokens))
        if output_tokens is not None:
            self._span.set_attribute("gen_ai.usage.output_tokens", int(output_tokens))

    def set_messages(self, input_messages: Any, output_messages: Any = None) -> None:
        """Record chat messages (``gen_ai.input.messages``/``gen_ai.output.messages``).

        OpenAI-style ``{"role", "content", "tool_calls"}`` dicts (or the openai
        client's message objects, or plain strings) are converted to the GenAI
        ``{"role", "parts"}`` shape. When no input (output) was set explicitly the
        messages also become the span's ``input.value`` (``output.value``).

        Args:
            input_messages: Messages sent to the model, or ``None``.
            output_messages: Messages the model returned, or ``None``.
        """
        if input_messages is not None:
            converted = to_genai_messages(input_messages)
            self._span.set_attribute(
                "gen_ai.input.messages", truncate(to_json(converted), self._max_chars)[0]
            )
            if not self._has_input:
                self._set_value("input", input_messages)
        if output_messages is not None:
            converted = to_genai_messages(output_messages, output=True)
            self._span.set_attribute(
                "gen_ai.output.messages", truncate(to_json(converted), self._max_chars)[0]
            )
            if not self._has_output:
                self._set_value("output", output_messages)

    def set_slice(self, key: str, value: Any) -> None:
        """Tag the span with a slice (``assay.slice.<key>``): locale, tier, channel...

        Args:
            key: Slice name.
            value: Slice value.
        """
        self.set_attribute(f"{SLICE_PREFIX}{key}", value)

    def set_documents(self, documents: Sequence[Any]) -> None:
        """Record retrieved documents, in OpenInference's ``retrieval.documents.*``.

        Args:
            documents: Strings, dicts with ``content`` (or ``page_content`` or
                ``text``) and optional ``id``, ``score``, ``metadata``, or objects
                with those attributes (e.g. LangChain documents). They also become
                the span's ``output.value`` unless an output was set.
        """
        records: list[dict[str, Any]] = []
        for index, document in enumerate(documents):
            record = _document_record(document)
            records.append(record)
            prefix = f"retrieval.documents.{index}.document."
            for field in ("id", "content", "score"):
                if record.get(field) is not None:
                    self.set_attribute(prefix + field, record[field])
            if record.get("metadata") is not None:
                self.set_attribute(prefix + "metadata", to_json(record["metadata"]))
        if not self._has_output:
            self._set_value("output", records)

    def record_error(self, error: BaseException) -> None:
        """Mark the span failed: status ERROR, ``error.type``, an exception event.

        Args:
            error: The exception.
        """
        kind = type(error)
        qualified = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else (f"{kind.__module__}.{kind.__qualname__}")
        )
        self._span.set_attribute("error.type", qualified)
        self._span.record_exception(error)
        self._span.set_status(Status(StatusCode.ERROR, f"{kind.__name__}: {error}"))


def _document_record(document: Any) -> dict[str, Any]:
    """A retrieved document as ``{"id", "content", "score", "metadata"}``."""
    if isinstance(document, str):
        return {"content": document}
    if isinstance(document, Mapping):
        get = document.get
    else:

        def get(name: str, default: Any = None) -> Any:
            return getattr(document, name, default)

    content = get("content") or get("page_content") or get("text")
    return {
        "id": get("id"),
        "content": content if isinstance(content, str) or content is None else to_json(content),
        "score": get("score"),
        "metadata": get("metadata"),
    }


def _kind_attributes(kind: str, name: str) -> dict[str, str]:
    """Attributes every span of ``kind`` starts with."""
    attributes = {"openinference.span.kind": OPENINFERENCE_KINDS[kind]}
    operation = GENAI_OPERATIONS.get(kind)
    if operation is not None:
        attributes["gen_ai.operation.name"] = operation
    if kind == "tool":
        attributes["gen_ai.tool.name"] = name
    elif kind == "agent":
        attributes["gen_ai.agent.name"] = name
    return attributes


@contextmanager
def open_span(
    name: str, kind: str, max_chars: int | None, attributes: Mapping[str, Any]
) -> Iterator[Span]:
    """:func:`span` with an explicit size limit (used by the ``@trace`` decorator)."""
    check_kind(kind)
    with _tracer().start_as_current_span(
        name,
        attributes=_kind_attributes(kind, name),
        record_exception=False,
        set_status_on_exception=False,
    ) as otel_span:
        wrapper = Span(otel_span, max_chars)
        for key, value in attributes.items():
            wrapper.set_attribute(key, value)
        try:
            yield wrapper
        except BaseException as error:
            wrapper.record_error(error)
            raise


@contextmanager
def span(name: str, kind: SpanKindName = "chain", **attributes: Any) -> Iterator[Span]:
    """Trace a block of code as one span.

    An exception leaving the block marks the span failed (status ERROR, an
    ``exception`` event, ``error.type``) and propagates unchanged.

    Args:
        name: Span name.
        kind: What the step is: ``llm``, ``retrieval``, ``tool``, ``chain``,
            ``agent`` or ``embedding``.
        **attributes: Extra span attributes (non-primitive values become JSON).

    Yields:
        The span, with setters for input, output, model, usage, messages, slices
        and documents.

    Raises:
        InvalidInput: ``kind`` is not one of the above.

    Example:
        >>> with span("retrieve", kind="retrieval") as s:  # doctest: +SKIP
        ...     s.set_input(question)
        ...     s.set_documents(search(question))
    """
    with open_span(name, kind, None, attributes) as wrapper:
        yield wrapper


def current_span() -> Span | None:
    """The active span (from assay or any instrumentation), or ``None``.

    Useful inside a ``@trace``-decorated function to add the model or usage.
    """
    otel_span = trace_api.get_current_span()
    if not otel_span.get_span_context().is_valid:
        return None
    return Span(otel_span)


def current_trace_id() -> str | None:
    """The active trace's id as 32 hex digits, or ``None`` outside any span.

    Pass it to :func:`assay.sdk.feedback` once the user reacts to the answer.
    """
    context = trace_api.get_current_span().get_span_context()
    return _format_trace_id(context.trace_id) if context.is_valid else None
