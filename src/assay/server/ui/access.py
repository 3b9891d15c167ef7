"""Who may see a UI page: the sign-in guard, the role check and the ``next`` target.

Every UI page except ``/login`` and the static assets depends on :data:`Viewer`;
a request without a signed-in session is redirected to ``/login?next=<page>``.

Roles (``assay.accounts.ROLES``) decide the rest, here and nowhere else:

- ``annotator``: the review queues only (label items, see queue and agreement
  pages). Traces, releases, datasets, runs, comparisons and adjudication answer 403.
- ``adjudicator``: everything an annotator may, plus adjudication and every project
  page (:data:`Staff`).
- ``admin``: everything; the queue list also shows the routing rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from assay.accounts import UserView
from assay.review import ADJUDICATOR_ROLES
from assay.server.ui.sessions import UiSession, manager_of

LOGIN_PATH = "/login"
HOME_PATH = "/"
STAFF_ROLES = frozenset(ADJUDICATOR_ROLES)
"""Roles that see every project page and adjudicate (the roles the review core lets
adjudicate); annotators see the queues only."""


class SignInRequired(Exception):
    """Raised by the guard; answered with a redirect to the sign-in page.

    Attributes:
        next_path: The local path (with query) to return to after signing in.
    """

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user of a request and their session.

    Attributes:
        user: The user.
        session: The session (its CSRF token goes into every form).
    """

    user: UserView
    session: UiSession


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this server, else ``/``.

    Only local paths are followed after sign-in, so a crafted link to
    ``/login?next=https://evil.example`` cannot bounce a user off-site (an open
    redirect). Browsers read ``/\\host`` and ``//host`` as other hosts, and strip
    tabs and newlines from URLs, so those are refused too.

    Args:
        target: The requested ``next`` value.

    Returns:
        A path starting with a single ``/``.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return HOME_PATH
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return HOME_PATH
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME_PATH
    if parts.path == LOGIN_PATH:
        return HOME_PATH
    return target


def login_url(next_path: str) -> str:
    """The sign-in page that returns to ``next_path`` afterwards."""
    target = safe_next(next_path)
    if target == HOME_PATH:
        return LOGIN_PATH
    return f"{LOGIN_PATH}?{urlencode({'next': target})}"


def request_path(request: Request) -> str:
    """The request's path and query, as a local ``next`` target."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def signed_in(request: Request) -> SignedIn:
    """FastAPI dependency: the signed-in user, or a redirect to the sign-in page.

    A sync dependency on purpose: the user lookup touches the store, and FastAPI runs
    sync dependencies in its thread pool.

    Raises:
        SignInRequired: no valid session, or its user no longer exists.
    """
    manager = manager_of(request)
    session = manager.read(request)
    user = manager.user(session)
    if user is None or session is None:
        raise SignInRequired(request_path(request))
    return SignedIn(user=user, session=session)


Viewer = Annotated[SignedIn, Depends(signed_in)]
"""A route parameter type that requires sign-in."""


class RoleRequired(Exception):
    """Raised by a role check; answered with a 403 page.

    Attributes:
        viewer: The signed-in user who may not see the page.
        message: What they are missing, for the page.
    """

    def __init__(self, viewer: SignedIn, message: str) -> None:
        super().__init__(message)
        self.viewer = viewer
        self.message = message


def is_staff(user: UserView) -> bool:
    """Whether ``user`` sees every project page and may adjudicate (adjudicators and
    admins)."""
    return user.role in STAFF_ROLES


def is_admin(user: UserView) -> bool:
    """Whether ``user`` is an admin (sees routing rules)."""
    return user.role == "admin"


def staff(viewer: Viewer) -> SignedIn:
    """FastAPI dependency: the signed-in user if an adjudicator or admin.

    Raises:
        RoleRequired: the user is an annotator.
    """
    if not is_staff(viewer.user):
        raise RoleRequired(
            viewer,
            f"This page is for adjudicators and admins; you are signed in as "
            f"{viewer.user.username} ({viewer.user.role}). Your review queues are "
            "under Queues.",
        )
    return viewer


Staff = Annotated[SignedIn, Depends(staff)]
"""A route parameter type that requires an adjudicator or admin."""


def install_guard(app: FastAPI) -> None:
    """Answer :class:`SignInRequired` with a redirect to the sign-in page.

    :class:`RoleRequired` is answered by the 403 page of
    :func:`assay.server.ui.layout.role_refused` (the layout builds on this module).
    """

    async def redirect(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    app.add_exception_handler(SignInRequired, redirect)
