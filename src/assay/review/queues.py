"""Review queues in the store: create, look up, list and update them.

Every function takes the caller's session and leaves committing to it (use
``store.write_session()`` for writes).

Concurrency: on PostgreSQL, :func:`update_queue` locks the queue's row ``FOR
UPDATE`` and code that decides by the queue's settings (claims, labels) locks it
``FOR SHARE`` (:func:`lock_queue`), so a label is never decided by an overlap or
schema that is changing meanwhile. The queue is always locked before its items, so
the two never wait on each other in a deadlock. On SQLite, ``store.write_session()``
takes the write lock at BEGIN.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.errors import Conflict, InvalidInput, NotFound
from assay.review.decision import settle
from assay.review.definition import (
    QueueDefinition,
    check_agreement_floor,
    check_claim_seconds,
    check_gold_rate,
    check_overlap,
    check_text,
    parse_queue_definition,
)
from assay.review.schema import LabelSchema, parse_schema
from assay.store.models import Annotation, Project, QueueItem, ReviewQueue, utcnow


@dataclass(frozen=True, slots=True)
class QueueView:
    """A review queue with its parsed schema and what it holds.

    Attributes:
        id: The queue's row id.
        project_id: Its project.
        name: Unique in the project.
        description: What it is for.
        instructions: What annotators read before labelling.
        schema: The label schema.
        overlap: How many annotators label each item.
        claim_seconds: How long a claim reserves an item.
        gold_rate: The share of hand-outs that are gold items.
        agreement_floor: Alpha under this is flagged.
        created_at: When it was created.
        open: Items being labelled.
        disputed: Items whose labels disagree, waiting for an adjudicator.
        resolved: Items with an authoritative label.
        gold: Gold items (resolved items with a known answer).
        annotations: Labels given, gold annotations included.
    """

    id: int
    project_id: int
    name: str
    description: str
    instructions: str
    schema: LabelSchema
    overlap: int
    claim_seconds: int
    gold_rate: float
    agreement_floor: float
    created_at: datetime
    open: int = 0
    disputed: int = 0
    resolved: int = 0
    gold: int = 0
    annotations: int = 0

    @property
    def items(self) -> int:
        """Items in the queue, whatever their status."""
        return self.open + self.disputed + self.resolved


def create_queue(
    session: Session, project_id: int, definition: QueueDefinition | Mapping[str, Any]
) -> QueueView:
    """Create a queue from its definition (parsed, or plain data as a file or request
    body holds it; see :func:`~assay.review.definition.parse_queue_definition`).

    Raises:
        InvalidInput: The definition is invalid.
        NotFound: The project does not exist.
        Conflict: The project has a queue of that name.
    """
    if not isinstance(definition, QueueDefinition):
        definition = parse_queue_definition(definition)
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    if _row(session, project_id, definition.name) is not None:
        raise Conflict(f"queue {definition.name!r} already exists in this project")
    row = ReviewQueue(
        project_id=project_id,
        name=definition.name,
        description=definition.description,
        instructions=definition.instructions,
        label_schema=json.dumps(definition.schema.to_data(), ensure_ascii=False),
        overlap=definition.overlap,
        claim_seconds=definition.claim_seconds,
        gold_rate=definition.gold_rate,
        agreement_floor=definition.agreement_floor,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"queue {definition.name!r} already exists in this project") from None
    return queue_view(session, row)


def get_queue(session: Session, project_id: int, name: str) -> QueueView:
    """A queue by name, with its counts.

    Raises:
        NotFound: The project has no queue of that name.
    """
    row = _row(session, project_id, name)
    if row is None:
        raise NotFound(f"no review queue named {name!r} in this project")
    return queue_view(session, row)


def list_queues(session: Session, project_id: int) -> list[QueueView]:
    """A project's queues by name, with their counts."""
    rows = session.scalars(
        select(ReviewQueue).where(ReviewQueue.project_id == project_id).order_by(ReviewQueue.name)
    ).all()
    return [queue_view(session, row) for row in rows]


