"""REST API: accounts and their API keys (under /api/v1), for an admin.

Accounts belong to no project (an annotator labels in every project's queues), so
managing them is server-wide work: an ``admin`` account by HTTP Basic auth or a
signed-in UI session (:mod:`assay.server.admin`), like projects. A user key made
here acts as that user on the annotation routes (``/api/v1/projects/{project}/
queues/...``), with that user's role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from assay.accounts import (
    UserKeyView,
    UserView,
    create_user,
    create_user_key,
    list_user_keys,
    list_users,
    revoke_user_key,
    set_role,
)
from assay.server.admin import AdminUser
from assay.server.state import ServerState, get_state
from assay.traces.times import as_utc

router = APIRouter(prefix="/api/v1", tags=["users"])
State = Annotated[ServerState, Depends(get_state)]
Role = Literal["admin", "adjudicator", "annotator"]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong admin credentials (HTTP Basic auth)."},
    403: {"description": "The account is not an admin."},
    404: {"description": "No such user (or no such key of theirs)."},
}


class UserOut(BaseModel):
    """An account (never its password hash)."""

    id: int = Field(description="User id.")
    username: str = Field(description="Unique name; what the user signs in with.")
    role: Role = Field(
        description="admin manages everything; adjudicator also settles disagreements; "
        "annotator labels in review queues and sees nothing else."
    )
    created_at: datetime = Field(description="When it was created (UTC).")

    @classmethod
    def of(cls, view: UserView) -> UserOut:
        """The wire form of a user."""
        return cls(
            id=view.id,
            username=view.username,
            role=view.role,
            created_at=as_utc(view.created_at),
        )


class UserCreate(BaseModel):
    """An account to create."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100, description="Unique name.")
    password: SecretStr = Field(description="At least 8 characters; stored as Argon2id.")
    role: Role = Field(default="annotator", description="The account's role.")


class UserUpdate(BaseModel):
    """What to change about an account."""

    model_config = ConfigDict(extra="forbid")

    role: Role = Field(description="The new role; takes effect on the next request.")


class UserKeyOut(BaseModel):
    """A user key's public facts (the secret is shown once, at creation)."""

    id: int = Field(description="Key id, for revoking it.")
    username: str = Field(description="The user it acts for.")
    name: str = Field(description="A label for the key.")
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    created_at: datetime = Field(description="When it was created (UTC).")
    revoked_at: datetime | None = Field(description="When it was revoked, if it was.")

    @classmethod
    def of(cls, view: UserKeyView) -> UserKeyOut:
        """The wire form of a user key."""
        return cls(
            id=view.id,
            username=view.username,
            name=view.name,
            prefix=view.prefix,
            created_at=as_utc(view.created_at),
            revoked_at=as_utc(view.revoked_at) if view.revoked_at else None,
        )


class NewUserKeyOut(BaseModel):
    """A created user key with its secret, shown this once."""

    key: UserKeyOut = Field(description="The key's public facts.")
    secret: str = Field(description="The key: send it as 'Authorization: Bearer <key>'.")


class UserKeyCreate(BaseModel):
    """A user key to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        default="default", min_length=1, max_length=100, description="A label for the key."
    )


@router.get(
    "/users", response_model=list[UserOut], summary="List accounts (admin)", responses=_ERRORS
)
def all_users(admin: AdminUser, state: State) -> list[UserOut]:
    """Every account, by name, with its role."""
    with state.store.session() as session:
        return [UserOut.of(view) for view in list_users(session)]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    summary="Create an account (admin)",
    responses={
        **_ERRORS,
        400: {"description": "Bad name or short password."},
        409: {"description": "The name is taken."},
    },
)
def new_user(body: UserCreate, admin: AdminUser, state: State) -> UserOut:
    """Create an account (an annotator unless `role` says otherwise)."""
    with state.store.write_session() as session:
        view = create_user(session, body.username, body.password.get_secret_value(), body.role)
    return UserOut.of(view)


@router.patch(
    "/users/{username}",
    response_model=UserOut,
    summary="Change an account's role (admin)",
    responses=_ERRORS,
)
def change_user(username: str, body: UserUpdate, admin: AdminUser, state: State) -> UserOut:
    """Change an account's role: an annotator who becomes an adjudicator, say."""
    with state.store.write_session() as session:
        return UserOut.of(set_role(session, username, body.role))


@router.get(
    "/users/{username}/keys",
    response_model=list[UserKeyOut],
    summary="List a user's API keys (admin)",
    responses=_ERRORS,
)
def user_keys(username: str, admin: AdminUser, state: State) -> list[UserKeyOut]:
    """A user's keys, oldest first, revoked ones included. Secrets are never shown."""
    with state.store.session() as session:
        return [UserKeyOut.of(view) for view in list_user_keys(session, username)]


@router.post(
    "/users/{username}/keys",
    response_model=NewUserKeyOut,
    status_code=201,
    summary="Create a user API key (admin)",
    responses=_ERRORS,
)
def new_user_key(
    username: str, body: UserKeyCreate, admin: AdminUser, state: State
) -> NewUserKeyOut:
    """Create a key that acts as this user, with their role. The secret is in this
    response only."""
    with state.store.write_session() as session:
        key = create_user_key(session, username, body.name)
    return NewUserKeyOut(key=UserKeyOut.of(key.key), secret=key.secret)


@router.delete(
    "/users/{username}/keys/{key_id}",
    response_model=UserKeyOut,
    summary="Revoke a user API key (admin)",
    responses=_ERRORS,
)
def revoke_key(username: str, key_id: int, admin: AdminUser, state: State) -> UserKeyOut:
    """Revoke a user's key; requests with it are refused from the next one on."""
    with state.store.write_session() as session:
        return UserKeyOut.of(revoke_user_key(session, username, key_id))
