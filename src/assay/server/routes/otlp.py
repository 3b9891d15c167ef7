"""The OTLP/HTTP receiver: ``POST /v1/traces`` and ``POST /v1/logs``."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)
from starlette.concurrency import run_in_threadpool

from assay.errors import PayloadTooLarge
from assay.ingest.commit import prepare
from assay.ingest.compiled import normalize_body
from assay.ingest.logs import NOT_CONTENT, LogBatch, normalize_logs
from assay.ingest.normalize import SpanBatch
from assay.ingest.otlp import decode_logs, decompress, encode_response
from assay.ingest.writer import Reservation
from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state

router = APIRouter(tags=["otlp"])
State = Annotated[ServerState, Depends(get_state)]

_OTLP_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@functools.cache
def _decoders() -> anyio.CapacityLimiter:
    # Decoding in Python holds the GIL, so many threads add no speed, only requests
    # decoded at once: each holds its protobuf tree and rows (~4x its body), and
    # every thread gets a malloc arena of its own. bench/ingest.py, 8 senders on 2
    # cores: the default 40 threads peaked at 230 MB RSS; 4 at 161 MB with 4,201 vs
    # 4,370 spans/s; 2 at 171 MB but 3,900 spans/s. The compiled decoder mostly runs
    # without the GIL, and two threads a core keep every core decoding.
    return anyio.CapacityLimiter(2 * (os.cpu_count() or 2))


def _room(nbytes: int) -> int:
    # Decoded rows take about what their encoded body took (text dominates); twice
    # the body covers both while both are alive, plus the request's fixed overhead.
    return 2 * nbytes + 4096


async def _read_body(request: Request, limit: int, reservation: Reservation) -> bytes:
    """The body, read while holding queue room for it (so reading is bounded too)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body exceeds the limit of {limit} bytes")
        reservation.grow_to(_room(size))
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/v1/traces",
    summary="Receive OTLP/HTTP traces",
    openapi_extra=_OTLP_BODY,
    response_class=Response,
)
async def export_traces(request: Request, project: ApiProject, state: State) -> Response:
    """Store spans sent by an OpenTelemetry exporter (protobuf or JSON, optionally gzip).

    Answered 200 only after every accepted span is committed; 503 with Retry-After
    when the ingest queue is full.
    """
    content_type = request.headers.get("content-type")

    # The writer's preparation of a batch (commit.prepare) is done here, in a decoder
    # thread, so the writer thread, which bounds the ingest rate, only writes.
    async def parse(body: bytes) -> SpanBatch:
        if state.pool is not None:
            batch = await state.pool.normalize(body, content_type, project)
            await anyio.to_thread.run_sync(prepare, batch, limiter=_decoders())
            return batch

        def normalize() -> SpanBatch:
            batch = normalize_body(
                body, content_type, project, state.prices, compiled=state.settings.ingest_compiled
            )
            prepare(batch)
            return batch

        return await anyio.to_thread.run_sync(normalize, limiter=_decoders())

    batch = await _ingest(request, state, parse)
    response = ExportTraceServiceResponse()
    if batch.rejected:
        response.partial_success.rejected_spans = batch.rejected
    if batch.errors:
        # With no span rejected this is a warning (a malformed feedback event), as
        # OTLP allows: the spans were stored.
        response.partial_success.error_message = "; ".join(batch.errors)
    payload, media = encode_response(response, content_type)
    return Response(payload, media_type=media)


@router.post(
    "/v1/logs",
    summary="Receive OTLP/HTTP logs (GenAI content events)",
    openapi_extra=_OTLP_BODY,
    response_class=Response,
)
async def export_logs(request: Request, project: ApiProject, state: State) -> Response:
    """Store GenAI content log events and attach them to their spans.

    Log records that are not GenAI content events linked to a span are reported as
    rejected in the partial-success response.
    """
    content_type = request.headers.get("content-type")

    async def parse(body: bytes) -> LogBatch:
        return await anyio.to_thread.run_sync(
            lambda: normalize_logs(decode_logs(body, content_type), project),
            limiter=_decoders(),
        )

    batch = await _ingest(request, state, parse)
    response = ExportLogsServiceResponse()
    if batch.rejected:
        response.partial_success.rejected_log_records = batch.rejected
        response.partial_success.error_message = NOT_CONTENT
    payload, media = encode_response(response, content_type)
    return Response(payload, media_type=media)


B = TypeVar("B", SpanBatch, LogBatch)


async def _ingest(
    request: Request, state: ServerState, parse: Callable[[bytes], Awaitable[B]]
) -> B:
    """Read, admit, decode and commit one OTLP request; the batch once it is durable.

    Room in the writer queue is reserved before the body is decoded and held until
    the commit is answered, so memory stays bounded under overload (503 otherwise).
    """
    settings = state.settings
    declared = request.headers.get("content-length", "")
    # Admission before reading: a full queue answers 503 without taking the body in.
    reservation = state.writer.reserve(
        _room(min(int(declared), settings.max_body_bytes)) if declared.isdigit() else _room(0)
    )
    try:
        raw = await _read_body(request, settings.max_body_bytes, reservation)
        encoding = request.headers.get("content-encoding")
        # Inflating and decoding are CPU work: off the event loop (in the threadpool
        # or a worker process), so health checks and the UI keep answering.
        body = raw
        if encoding:
            body = await run_in_threadpool(
                decompress,
                raw,
                encoding,
                settings.max_body_bytes,
                lambda size: reservation.grow_to(_room(len(raw) + size)),
            )
        elif len(raw) > settings.max_body_bytes:
            raise PayloadTooLarge(f"body exceeds the limit of {settings.max_body_bytes} bytes")
        batch = await parse(body)
        if batch.rows:
            future = state.writer.submit(
                reservation,
                spans=batch if isinstance(batch, SpanBatch) else None,
                logs=batch if isinstance(batch, LogBatch) else None,
            )
            # shield: if the client goes away, the write still completes (and stays durable).
            await asyncio.shield(asyncio.wrap_future(future))
    finally:
        reservation.release()
    return batch
