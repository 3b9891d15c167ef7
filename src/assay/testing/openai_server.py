"""A small OpenAI-compatible HTTP server for tests, answering deterministically.

It speaks enough of the OpenAI API for the official ``openai`` client (sync and
async, streaming or not) and for OpenTelemetry instrumentations of it:

- ``POST /v1/chat/completions``: echoes ``Echo: <last user message>`` unless a
  scripted answer applies; ``stream: true`` answers with SSE chunks and, with
  ``stream_options.include_usage``, a final usage chunk. ``max_tokens`` /
  ``max_completion_tokens`` cut the answer (``finish_reason: "length"``), ``n``
  repeats the choice.
- ``POST /v1/embeddings``: unit vectors derived from a hash of model and text
  (``dimensions`` honoured, float or base64 encoding).
- ``GET /v1/models`` and ``GET /v1/models/{id}``.

Token counts are whitespace word counts; the model is echoed from the request.
Faults (an error status, a delay) can be queued for retry tests.

Example:
    >>> from openai import OpenAI  # doctest: +SKIP
    >>> with serve_openai(responses={"ping": "pong"}) as server:  # doctest: +SKIP
    ...     client = OpenAI(base_url=server.base_url, api_key="test")
    ...     client.chat.completions.create(
    ...         model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}]
    ...     ).choices[0].message.content
    'pong'
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from assay.testing.background import serve_app, untraced_fastapi
from assay.testing.openai_replies import (
    CREATED,
    DEFAULT_EMBEDDING_DIMENSIONS,
    Reply,
    Responses,
    ToolCall,
    choose_reply,
    chunk_bodies,
    completion_body,
    embedding_inputs,
    embeddings_body,
    resolve,
)

DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small")

__all__ = [
    "DEFAULT_MODELS",
    "FakeOpenAIState",
    "Fault",
    "OpenAIServer",
    "RecordedCall",
    "Reply",
    "Responses",
    "ToolCall",
    "create_openai_app",
    "serve_openai",
]


@dataclass(frozen=True)
class Fault:
    """An injected failure for the next ``times`` matching requests.

    Attributes:
        status_code: HTTP status to answer with (e.g. 429, 500, 503).
        times: How many requests fail before the fault is used up.
        message: Error message in the OpenAI error body.
        retry_after_s: Sent as ``retry-after`` (seconds) and ``retry-after-ms``.
        delay_s: Seconds to wait before answering (with ``status_code=200`` this
            delays a normal answer: a slow upstream, for timeout tests).
        path: Only requests to this path (e.g. ``/v1/embeddings``); any by default.
    """

    status_code: int = 500
    times: int = 1
    message: str = "injected fault"
    retry_after_s: float | None = None
    delay_s: float = 0.0
    path: str | None = None


@dataclass(frozen=True)
class RecordedCall:
    """A request the fake received.

    Attributes:
        method: HTTP method.
        path: URL path, e.g. ``/v1/chat/completions``.
        headers: Request headers, names lowercased.
        body: Parsed JSON body, or ``None``.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class _PendingFault:
    fault: Fault
    left: int


@dataclass
class FakeOpenAIState:
    """Everything one fake server remembers; ``app.state.openai_fake``.

    Attributes:
        responses: Scripted answers (see :data:`Responses`).
        calls: Every request received, in order (faulted ones included).
        delay_s: Seconds every answer waits.
        require_api_key: When set, requests without ``Bearer <key>`` get 401.
        models: Ids listed by ``GET /v1/models``.
        embedding_dimensions: Vector size when the request gives no ``dimensions``.
    """

    responses: Responses | None = None
    calls: list[RecordedCall] = field(default_factory=list)
    delay_s: float = 0.0
    require_api_key: str | None = None
    models: Sequence[str] = DEFAULT_MODELS
    embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS
    _faults: deque[_PendingFault] = field(default_factory=deque)
    _counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault; queued faults apply in order."""
        with self._lock:
            self._faults.append(_PendingFault(fault, fault.times))

    def take_fault(self, path: str) -> Fault | None:
        """Use up one count of the first queued fault matching ``path``."""
        with self._lock:
            for pending in self._faults:
                if pending.fault.path in (None, path):
                    pending.left -= 1
                    if pending.left <= 0:
                        self._faults.remove(pending)
                    return pending.fault
        return None

    def next_id(self) -> int:
        """A per-server sequence number for response ids."""
        with self._lock:
            self._counter += 1
            return self._counter


def _error(
    status: int,
    message: str,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error in the OpenAI API's shape."""
    kind = {
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_exceeded",
    }.get(status, "invalid_request_error" if status < 500 else "server_error")
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": param, "code": None}},
        status_code=status,
        headers=dict(headers or {}),
    )


