"""Mapping assay's error tree to HTTP responses.

REST routes answer ``{"detail": message}``; OTLP routes (``/v1/...``) answer a
``google.rpc.Status`` in the request's encoding, as the OTLP/HTTP spec asks.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from google.rpc.status_pb2 import Status
from sqlalchemy.exc import DataError

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


# Most specific first: PayloadTooLarge is an InvalidInput, Forbidden an AuthError.
_STATUS: tuple[tuple[type[AssayError], int], ...] = (
    (PayloadTooLarge, 413),
    (InvalidInput, 400),
    (Forbidden, 403),
    (AuthError, 401),
    (NotFound, 404),
    (Conflict, 409),
    (Overloaded, 503),
    (ConfigError, 500),
)


def status_of(exc: AssayError) -> int:
    """The HTTP status for an assay error."""
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 500)


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

    async def out_of_range(request: Request, exc: Exception) -> Response:
        # A number too large for the database (an id of 30 digits in a path or a
        # body): SQLite raises OverflowError binding it, PostgreSQL a DataError.
        # Bad input, not a server fault; the transaction was rolled back.
        return error_response(
            request, InvalidInput("a number in the request is out of range (at most 2**63-1)")
        )

    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)
