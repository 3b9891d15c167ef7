"""Build OTLP trace and log export requests for tests, as protobuf or OTLP/JSON.

The builders make what an instrumented LLM app sends: GenAI semantic-convention
spans (``gen_ai.*``), OpenInference spans (``llm.*``, ``input.value``), traces of
a root with children, and GenAI content log records: the older per-message events
(``gen_ai.user.message``, ``gen_ai.choice``...) and the newer single
``gen_ai.client.inference.operation.details`` record. Post the protobuf bytes to ``/v1/traces`` with
``Content-Type: application/x-protobuf``, or :func:`to_otlp_json` with
``application/json``.

Ids are deterministic: they come from an :class:`IdFactory` (seed + counter).
Builders default to a module-wide factory, so separate calls never collide
within a process; pass your own ``IdFactory(seed)`` for ids that repeat run to run.

Example:
    >>> ids = IdFactory(seed=1)
    >>> span = genai_llm_span(ids=ids, prompt="Hi", completion="Hello!")
    >>> request = export_trace_request([span], service_name="bot", release="v3")
    >>> body = request.SerializeToString()  # POST to /v1/traces
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from assay.testing.otlp_encoding import (
    DEFAULT_IDS,
    DEFAULT_SERVICE_NAME,
    SCOPE_NAME,
    IdFactory,
    any_value,
    hex_id,
    id_bytes,
    key_values,
    make_resource,
    to_otlp_json,
)
from assay.testing.otlp_logs import (
    export_logs_request,
    genai_chat_log_records,
    genai_log_record,
    genai_operation_details_record,
)

__all__ = [
    "DEFAULT_IDS",
    "DEFAULT_SERVICE_NAME",
    "SCOPE_NAME",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_INTERNAL",
    "ChildBuilder",
    "IdFactory",
    "any_value",
    "export_logs_request",
    "export_trace_request",
    "genai_chat_log_records",
    "genai_llm_span",
    "genai_log_record",
    "genai_operation_details_record",
    "hex_id",
    "key_values",
    "make_resource",
    "make_span",
    "openinference_llm_span",
    "to_otlp_json",
    "trace_with_children",
]

SPAN_KIND_INTERNAL = Span.SPAN_KIND_INTERNAL
SPAN_KIND_CLIENT = Span.SPAN_KIND_CLIENT
StatusName = Literal["unset", "ok", "error"]
_STATUS_CODES = {
    "unset": Status.STATUS_CODE_UNSET,
    "ok": Status.STATUS_CODE_OK,
    "error": Status.STATUS_CODE_ERROR,
}


def make_span(
    name: str,
    *,
    trace_id: bytes | str | None = None,
    span_id: bytes | str | None = None,
    parent_span_id: bytes | str | None = None,
    attributes: Mapping[str, Any] | None = None,
    kind: Span.SpanKind.ValueType = SPAN_KIND_INTERNAL,
    start_ns: int | None = None,
    duration_ms: float = 100.0,
    status: StatusName = "unset",
    status_message: str = "",
    events: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ids: IdFactory | None = None,
) -> Span:
    """Any span.

    Args:
        name: Span name.
        trace_id: 16 bytes or 32 hex digits; a new id by default.
        span_id: 8 bytes or 16 hex digits; a new id by default.
        parent_span_id: Parent's span id; a root span without it.
        attributes: Span attributes (any JSON-like values).
        kind: An OTLP ``Span.SpanKind`` value.
        start_ns: Start, in Unix nanoseconds; so that the span ends now by default.
        duration_ms: Duration.
        status: ``unset``, ``ok`` or ``error``.
        status_message: Status description (kept for ``error``).
        events: ``(name, attributes)`` pairs, stamped at the span's start.
        ids: Factory for the ids not given.

    Returns:
        The span message.
    """
    factory = ids or DEFAULT_IDS
    duration_ns = int(duration_ms * 1_000_000)
    start = start_ns if start_ns is not None else time.time_ns() - duration_ns
    span = Span(
        trace_id=id_bytes(trace_id, 16, factory.trace_id),
        span_id=id_bytes(span_id, 8, factory.span_id),
        name=name,
        kind=kind,
        start_time_unix_nano=start,
        end_time_unix_nano=start + duration_ns,
        attributes=key_values(attributes),
        status=Status(code=_STATUS_CODES[status], message=status_message),
    )
    if parent_span_id is not None:
        span.parent_span_id = id_bytes(parent_span_id, 8, factory.span_id)
    for event_name, event_attributes in events:
        span.events.add(
            time_unix_nano=start, name=event_name, attributes=key_values(event_attributes)
        )
    return span


def _word_count(text: str) -> int:
    return len(text.split())


def genai_llm_span(
    *,
    model: str = "gpt-4o-mini",
    provider: str = "openai",
    prompt: str = "What is the capital of France?",
    completion: str = "The capital of France is Paris.",
    system: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    include_content: bool = True,
    attributes: Mapping[str, Any] | None = None,
    **span_options: Any,
) -> Span:
    """A chat call in the OpenTelemetry GenAI semantic conventions (a CLIENT span
    named ``chat <model>``).

    Args:
        model: ``gen_ai.request.model`` and ``gen_ai.response.model``.
        provider: ``gen_ai.provider.name``.
        prompt: The user message.
        completion: The assistant's answer.
        system: An optional system message before the prompt.
        input_tokens: ``gen_ai.usage.input_tokens``; word count of the messages if
            omitted.
        output_tokens: ``gen_ai.usage.output_tokens``; word count of the answer if
            omitted.
        include_content: Record ``gen_ai.input.messages``/``gen_ai.output.messages``
            (instrumentations leave content out unless asked; use
            :func:`genai_chat_log_records` for content sent as log events).
        attributes: Extra attributes (they win over the ones above).
        **span_options: Passed to :func:`make_span` (ids, parent, times, status...).

    Returns:
        The span message.
    """
    messages = [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
    if system is not None:
        messages.insert(0, {"role": "system", "parts": [{"type": "text", "content": system}]})
    merged: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": input_tokens
        if input_tokens is not None
        else _word_count(prompt) + _word_count(system or ""),
        "gen_ai.usage.output_tokens": output_tokens
        if output_tokens is not None
        else _word_count(completion),
    }
    if include_content:
        output = [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": completion}],
                "finish_reason": "stop",
            }
        ]
        merged["gen_ai.input.messages"] = json.dumps(messages)
        merged["gen_ai.output.messages"] = json.dumps(output)
    merged.update(attributes or {})
    span_options.setdefault("kind", SPAN_KIND_CLIENT)
    return make_span(f"chat {model}", attributes=merged, **span_options)


def openinference_llm_span(
    *,
    model: str = "gpt-4o-mini",
    provider: str = "openai",
    prompt: str = "What is the capital of France?",
    completion: str = "The capital of France is Paris.",
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    attributes: Mapping[str, Any] | None = None,
    **span_options: Any,
) -> Span:
    """A chat call as OpenInference's OpenAI instrumentation records it (an
    INTERNAL span named ``ChatCompletion`` with ``llm.*`` and ``input.value``).

    Args:
        model: ``llm.model_name``.
        provider: ``llm.provider`` and ``llm.system``.
        prompt: The user message.
        completion: The assistant's answer.
        prompt_tokens: ``llm.token_count.prompt``; word count if omitted.
        completion_tokens: ``llm.token_count.completion``; word count if omitted.
        attributes: Extra attributes (they win over the ones above).
        **span_options: Passed to :func:`make_span`.

    Returns:
        The span message.
    """
    prompt_count = prompt_tokens if prompt_tokens is not None else _word_count(prompt)
    completion_count = (
        completion_tokens if completion_tokens is not None else _word_count(completion)
    )
    request = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    merged: dict[str, Any] = {
        "openinference.span.kind": "LLM",
        "llm.system": provider,
        "llm.provider": provider,
        "llm.model_name": model,
        "input.value": json.dumps(request),
        "input.mime_type": "application/json",
        "output.value": completion,
        "output.mime_type": "text/plain",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": prompt,
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": completion,
        "llm.token_count.prompt": prompt_count,
        "llm.token_count.completion": completion_count,
        "llm.token_count.total": prompt_count + completion_count,
    }
    merged.update(attributes or {})
    return make_span("ChatCompletion", attributes=merged, **span_options)


ChildBuilder = Callable[[int, bytes, bytes, int], Span]
"""Makes child ``index`` of a trace from (index, trace id, parent span id, start ns)."""


def trace_with_children(
    n_children: int = 2,
    *,
    root_name: str = "answer_question",
    root_input: str = "What is the capital of France?",
    root_output: str = "The capital of France is Paris.",
    root_attributes: Mapping[str, Any] | None = None,
    child: ChildBuilder | None = None,
    start_ns: int | None = None,
    child_duration_ms: float = 100.0,
    ids: IdFactory | None = None,
) -> list[Span]:
    """A trace: one root CHAIN span with ``n_children`` sequential children.

    Args:
        n_children: Number of children.
        root_name: Root span name.
        root_input: Root ``input.value``.
        root_output: Root ``output.value``.
        root_attributes: Extra root attributes.
        child: Builds each child; by default a :func:`genai_llm_span` asking
            ``question <index>``.
        start_ns: Root start; so that the trace ends now by default.
        child_duration_ms: Duration of each default child (children follow each
            other back to back inside the root).
        ids: Id factory.

    Returns:
        Root first, then the children.
    """
    factory = ids or DEFAULT_IDS
    trace_id = factory.trace_id()
    root_id = factory.span_id()
    step_ns = int(child_duration_ms * 1_000_000)
    total_ms = child_duration_ms * max(n_children, 1) + 2.0
    start = start_ns if start_ns is not None else time.time_ns() - int(total_ms * 1_000_000)

    def default_child(index: int, trace: bytes, parent: bytes, begin: int) -> Span:
        return genai_llm_span(
            prompt=f"question {index}",
            completion=f"answer {index}",
            trace_id=trace,
            parent_span_id=parent,
            start_ns=begin,
            duration_ms=child_duration_ms,
            ids=factory,
        )

    build = child or default_child
    root_attrs: dict[str, Any] = {
        "openinference.span.kind": "CHAIN",
        "input.value": root_input,
        "input.mime_type": "text/plain",
        "output.value": root_output,
        "output.mime_type": "text/plain",
    }
    root_attrs.update(root_attributes or {})
    root = make_span(
        root_name,
        trace_id=trace_id,
        span_id=root_id,
        attributes=root_attrs,
        start_ns=start,
        duration_ms=total_ms,
        ids=factory,
    )
    children = [
        build(index, trace_id, root_id, start + 1_000_000 + index * step_ns)
        for index in range(n_children)
    ]
    return [root, *children]


def export_trace_request(
    spans: Sequence[Span],
    *,
    service_name: str = DEFAULT_SERVICE_NAME,
    release: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    scope_name: str = SCOPE_NAME,
    scope_version: str = "",
) -> ExportTraceServiceRequest:
    """Wrap spans in an ``ExportTraceServiceRequest`` (one resource, one scope).

    Args:
        spans: The spans.
        service_name: Resource ``service.name``.
        release: Resource ``assay.release``.
        resource_attributes: More resource attributes.
        scope_name: Instrumentation scope name.
        scope_version: Instrumentation scope version.

    Returns:
        The request; ``SerializeToString()`` gives the body for ``/v1/traces``.
    """
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=make_resource(service_name, release, resource_attributes),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(name=scope_name, version=scope_version),
                        spans=list(spans),
                    )
                ],
            )
        ]
    )