def _fault_response(fault: Fault) -> JSONResponse:
    headers: dict[str, str] = {}
    if fault.retry_after_s is not None:
        headers["retry-after"] = str(math.ceil(fault.retry_after_s))
        headers["retry-after-ms"] = str(round(fault.retry_after_s * 1000))
    return _error(fault.status_code, fault.message, headers=headers)


async def _receive(request: Request, state: FakeOpenAIState) -> tuple[Any, Response | None]:
    """Record the request and apply auth and faults.

    Returns:
        The parsed body, and a response to send instead of the real answer, if any.
    """
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
        early: Response | None = _error(400, "request body is not valid JSON")
    else:
        early = None
    state.calls.append(RecordedCall(request.method, request.url.path, dict(request.headers), body))
    expected = state.require_api_key
    if expected is not None and request.headers.get("authorization") != f"Bearer {expected}":
        return body, _error(401, "Incorrect API key provided.")
    fault = state.take_fault(request.url.path)
    delay = state.delay_s + (fault.delay_s if fault else 0.0)
    if delay > 0:
        await asyncio.sleep(delay)
    if fault is not None and fault.status_code != 200:
        return body, _fault_response(fault)
    if early is None and raw and not isinstance(body, dict):
        early = _error(400, "request body must be a JSON object")
    return body, early


