"""REST API: the items of the API key's project's review queues (under /api/v1).

Enqueue traces (by id, or the newest traces matching a filter), page through items,
read one item with every label side by side and its trace, and mark gold items. The
item shapes here are shared with the labelling routes
(:mod:`assay.server.routes.annotate`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from assay.errors import InvalidInput
from assay.review import (
    ITEM_STATUSES,
    AnnotationView,
    ItemLabels,
    ItemStatus,
    ItemView,
    QueueView,
    enqueue,
    enqueue_filtered,
    get_item,
    get_queue,
    item_labels,
    list_items,
    mark_gold,
    unmark_gold,
)
from assay.review.context import Document, StepContext, TraceContext
from assay.review.items import MAX_BULK, MAX_PAGE
from assay.server.auth import ApiProject
from assay.server.routes.feedback import FeedbackOut
from assay.server.routes.traces import Content
from assay.server.state import ServerState, get_state
from assay.traces import TraceFilter, check_trace_id, known_traces, parse_timestamp

router = APIRouter(
    prefix="/api/v1",
    tags=["queues"],
    responses={
        400: {"description": "A malformed value; the message names it. Nothing is changed."},
        401: {"description": "Missing, unknown or revoked project API key."},
        404: {"description": "The key's project has no such queue or item."},
    },
)
State = Annotated[ServerState, Depends(get_state)]

_TIME = "Nanoseconds since the epoch, or an ISO 8601 datetime (UTC when no offset is given)."


class DocumentOut(BaseModel):
    """A document a retrieval step returned."""

    id: str | None = Field(description="The document's id, when sent.")
    content: str | None = Field(description="Its text.")
    score: float | None = Field(description="Its retrieval score, when sent.")


class StepOut(BaseModel):
    """A retrieval or tool step of the trace."""

    span_id: str = Field(description="The span, 16 hex digits.")
    name: str = Field(description="The span's name (the tool's name for tool calls).")
    kind: str = Field(description="retrieval or tool.")
    input: Content = Field(description="What the step got (the query, the tool's arguments).")
    output: Content = Field(description="What it returned.")
    status: str = Field(description="ok, error or unset.")
    status_message: str | None = Field(description="The error, if the step failed.")
    documents: list[DocumentOut] = Field(description="Documents a retrieval returned, by rank.")
    duration_ms: float = Field(description="How long it took.")


class TraceContextOut(BaseModel):
    """The parts of a trace an annotator needs to label it."""

    trace_id: str = Field(description="32 lowercase hex digits.")
    name: str | None = Field(description="The root span's name.")
    start_time: str = Field(description="Start, ISO 8601 UTC.")
    input: Content = Field(description="The request, as text or chat messages.")
    output: Content = Field(description="The answer, as text or chat messages.")
    model: str | None = Field(description="The model that answered.")
    status: str = Field(description="ok, error or unset.")
    release: str | None = Field(description="The release the app sent, if any.")
    slices: dict[str, Any] = Field(description="Slice attributes (locale, tier, ...).")
    retrievals: list[StepOut] = Field(description="Retrieval steps, in start order.")
    tools: list[StepOut] = Field(description="Tool calls, in start order.")
    feedback: list[FeedbackOut] = Field(description="Feedback on the trace, oldest first.")


class ItemOut(BaseModel):
    """One trace in one queue."""

    id: int = Field(description="The item's id.")
    trace_id: str = Field(description="The trace, 32 hex digits.")
    source: str = Field(description="How it came: rule, manual or filter.")
    reason: str = Field(description='Words for the annotator ("thumbs down").')
    rule_id: int | None = Field(description="The routing rule that sent it, if one did.")
    status: ItemStatus = Field(description="open, disputed or resolved.")
    label: dict[str, Any] | None = Field(description="The resolved label; null until resolved.")
    gold: dict[str, Any] | None = Field(description="The gold label of a gold item; else null.")
    resolution: str | None = Field(description="single, unanimous or adjudicated.")
    resolved_by: str | None = Field(description="The adjudicator, for adjudicated items.")
    resolution_reason: str | None = Field(description="The adjudicator's reason.")
    resolved_at: datetime | None = Field(description="When it was resolved (UTC).")
    created_at: datetime = Field(description="When it entered the queue (UTC).")
    annotations: int = Field(description="Labels given (gold annotations not counted).")


class AnnotationOut(BaseModel):
    """One annotator's label on one item."""

    id: int = Field(description="The annotation's id.")
    annotator: str = Field(description="The annotator's username.")
    values: dict[str, Any] = Field(description="The field values, normalised.")
    comment: str | None = Field(description="What the annotator wrote beside the label.")
    gold: bool = Field(description="Given on the item as a gold item (measures the annotator).")
    seconds: float | None = Field(description="Time spent, when the client measured it.")
    created_at: datetime = Field(description="When it was first submitted (UTC).")
    updated_at: datetime | None = Field(description="When it was last replaced, if it was.")


