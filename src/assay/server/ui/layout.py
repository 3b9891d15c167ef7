"""What every page's layout needs: the user, the CSRF token, the project switcher."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from assay.errors import AssayError
from assay.projects import ProjectView, list_projects
from assay.server.errors import status_of
from assay.server.state import ServerState
from assay.server.ui.access import RoleRequired, SignedIn, is_admin, is_staff
from assay.server.ui.sessions import CSRF_FIELD, UiSession
from assay.server.ui.templating import render
from assay.store.engine import Store

_TITLES = {400: "Invalid request", 403: "Not allowed", 404: "Not found", 409: "Conflict"}


def layout_context(
    db: Session | None,
    viewer: SignedIn | None,
    *,
    title: str,
    project: ProjectView | None = None,
    nav: str = "",
    session: UiSession | None = None,
) -> dict[str, Any]:
    """Variables ``base.html`` reads.

    Args:
        db: A store session to list projects with (the switcher); None skips it.
        viewer: The signed-in user, or None on the sign-in and error pages.
        title: The page title.
        project: The project the page belongs to, if any.
        nav: Which navigation entry is current: ``traces``, ``releases``, ``datasets``,
            ``runs`` or ``queues``.
        session: The session whose CSRF token forms use, when there is no viewer.

    Returns:
        The template variables.
    """
    projects: list[ProjectView] = []
    if db is not None and viewer is not None:
        # Every signed-in user sees every project until roles scope them.
        projects = list_projects(db)
    the_session = viewer.session if viewer is not None else session
    return {
        "title": title,
        "user": viewer.user if viewer is not None else None,
        "csrf": the_session.csrf if the_session is not None else "",
        "csrf_field": CSRF_FIELD,
        "projects": projects,
        "project": project,
        "nav": nav,
        # The navigation shows an annotator the queues only (see access.py).
        "staff": viewer is not None and is_staff(viewer.user),
        "admin": viewer is not None and is_admin(viewer.user),
    }


def error_page(
    message: str, *, status: int, viewer: SignedIn | None = None, title: str = "Error"
) -> HTMLResponse:
    """A page that explains what went wrong, with the layout but no project switcher.

    Args:
        message: What the user should know (shown as text).
        status: HTTP status.
        viewer: The signed-in user, if any (the header shows them and sign-out).
        title: The heading.

    Returns:
        The response.
    """
    context = layout_context(None, viewer, title=title)
    context.update(message=message, status=status)
    return render("error.html", context, status=status)


def failure_page(exc: AssayError, viewer: SignedIn | None) -> HTMLResponse:
    """The page for an assay error raised while building a page (a bad link, mostly).

    Args:
        exc: The error; its message is written for users.
        viewer: The signed-in user.

    Returns:
        The response, with the status the REST API would give the same error.
    """
    status = status_of(exc)
    return error_page(str(exc), status=status, viewer=viewer, title=_TITLES.get(status, "Error"))


async def role_refused(_request: Request, exc: Exception) -> HTMLResponse:
    """The 403 page for :class:`~assay.server.ui.access.RoleRequired` (an exception
    handler)."""
    assert isinstance(exc, RoleRequired)
    return error_page(exc.message, status=403, viewer=exc.viewer, title="Not allowed")


def store_of(request: Request) -> Store:
    """The app's store."""
    state: ServerState = request.app.state.assay
    return state.store
