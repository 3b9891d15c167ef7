"""REST API: releases of the API key's project (under /api/v1).

Release names may contain ``/``; the routes take them as paths, so
``GET /api/v1/releases/team/v2`` finds release ``team/v2``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response
from pydantic import BaseModel, Field

from assay.releases import (
    ChangeKind,
    ReleaseView,
    diff_manifests,
    get_release,
    list_releases,
    register_release,
)
from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state

router = APIRouter(
    prefix="/api/v1",
    tags=["releases"],
    responses={
        400: {"description": "A malformed manifest or reference; the message names it."},
        401: {"description": "Missing, unknown or revoked project API key."},
        404: {"description": "The key's project has no such release."},
    },
)
State = Annotated[ServerState, Depends(get_state)]

_MANIFEST_DOC = (
    "A release manifest: `name` plus any of `model`, `generation`, `prompts`, `tools`, "
    "`retrieval`, `adapter`, `serving`, `code`, `extra` (and optionally "
    "`schema_version`). The fingerprint covers everything but the name."
)


class ReleaseRefOut(BaseModel):
    """A release's name and fingerprint."""

    name: str = Field(description="Release name.")
    fingerprint: str = Field(description="SHA-256 of the canonical behaviour, 64 hex digits.")


class RegisteredOut(ReleaseRefOut):
    """The outcome of registering a release."""

    id: int = Field(description="Release id.")
    created: bool = Field(
        description="True if this request stored it; false if it was already registered."
    )


class ReleaseOut(ReleaseRefOut):
    """A registered release."""

    id: int = Field(description="Release id.")
    created_at: datetime = Field(description="When it was registered (UTC).")


class ReleaseDetailOut(ReleaseOut):
    """A registered release with its manifest."""

    manifest: dict[str, Any] = Field(
        description="The canonical manifest, upgraded to the current schema version."
    )


class FieldChangeOut(BaseModel):
    """One behaviour difference between two releases."""

    path: str = Field(description="Where, e.g. `generation.temperature` or `tools[search]`.")
    kind: ChangeKind = Field(description="added (only in b), removed (only in a) or changed.")
    old: Any = Field(default=None, description="The value in release a (null when added).")
    new: Any = Field(default=None, description="The value in release b (null when removed).")
    summary: str = Field(description="One line, e.g. `~ generation.temperature: 0.2 -> 0.7`.")
    text_diff: str | None = Field(
        description="A unified diff when both values are text (prompt templates), else null."
    )


class ReleaseDiffOut(BaseModel):
    """What changed in behaviour from release a to release b."""

    a: ReleaseRefOut = Field(description="The baseline release.")
    b: ReleaseRefOut = Field(description="The candidate release.")
    identical: bool = Field(description="True when the fingerprints are equal.")
    changes: list[FieldChangeOut] = Field(description="The differences, in path order.")


def _out(view: ReleaseView) -> ReleaseOut:
    return ReleaseOut(
        id=view.id, name=view.name, fingerprint=view.fingerprint, created_at=view.created_at
    )


@router.get("/releases", response_model=list[ReleaseOut], summary="List releases")
def releases(project: ApiProject, state: State) -> list[ReleaseOut]:
    """The project's releases, newest first (manifests left out; get one for it)."""
    with state.store.session() as session:
        return [_out(view) for view in list_releases(session, project.project_id)]


@router.post(
    "/releases",
    response_model=RegisteredOut,
    status_code=201,
    summary="Register a release",
    responses={
        200: {"model": RegisteredOut, "description": "The same release was already registered."},
        409: {
            "description": "The name is taken by other behaviour, or the behaviour is "
            "registered under another name. Releases are immutable."
        },
    },
)
def register(
    manifest: Annotated[dict[str, Any], Body(description=_MANIFEST_DOC)],
    project: ApiProject,
    state: State,
    response: Response,
) -> RegisteredOut:
    """Register a release manifest (201), or confirm it is registered already (200).

    Registering is idempotent for the same name and behaviour; a manifest is
    validated field by field and a bad one is refused with 400 naming the field.
    """
    with state.store.write_session() as session:
        result = register_release(session, project.project_id, manifest)
    if not result.created:
        response.status_code = 200
    return RegisteredOut(
        id=result.id, name=result.name, fingerprint=result.fingerprint, created=result.created
    )


# Registered before the single-release route: its `{ref:path}` would swallow `a/diff/b`.
@router.get(
    "/releases/{a:path}/diff/{b:path}",
    response_model=ReleaseDiffOut,
    summary="Diff two releases",
)
def diff(a: str, b: str, project: ApiProject, state: State) -> ReleaseDiffOut:
    """What changed in behaviour from release ``a`` to release ``b``.

    Each is a name, a fingerprint or a fingerprint prefix of at least 8 hex digits.
    """
    with state.store.session() as session:
        old = get_release(session, project.project_id, a)
        new = get_release(session, project.project_id, b)
    changes = diff_manifests(old.manifest, new.manifest)
    return ReleaseDiffOut(
        a=ReleaseRefOut(name=old.name, fingerprint=old.fingerprint),
        b=ReleaseRefOut(name=new.name, fingerprint=new.fingerprint),
        identical=old.fingerprint == new.fingerprint,
        changes=[
            FieldChangeOut(
                path=c.path,
                kind=c.kind,
                old=c.old,
                new=c.new,
                summary=c.summary(),
                text_diff=c.unified_diff(),
            )
            for c in changes
        ],
    )


@router.get("/releases/{ref:path}", response_model=ReleaseDetailOut, summary="Get a release")
def release(ref: str, project: ApiProject, state: State) -> ReleaseDetailOut:
    """One release with its manifest, by name, fingerprint or fingerprint prefix
    (at least 8 hex digits)."""
    with state.store.session() as session:
        view = get_release(session, project.project_id, ref)
    return ReleaseDetailOut(
        id=view.id,
        name=view.name,
        fingerprint=view.fingerprint,
        created_at=view.created_at,
        manifest=view.manifest,
    )
