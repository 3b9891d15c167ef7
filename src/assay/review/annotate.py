"""Submitting labels: checked against the schema, stored, and deciding the item.

A label needs the annotator's claim on the item. An expired claim is still accepted
when nobody took its slot meanwhile. An annotator may replace their label while the
item is open. Once it is disputed its labels stay as they are: only an adjudicator
settles it (an annotator who changed their label to match would settle it alone,
having seen from the dispute that they disagreed). When an
item has as many labels as the queue's overlap it is decided (see
:mod:`assay.review.decision`).

A label on a gold item measures the annotator: it is stored as a gold annotation,
compared with the gold label on the decisive fields, and never changes the item. It
needs a live claim (a skipped or expired gold claim takes no label), and a refusal
reads as it would for any other resolved item, so it never tells the annotator the
item was gold.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.accounts import UserView
from assay.errors import Conflict, InvalidInput
from assay.review.assign import own_assignment, taken_slots
from assay.review.decision import load_label, matches, settle
from assay.review.items import item_row
from assay.review.queues import QueueView, queue_now, require_schema
from assay.review.views import ItemStatus, Resolution
from assay.store.models import Annotation, Assignment, QueueItem, utcnow
from assay.traces.times import as_utc

MAX_COMMENT = 10_000


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What a submitted label did.

    Attributes:
        annotation_id: The annotation's row id.
        item_id: The item.
        status: The item's status afterwards (a gold item's stays ``resolved``).
        resolution: How it was resolved, if this label resolved it (or it was).
        replaced: Whether the label replaced the annotator's earlier one.
        gold: Whether the item is a gold item.
        gold_correct: For a gold item, whether the label equals the gold label on
            every decisive field; None otherwise.
    """

    annotation_id: int
    item_id: int
    status: ItemStatus
    resolution: Resolution | None
    replaced: bool
    gold: bool
    gold_correct: bool | None


def submit(
    session: Session,
    queue: QueueView,
    user: UserView,
    item_id: int,
    values: Any,
    *,
    comment: str | None = None,
    seconds: float | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store an annotator's label on an item, deciding the item when it is complete.

    Args:
        session: A write session (the caller commits).
        queue: The item's queue.
        user: The annotator.
        item_id: The item.
        values: Field values, checked against the queue's schema.
        comment: Words beside the label.
        seconds: Time spent labelling, as the client measured it.
        now: The current time (tests pass one); UTC now by default.

    Raises:
        InvalidInput: The values do not fit the schema as it is now (the message
            names each field), or the comment or seconds are malformed. Nothing is
            stored.
        NotFound: The queue (or its item) no longer exists.
        Conflict: The annotator has no claim on the item (or skipped it), their
            expired claim's slot was taken, or the item is resolved already.
    """
    comment = _comment(comment)
    seconds = _seconds(seconds)
    now = as_utc(now) if now is not None else utcnow()
    # Decide by the overlap and schema as they are now, not as the caller read them.
    queue = queue_now(session, queue)
    schema = require_schema(queue)
    normalised = schema.validate(values)
    item = item_row(session, queue.id, item_id, lock=True)
    assignment = own_assignment(session, item.id, user.id)
    annotation = session.scalars(
        select(Annotation).where(Annotation.item_id == item.id, Annotation.user_id == user.id)
    ).one_or_none()
    text = json.dumps(normalised, ensure_ascii=False)

    if assignment is not None and assignment.gold:
        # The messages an ordinary resolved item gives: nothing says "gold".
        if annotation is not None:
            raise Conflict(_resolved_labels(item_id))
        if assignment.status == "skipped":
            raise Conflict(_skipped(item_id))
        if assignment.expires_at <= now:
            raise Conflict(_not_needed(item_id, item.status))
        annotation = _insert(session, queue, user, item, assignment, text, comment, seconds, now)
        gold = load_label(item.gold)
        return SubmitResult(
            annotation_id=annotation.id,
            item_id=item.id,
            status=item.status,  # type: ignore[arg-type]
            resolution=item.resolution,  # type: ignore[arg-type]
            replaced=False,
            gold=True,
            gold_correct=matches(schema, normalised, gold) if gold is not None else None,
        )

    if annotation is not None:
        if item.status == "resolved":
            raise Conflict(_resolved_labels(item_id))
        if item.status == "disputed":
            raise Conflict(
                f"item {item_id} is disputed: its labels stay as they are until an "
                "adjudicator settles it"
            )
        annotation.values = text
        annotation.comment = comment
        annotation.seconds = seconds if seconds is not None else annotation.seconds
        annotation.updated_at = now
        session.flush()
        decision = settle(session, item, schema, queue.overlap, now)
        session.flush()
        return _result(annotation, item, decision.resolution, replaced=True)

    if assignment is None:
        raise Conflict(f"you have no claim on item {item_id}: claim it first")
    if assignment.status == "skipped":
        raise Conflict(_skipped(item_id))
    if item.status != "open":
        raise Conflict(_not_needed(item_id, item.status))
    if assignment.expires_at <= now and (
        taken_slots(session, item.id, now, besides=user.id) >= queue.overlap
    ):
        raise Conflict(f"your claim on item {item_id} expired and another annotator took its slot")
    annotation = _insert(session, queue, user, item, assignment, text, comment, seconds, now)
    decision = settle(session, item, schema, queue.overlap, now)
    session.flush()
    return _result(annotation, item, decision.resolution, replaced=False)


def _resolved_labels(item_id: int) -> str:
    return f"item {item_id} is resolved; its labels can no longer change"


def _skipped(item_id: int) -> str:
    return f"you skipped item {item_id}; it is not yours to label any more"


def _not_needed(item_id: int, status: str) -> str:
    return f"item {item_id} is {status} already; your label is not needed"


def _insert(
    session: Session,
    queue: QueueView,
    user: UserView,
    item: QueueItem,
    assignment: Assignment,
    values: str,
    comment: str | None,
    seconds: float | None,
    now: datetime,
) -> Annotation:
    annotation = Annotation(
        item_id=item.id,
        queue_id=queue.id,
        user_id=user.id,
        values=values,
        comment=comment,
        gold=assignment.gold,
        seconds=seconds,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(annotation)
    except IntegrityError:
        raise Conflict(f"item {item.id} got two labels from {user.username!r} at once") from None
    assignment.status = "done"
    assignment.finished_at = now
    session.flush()
    return annotation


def _result(
    annotation: Annotation, item: QueueItem, resolution: Resolution | None, *, replaced: bool
) -> SubmitResult:
    return SubmitResult(
        annotation_id=annotation.id,
        item_id=item.id,
        status=item.status,  # type: ignore[arg-type]
        resolution=resolution if item.status == "resolved" else None,
        replaced=replaced,
        gold=False,
        gold_correct=None,
    )


def _comment(comment: Any) -> str | None:
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise InvalidInput(f"comment must be text, got {comment!r}")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"comment is longer than {MAX_COMMENT} characters")
    return comment.strip() or None


def _seconds(seconds: Any) -> float | None:
    if seconds is None:
        return None
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not math.isfinite(seconds)
        or seconds < 0
    ):
        raise InvalidInput(f"seconds must be a non-negative number, got {seconds!r}")
    return float(seconds)