def _sse(chunks: Iterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return stream()


def create_openai_app(
    responses: Responses | None = None,
    *,
    delay_s: float = 0.0,
    require_api_key: str | None = None,
    models: Sequence[str] = DEFAULT_MODELS,
    embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
) -> FastAPI:
    """Build the fake OpenAI API as a FastAPI app (serve it, or drive it in-process).

    Args:
        responses: Scripted answers: a mapping from the last user message to an
            answer (a string or a :class:`Reply`), or a callable taking the request
            body and returning one (or ``None`` for the default echo).
        delay_s: Seconds every answer waits.
        require_api_key: Only accept ``Authorization: Bearer <require_api_key>``.
        models: Ids listed by ``GET /v1/models``.
        embedding_dimensions: Embedding size when a request gives no ``dimensions``.

    Returns:
        The app; its :class:`FakeOpenAIState` is ``app.state.openai_fake``.
    """
    state = FakeOpenAIState(
        responses=responses,
        delay_s=delay_s,
        require_api_key=require_api_key,
        models=models,
        embedding_dimensions=embedding_dimensions,
    )
    # Untraced so the fake adds no spans to the traces of the app under test.
    app = untraced_fastapi(title="assay fake OpenAI API", openapi_url=None, docs_url=None)
    app.state.openai_fake = state

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        body, early = await _receive(request, state)
        if early is not None:
            return early
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return _error(400, "you must provide a model parameter", param="model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "messages must be a non-empty array", param="messages")
        if not all(isinstance(m, dict) for m in messages):
            return _error(400, "each message must be an object", param="messages")
        reply = choose_reply(body, state.responses)
        if reply.delay_s > 0:
            await asyncio.sleep(reply.delay_s)
        if reply.status_code != 200:
            return _error(reply.status_code, reply.error_message)
        number = state.next_id()
        response_id = f"chatcmpl-assay-{number:06d}"
        completion = resolve(body, reply, f"call_assay_{number:06d}")
        if body.get("stream"):
            options = body.get("stream_options") or {}
            include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
            chunks = chunk_bodies(response_id, body["model"], completion, include_usage)
            return StreamingResponse(_sse(chunks), media_type="text/event-stream")
        n = body.get("n")
        n = n if isinstance(n, int) and n > 0 else 1
        return JSONResponse(completion_body(response_id, body["model"], completion, n))

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Response:
        body, early = await _receive(request, state)
        if early is not None:
            return early
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return _error(400, "you must provide a model parameter", param="model")
        texts = embedding_inputs(body.get("input"))
        if texts is None:
            return _error(
                400, "input must be a string, an array of strings or tokens", param="input"
            )
        dimensions = body.get("dimensions") or state.embedding_dimensions
        if not isinstance(dimensions, int) or dimensions < 1:
            return _error(400, "dimensions must be a positive integer", param="dimensions")
        encoding = body.get("encoding_format") or "float"
        return JSONResponse(embeddings_body(body["model"], texts, dimensions, encoding))

    def model_object(model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": CREATED, "owned_by": "assay"}

    @app.get("/v1/models")
    async def list_models(request: Request) -> Response:
        _, early = await _receive(request, state)
        if early is not None:
            return early
        return JSONResponse({"object": "list", "data": [model_object(m) for m in state.models]})

    @app.get("/v1/models/{model_id:path}")
    async def get_model(model_id: str, request: Request) -> Response:
        _, early = await _receive(request, state)
        return early or JSONResponse(model_object(model_id))

    return app


class OpenAIServer:
    """A running fake, as yielded by :func:`serve_openai`.

    Attributes:
        base_url: ``http://127.0.0.1:<port>/v1``: give it to ``OpenAI(base_url=...)``.
        app: The FastAPI app being served.
        state: Its :class:`FakeOpenAIState`.
    """

    def __init__(self, base_url: str, app: FastAPI) -> None:
        self.base_url = base_url
        self.app = app
        self.state: FakeOpenAIState = app.state.openai_fake

    @property
    def requests(self) -> list[Any]:
        """JSON bodies of the POST requests received so far, in order."""
        return [call.body for call in self.state.calls if call.method == "POST"]

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request received so far (method, path, headers, body)."""
        return list(self.state.calls)

    def fail_next(
        self,
        status_code: int = 500,
        times: int = 1,
        *,
        message: str = "injected fault",
        retry_after_s: float | None = None,
        delay_s: float = 0.0,
        path: str | None = None,
    ) -> None:
        """Make the next ``times`` requests (to ``path``, or any) fail.

        Args:
            status_code: Status to answer with.
            times: Number of requests that fail.
            message: Error message.
            retry_after_s: ``retry-after`` to send.
            delay_s: Seconds to wait before failing.
            path: Restrict to one path, e.g. ``/v1/chat/completions``.
        """
        self.state.add_fault(Fault(status_code, times, message, retry_after_s, delay_s, path))

    def set_delay(self, seconds: float) -> None:
        """Delay every later answer by ``seconds``."""
        self.state.delay_s = seconds


@contextmanager
def serve_openai(
    port: int = 0,
    responses: Responses | None = None,
    *,
    delay_s: float = 0.0,
    require_api_key: str | None = None,
    embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
) -> Iterator[OpenAIServer]:
    """Run the fake OpenAI API on ``127.0.0.1`` in a background thread.

    Args:
        port: TCP port; 0 picks a free one.
        responses: Scripted answers (see :func:`create_openai_app`).
        delay_s: Seconds every answer waits.
        require_api_key: Only accept this bearer key.
        embedding_dimensions: Default embedding size.

    Yields:
        The running server; ``base_url`` ends in ``/v1``.
    """
    app = create_openai_app(
        responses,
        delay_s=delay_s,
        require_api_key=require_api_key,
        embedding_dimensions=embedding_dimensions,
    )
    with serve_app(app, port=port) as server:
        yield OpenAIServer(f"{server.base_url}/v1", app)
