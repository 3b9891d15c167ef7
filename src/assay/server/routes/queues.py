"""REST API: the API key's project's review queues (under /api/v1).

Managing a queue acts for the project: create and change queues, promote resolved
items to a dataset and export the results. Items are in
:mod:`assay.server.routes.queue_items`, agreement and annotator statistics in
:mod:`assay.server.routes.queue_stats`; labelling and adjudicating act as a person and
take a user key (:mod:`assay.server.routes.annotate`).
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from assay.review import (
    ItemStatus,
    LabelField,
    PromotionResult,
    QueueView,
    create_queue,
    export_results,
    get_queue,
    list_queues,
    promote,
    update_queue,
)
from assay.review.definition import DEFAULT_CLAIM_SECONDS, DEFAULT_OVERLAP, MAX_OVERLAP
from assay.review.export import ExportFormat
from assay.server.auth import ApiProject
from assay.server.routes.datasets import DuplicateOut, VersionOut
from assay.server.routes.queue_items import TraceFilterIn
from assay.server.state import ServerState, get_state
from assay.stats.agreement import ALPHA_FLOOR

router = APIRouter(
    prefix="/api/v1",
    tags=["queues"],
    responses={
        400: {"description": "A malformed value; the message names it. Nothing is changed."},
        401: {"description": "Missing, unknown or revoked project API key."},
        404: {"description": "The key's project has no such queue."},
    },
)
State = Annotated[ServerState, Depends(get_state)]

_MEDIA_TYPES: dict[str, str] = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
_FIELDS = (
    "The label schema: a list of fields, each `{name, type, ...}` with type `categorical` "
    "(`options`), `ordinal` (`scale`, `anchors`, `level`), `boolean`, `tags` (`options`), "
    "`text` or `correction`; optional `required`, `description`, `reference`."
)


class LabelFieldOut(BaseModel):
    """One field of a queue's label schema."""

    name: str = Field(description="An identifier, unique in the schema.")
    type: str = Field(description="categorical, ordinal, boolean, tags, text or correction.")
    required: bool = Field(description="Whether a label must give a value.")
    description: str = Field(description="What the field asks, shown to annotators.")
    options: list[str] = Field(description="Allowed values (categorical; restricted tags).")
    scale: int | None = Field(description="The top of an ordinal scale (values 1..scale).")
    anchors: dict[str, str] = Field(description="Words for ordinal values, by value.")
    level: str = Field(description="An ordinal field's level for agreement: ordinal, interval.")
    reference: bool = Field(description="Whether the value becomes a promoted case's reference.")
    decisive: bool = Field(description="Whether the field decides agreement.")


class QueueOut(BaseModel):
    """A review queue, its settings and what it holds."""

    name: str = Field(description="Unique in the project.")
    description: str = Field(description="What the queue is for.")
    instructions: str = Field(description="What annotators read before labelling (Markdown).")
    fields: list[LabelFieldOut] = Field(description="The label schema, in display order.")
    overlap: int = Field(description="How many annotators label each item.")
    claim_seconds: int = Field(description="How long a claim reserves an item.")
    gold_rate: float = Field(description="The share of hand-outs that are gold items.")
    agreement_floor: float = Field(description="Krippendorff's alpha under this is flagged.")
    created_at: datetime = Field(description="When it was created (UTC).")
    items: int = Field(description="Items in the queue, whatever their status.")
    open: int = Field(description="Items being labelled.")
    disputed: int = Field(description="Items whose labels disagree, waiting for adjudication.")
    resolved: int = Field(description="Items with an authoritative label.")
    gold: int = Field(description="Gold items (resolved items with a known answer).")
    annotations: int = Field(description="Labels given, gold annotations included.")


