"""API-key authentication for the OTLP receiver and the REST API: project keys act for a
project, user keys for a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from assay.accounts import UserView, is_user_key, resolve_user_key
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


async def user_from_key(
    request: Request, state: Annotated[ServerState, Depends(get_state)]
) -> UserView:
    """FastAPI dependency: the person a user API key (``uk_...``) acts for.

    Annotation and adjudication act as a person, so they take a user key (``assay
    user key create``), never a project key. Looked up on every request (no cache):
    these endpoints are not on a hot path, and a revoked key stops at once.

    Raises:
        AuthError: no key, a project key, or an unknown or revoked user key.
    """
    token = bearer_token(request)
    if token is None or not is_user_key(token):
        raise AuthError(
            "this endpoint acts as a person: send 'Authorization: Bearer <user API key>' "
            "(create one with: assay user key create USERNAME)"
        )

    def lookup() -> UserView:
        with state.store.session() as session:
            return resolve_user_key(session, token)

    return await run_in_threadpool(lookup)


ApiUser = Annotated[UserView, Depends(user_from_key)]