class ItemLabelsOut(BaseModel):
    """An item with every label on it, side by side, and its trace."""

    item: ItemOut = Field(description="The item (with its final label once resolved).")
    annotations: list[AnnotationOut] = Field(description="Every label, oldest first.")
    context: TraceContextOut | None = Field(description="The trace; null if it has not arrived.")


class ItemPageOut(BaseModel):
    """A page of a queue's items, oldest first."""

    items: list[ItemOut] = Field(description="The items on this page.")
    offset: int = Field(description="Items passed over before this page.")
    limit: int = Field(description="The page size asked for.")


class TraceFilterIn(BaseModel):
    """Which traces: every condition given must hold (as in `GET /api/v1/traces`)."""

    model_config = ConfigDict(extra="forbid")

    start_from: str | None = Field(default=None, description=f"Started at or after. {_TIME}")
    start_to: str | None = Field(default=None, description=f"Started before. {_TIME}")
    release: str | None = Field(
        default=None, description="A registered release (name or fingerprint) or a raw ref."
    )
    model: str | None = Field(default=None, description="The trace's or any span's model.")
    status: Literal["ok", "error", "unset"] | None = Field(
        default=None, description="Trace status."
    )
    kind: str | None = Field(default=None, description="Traces with a span of this kind.")
    slices: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Slice values by key, compared as text; a list matches any of its values.",
    )
    q: str | None = Field(default=None, description="Text in an input or output.")
    session_id: str | None = Field(default=None, description="Session id.")
    user_id: str | None = Field(default=None, description="End user id.")
    has_feedback: bool | None = Field(
        default=None, description="true: traces with feedback; false: without."
    )

    def to_filter(self) -> TraceFilter:
        """The domain filter (times parsed)."""
        pairs = [
            (key, value)
            for key, values in self.slices.items()
            for value in ([values] if isinstance(values, str) else values)
        ]
        return TraceFilter(
            start_from_ns=parse_timestamp(self.start_from, field="filter.start_from")
            if self.start_from
            else None,
            start_to_ns=parse_timestamp(self.start_to, field="filter.start_to")
            if self.start_to
            else None,
            release=self.release,
            model=self.model,
            status=self.status,
            kind=self.kind,
            slices=pairs,
            q=self.q,
            session_id=self.session_id,
            user_id=self.user_id,
            has_feedback=self.has_feedback,
        )


class EnqueueIn(BaseModel):
    """Traces to put in a queue: by id, by filter, or both."""

    model_config = ConfigDict(extra="forbid")

    trace_ids: list[str] = Field(
        default_factory=list, description="Traces of the project, 32 hex digits each."
    )
    filter: TraceFilterIn | None = Field(
        default=None, description="Also the newest `limit` traces matching this filter."
    )
    limit: int = Field(
        default=100, ge=1, le=MAX_BULK, description="At most this many traces from `filter`."
    )
    reason: str = Field(default="", description='Words for the annotator ("checked by hand").')


class EnqueueOut(BaseModel):
    """What enqueueing did; a trace is in a queue at most once."""

    added: int = Field(description="Traces put in the queue.")
    already: int = Field(description="Traces that were in the queue already.")


class GoldIn(BaseModel):
    """The known answer of a gold item."""

    model_config = ConfigDict(extra="forbid")

    label: dict[str, Any] | None = Field(
        default=None, description="The gold label; null or left out: the item's final label."
    )


def _document(doc: Document) -> DocumentOut:
    return DocumentOut(id=doc.id, content=doc.content, score=doc.score)


def _step(step: StepContext) -> StepOut:
    return StepOut(
        span_id=step.span_id,
        name=step.name,
        kind=step.kind,
        input=step.input,
        output=step.output,
        status=step.status,
        status_message=step.status_message,
        documents=[_document(d) for d in step.documents],
        duration_ms=step.duration_ms,
    )


def context_out(context: TraceContext | None) -> TraceContextOut | None:
    """The API shape of an annotator's view of a trace."""
    if context is None:
        return None
    return TraceContextOut(
        trace_id=context.trace_id,
        name=context.name,
        start_time=context.start_time,
        input=context.input,
        output=context.output,
        model=context.model,
        status=context.status,
        release=context.release,
        slices=context.slices,
        retrievals=[_step(s) for s in context.retrievals],
        tools=[_step(s) for s in context.tools],
        feedback=[FeedbackOut.model_validate(f) for f in context.feedback],
    )


def item_out(item: ItemView) -> ItemOut:
    """The API shape of a queue item."""
    return ItemOut(
        id=item.id,
        trace_id=item.trace_id,
        source=item.source,
        reason=item.reason,
        rule_id=item.rule_id,
        status=item.status,
        label=item.label,
        gold=item.gold,
        resolution=item.resolution,
        resolved_by=item.resolved_by,
        resolution_reason=item.resolution_reason,
        resolved_at=item.resolved_at,
        created_at=item.created_at,
        annotations=item.annotations,
    )