class QueueIn(BaseModel):
    """A queue to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique in the project; no `@` or `/`, at most 100 characters.")
    description: str = Field(default="", description="What the queue is for.")
    instructions: str = Field(default="", description="What annotators read (Markdown).")
    overlap: int = Field(
        default=DEFAULT_OVERLAP, description=f"Annotators per item, 1 to {MAX_OVERLAP}."
    )
    claim_seconds: int = Field(
        default=DEFAULT_CLAIM_SECONDS, description="How long a claim reserves an item (30 s+)."
    )
    gold_rate: float = Field(default=0.0, description="Share of hand-outs that are gold, [0, 1).")
    agreement_floor: float = Field(
        default=ALPHA_FLOOR, description="Alpha under this is flagged, -1 to 1."
    )
    fields: list[dict[str, Any]] = Field(description=_FIELDS)


class QueuePatch(BaseModel):
    """Settings to change; what is left out (or null) keeps its value."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, description="What the queue is for.")
    instructions: str | None = Field(default=None, description="What annotators read.")
    overlap: int | None = Field(
        default=None, description="Annotators per item; lowering it decides complete items."
    )
    claim_seconds: int | None = Field(default=None, description="How long a claim lasts.")
    gold_rate: float | None = Field(default=None, description="Share of gold hand-outs.")
    agreement_floor: float | None = Field(default=None, description="The alpha floor.")
    fields: list[dict[str, Any]] | None = Field(
        default=None,
        description="A new label schema; refused (409) once the queue has annotations.",
    )


class PromoteIn(BaseModel):
    """Resolved items to add to a dataset as a new version."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(description="The dataset; created when missing.")
    item_ids: list[int] | None = Field(
        default=None, description="Only these items; null: every resolved item."
    )
    filter: TraceFilterIn | None = Field(
        default=None, description="Only items whose traces match this filter."
    )
    message: str = Field(default="", description="A note kept with the version.")


class SkippedItemOut(BaseModel):
    """An item that did not become a case, and why."""

    item_id: int = Field(description="The item.")
    trace_id: str = Field(description="Its trace.")
    reason: str = Field(description='Why ("the item is disputed").')


class PromoteOut(BaseModel):
    """What promotion added: cases named `trace-<trace id>`, provenance naming the trace."""

    version: VersionOut | None = Field(
        description="The new version, or the latest one when nothing changed; null when "
        "nothing was promoted into a dataset without versions."
    )
    created: bool = Field(description="Whether a version was made.")
    dataset_created: bool = Field(description="Whether the dataset was created.")
    added: list[str] = Field(description="Case ids new in the dataset.")
    changed: list[str] = Field(description="Case ids whose content changed.")
    unchanged: list[str] = Field(description="Case ids there already with the same content.")
    skipped: list[SkippedItemOut] = Field(description="Items that did not become cases.")
    duplicates: list[DuplicateOut] = Field(description="Cases whose input repeats another's.")


def label_field_out(f: LabelField) -> LabelFieldOut:
    """The API shape of a schema field."""
    return LabelFieldOut(
        name=f.name,
        type=f.type,
        required=f.required,
        description=f.description,
        options=list(f.options),
        scale=f.scale,
        anchors={str(k): v for k, v in sorted(f.anchors.items())},
        level=f.level,
        reference=f.reference,
        decisive=f.decisive,
    )


def queue_out(view: QueueView) -> QueueOut:
    """The API shape of a queue."""
    return QueueOut(
        name=view.name,
        description=view.description,
        instructions=view.instructions,
        fields=[label_field_out(f) for f in view.schema.fields],
        overlap=view.overlap,
        claim_seconds=view.claim_seconds,
        gold_rate=view.gold_rate,
        agreement_floor=view.agreement_floor,
        created_at=view.created_at,
        items=view.items,
        open=view.open,
        disputed=view.disputed,
        resolved=view.resolved,
        gold=view.gold,
        annotations=view.annotations,
    )


def _promoted(result: PromotionResult) -> PromoteOut:
    return PromoteOut(
        version=VersionOut.model_validate(result.version, from_attributes=True)
        if result.version is not None
        else None,
        created=result.created,
        dataset_created=result.dataset_created,
        added=result.added,
        changed=result.changed,
        unchanged=result.unchanged,
        skipped=[
            SkippedItemOut(item_id=s.item_id, trace_id=s.trace_id, reason=s.reason)
            for s in result.skipped
        ],
        duplicates=[
            DuplicateOut.model_validate(d, from_attributes=True) for d in result.duplicates
        ],
    )


def _filename(name: str) -> str:
    # Header values are Latin-1; a queue name may hold any Unicode but `@`, `/`.
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


# -- routes ----------------------------------------------------------------------------


@router.get("/queues", response_model=list[QueueOut], summary="List review queues")
def queues(project: ApiProject, state: State) -> list[QueueOut]:
    """The project's review queues by name, with their counts."""
    with state.store.session() as session:
        return [queue_out(v) for v in list_queues(session, project.project_id)]


