"""OTLP log records carrying GenAI message content, and the logs export request.

Two shapes exist in the wild: the older per-message events (``gen_ai.user.message``,
``gen_ai.choice``... with the message in the body) and the newer single
``gen_ai.client.inference.operation.details`` record (messages in attributes).
Re-exported by :mod:`assay.testing.otlp`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

from assay.testing.otlp_encoding import (
    DEFAULT_IDS,
    DEFAULT_SERVICE_NAME,
    SCOPE_NAME,
    any_value,
    id_bytes,
    key_values,
    make_resource,
)


def genai_log_record(
    event_name: str,
    body: Mapping[str, Any] | None,
    *,
    trace_id: bytes | str | None = None,
    span_id: bytes | str | None = None,
    provider: str = "openai",
    time_ns: int | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> LogRecord:
    """A GenAI event as a log record, correlated to a span.

    The event name goes in the record's ``event_name`` field and in the
    ``event.name`` attribute (older receivers read only the attribute).

    Args:
        event_name: E.g. ``gen_ai.user.message`` or ``gen_ai.choice``.
        body: The event body, sent as an ``AnyValue`` kvlist; ``None`` leaves it unset.
        trace_id: Trace to correlate with (bytes or hex); none if omitted.
        span_id: Span to correlate with (bytes or hex); none if omitted.
        provider: ``gen_ai.system`` attribute, as the event conventions name it.
        time_ns: Timestamp; now by default.
        attributes: Extra attributes.

    Returns:
        The log record.
    """
    merged: dict[str, Any] = {"event.name": event_name, "gen_ai.system": provider}
    merged.update(attributes or {})
    now = time_ns if time_ns is not None else time.time_ns()
    record = LogRecord(
        time_unix_nano=now,
        observed_time_unix_nano=now,
        attributes=key_values(merged),
    )
    if body is not None:
        record.body.CopyFrom(any_value(dict(body)))
    if "event_name" in LogRecord.DESCRIPTOR.fields_by_name:
        record.event_name = event_name
    if trace_id is not None:
        record.trace_id = id_bytes(trace_id, 16, DEFAULT_IDS.trace_id)
    if span_id is not None:
        record.span_id = id_bytes(span_id, 8, DEFAULT_IDS.span_id)
    return record


def genai_chat_log_records(
    *,
    trace_id: bytes | str,
    span_id: bytes | str,
    prompt: str = "What is the capital of France?",
    completion: str = "The capital of France is Paris.",
    system: str | None = None,
    provider: str = "openai",
    time_ns: int | None = None,
) -> list[LogRecord]:
    """The content events of one chat call: optional ``gen_ai.system.message``, then
    ``gen_ai.user.message`` and ``gen_ai.choice``.

    Args:
        trace_id: The chat span's trace.
        span_id: The chat span.
        prompt: User message content.
        completion: Assistant answer content.
        system: System message content, if any.
        provider: ``gen_ai.system``.
        time_ns: Timestamp of all records; now by default.

    Returns:
        The records, in conversation order.
    """
    events: list[tuple[str, dict[str, Any]]] = []
    if system is not None:
        events.append(("gen_ai.system.message", {"role": "system", "content": system}))
    events.append(("gen_ai.user.message", {"role": "user", "content": prompt}))
    choice = {
        "index": 0,
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": completion},
    }
    events.append(("gen_ai.choice", choice))
    return [
        genai_log_record(
            name, body, trace_id=trace_id, span_id=span_id, provider=provider, time_ns=time_ns
        )
        for name, body in events
    ]


def genai_operation_details_record(
    *,
    trace_id: bytes | str,
    span_id: bytes | str,
    model: str = "gpt-4o-mini",
    provider: str = "openai",
    prompt: str = "What is the capital of France?",
    completion: str = "The capital of France is Paris.",
    system: str | None = None,
    time_ns: int | None = None,
) -> LogRecord:
    """One chat call's content as the newer GenAI conventions send it: a single
    ``gen_ai.client.inference.operation.details`` record whose attributes hold the
    messages as structured values (what ``opentelemetry-instrumentation-openai-v2``
    emits with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=EVENT_ONLY``).

    Args:
        trace_id: The chat span's trace.
        span_id: The chat span.
        model: ``gen_ai.request.model``/``gen_ai.response.model``.
        provider: ``gen_ai.provider.name``.
        prompt: User message content.
        completion: Assistant answer content.
        system: System message content, if any.
        time_ns: Timestamp; now by default.

    Returns:
        The record (no body; everything is in attributes).
    """
    inputs = [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
    if system is not None:
        inputs.insert(0, {"role": "system", "parts": [{"type": "text", "content": system}]})
    outputs = [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": completion}],
            "finish_reason": "stop",
        }
    ]
    details = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.input.messages": inputs,
        "gen_ai.output.messages": outputs,
    }
    record = genai_log_record(
        "gen_ai.client.inference.operation.details",
        None,
        trace_id=trace_id,
        span_id=span_id,
        provider=provider,
        time_ns=time_ns,
        attributes=details,
    )
    # The newer conventions dropped gen_ai.system in favour of gen_ai.provider.name.
    kept = [kv for kv in record.attributes if kv.key != "gen_ai.system"]
    del record.attributes[:]
    record.attributes.extend(kept)
    return record


def export_logs_request(
    records: Sequence[LogRecord],
    *,
    service_name: str = DEFAULT_SERVICE_NAME,
    release: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    scope_name: str = SCOPE_NAME,
) -> ExportLogsServiceRequest:
    """Wrap log records in an ``ExportLogsServiceRequest`` (one resource, one scope).

    Args:
        records: The records.
        service_name: Resource ``service.name``.
        release: Resource ``assay.release``.
        resource_attributes: More resource attributes.
        scope_name: Instrumentation scope name.

    Returns:
        The request; ``SerializeToString()`` gives the body for ``/v1/logs``.
    """
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=make_resource(service_name, release, resource_attributes),
                scope_logs=[
                    ScopeLogs(scope=InstrumentationScope(name=scope_name), log_records=records)
                ],
            )
        ]
    )
