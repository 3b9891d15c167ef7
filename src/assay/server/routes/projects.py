"""REST API: projects and their API keys (under /api/v1).

``GET /project`` answers a project API key with its own project. Creating projects
and managing keys is server-wide work for an admin account (:mod:`assay.server.admin`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from assay.projects import (
    ApiKeyView,
    ProjectView,
    create_api_key,
    create_project,
    get_project,
    list_api_keys,
    list_projects,
    revoke_api_key,
)
from assay.redaction import RedactionConfig
from assay.server.admin import AdminUser
from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state
from assay.traces.times import as_utc

router = APIRouter(prefix="/api/v1", tags=["projects"])
_ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong admin credentials (HTTP Basic auth)."},
    403: {"description": "The account is not an admin."},
}
State = Annotated[ServerState, Depends(get_state)]


class ProjectOut(BaseModel):
    """A project: one AI feature or agent, the scope of traces, releases and keys."""

    id: int = Field(description="Project id.")
    name: str = Field(description="Unique project name.")
    description: str = Field(description="What the project is.")
    owner: str = Field(description="Who is responsible for it.")
    slice_keys: list[str] = Field(
        description="Attribute keys lifted into trace slices, besides locale, tier, channel."
    )
    redaction: RedactionConfig = Field(description="Redaction rules applied at ingest.")
    created_at: datetime = Field(description="When it was created (UTC).")

    @classmethod
    def of(cls, view: ProjectView) -> ProjectOut:
        """The wire form of a project."""
        return cls(
            id=view.id,
            name=view.name,
            description=view.description,
            owner=view.owner,
            slice_keys=view.slice_keys,
            redaction=view.redaction,
            created_at=as_utc(view.created_at),
        )


class ApiKeyOut(BaseModel):
    """A project API key's public facts (never the secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Key id, used to revoke it.")
    project_id: int = Field(description="The project the key belongs to.")
    name: str = Field(description="A label for the key.")
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    created_at: datetime = Field(description="When it was created (UTC).")
    revoked_at: datetime | None = Field(description="When it was revoked; null while active.")

    @classmethod
    def of(cls, view: ApiKeyView) -> ApiKeyOut:
        """The wire form of a key."""
        return cls(
            id=view.id,
            project_id=view.project_id,
            name=view.name,
            prefix=view.prefix,
            created_at=as_utc(view.created_at),
            revoked_at=as_utc(view.revoked_at) if view.revoked_at else None,
        )


class NewApiKeyOut(BaseModel):
    """A new key and its secret. The secret is shown here once and never again."""

    key: ApiKeyOut = Field(description="The key's public facts.")
    secret: str = Field(
        description="The key itself, for 'Authorization: Bearer <secret>'. Store it now."
    )


class ProjectCreate(BaseModel):
    """A project to create, with its first API key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        description="1-100 letters, digits, '.', '_' or '-', starting with a letter or digit."
    )
    description: str = Field(default="", max_length=10_000, description="What it is.")
    owner: str = Field(default="", max_length=200, description="Who is responsible for it.")
    key_name: str = Field(
        default="default", min_length=1, max_length=100, description="Label of the first key."
    )


class ProjectCreated(BaseModel):
    """A new project and its first API key (the secret is shown once)."""

    project: ProjectOut = Field(description="The project.")
    api_key: NewApiKeyOut = Field(description="Its first API key, with the secret.")


class KeyCreate(BaseModel):
    """A key to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        default="default", min_length=1, max_length=100, description="A label for the key."
    )


@router.get(
    "/project",
    response_model=ProjectOut,
    summary="The API key's project",
    responses={401: {"description": "Missing, unknown or revoked project API key."}},
)
def current_project(project: ApiProject, state: State) -> ProjectOut:
    """The project the request's API key belongs to: a cheap way to check a key."""
    with state.store.session() as session:
        return ProjectOut.of(get_project(session, project.project_id))


@router.get(
    "/projects",
    response_model=list[ProjectOut],
    summary="List projects (admin)",
    responses=_ADMIN_ERRORS,
)
def all_projects(admin: AdminUser, state: State) -> list[ProjectOut]:
    """Every project on this server, by name. Needs an admin account."""
    with state.store.session() as session:
        return [ProjectOut.of(view) for view in list_projects(session)]


@router.post(
    "/projects",
    response_model=ProjectCreated,
    status_code=201,
    summary="Create a project and its first API key (admin)",
    responses={
        **_ADMIN_ERRORS,
        400: {"description": "The name is malformed."},
        409: {"description": "A project of that name exists."},
    },
)
def new_project(body: ProjectCreate, admin: AdminUser, state: State) -> ProjectCreated:
    """Create a project with one API key. The key's secret is in this response only."""
    with state.store.write_session() as session:
        project = create_project(session, body.name, description=body.description, owner=body.owner)
        key = create_api_key(session, project.id, body.key_name)
    return ProjectCreated(
        project=ProjectOut.of(project),
        api_key=NewApiKeyOut(key=ApiKeyOut.of(key.key), secret=key.secret),
    )


_KEY_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ADMIN_ERRORS,
    404: {"description": "No such project (or no such key in it)."},
}


@router.get(
    "/projects/{name}/keys",
    response_model=list[ApiKeyOut],
    summary="List API keys (admin)",
    responses=_KEY_ERRORS,
)
def project_keys(name: str, admin: AdminUser, state: State) -> list[ApiKeyOut]:
    """A project's keys, oldest first, revoked ones included. Secrets are never shown."""
    with state.store.session() as session:
        return [ApiKeyOut.of(view) for view in list_api_keys(session, name)]


@router.post(
    "/projects/{name}/keys",
    response_model=NewApiKeyOut,
    status_code=201,
    summary="Create an API key (admin)",
    responses=_KEY_ERRORS,
)
def new_key(name: str, body: KeyCreate, admin: AdminUser, state: State) -> NewApiKeyOut:
    """Create another key for a project. The secret is in this response only."""
    with state.store.write_session() as session:
        key = create_api_key(session, get_project(session, name).id, body.name)
    return NewApiKeyOut(key=ApiKeyOut.of(key.key), secret=key.secret)


@router.delete(
    "/projects/{name}/keys/{key_id}",
    response_model=ApiKeyOut,
    summary="Revoke an API key (admin)",
    responses=_KEY_ERRORS,
)
def revoke_key(name: str, key_id: int, admin: AdminUser, state: State) -> ApiKeyOut:
    """Revoke a key. Requests with it fail from now on in this server process, and
    within the key cache's lifetime (15 s) in others. Revoking twice is harmless."""
    with state.store.write_session() as session:
        view = revoke_api_key(session, get_project(session, name).id, key_id)
    state.keys.clear()
    return ApiKeyOut.of(view)
