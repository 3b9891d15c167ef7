"""What the review pages share: the queue a URL names, posted forms with their CSRF
check, the keyboard shortcuts each page documents, and template helpers."""

from __future__ import annotations

from typing import Annotated, NamedTuple

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from assay.projects import ProjectView, get_project
from assay.review import QueueView, get_queue
from assay.server.ui.access import SignedIn
from assay.server.ui.layout import error_page
from assay.server.ui.sessions import CSRF_FIELD, CsrfError, check_csrf
from assay.server.ui.trace_view import display_value, message_body

Shortcut = tuple[tuple[str, ...], str]
"""Keys (shown side by side) and what they do."""

LABEL_SHORTCUTS: tuple[Shortcut, ...] = (
    (
        ("1", "…", "9"),
        "pick option N of the current field (the focused one, else the first "
        "unanswered); an ordinal's point N; a boolean's yes (1) or no (2); toggle tag N",
    ),
    (("y", "n"), "yes / no on the current (else the first unanswered) boolean field"),
    (("j", "k"), "next / previous field (Tab works too)"),
    (("Enter",), "edit the current text field"),
    (("e",), "edit the correction"),
    (("Esc",), "leave a text box (shortcuts work again)"),
    (("Ctrl", "Enter"), "submit the label"),
    (("s",), "skip the item (asks for the reason; Enter sends it)"),
    (("?",), "show this help"),
)
"""The annotate page's keys (``static/assay.js`` implements them)."""

ADJUDICATE_SHORTCUTS: tuple[Shortcut, ...] = (
    (("1", "…", "9"), "copy annotator N's label into the form"),
    (("j", "k"), "next / previous field (Tab works too)"),
    (("y", "n"), "yes / no on the current boolean field"),
    (("e",), "edit the correction"),
    (("r",), "write the reason"),
    (("Esc",), "leave a text box (shortcuts work again)"),
    (("Ctrl", "Enter"), "save the final label"),
    (("?",), "show this help"),
)
"""The adjudication page's keys."""

TEMPLATE_HELPERS = {"message_body": message_body, "show_value": display_value}
"""Functions the review templates call to show trace content."""


class ProjectQueue(NamedTuple):
    """A project and one of its queues, as a URL names them."""

    project: ProjectView
    queue: QueueView


def project_queue(db: Session, project: str, queue: str) -> ProjectQueue:
    """The project and queue of a review URL.

    Raises:
        NotFound: No such project, or no such queue in it.
    """
    the_project = get_project(db, project)
    return ProjectQueue(the_project, get_queue(db, the_project.id, queue))


async def posted_form(request: Request) -> FormData:
    """FastAPI dependency: the request's form, whose fields depend on the queue's schema
    (so they cannot be declared as parameters)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]
"""A route parameter holding the posted form."""


def form_text(form: FormData, name: str) -> str:
    """A text field of a form; empty when absent (or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def csrf_refused(viewer: SignedIn, form: FormData) -> Response | None:
    """The 403 page when the form's CSRF token is not the session's; None when it is."""
    try:
        check_csrf(viewer.session, form_text(form, CSRF_FIELD))
    except CsrfError as exc:
        return error_page(str(exc), status=403, viewer=viewer, title="Form expired")
    return None


def seconds_of(text: str) -> float | None:
    """The labelling time the page measured, in seconds; None when absent or not a
    plausible number (it is a measurement, never a reason to refuse a label)."""
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 7 * 24 * 3600 else None
