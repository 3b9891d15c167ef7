"""Fixtures for SDK tests: a recording HTTP receiver and an in-memory span pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from assay.sdk import SdkHandle, init
from assay.sdk.config import active_handle
from assay.testing.background import serve_app, untraced_fastapi


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server recording every POST; answers ``reply`` (status, JSON)."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    reply: tuple[int, Any] = (200, {})
    reply_headers: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[Receiver]:
    state = Receiver()
    app = untraced_fastapi()

    @app.post("/{path:path}")
    async def record(path: str, request: Request) -> Response:
        state.received.append(Received(f"/{path}", dict(request.headers), await request.body()))
        status, body = state.reply
        return JSONResponse(body, status_code=status, headers=state.reply_headers)

    with serve_app(app) as server:
        state.base_url = server.base_url
        yield state


@pytest.fixture
def receiver(_receiver_server: Receiver) -> Receiver:
    """The shared receiver, emptied and answering 200 ``{}``."""
    _receiver_server.received.clear()
    _receiver_server.reply = (200, {})
    _receiver_server.reply_headers = {}
    return _receiver_server


@dataclass(frozen=True)
class Pipeline:
    handle: SdkHandle
    exporter: InMemorySpanExporter
    provider: TracerProvider


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    """``init()`` on a private provider exporting to memory, synchronously."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    handle = init(
        api_key="ak_test",
        release="rel-1",
        service_name="svc-test",
        batch=False,
        tracer_provider=provider,
        exporter=exporter,
    )
    yield Pipeline(handle, exporter, provider)
    handle.shutdown()
    provider.shutdown()
    assert active_handle() is None
