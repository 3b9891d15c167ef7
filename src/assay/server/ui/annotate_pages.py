"""Labelling: the annotate page hands the signed-in user their next item and takes
their label or skip.

``GET .../annotate`` claims the next item (:func:`assay.review.claim_next`; the user's
unexpired claim first, so a reload shows the same item) and shows the trace, the
instructions and the label form. ``POST .../annotate`` submits the label
(:func:`assay.review.submit`) or skips the item with a reason
(:func:`assay.review.skip`), then redirects to ``GET`` for the next one
(POST-redirect-GET: a reload never sends a label twice). A refused label shows the
same item again with the values as they were sent and the problem, and stores
nothing.

A gold item looks like any other: the page never says an item is gold, and never
shows its known answer.

JSON twins: the labelling endpoints of the REST API, which act as a person through a
user key (:mod:`assay.server.routes.annotate`).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from assay.errors import AssayError, Conflict, InvalidInput
from assay.review import claim_next, progress, skip, submit
from assay.server.ui.access import SignedIn, Viewer
from assay.server.ui.label_form import controls, form_values, initial_state
from assay.server.ui.layout import error_page, failure_page, layout_context, store_of
from assay.server.ui.review_links import ReviewLinks
from assay.server.ui.review_view import (
    LABEL_SHORTCUTS,
    TEMPLATE_HELPERS,
    PostedForm,
    csrf_refused,
    form_text,
    project_queue,
    seconds_of,
)
from assay.server.ui.templating import render
from assay.store.models import utcnow
from assay.traces.times import as_utc

router = APIRouter(include_in_schema=False)

SKIP_REASONS = (
    "not enough context to judge",
    "unsure: needs an expert",
    "not my language",
    "trace is broken or empty",
)
"""Reasons offered when skipping (any other may be typed)."""

_NOTICES = {"saved": "Label saved. Here is the next item.", "skipped": "Skipped."}


def _minutes_left(expires_at: datetime, now: datetime) -> int:
    return max(0, math.ceil((as_utc(expires_at) - now).total_seconds() / 60))


def _annotate(
    request: Request,
    project: str,
    queue: str,
    viewer: SignedIn,
    *,
    notice: str = "",
    error: str = "",
    item_id: int | None = None,
    state: dict[str, Any] | None = None,
    comment: str = "",
    skip_reason: str | None = None,
    status: int = 200,
) -> Response:
    """The annotate page: the user's claimed (or next) item, or the empty state.

    ``state``, ``comment`` and ``skip_reason`` re-show what was sent for ``item_id``
    when it was refused.
    """
    now = utcnow()
    try:
        with store_of(request).write_session() as db:
            the_project, the_queue = project_queue(db, project, queue)
            claim = (
                claim_next(db, the_queue, viewer.user, now=now) if the_queue.schema.fields else None
            )
            mine = claim.progress if claim is not None else progress(db, the_queue, viewer.user)
            context = layout_context(
                db, viewer, title=f"Label · {the_queue.name}", project=the_project, nav="queues"
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    same = claim is not None and claim.item_id == item_id
    fields = None
    if claim is not None:
        output = claim.context.output if claim.context is not None else None
        start = state if same and state is not None else initial_state(the_queue.schema, output)
        fields = controls(the_queue.schema, start)
    context.update(
        queue=the_queue,
        claim=claim,
        ctx=claim.context if claim is not None else None,
        fields=fields,
        mine=mine,
        minutes_left=_minutes_left(claim.expires_at, now) if claim is not None else 0,
        notice=notice,
        error=error,
        comment=comment if same else "",
        skip_reason=skip_reason if same and skip_reason is not None else "",
        skip_open=same and skip_reason is not None,
        skip_reasons=SKIP_REASONS,
        shortcuts=LABEL_SHORTCUTS,
        links=ReviewLinks(the_project.name),
        **TEMPLATE_HELPERS,
    )
    return render("annotate.html", context, status=status)


@router.get("/p/{project}/queues/{queue}/annotate")
def annotate_page(
    request: Request, project: str, queue: str, viewer: Viewer, done: str = ""
) -> Response:
    """The signed-in user's next item of the queue, claimed for them."""
    return _annotate(request, project, queue, viewer, notice=_NOTICES.get(done, ""))


@router.post("/p/{project}/queues/{queue}/annotate")
def annotate_submit(
    request: Request, project: str, queue: str, viewer: Viewer, form: PostedForm
) -> Response:
    """Submit a label (``action=submit``) or skip the item (``action=skip``, with a
    ``reason``), then go on to the next item."""
    refused = csrf_refused(viewer, form)
    if refused is not None:
        return refused
    action = form_text(form, "action") or "submit"
    if action not in ("submit", "skip"):
        return error_page(
            f"action: must be submit or skip; got {action!r}", status=400, viewer=viewer
        )
    try:
        item_id = int(form_text(form, "item_id"))
    except ValueError:
        return error_page(
            "item_id: the form names no item; reload the page", status=400, viewer=viewer
        )
    values: dict[str, Any] | None = None
    comment = form_text(form, "comment")
    reason = form_text(form, "reason")
    try:
        with store_of(request).write_session() as db:
            _, the_queue = project_queue(db, project, queue)
            if action == "skip":
                skip(db, the_queue, viewer.user, item_id, reason)
            else:
                values = form_values(the_queue.schema, form)
                submit(
                    db,
                    the_queue,
                    viewer.user,
                    item_id,
                    values,
                    comment=comment or None,
                    seconds=seconds_of(form_text(form, "seconds")),
                )
    except InvalidInput as exc:
        return _annotate(
            request,
            project,
            queue,
            viewer,
            error=f"Not saved: {exc}",
            item_id=item_id,
            state=values,
            comment=comment,
            skip_reason=reason if action == "skip" else None,
            status=400,
        )
    except Conflict as exc:
        # The item is no longer this user's to label (claim taken, item decided):
        # say so above whatever comes next.
        return _annotate(request, project, queue, viewer, error=f"Not saved: {exc}", status=409)
    except AssayError as exc:
        return failure_page(exc, viewer)
    done = "skipped" if action == "skip" else "saved"
    return RedirectResponse(f"{ReviewLinks(project).annotate(queue)}?done={done}", status_code=303)
