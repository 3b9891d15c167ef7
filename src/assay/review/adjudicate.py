"""Adjudication: an adjudicator settles disputed items, with a reason; gold items.

Only users with the role ``adjudicator`` or ``admin`` adjudicate. They see every
label side by side with who gave it (:func:`item_labels`) and decide the final
label of a disputed item, or of an open item that has at least one label (when
waiting for more annotators is not worth it). Any resolved item can be made a gold
item: handed out to annotators who have not labelled it, to measure them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.accounts import UserView
from assay.errors import Conflict, Forbidden, InvalidInput, NotFound
from assay.review.context import TraceContext, trace_context
from assay.review.decision import dump_label
from assay.review.items import item_annotations, item_row, item_views
from assay.review.queues import QueueView, queue_now, require_schema
from assay.review.views import AnnotationView, ItemView
from assay.store.models import QueueItem, User, utcnow
from assay.traces.times import as_utc

ADJUDICATOR_ROLES = ("adjudicator", "admin")


@dataclass(frozen=True, slots=True)
class ItemLabels:
    """An item with every label on it, for an adjudicator.

    Attributes:
        item: The item (with its final label once resolved).
        annotations: Every label, oldest first, with the annotator's name; gold
            annotations (labels given on it as a gold item) are flagged.
        context: The trace as annotators saw it; None if it has not arrived.
    """

    item: ItemView
    annotations: list[AnnotationView]
    context: TraceContext | None


def disputed_items(
    session: Session, queue: QueueView, *, limit: int = 100, offset: int = 0
) -> list[ItemView]:
    """A queue's disputed items, oldest first."""
    rows = session.scalars(
        select(QueueItem)
        .where(QueueItem.queue_id == queue.id, QueueItem.status == "disputed")
        .order_by(QueueItem.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return item_views(session, rows)


def item_labels(session: Session, item_id: int) -> ItemLabels:
    """Every label on an item side by side, with the trace.

    Raises:
        NotFound: No such item.
    """
    row = session.get(QueueItem, item_id)
    if row is None:
        raise NotFound(f"queue item {item_id} does not exist")
    return ItemLabels(
        item=item_views(session, [row])[0],
        annotations=item_annotations(session, [row.id]).get(row.id, []),
        context=trace_context(session, row.project_id, row.trace_id),
    )


def adjudicate(
    session: Session,
    queue: QueueView,
    user: UserView,
    item_id: int,
    values: Any,
    reason: str,
    *,
    now: datetime | None = None,
) -> ItemView:
    """Settle an item's label.

    Args:
        session: A write session (the caller commits).
        queue: The item's queue.
        user: The adjudicator (role ``adjudicator`` or ``admin``, as stored now).
        item_id: The item: disputed, or open with at least one label.
        values: The final label, checked against the queue's schema.
        reason: Why this label (kept with the item and its promoted case).
        now: The current time (tests pass one).

    Returns:
        The resolved item (resolution ``adjudicated``).

    Raises:
        Forbidden: The user may not adjudicate.
        InvalidInput: An empty reason, or values that do not fit the schema.
        NotFound: The queue has no such item, or the user does not exist.
        Conflict: The item is resolved, or open without any label.
    """
    _check_role(session, user)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason: say why this label is right (it is kept with the item)")
    label = require_schema(queue_now(session, queue)).validate(values)
    now = as_utc(now) if now is not None else utcnow()
    item = item_row(session, queue.id, item_id, lock=True)
    if item.status == "resolved":
        raise Conflict(f"item {item_id} is resolved already ({item.resolution})")
    if item.status == "open":
        labelled = item_annotations(session, [item.id], gold=False).get(item.id, [])
        if not labelled:
            raise Conflict(
                f"item {item_id} has no label yet: adjudication settles labels that exist"
            )
    item.status = "resolved"
    item.resolution = "adjudicated"
    item.label = dump_label(label)
    item.resolved_by = user.id
    item.resolution_reason = reason.strip()
    item.resolved_at = now
    session.flush()
    return item_views(session, [item])[0]


def mark_gold(
    session: Session, queue: QueueView, item_id: int, label: Any | None = None
) -> ItemView:
    """Make a resolved item a gold item, with its label or the one given.

    Raises:
        InvalidInput: The given label does not fit the schema.
        NotFound: The queue has no such item.
        Conflict: The item is not resolved.
    """
    gold = require_schema(queue_now(session, queue)).validate(label) if label is not None else None
    item = item_row(session, queue.id, item_id, lock=True)
    if item.status != "resolved":
        raise Conflict(f"item {item_id} is {item.status}: only resolved items can be gold")
    item.gold = dump_label(gold) if gold is not None else item.label
    session.flush()
    return item_views(session, [item])[0]


def unmark_gold(session: Session, queue: QueueView, item_id: int) -> ItemView:
    """Stop handing an item out as a gold item (its gold annotations are kept).

    Raises:
        NotFound: The queue has no such item.
    """
    item = item_row(session, queue.id, item_id, lock=True)
    item.gold = None
    session.flush()
    return item_views(session, [item])[0]


def _check_role(session: Session, user: UserView) -> None:
    role = session.scalar(select(User.role).where(User.id == user.id))
    if role is None:
        raise NotFound(f"user {user.username!r} does not exist")
    if role not in ADJUDICATOR_ROLES:
        raise Forbidden(
            f"user {user.username!r} is an {role}: only adjudicators and admins adjudicate"
        )
