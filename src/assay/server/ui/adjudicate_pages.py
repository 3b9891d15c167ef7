"""Adjudication pages (adjudicators and admins): a queue's disputed items, and one
item's labels side by side with the form that sets its final label.

The final label needs a reason (:func:`assay.review.adjudicate` keeps it with the
item and any case promoted from it). ``?copy=N`` starts the form from annotator N's
label, which is what the digit keys do in the browser without a reload.

JSON twins: ``GET /api/v1/queues/{queue}/items?status=disputed``,
``GET /api/v1/queues/{queue}/items/{item_id}`` (labels side by side) and the
adjudication endpoint of :mod:`assay.server.routes.annotate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from assay.errors import AssayError, Conflict, InvalidInput, NotFound
from assay.review import (
    AnnotationView,
    LabelSchema,
    adjudicate,
    agree,
    disputed_items,
    item_labels,
)
from assay.server.ui.access import SignedIn, Staff
from assay.server.ui.label_form import controls, form_values
from assay.server.ui.layout import failure_page, layout_context, store_of
from assay.server.ui.paging import Pager, page_number
from assay.server.ui.review_links import ReviewLinks
from assay.server.ui.review_view import (
    ADJUDICATE_SHORTCUTS,
    TEMPLATE_HELPERS,
    PostedForm,
    csrf_refused,
    form_text,
    project_queue,
)
from assay.server.ui.templating import render

router = APIRouter(include_in_schema=False)


def disagreeing(schema: LabelSchema, annotations: Sequence[AnnotationView]) -> set[str]:
    """The fields on which the labels disagree, by the rules that decide an item
    (decisive fields must be equal, non-empty corrections equal once stripped)."""
    labels = [a.values for a in annotations]
    return {f.name for f in schema.fields if not agree(LabelSchema((f,)), labels)}


@router.get("/p/{project}/queues/{queue}/adjudicate")
def disputed_page(
    request: Request,
    project: str,
    queue: str,
    viewer: Staff,
    page: Annotated[str, Query(description="Page of items, from 1.")] = "",
    done: Annotated[str, Query(description="The item just adjudicated.")] = "",
) -> Response:
    """A queue's disputed items, oldest first."""
    try:
        with store_of(request).session() as db:
            the_project, the_queue = project_queue(db, project, queue)
            pager = Pager.of(page_number(page), the_queue.disputed)
            items = disputed_items(db, the_queue, limit=pager.size, offset=pager.offset)
            context = layout_context(
                db,
                viewer,
                title=f"Adjudicate · {the_queue.name}",
                project=the_project,
                nav="queues",
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    context.update(
        queue=the_queue,
        items=items,
        pager=pager,
        done=done if done.isdigit() else "",
        links=ReviewLinks(the_project.name),
    )
    return render("disputed.html", context)


def _item_page(
    request: Request,
    project: str,
    queue: str,
    item_id: int,
    viewer: SignedIn,
    *,
    copy: int | None = None,
    state: dict[str, Any] | None = None,
    reason: str = "",
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    try:
        with store_of(request).session() as db:
            the_project, the_queue = project_queue(db, project, queue)
            labels = item_labels(db, item_id)
            if labels.item.queue_id != the_queue.id:
                raise NotFound(f"the queue has no item {item_id}")
            context = layout_context(
                db,
                viewer,
                title=f"Item {item_id} · {the_queue.name}",
                project=the_project,
                nav="queues",
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    annotations = [a for a in labels.annotations if not a.gold]
    if state is None:
        chosen = (
            annotations[copy - 1] if copy is not None and 0 < copy <= len(annotations) else None
        )
        state = dict(chosen.values) if chosen is not None else {}
    context.update(
        queue=the_queue,
        item=labels.item,
        ctx=labels.context,
        annotations=annotations,
        gold_annotations=[a for a in labels.annotations if a.gold],
        disagree=disagreeing(the_queue.schema, annotations),
        fields=controls(the_queue.schema, state),
        reason=reason,
        error=error,
        notice=notice,
        shortcuts=ADJUDICATE_SHORTCUTS,
        links=ReviewLinks(the_project.name),
        **TEMPLATE_HELPERS,
    )
    return render("adjudicate.html", context, status=status)


@router.get("/p/{project}/queues/{queue}/items/{item_id}/adjudicate")
def item_page(
    request: Request,
    project: str,
    queue: str,
    item_id: int,
    viewer: Staff,
    copy: Annotated[str, Query(description="Start from annotator N's label.")] = "",
    done: Annotated[str, Query(description="The item adjudicated just before.")] = "",
) -> Response:
    """Every label on one item side by side, the trace, and the final-label form."""
    return _item_page(
        request,
        project,
        queue,
        item_id,
        viewer,
        copy=int(copy) if copy.isascii() and copy.isdigit() and len(copy) < 6 else None,
        notice=f"Item {done} adjudicated. Next disputed item:" if done.isdigit() else "",
    )


@router.post("/p/{project}/queues/{queue}/items/{item_id}/adjudicate")
def item_submit(
    request: Request, project: str, queue: str, item_id: int, viewer: Staff, form: PostedForm
) -> Response:
    """Set the item's final label with a reason; then on to the next disputed item."""
    refused = csrf_refused(viewer, form)
    if refused is not None:
        return refused
    reason = form_text(form, "reason")
    values: dict[str, Any] | None = None
    links = ReviewLinks(project)
    try:
        with store_of(request).write_session() as db:
            _, the_queue = project_queue(db, project, queue)
            values = form_values(the_queue.schema, form)
            adjudicate(db, the_queue, viewer.user, item_id, values, reason)
            following = disputed_items(db, the_queue, limit=1)
    except (InvalidInput, Conflict) as exc:
        return _item_page(
            request,
            project,
            queue,
            item_id,
            viewer,
            state=values,
            reason=reason,
            error=f"Not saved: {exc}",
            status=400 if isinstance(exc, InvalidInput) else 409,
        )
    except AssayError as exc:
        return failure_page(exc, viewer)
    target = links.adjudicate_item(queue, following[0].id) if following else links.adjudicate(queue)
    return RedirectResponse(f"{target}?done={item_id}", status_code=303)
