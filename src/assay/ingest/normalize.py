"""OTLP export requests to rows of the spans table (plus what traces aggregate).

This is the ingest hot path: it runs once per span, so it reads attributes once,
serialises with orjson, and leaves everything else to the writer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from assay.errors import InvalidInput
from assay.ingest import conventions as conv
from assay.ingest.attributes import to_dict
from assay.ingest.feedback import FEEDBACK_EVENT, feedback_from_event, redact_feedback
from assay.ingest.messages import CONTENT_EVENTS
from assay.ingest.pricing import PriceTable
from assay.projects.service import ProjectConfig
from assay.redaction import Redactor

if TYPE_CHECKING:
    from assay.ingest.commit import Prepared

STATUS = {0: "unset", 1: "ok", 2: "error"}
SLICE_PREFIX = "assay.slice."
SPECIAL_PREFIXES = (*conv.FLAT_PREFIXES, SLICE_PREFIX)
NO_PREFIXES: frozenset[str] = frozenset()
# Rough per-row Python overhead on top of the text it holds (dict, ints, small strs),
# measured with tracemalloc on bench spans; used to bound the writer queue in bytes.
ROW_OVERHEAD_BYTES = 900


@dataclass(frozen=True)
class ResourceInfo:
    """What a trace takes from the OTLP resource its spans came with."""

    release_ref: str | None
    service_name: str | None
    resource_json: str
    slices: dict[str, Any]


@dataclass
class SpanBatch:
    """Normalised spans of one request, ready for the writer.

    ``rows`` are dicts of the spans table's columns; ``resources[i]`` and
    ``slices[i]`` belong to ``rows[i]``.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    resources: list[ResourceInfo] = field(default_factory=list)
    slices: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    nbytes: int = 0
    feedback: list[dict[str, Any]] = field(default_factory=list)
    """Feedback rows from ``assay.feedback`` span events; written only for spans
    that are new (a re-sent span brings no second copy)."""
    prepared: Prepared | None = field(default=None, repr=False, compare=False)
    """Set by :func:`assay.ingest.commit.prepare` once the rows are final."""

    def add(self, row: dict[str, Any], info: ResourceInfo, slices: dict[str, Any] | None) -> None:
        """Append one span's row, with its resource and the slices of its own."""
        self.rows.append(row)
        self.resources.append(info)
        self.slices.append({**info.slices, **slices} if slices else info.slices)
        self.nbytes += (
            ROW_OVERHEAD_BYTES
            + len(row["attributes"])
            + len(row["events"])
            + len(row["input"] or "")
            + len(row["output"] or "")
        )


# Times are unsigned 64-bit in OTLP but signed BIGINT in the store: past 2^63 - 1 ns
# (the year 2262) a time is junk, and would not fit.
MAX_TIME_NS = 2**63 - 1
TIME_RANGE_ERROR = "times must be below 2^63 nanoseconds since the epoch (the year 2262)"


def _reject(batch: SpanBatch, reason: str) -> None:
    batch.rejected += 1
    if len(batch.errors) < 5:
        batch.errors.append(reason)


def _slices_of(
    attrs: dict[str, Any], keys: frozenset[str], prefixed: Iterable[str]
) -> dict[str, Any]:
    """Slice values: declared ``keys`` and the ``assay.slice.*`` keys among ``prefixed``."""
    out: dict[str, Any] = {}
    for key in prefixed:
        if key.startswith(SLICE_PREFIX) and key in attrs:
            out[key[len(SLICE_PREFIX) :]] = attrs[key]
    if keys:
        for key in keys & attrs.keys():
            out[key] = attrs[key]
    return out


# Identifiers, not user data: a release fingerprint is 64 hex digits, and the phone
# and card detectors would otherwise take its digit runs for numbers to redact.
NEVER_REDACT = frozenset(
    {"assay.release", "service.version", "service.name", "service.instance.id"}
)


def _resource_info(resource: Any, config: ProjectConfig) -> ResourceInfo:
    return resource_info(to_dict(resource.attributes), config)


def resource_info(attrs: dict[str, Any], config: ProjectConfig) -> ResourceInfo:
    """What spans take from their resource's attributes, redacted by the project's rules."""
    if config.redactor.active:
        attrs = {k: v if k in NEVER_REDACT else config.redactor.value(v) for k, v in attrs.items()}
    release = attrs.get("assay.release") or attrs.get("service.version")
    service = attrs.get("service.name")
    return ResourceInfo(
        release_ref=str(release)[:200] if release is not None else None,
        service_name=str(service)[:200] if service is not None else None,
        resource_json=orjson.dumps(attrs).decode(),
        slices=_slices_of(attrs, config.slice_keys, attrs),
    )


def _events(
    span: Any,
) -> tuple[
    list[dict[str, Any]], list[tuple[str, dict[str, Any]]], list[tuple[int, dict[str, Any]]]
]:
    """Kept events (JSON-ready), GenAI content events (folded into input/output) and
    feedback events (stored as feedback)."""
    kept: list[dict[str, Any]] = []
    content: list[tuple[str, dict[str, Any]]] = []
    feedback: list[tuple[int, dict[str, Any]]] = []
    for ev in span.events:
        attrs = to_dict(ev.attributes)
        if ev.name in CONTENT_EVENTS:
            content.append((ev.name, attrs))
        elif ev.name == FEEDBACK_EVENT:
            feedback.append((ev.time_unix_nano, attrs))
        else:
            kept.append({"name": ev.name, "time_ns": ev.time_unix_nano, "attributes": attrs})
    return kept, content, feedback