@router.post(
    "/queues",
    response_model=QueueOut,
    status_code=201,
    summary="Create a review queue",
    responses={409: {"description": "The project already has a queue of that name."}},
)
def create(body: QueueIn, project: ApiProject, state: State) -> QueueOut:
    """Create a queue from its definition, as `assay queue create` reads it from a file.

    An invalid field (an unknown type, a categorical without options, an overlap out
    of range) is refused with 400 naming it.
    """
    with state.store.write_session() as session:
        return queue_out(create_queue(session, project.project_id, body.model_dump()))


@router.get("/queues/{queue}", response_model=QueueOut, summary="Get a review queue")
def queue(queue: str, project: ApiProject, state: State) -> QueueOut:
    """One queue with its settings, schema and counts of items by status."""
    with state.store.session() as session:
        return queue_out(get_queue(session, project.project_id, queue))


@router.patch(
    "/queues/{queue}",
    response_model=QueueOut,
    summary="Change a review queue",
    responses={409: {"description": "A new schema for a queue that has annotations."}},
)
def change(queue: str, body: QueuePatch, project: ApiProject, state: State) -> QueueOut:
    """Change a queue's settings; every value is checked before any is changed.

    Lowering `overlap` decides the open items that now have enough labels. The schema
    may change only while the queue has no annotations.
    """
    with state.store.write_session() as session:
        view = get_queue(session, project.project_id, queue)
        return queue_out(
            update_queue(
                session,
                view,
                description=body.description,
                instructions=body.instructions,
                overlap=body.overlap,
                claim_seconds=body.claim_seconds,
                gold_rate=body.gold_rate,
                agreement_floor=body.agreement_floor,
                fields=body.fields,
            )
        )


@router.post(
    "/queues/{queue}/promote",
    response_model=PromoteOut,
    status_code=201,
    summary="Promote resolved items to a dataset",
    responses={200: {"model": PromoteOut, "description": "No new version was needed."}},
)
def promote_items(
    queue: str, body: PromoteIn, project: ApiProject, state: State, response: Response
) -> PromoteOut:
    """Add resolved items as cases of the dataset's next version (201), creating the
    dataset if needed; 200 when every case is there already with the same content.

    Each item becomes case `trace-<trace id>`: the trace's input, the label's
    reference field as reference, and provenance naming the trace, queue, item,
    annotators and adjudicator. Earlier cases of the dataset are kept.
    """
    with state.store.write_session() as session:
        view = get_queue(session, project.project_id, queue)
        result = promote(
            session,
            project.project_id,
            view,
            body.dataset,
            item_ids=body.item_ids,
            trace_filter=body.filter.to_filter() if body.filter is not None else None,
            message=body.message,
        )
    if not result.created:
        response.status_code = 200
    return _promoted(result)


@router.get(
    "/queues/{queue}/export",
    summary="Export a queue's results",
    response_class=Response,
    responses={200: {"description": "The items and their labels as JSONL or CSV."}},
)
def export(
    queue: str,
    project: ApiProject,
    state: State,
    format: Annotated[
        ExportFormat, Query(description="`jsonl`: one object per item; `csv`: one row per label.")
    ] = "jsonl",
    status: Annotated[ItemStatus | None, Query(description="Only items of this status.")] = None,
) -> Response:
    """A queue's items with final labels, gold labels and every annotation, as
    `assay queue export` writes them."""
    out = io.StringIO(newline="")
    with state.store.session() as session:
        view = get_queue(session, project.project_id, queue)
        export_results(session, view, out, format=format, status=status)
    return Response(
        content=out.getvalue().encode("utf-8"),
        media_type=_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{_filename(view.name)}.{format}"'},
    )