def annotation_out(a: AnnotationView) -> AnnotationOut:
    """The API shape of an annotation."""
    return AnnotationOut(
        id=a.id,
        annotator=a.annotator,
        values=a.values,
        comment=a.comment,
        gold=a.gold,
        seconds=a.seconds,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def item_labels_out(labels: ItemLabels) -> ItemLabelsOut:
    """The API shape of an item with its labels."""
    return ItemLabelsOut(
        item=item_out(labels.item),
        annotations=[annotation_out(a) for a in labels.annotations],
        context=context_out(labels.context),
    )


def _enqueue_ids(
    session: Session, project_id: int, queue: QueueView, trace_ids: list[str], reason: str
) -> EnqueueOut:
    # In the order given (items are handed out oldest first), each once.
    wanted = list(dict.fromkeys(check_trace_id(t, field="trace_ids") for t in trace_ids))
    unknown = sorted(set(wanted) - known_traces(session, project_id, set(wanted)))
    if unknown:
        listed = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise InvalidInput(f"trace_ids: the project has no trace {listed}")
    added = sum(
        enqueue(session, project_id, queue.id, t, source="manual", reason=reason) for t in wanted
    )
    return EnqueueOut(added=added, already=len(wanted) - added)


# -- routes ----------------------------------------------------------------------------


@router.get("/queues/{queue}/items", response_model=ItemPageOut, summary="List queue items")
def items(
    queue: str,
    project: ApiProject,
    state: State,
    status: Annotated[
        ItemStatus | None,
        Query(description=f"Only items of this status: {', '.join(ITEM_STATUSES)}."),
    ] = None,
    gold: Annotated[
        bool | None, Query(description="true: only gold items; false: only the others.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, description="Items to pass over.")] = 0,
) -> ItemPageOut:
    """A page of a queue's items, oldest first, with their final and gold labels."""
    with state.store.session() as session:
        view = get_queue(session, project.project_id, queue)
        page = list_items(session, view, status=status, gold=gold, limit=limit, offset=offset)
    return ItemPageOut(items=[item_out(i) for i in page], offset=offset, limit=limit)


@router.post("/queues/{queue}/items", response_model=EnqueueOut, summary="Enqueue traces")
def add_items(queue: str, body: EnqueueIn, project: ApiProject, state: State) -> EnqueueOut:
    """Put traces in a queue: the ones named in `trace_ids`, and the newest `limit`
    traces matching `filter`.

    A trace already in the queue is counted in `already`, never added twice. A trace
    id the project does not have is refused with 400, and nothing is enqueued.
    """
    if not body.trace_ids and body.filter is None:
        raise InvalidInput("give trace_ids, a filter, or both")
    with state.store.write_session() as session:
        view = get_queue(session, project.project_id, queue)
        result = EnqueueOut(added=0, already=0)
        if body.trace_ids:
            result = _enqueue_ids(session, project.project_id, view, body.trace_ids, body.reason)
        if body.filter is not None:
            bulk = enqueue_filtered(
                session,
                project.project_id,
                view,
                body.filter.to_filter(),
                limit=body.limit,
                reason=body.reason,
            )
            result = EnqueueOut(
                added=result.added + bulk.added, already=result.already + bulk.already
            )
    return result


@router.get(
    "/queues/{queue}/items/{item_id}", response_model=ItemLabelsOut, summary="Get a queue item"
)
def item(queue: str, item_id: int, project: ApiProject, state: State) -> ItemLabelsOut:
    """An item with every label on it side by side (who gave it, when, with what
    comment; gold annotations flagged) and the trace as annotators see it."""
    with state.store.session() as session:
        view = get_queue(session, project.project_id, queue)
        get_item(session, view, item_id)  # 404 unless the item is in this queue
        return item_labels_out(item_labels(session, item_id))


@router.post(
    "/queues/{queue}/items/{item_id}/gold",
    response_model=ItemOut,
    summary="Mark a gold item",
    responses={409: {"description": "The item is not resolved."}},
)
def gold(
    queue: str,
    item_id: int,
    project: ApiProject,
    state: State,
    body: Annotated[GoldIn | None, Body()] = None,
) -> ItemOut:
    """Make a resolved item a gold item: handed out to annotators who have not labelled
    it, to measure them against its known answer (its final label, or `label`)."""
    label = body.label if body is not None else None
    with state.store.write_session() as session:
        view = get_queue(session, project.project_id, queue)
        return item_out(mark_gold(session, view, item_id, label))


@router.delete(
    "/queues/{queue}/items/{item_id}/gold", response_model=ItemOut, summary="Unmark a gold item"
)
def not_gold(queue: str, item_id: int, project: ApiProject, state: State) -> ItemOut:
    """Stop handing an item out as a gold item; labels given on it as gold are kept."""
    with state.store.write_session() as session:
        view = get_queue(session, project.project_id, queue)
        return item_out(unmark_gold(session, view, item_id))