def _feedback(
    batch: SpanBatch,
    events: list[tuple[int, dict[str, Any]]],
    row: dict[str, Any],
    redactor: Redactor,
) -> None:
    """Feedback rows of a span's ``assay.feedback`` events, redacted like the span.

    A malformed event stores nothing and is reported as a warning; the span is kept.
    """
    for time_ns, attrs in events:
        try:
            fb = feedback_from_event(attrs, time_ns)
        except InvalidInput as exc:
            if len(batch.errors) < 5:
                batch.errors.append(f"span {row['name']!r}: feedback event: {exc}")
            continue
        fb["value_text"], fb["comment"] = redact_feedback(
            fb["value_num"], fb["value_text"], fb["comment"], redactor
        )
        fb.update(project_id=row["project_id"], trace_id=row["trace_id"], span_id=row["span_id"])
        batch.feedback.append(fb)
        batch.nbytes += 200 + len(fb["value_text"] or "") + len(fb["comment"] or "")


def normalize_traces(request: Any, config: ProjectConfig, prices: PriceTable) -> SpanBatch:
    """Normalise an ``ExportTraceServiceRequest`` for one project.

    Spans whose ids are malformed are rejected (counted, with a reason) and the rest
    are kept, as OTLP partial success prescribes.
    """
    batch = SpanBatch()
    for resource_spans in request.resource_spans:
        info = _resource_info(resource_spans.resource, config)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                add_span(batch, span, info, config, prices)
    return batch


def add_span(
    batch: SpanBatch, span: Any, info: ResourceInfo, config: ProjectConfig, prices: PriceTable
) -> None:
    """Normalise one OTLP ``Span`` into ``batch`` (or count it as rejected)."""
    project_id = config.project_id
    redactor = config.redactor
    redact = redactor.active
    slice_keys = config.slice_keys
    trace_id = span.trace_id
    span_id = span.span_id
    if len(trace_id) != 16 or len(span_id) != 8 or not any(trace_id) or not any(span_id):
        _reject(
            batch,
            f"span {span.name!r}: trace_id must be 16 bytes and span_id 8 bytes, not all zero",
        )
        return
    start = span.start_time_unix_nano
    end = max(span.end_time_unix_nano, start)
    if end > MAX_TIME_NS:
        _reject(batch, f"span {span.name!r}: {TIME_RANGE_ERROR}")
        return
    attrs = to_dict(span.attributes)
    # The few keys that need a prefix test (flattened messages, slices),
    # found in one pass so the rest of the work looks keys up directly.
    special = [k for k in attrs if k.startswith(SPECIAL_PREFIXES)]
    kept_events, content_events, feedback_events = _events(span) if span.events else ([], [], [])
    kind = conv.kind(attrs)
    flat = conv.flat_prefixes(special) if special else NO_PREFIXES
    content = conv.content(attrs, kind, content_events, flat)
    used = content.used
    if used:
        conv.drop_used(attrs, used, special)
    model = conv.model(attrs)
    prompt_tokens, completion_tokens = conv.tokens(attrs)
    cost = conv.reported_cost(attrs)
    if cost is None:
        cost = prices.cost(model, prompt_tokens, completion_tokens)
    input_text = content.input
    output_text = content.output
    # Names and error descriptions can hold user data too: an exception
    # message quoting its input, a URL in a client span's name.
    name = span.name
    status_message = span.status.message or None
    if redact and _needs_redaction(
        redactor, (input_text, output_text, name, status_message), attrs, kept_events
    ):
        if input_text:
            input_text = redactor.text(input_text)
        if output_text:
            output_text = redactor.text(output_text)
        name = redactor.text(name)
        if status_message:
            status_message = redactor.text(status_message)
        attrs = {k: redactor.value(v) for k, v in attrs.items()}
        if kept_events:
            kept_events = redactor.value(kept_events)
    attributes_json = orjson.dumps(attrs).decode()
    events_json = orjson.dumps(kept_events).decode() if kept_events else "[]"
    status = STATUS.get(span.status.code, "unset")
    parent = span.parent_span_id
    row = {
        "project_id": project_id,
        "trace_id": trace_id.hex(),
        "span_id": span_id.hex(),
        "parent_span_id": parent.hex() if parent and any(parent) else None,
        "name": name[:500],
        "kind": kind,
        "model": model[:200] if model else None,
        "provider": (conv.provider(attrs) or "")[:100] or None,
        "input": input_text,
        "output": output_text,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost": cost,
        "start_ns": start,
        "end_ns": end,
        "status": status,
        "status_message": status_message,
        "session_id": (conv.session_id(attrs) or "")[:200] or None,
        "user_id": (conv.user_id(attrs) or "")[:200] or None,
        "attributes": attributes_json,
        "events": events_json,
    }
    batch.add(row, info, _slices_of(attrs, slice_keys, special) if special or slice_keys else None)
    if feedback_events:
        _feedback(batch, feedback_events, row, redactor)


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, out)


def _needs_redaction(
    redactor: Redactor,
    texts: tuple[str | None, ...],
    attrs: dict[str, Any],
    events: list[dict[str, Any]],
) -> bool:
    """Whether any text of a span has something to redact, in one pass over all of it.

    Most spans have nothing to redact. One scan over their strings joined
    (NUL-separated, which no built-in rule matches across) tells, for about the
    cost of a pass per byte; redacting field by field would pay each call's fixed
    cost three or more times a span.
    """
    strings = [text for text in texts if text]
    for value in attrs.values():
        _strings(value, strings)
    if events:
        _strings(events, strings)
    if not strings:
        return False
    return redactor.may_change("\x00".join(strings))
