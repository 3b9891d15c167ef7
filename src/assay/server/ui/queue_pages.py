"""Review queue pages: a project's queues, and one queue's items, annotators and
agreement summary.

JSON twins: ``GET /api/v1/queues``, ``/api/v1/queues/{queue}`` and
``/api/v1/queues/{queue}/items`` (:mod:`assay.server.routes.queues`); both read through
:mod:`assay.review`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from assay.errors import AssayError
from assay.projects import get_project
from assay.review import (
    ITEM_STATUSES,
    annotator_stats,
    list_items,
    list_queues,
    progress,
    queue_agreement,
)
from assay.server.ui.access import Viewer, is_admin, is_staff
from assay.server.ui.layout import failure_page, layout_context, store_of
from assay.server.ui.paging import Pager, page_number
from assay.server.ui.review_links import ReviewLinks
from assay.server.ui.review_view import project_queue
from assay.server.ui.templating import render
from assay.signals import rule_hits

router = APIRouter(include_in_schema=False)

SUMMARY_RESAMPLES = 1
"""The queue page shows alpha without its interval (the agreement page has it), so one
resample: the coefficient itself comes from all the labels, and the page stays as fast
as its counts."""


@router.get("/p/{project}/queues")
def queues_page(request: Request, project: str, viewer: Viewer) -> Response:
    """A project's review queues with their counts and the user's own progress; for
    admins, the routing rules that feed them."""
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            queues = list_queues(db, the_project.id)
            done = {q.id: progress(db, q, viewer.user).done for q in queues}
            rules = rule_hits(db, the_project.id) if is_admin(viewer.user) else None
            context = layout_context(
                db, viewer, title="Review queues", project=the_project, nav="queues"
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    context.update(queues=queues, done=done, rules=rules, links=ReviewLinks(the_project.name))
    return render("queues.html", context)


@router.get("/p/{project}/queues/{queue}")
def queue_page(
    request: Request,
    project: str,
    queue: str,
    viewer: Viewer,
    status: Annotated[str, Query(description="Items of this status only.")] = "",
    page: Annotated[str, Query(description="Page of items, from 1.")] = "",
) -> Response:
    """A queue: instructions, schema, agreement summary and annotators; for adjudicators
    and admins also its items.

    Annotators see their own numbers only, and no items: an item's resolved label
    would give away the answer of a gold item before it is handed to them. Nor do
    they see their gold numbers (or counts that leave gold labels out): moving right
    after a label, those would tell which item was gold and whether they got it right.
    """
    staff = is_staff(viewer.user)
    error = ""
    if status and status not in ITEM_STATUSES:
        error = f"status: must be one of {', '.join(ITEM_STATUSES)}; got {status!r}"
        status = ""
    try:
        with store_of(request).session() as db:
            the_project, the_queue = project_queue(db, project, queue)
            counts = {
                "": the_queue.items,
                "open": the_queue.open,
                "disputed": the_queue.disputed,
                "resolved": the_queue.resolved,
            }
            pager = Pager.of(page_number(page), counts[status])
            items = (
                list_items(
                    db, the_queue, status=status or None, limit=pager.size, offset=pager.offset
                )
                if staff
                else []
            )
            stats = [
                s for s in annotator_stats(db, the_queue) if staff or s.user_id == viewer.user.id
            ]
            summary = queue_agreement(db, the_queue, resamples=SUMMARY_RESAMPLES)
            mine = progress(db, the_queue, viewer.user)
            context = layout_context(
                db, viewer, title=the_queue.name, project=the_project, nav="queues"
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    context.update(
        queue=the_queue,
        counts=counts,
        status=status,
        statuses=ITEM_STATUSES,
        pager=pager,
        items=items,
        stats=stats,
        summary=summary,
        mine=mine,
        error=error,
        links=ReviewLinks(the_project.name),
    )
    return render("queue.html", context, status=400 if error else 200)
