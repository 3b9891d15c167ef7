"""API-key authentication for the OTLP receiver and the REST API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from assay.errors import AuthError
from assay.projects.keys import resolve_api_key
from assay.projects.service import ProjectConfig
from assay.server.state import ServerState, get_state


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be 'Bearer <project API key>'")
    return token.strip()


async def project_from_key(
    request: Request, state: Annotated[ServerState, Depends(get_state)]
) -> ProjectConfig:
    """FastAPI dependency: the project of the request's API key.

    Raises:
        AuthError: no key, or an unknown or revoked key.
    """
    token = bearer_token(request)
    if token is None:
        raise AuthError(
            "missing API key: send 'Authorization: Bearer <project API key>' "
            "(for OTel exporters: OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer <key>')"
        )
    cached = state.keys.get(token)
    if cached is not None:
        return cached

    def lookup() -> ProjectConfig:
        with state.store.session() as session:
            return resolve_api_key(session, token)

    config = await run_in_threadpool(lookup)
    state.keys.put(token, config)
    return config


ApiProject = Annotated[ProjectConfig, Depends(project_from_key)]
