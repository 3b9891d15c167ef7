"""OTLP protobuf trace bodies to span rows through the compiled decoder, when it is built.

:mod:`assay.ingest._wire` (Cython) reads an ``ExportTraceServiceRequest`` straight
from its bytes and does what :func:`~assay.ingest.normalize.normalize_traces` does
for the common span, without the GIL: ~3 us a 2 KB chat span, and ~4 us more that
hold it, against ~50 us that hold it in Python (bench/README.md). Requests
normalise on both cores while the writer commits.

:mod:`assay.ingest.normalize` stays the reference. Whatever the compiled decoder
does not handle goes there:

- a whole request, when the decoder finds it malformed (the Python path then
  reports why), rejects a span (the Python path says which and why) or meets a
  form it leaves alone;
- one span at a time: spans with events or links, flattened message keys,
  ``assay.slice.*`` keys and the other forms listed in ``_wire.pyx``, and spans
  that redaction changes.

A project with redaction patterns of its own takes the Python path: only the
built-in rules have a pre-scan. ``tests/ingest/test_compiled.py`` checks both paths
give the same batch on generated requests.
"""

from __future__ import annotations

from typing import Any

import orjson
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from assay.ingest.normalize import (
    ResourceInfo,
    SpanBatch,
    add_span,
    normalize_traces,
    resource_info,
)
from assay.ingest.otlp import PROTOBUF, decode_traces, media_type
from assay.ingest.pricing import PriceTable
from assay.projects.service import ProjectConfig

try:
    from assay.ingest import _wire
except ImportError:  # built without a C compiler: the Python path does it all
    _wire = None  # type: ignore[assignment]

PYTHON_PATH = 1
"""First item of a decoded span that the Python path is to normalise."""
_SCAN_BLOB = 22
"""Index, in a decoded span, of the text the redaction pre-scan reads."""
_RESOURCE_INDEX = 20
"""Index, in a decoded span, of its resource's number."""


def available() -> bool:
    """Whether the compiled decoder is built and importable."""
    return _wire is not None


def normalize_body(
    body: bytes,
    content_type: str | None,
    config: ProjectConfig,
    prices: PriceTable,
    *,
    compiled: bool = True,
) -> SpanBatch:
    """Decode and normalise an OTLP trace request body for one project.

    Args:
        body: The (inflated) request body.
        content_type: Its Content-Type; only protobuf bodies take the compiled path.
        config: The project's slice keys and redaction.
        prices: The price table for spans that report no cost.
        compiled: Use the compiled decoder when it is built (``ASSAY_INGEST_COMPILED``).

    Raises:
        InvalidInput: the body is malformed (as :func:`~assay.ingest.otlp.decode_traces`).
    """
    if compiled and _wire is not None and media_type(content_type) == PROTOBUF:
        batch = normalize_compiled(body, config, prices)
        if batch is not None:
            return batch
    return normalize_traces(decode_traces(body, content_type), config, prices)


def normalize_compiled(body: bytes, config: ProjectConfig, prices: PriceTable) -> SpanBatch | None:
    """The compiled path for a protobuf body; None when the Python path must take it."""
    redactor = config.redactor
    scan = redactor.active
    if _wire is None or (scan and not redactor.prescan_decides):
        return None
    try:
        decoded = _wire.decode(body, sorted(config.slice_keys), scan)
    except ValueError:
        return None  # malformed, or so it seems: the Python path says which
    if decoded is None:
        return None
    resource_jsons, spans = decoded
    infos = [resource_info(orjson.loads(text), config) for text in resource_jsons]
    to_redact: set[int] = set()
    if scan:
        fast = [k for k, span in enumerate(spans) if span[0] != PYTHON_PATH]
        blobs = [spans[k][_SCAN_BLOB] for k in fast]
        # The pre-scan's candidates, and of those the spans that redacting changes:
        # the decision the Python path makes, on the same text (a dated model name
        # such as gpt-4o-mini-2024-07-18 is a candidate for a phone number, and
        # nothing to redact).
        to_redact = {
            fast[i]
            for i in redactor.candidates(blobs)
            if redactor.may_change(blobs[i].decode("utf-8"))
        }
    batch = SpanBatch()
    for k, span in enumerate(spans):
        if span[0] == PYTHON_PATH:
            _, resource_index, start, end = span
        elif k in to_redact:
            resource_index, start, end = span[_RESOURCE_INDEX], span[-2], span[-1]
        else:
            _add_row(batch, span, infos, config, prices)
            continue
        # The span's own message, parsed alone: all the Python path needs of it.
        original = Span.FromString(body[start:end])
        add_span(batch, original, infos[resource_index], config, prices)
    return batch


def _add_row(
    batch: SpanBatch,
    span: tuple[Any, ...],
    infos: list[ResourceInfo],
    config: ProjectConfig,
    prices: PriceTable,
) -> None:
    (
        _,
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind,
        model,
        provider,
        input_text,
        output_text,
        prompt_tokens,
        completion_tokens,
        cost,
        start,
        end,
        status,
        status_message,
        session_id,
        user_id,
        attributes_json,
        resource_index,
        slices,
        _blob,
        _start,
        _end,
    ) = span
    if cost is None:
        cost = prices.cost(model, prompt_tokens, completion_tokens)
    batch.add(
        {
            "project_id": config.project_id,
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_span_id": parent_span_id,
            "name": name,
            "kind": kind,
            "model": model,
            "provider": provider,
            "input": input_text,
            "output": output_text,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cost": cost,
            "start_ns": start,
            "end_ns": end,
            "status": status,
            "status_message": status_message,
            "session_id": session_id,
            "user_id": user_id,
            "attributes": attributes_json,
            "events": "[]",
        },
        infos[resource_index],
        slices,
    )
