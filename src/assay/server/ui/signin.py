"""Signing in and out of the web UI: ``/login`` and ``/logout``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from assay.accounts import authenticate
from assay.errors import AuthError
from assay.server.ui.access import HOME_PATH, LOGIN_PATH, safe_next
from assay.server.ui.layout import error_page, layout_context
from assay.server.ui.sessions import CsrfError, UiSession, check_csrf, manager_of
from assay.server.ui.templating import render

router = APIRouter(include_in_schema=False)

# One message for an unknown name and a wrong password, so the form does not tell
# which names exist (authenticate() also takes the same time for both).
BAD_CREDENTIALS = "Wrong username or password."


def _login_form(
    session: UiSession, *, next_path: str, username: str = "", error: str = "", status: int = 200
) -> Response:
    context = layout_context(None, None, title="Sign in", session=session)
    context.update(next=next_path, username=username, error=error)
    return render("login.html", context, status=status)


@router.get(LOGIN_PATH)
def login_page(request: Request, next_path: Annotated[str, Query(alias="next")] = "") -> Response:
    """The sign-in form; straight on to ``next`` when already signed in."""
    manager = manager_of(request)
    session = manager.read(request)
    target = safe_next(next_path)
    if manager.user(session) is not None:
        return RedirectResponse(target, status_code=303)
    # An anonymous session carries the CSRF token of the sign-in form itself, so a
    # cross-site page cannot sign a browser in to an account of the attacker's.
    fresh = session or UiSession.fresh()
    response = _login_form(fresh, next_path=target if target != HOME_PATH else "")
    if session is None:
        manager.write(response, fresh)
    return response


@router.post(LOGIN_PATH)
def login_submit(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """Check the credentials; on success start a new session and go to ``next``."""
    manager = manager_of(request)
    session = manager.read(request)
    try:
        check_csrf(session, csrf_token)
    except CsrfError as exc:
        return error_page(str(exc), status=403, title="Form expired")
    assert session is not None  # check_csrf refuses a missing session
    target = safe_next(next_path)
    try:
        with manager.store.session() as db:
            user = authenticate(db, username.strip(), password)
    except AuthError:
        return _login_form(
            session,
            next_path=target if target != HOME_PATH else "",
            username=username,
            error=BAD_CREDENTIALS,
        )
    response = RedirectResponse(target, status_code=303)
    # A new CSRF token on sign-in: one planted before it is worthless after.
    manager.write(response, UiSession.fresh(user.id))
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    """End the session and return to the sign-in page."""
    manager = manager_of(request)
    session = manager.read(request)
    if session is None or session.user_id is None:
        return RedirectResponse(LOGIN_PATH, status_code=303)
    try:
        check_csrf(session, csrf_token)
    except CsrfError as exc:
        return error_page(str(exc), status=403, title="Form expired")
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    manager.clear(response)
    return response
