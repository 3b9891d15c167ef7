"""REST API: labelling and adjudicating as a person (under
/api/v1/projects/{project}/queues, user key).

These routes act for the person a user key (``uk_...``, ``assay user key create``)
belongs to, with that person's role; a project key is refused with 401. Users are
not tied to one project, so the project is named in the path (its name or id), as
in the web UI's ``/p/{project}/queues/...`` pages.

A gold item is handed out like any other: nothing here says an item is gold or
shows its known answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from assay.accounts import UserView
from assay.errors import Forbidden
from assay.projects import get_project
from assay.review import (
    ADJUDICATOR_ROLES,
    Progress,
    QueueView,
    adjudicate,
    claim_next,
    disputed_items,
    get_queue,
    item_labels,
    progress,
    skip,
    submit,
)
from assay.server.auth import ApiUser
from assay.server.routes.queue_items import (
    ItemLabelsOut,
    ItemOut,
    TraceContextOut,
    context_out,
    item_labels_out,
    item_out,
)
from assay.server.routes.queues import LabelFieldOut, label_field_out
from assay.server.state import ServerState, get_state

router = APIRouter(
    prefix="/api/v1/projects/{project}/queues/{queue}",
    tags=["annotate"],
    responses={
        400: {"description": "A malformed value; the message names it. Nothing is stored."},
        401: {"description": "Missing, unknown or revoked user API key, or a project key."},
        404: {"description": "No such project, queue or item."},
    },
)
State = Annotated[ServerState, Depends(get_state)]
ProjectRef = Annotated[str, Path(description="The project's name or id.")]
QueueName = Annotated[str, Path(description="The review queue's name.")]

# Disputed items per page: each comes with its trace and every label.
_DISPUTED_PAGE = 20
_MAX_DISPUTED_PAGE = 100


class ProgressOut(BaseModel):
    """Where the user stands in the queue."""

    done: int = Field(description="Items they labelled in this queue.")
    remaining: int = Field(description="Open items in the queue, still needing labels.")


class ClaimOut(BaseModel):
    """The item handed to the user, reserved for them until `expires_at`."""

    item_id: int = Field(description="The item; label it at `.../items/{item_id}/annotation`.")
    trace_id: str = Field(description="Its trace, 32 hex digits.")
    reason: str = Field(description='Why the item is in the queue ("thumbs down").')
    source: str = Field(description="How it came: rule, manual or filter.")
    claimed_at: datetime = Field(description="When the claim was made or renewed (UTC).")
    expires_at: datetime = Field(description="When the slot is freed unless the label is in.")
    resumed: bool = Field(description="Whether the user held this claim already.")
    instructions: str = Field(description="The queue's instructions (Markdown).")
    fields: list[LabelFieldOut] = Field(description="The label schema to fill in.")
    context: TraceContextOut | None = Field(
        description="The trace as an annotator sees it; null if it has not arrived."
    )
    progress: ProgressOut = Field(description="The user's progress in the queue.")


class AnnotationIn(BaseModel):
    """A label on a claimed item."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(description="Field values by field name, per the schema.")
    comment: str | None = Field(default=None, description="Words beside the label.")
    seconds: float | None = Field(default=None, description="Time spent, as the client measured.")


class AnnotationResultOut(BaseModel):
    """A stored label."""

    annotation_id: int = Field(description="The annotation's id.")
    item_id: int = Field(description="The item.")
    replaced: bool = Field(description="Whether it replaced the user's earlier label.")
    progress: ProgressOut = Field(description="The user's progress in the queue.")


class SkipIn(BaseModel):
    """Why an item is skipped."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description='Why ("not enough context to judge"); it helps fix queues.')


class SkipOut(BaseModel):
    """A skipped item: never handed to this user again."""

    item_id: int = Field(description="The item.")
    progress: ProgressOut = Field(description="The user's progress in the queue.")


class AdjudicationIn(BaseModel):
    """The final label of a disputed item."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(description="The final label, per the schema.")
    reason: str = Field(description="Why this label is right; kept with the item and its case.")


def _queue(session: Session, project: str, queue: str) -> QueueView:
    return get_queue(session, get_project(session, project).id, queue)


def _progress(p: Progress) -> ProgressOut:
    return ProgressOut(done=p.done, remaining=p.remaining)


def _require_adjudicator(user: UserView) -> None:
    if user.role not in ADJUDICATOR_ROLES:
        raise Forbidden(
            f"user {user.username!r} is an {user.role}: only adjudicators and admins adjudicate"
        )


