"""Mapping assay's error tree to HTTP responses.

REST routes answer ``{"detail": message}``; OTLP routes (``/v1/...``) answer a
``google.rpc.Status`` in the request's encoding, as the OTLP/HTTP spec asks.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from google.rpc.status_pb2 import Status

from assay.errors import (
    AssayError,
    AuthError,
    ConfigError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Overloaded,
    PayloadTooLarge,
)
from assay.ingest.otlp import encode_response

# gRPC codes carried in the OTLP Status body.
_GRPC = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 413: 3, 500: 13, 503: 14}


def status_of(exc: AssayError) -> int:
    """The HTTP status for an assay error."""
    if isinstance(exc, PayloadTooLarge):
        return 413
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, Overloaded):
        return 503
    if isinstance(exc, ConfigError):
        return 500
    return 500


def error_response(request: Request, exc: AssayError) -> Response:
    """Render an assay error for the route that raised it."""
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, AuthError) and not isinstance(exc, Forbidden):
        headers["WWW-Authenticate"] = "Bearer"
    if request.url.path.startswith("/v1/"):
        body, media = encode_response(
            Status(code=_GRPC.get(status, 2), message=str(exc)),
            request.headers.get("content-type"),
        )
        return Response(body, status_code=status, media_type=media, headers=headers)
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AssayError)
        return error_response(request, exc)

    app.add_exception_handler(AssayError, handle)
