"""Types of the compiled OTLP trace decoder (``_wire.pyx``); see there and
:mod:`assay.ingest.compiled`."""

from collections.abc import Sequence
from typing import Any

def decode(
    body: bytes, slice_keys: Sequence[str], scan: bool
) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """Decode an ``ExportTraceServiceRequest`` body into span tuples.

    Returns None when the Python path must take the whole request, else
    ``(resource_jsons, spans)``: one attributes JSON per ``ResourceSpans``, and per
    span (in request order) either ``(1, resource_index, start, end)`` (the Python
    path normalises it) or ``(0, trace_id, span_id, parent_span_id, name, kind,
    model, provider, input, output, prompt_tokens, completion_tokens,
    reported_cost, start_ns, end_ns, status, status_message, session_id, user_id,
    attributes_json, resource_index, slices, scan_blob, start, end)``, where
    ``body[start:end]`` is the span's own ``Span`` message.

    Raises:
        ValueError: the body is malformed.
    """

def format_double(value: float) -> str:
    """A float as the decoder writes it in JSON (as orjson does); a test hook."""