def update_queue(
    session: Session,
    queue: QueueView,
    *,
    description: str | None = None,
    instructions: str | None = None,
    overlap: int | None = None,
    claim_seconds: int | None = None,
    gold_rate: float | None = None,
    agreement_floor: float | None = None,
    fields: LabelSchema | Sequence[Mapping[str, Any]] | None = None,
) -> QueueView:
    """Change a queue's settings; arguments left None keep their value.

    Lowering ``overlap`` decides the open items that now have enough labels. The
    schema (``fields``) may change only while the queue has no annotations: labels
    given under one schema cannot be compared with labels under another.

    Raises:
        InvalidInput: A value is out of range or the schema is invalid; nothing changes.
        NotFound: The queue no longer exists.
        Conflict: ``fields`` that differ from the schema, for a queue that has
            annotations.
    """
    row = lock_queue(session, queue)
    # Check everything before changing anything.
    changes: dict[str, Any] = {}
    if description is not None:
        changes["description"] = check_text(description, "description")
    if instructions is not None:
        changes["instructions"] = check_text(instructions, "instructions")
    if overlap is not None:
        changes["overlap"] = check_overlap(overlap)
    if claim_seconds is not None:
        changes["claim_seconds"] = check_claim_seconds(claim_seconds)
    if gold_rate is not None:
        changes["gold_rate"] = check_gold_rate(gold_rate)
    if agreement_floor is not None:
        changes["agreement_floor"] = check_agreement_floor(agreement_floor)
    schema = stored_schema(row)
    new_schema = None
    if fields is not None:
        new_schema = fields if isinstance(fields, LabelSchema) else parse_schema(fields)
    if new_schema is not None and new_schema != schema:
        schema = new_schema
        annotated = session.scalar(
            select(func.count()).select_from(Annotation).where(Annotation.queue_id == row.id)
        )
        if annotated:
            raise Conflict(
                f"queue {row.name!r} has {annotated} annotation(s): its label schema can no "
                "longer change; create a new queue for the new schema"
            )
        changes["label_schema"] = json.dumps(schema.to_data(), ensure_ascii=False)
    lowered = "overlap" in changes and changes["overlap"] < row.overlap
    for key, value in changes.items():
        setattr(row, key, value)
    session.flush()
    if lowered:
        now = utcnow()
        for item in session.scalars(
            select(QueueItem)
            .where(QueueItem.queue_id == row.id, QueueItem.status == "open")
            .with_for_update()
            .execution_options(populate_existing=True)
        ):
            settle(session, item, schema, row.overlap, now)
        session.flush()
    return queue_view(session, row)


def lock_queue(session: Session, queue: QueueView, *, shared: bool = False) -> ReviewQueue:
    """The queue's row, read afresh and locked on PostgreSQL until the transaction ends.

    Args:
        session: The caller's session.
        queue: The queue.
        shared: ``FOR SHARE``, for code that decides by the queue's settings (many
            at once, none while they change); else ``FOR UPDATE``, to change them.

    Raises:
        NotFound: The queue no longer exists.
    """
    row = session.scalars(
        select(ReviewQueue)
        .where(ReviewQueue.id == queue.id)
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFound(f"review queue {queue.name!r} no longer exists")
    return row


def queue_now(session: Session, queue: QueueView) -> QueueView:
    """``queue`` with its schema and overlap as stored now, not as the caller read
    them; the shared lock keeps :func:`update_queue` from changing them until the
    caller's transaction ends.

    Raises:
        NotFound: The queue no longer exists.
    """
    row = lock_queue(session, queue, shared=True)
    return replace(queue, schema=stored_schema(row), overlap=row.overlap)


def stored_schema(row: ReviewQueue) -> LabelSchema:
    """A queue row's label schema (empty for a queue created without fields)."""
    data = json.loads(row.label_schema or "[]")
    if not data:
        return LabelSchema(())
    return parse_schema(data, source=f"queue {row.name!r}")


def queue_view(session: Session, row: ReviewQueue) -> QueueView:
    """A queue row with its counts (three small aggregate queries)."""
    by_status = dict(
        session.execute(
            select(QueueItem.status, func.count())
            .where(QueueItem.queue_id == row.id)
            .group_by(QueueItem.status)
        ).all()
    )
    gold = session.scalar(
        select(func.count()).where(QueueItem.queue_id == row.id, QueueItem.gold.is_not(None))
    )
    annotations = session.scalar(select(func.count()).where(Annotation.queue_id == row.id))
    return QueueView(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        instructions=row.instructions,
        schema=stored_schema(row),
        overlap=row.overlap,
        claim_seconds=row.claim_seconds,
        gold_rate=row.gold_rate,
        agreement_floor=row.agreement_floor,
        created_at=row.created_at,
        open=int(by_status.get("open", 0)),
        disputed=int(by_status.get("disputed", 0)),
        resolved=int(by_status.get("resolved", 0)),
        gold=int(gold or 0),
        annotations=int(annotations or 0),
    )


def require_schema(queue: QueueView) -> LabelSchema:
    """The queue's schema, refusing a queue that has no fields yet.

    Raises:
        InvalidInput: The queue has no label fields.
    """
    if not queue.schema.fields:
        raise InvalidInput(
            f"queue {queue.name!r} has no label fields; set them with update_queue first"
        )
    return queue.schema


def _row(session: Session, project_id: int, name: str) -> ReviewQueue | None:
    return session.scalars(
        select(ReviewQueue).where(ReviewQueue.project_id == project_id, ReviewQueue.name == name)
    ).one_or_none()
