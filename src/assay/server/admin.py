"""Authentication of server-wide (admin) routes: an admin user account.

Project routes authenticate with a project API key (:mod:`assay.server.auth`); the
routes that manage projects and keys belong to no project, so they take a person:
an account with the ``admin`` role, by HTTP Basic auth (for scripts and the CLI) or
by the web UI's sign-in session (through :func:`session_user`).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, NamedTuple

from fastapi import Depends, HTTPException, Request

from assay.accounts import UserView, authenticate
from assay.errors import AuthError, Forbidden
from assay.server.state import ServerState, get_state

ADMIN_ROLE = "admin"
# RFC 7617: the realm names the protection space; charset says passwords are UTF-8.
BASIC_CHALLENGE = 'Basic realm="assay admin", charset="UTF-8"'


def session_user(request: Request) -> UserView | None:
    """The user signed in to the web UI on this request, if any.

    The one place admin routes read UI sessions: the UI (``assay.server.ui``) owns
    its session cookies and implements this lookup; on a state-changing request the
    session counts only with a matching ``X-CSRF-Token`` header.

    Args:
        request: The request.

    Returns:
        The signed-in user, or None.
    """
    # Imported here: the UI package imports the routes, which import this module.
    from assay.server.ui.sessions import user_from_session

    return user_from_session(request)


class BasicCredentials(NamedTuple):
    """A username and password sent with HTTP Basic auth."""

    username: str
    password: str


def basic_credentials(request: Request) -> BasicCredentials | None:
    """The username and password of an ``Authorization: Basic`` header, if any.

    Raises:
        HTTPException: 401 when the header is not well-formed Basic credentials.
    """
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        raise _unauthorized(
            "admin routes need an admin account: send 'Authorization: Basic <base64 of "
            "username:password>' (a project API key does not grant admin access)"
        )
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthorized("Authorization: Basic credentials are not valid base64") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise _unauthorized("Authorization: Basic credentials must be 'username:password'")
    return BasicCredentials(username, password)


def admin_user(request: Request, state: Annotated[ServerState, Depends(get_state)]) -> UserView:
    """FastAPI dependency: the admin making the request.

    A plain (sync) function, so FastAPI runs it in a worker thread: checking a
    password costs ~50 ms of Argon2 on purpose, and must not stall the event loop.

    Raises:
        HTTPException: 401 (with a Basic challenge) for missing or wrong credentials.
        Forbidden: The user is signed in but is not an admin.
    """
    user = session_user(request)
    if user is None:
        credentials = basic_credentials(request)
        if credentials is None:
            raise _unauthorized(
                "admin credentials required: send 'Authorization: Basic <base64 of "
                "username:password>' of an admin account"
            )
        try:
            with state.store.session() as session:
                user = authenticate(session, *credentials)
        except AuthError as exc:
            raise _unauthorized(str(exc)) from None
    if user.role != ADMIN_ROLE:
        raise Forbidden(f"user {user.username!r} is not an admin (role {user.role!r})")
    return user


def _unauthorized(message: str) -> HTTPException:
    # Not AuthError: the error handler answers those with a Bearer challenge (right
    # for API keys), and a 401 must name the scheme that would succeed (RFC 9110).
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": BASIC_CHALLENGE})


AdminUser = Annotated[UserView, Depends(admin_user)]
"""Route parameter type that requires an admin."""
