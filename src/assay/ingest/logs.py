"""OTLP log records that carry GenAI message content for a span.

The official GenAI instrumentations (``opentelemetry-instrumentation-openai-v2`` with
content capture on, and others following the GenAI event conventions) put prompts
and completions not on the span but in log records named ``gen_ai.user.message``,
``gen_ai.choice`` and so on, carrying the span's trace and span ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from assay.ingest.attributes import any_value, to_dict
from assay.ingest.messages import CONTENT_EVENTS, OPERATION_DETAILS
from assay.ingest.normalize import MAX_TIME_NS
from assay.projects.service import ProjectConfig

_DETAIL_KEYS = frozenset(
    {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"}
)
NOT_CONTENT = (
    "assay keeps only GenAI content events (gen_ai.*.message, gen_ai.choice) that carry "
    "a trace and span id; other log records are not stored"
)


@dataclass
class LogBatch:
    """Span log rows of one request, for the writer."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    nbytes: int = 0


def event_name(record: Any, attrs: dict[str, Any]) -> str:
    """The event name of a log record: the ``event_name`` field, else ``event.name``."""
    name = getattr(record, "event_name", "") or attrs.get("event.name") or ""
    return str(name)


def normalize_logs(request: Any, config: ProjectConfig) -> LogBatch:
    """Keep the GenAI content events of an ``ExportLogsServiceRequest``."""
    batch = LogBatch()
    redactor = config.redactor
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attrs = to_dict(record.attributes)
                name = event_name(record, attrs)
                time_ns = record.time_unix_nano or record.observed_time_unix_nano
                if (
                    name not in CONTENT_EVENTS
                    or len(record.trace_id) != 16
                    or len(record.span_id) != 8
                    or time_ns > MAX_TIME_NS
                ):
                    batch.rejected += 1
                    continue
                body = any_value(record.body) if record.HasField("body") else None
                if name == OPERATION_DETAILS and body is None:
                    # The messages travel as structured attributes of this event.
                    body = {k: v for k, v in attrs.items() if k in _DETAIL_KEYS}
                if not isinstance(body, dict):
                    body = {"content": body} if body is not None else {}
                if redactor.active:
                    body = redactor.value(body)
                text = orjson.dumps(body).decode()
                batch.rows.append(
                    {
                        "project_id": config.project_id,
                        "trace_id": record.trace_id.hex(),
                        "span_id": record.span_id.hex(),
                        "event_name": name,
                        "time_ns": time_ns,
                        "body": text,
                    }
                )
                batch.nbytes += 300 + len(text)
    return batch