@router.post(
    "/claim",
    response_model=ClaimOut,
    summary="Claim the next item",
    responses={204: {"description": "Nothing is left for this user in the queue."}},
)
def claim(
    project: ProjectRef, queue: QueueName, user: ApiUser, state: State
) -> ClaimOut | Response:
    """The next item for the key's user, with its trace, reserved for the queue's
    claim time; 204 when nothing is left for them.

    The user's unexpired claim comes first, so asking again returns the same item.
    An item is never handed to the same person twice.
    """
    with state.store.write_session() as session:
        view = _queue(session, project, queue)
        got = claim_next(session, view, user)
        if got is None:
            return Response(status_code=204)
        return ClaimOut(
            item_id=got.item_id,
            trace_id=got.trace_id,
            reason=got.reason,
            source=got.source,
            claimed_at=got.claimed_at,
            expires_at=got.expires_at,
            resumed=got.resumed,
            instructions=view.instructions,
            fields=[label_field_out(f) for f in view.schema.fields],
            context=context_out(got.context),
            progress=_progress(got.progress),
        )


@router.post(
    "/items/{item_id}/annotation",
    response_model=AnnotationResultOut,
    status_code=201,
    summary="Label an item",
    responses={
        409: {"description": "No claim on the item (or it was skipped), or it is resolved."}
    },
)
def annotate(
    project: ProjectRef,
    queue: QueueName,
    item_id: int,
    body: AnnotationIn,
    user: ApiUser,
    state: State,
) -> AnnotationResultOut:
    """Store the key's user's label on an item they claimed; the item is decided once
    it has as many labels as the queue's overlap (agreeing labels resolve it,
    disagreeing ones send it to adjudication).

    Values are checked against the schema: an unknown field or option, or a missing
    required field, is refused with 400 naming it, and nothing is stored. Sending a
    label again replaces it while the item is not resolved.
    """
    with state.store.write_session() as session:
        view = _queue(session, project, queue)
        result = submit(
            session, view, user, item_id, body.values, comment=body.comment, seconds=body.seconds
        )
        done = progress(session, view, user)
    return AnnotationResultOut(
        annotation_id=result.annotation_id,
        item_id=result.item_id,
        replaced=result.replaced,
        progress=_progress(done),
    )


@router.post(
    "/items/{item_id}/skip",
    response_model=SkipOut,
    summary="Skip an item",
    responses={409: {"description": "The user labelled the item already."}},
)
def skip_item(
    project: ProjectRef, queue: QueueName, item_id: int, body: SkipIn, user: ApiUser, state: State
) -> SkipOut:
    """Pass on an item, with a reason: its slot is freed for someone else and it is
    never handed to this user again."""
    with state.store.write_session() as session:
        view = _queue(session, project, queue)
        skip(session, view, user, item_id, body.reason)
        done = progress(session, view, user)
    return SkipOut(item_id=item_id, progress=_progress(done))


@router.get(
    "/disputed",
    response_model=list[ItemLabelsOut],
    summary="List disputed items",
    responses={403: {"description": "The user is an annotator, not an adjudicator or admin."}},
)
def disputed(
    project: ProjectRef,
    queue: QueueName,
    user: ApiUser,
    state: State,
    limit: Annotated[
        int, Query(ge=1, le=_MAX_DISPUTED_PAGE, description="Page size.")
    ] = _DISPUTED_PAGE,
    offset: Annotated[int, Query(ge=0, description="Items to pass over.")] = 0,
) -> list[ItemLabelsOut]:
    """Disputed items, oldest first, each with every label side by side and its
    trace. Adjudicators and admins only: annotators label without seeing each
    other's labels."""
    _require_adjudicator(user)
    with state.store.session() as session:
        view = _queue(session, project, queue)
        return [
            item_labels_out(item_labels(session, i.id))
            for i in disputed_items(session, view, limit=limit, offset=offset)
        ]


@router.post(
    "/items/{item_id}/adjudication",
    response_model=ItemOut,
    summary="Adjudicate an item",
    responses={
        403: {"description": "The user is an annotator, not an adjudicator or admin."},
        409: {"description": "The item is resolved, or open without any label."},
    },
)
def adjudication(
    project: ProjectRef,
    queue: QueueName,
    item_id: int,
    body: AdjudicationIn,
    user: ApiUser,
    state: State,
) -> ItemOut:
    """Settle an item's final label, with a reason: a disputed item, or an open one
    that has at least one label. Adjudicators and admins only."""
    _require_adjudicator(user)
    with state.store.write_session() as session:
        view = _queue(session, project, queue)
        return item_out(adjudicate(session, view, user, item_id, body.values, body.reason))
