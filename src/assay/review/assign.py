"""Handing items to annotators: claims that expire, skips, gold items.

An item has ``overlap`` slots. A slot is taken by an assignment that is done, or
claimed and not yet expired; an expired claim frees its slot for someone else. An
annotator is never handed an item twice: not one they labelled, skipped, or hold.
The one exception is their own expired claim, which is renewed when its slot is
still free.

:func:`claim_next` hands out, in this order: the annotator's unexpired claim in the
queue (resume); with probability ``gold_rate``, a gold item they have not labelled
nor adjudicated; else the oldest open item with a free slot (their own expired claims first).

Concurrency: on PostgreSQL the candidate item's row is locked (``FOR UPDATE SKIP
LOCKED``) and its slots are counted again under the lock, in a new statement that
sees claims committed meanwhile, so two annotators cannot both take the last slot;
when every candidate is locked a second, waiting pass makes sure none is missed. On
SQLite callers use ``store.write_session()``, which takes the write lock at BEGIN.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.accounts import UserView
from assay.errors import Conflict, InvalidInput
from assay.review.context import TraceContext, trace_context
from assay.review.items import item_row
from assay.review.queues import QueueView, lock_queue
from assay.store.models import Annotation, Assignment, QueueItem, utcnow
from assay.traces.times import as_utc

if TYPE_CHECKING:
    import numpy as np

Rng: TypeAlias = "random.Random | np.random.Generator"
"""A source of uniform draws in [0, 1): ``random.Random`` or a NumPy ``Generator``
(a string, so the server need not load NumPy to import this module)."""

GOLD_POOL = 1_000
"""Gold items a gold hand-out picks among at random (the oldest ones the annotator has
not labelled); picking at random keeps annotators from learning the gold order."""


@dataclass(frozen=True, slots=True)
class Progress:
    """Where an annotator stands in a queue.

    Attributes:
        done: Items they labelled in this queue (gold items included).
        remaining: Open items in the queue, still needing labels.
    """

    done: int
    remaining: int


@dataclass(frozen=True, slots=True)
class Claim:
    """An item handed to an annotator, with what they need to label it.

    A gold item's known answer is never part of a claim.

    Attributes:
        assignment_id: The assignment's row id.
        item_id: The item.
        trace_id: Its trace.
        reason: Why the item is in the queue ("thumbs down").
        source: How it came: ``rule``, ``manual`` or ``filter``.
        claimed_at: When the claim was made (or renewed).
        expires_at: When the slot is freed unless the label is in.
        gold: Whether it is a gold item (for the server to decide whether to say so).
        resumed: Whether this is a claim the annotator already held.
        context: The trace as an annotator sees it; None if it has not arrived.
        progress: The annotator's progress in the queue.
    """

    assignment_id: int
    item_id: int
    trace_id: str
    reason: str
    source: str
    claimed_at: datetime
    expires_at: datetime
    gold: bool
    resumed: bool
    context: TraceContext | None
    progress: Progress


def claim_next(
    session: Session,
    queue: QueueView,
    user: UserView,
    *,
    now: datetime | None = None,
    rng: Rng | None = None,
) -> Claim | None:
    """The next item for an annotator, claimed for ``queue.claim_seconds``.

    Args:
        session: A write session (the caller commits).
        queue: The queue.
        user: The annotator.
        now: The current time (tests pass one); UTC now by default.
        rng: Draws deciding gold hand-outs; seeded from the OS by default.

    Returns:
        The claim, or None when nothing is left for this annotator.
    """
    now = as_utc(now) if now is not None else utcnow()
    # The queue before its items, as submit does in the same transaction (the CLI
    # claims and labels in one): update_queue waits for both, and never deadlocks.
    lock_queue(session, queue, shared=True)
    held = _held(session, queue, user, now)
    if held is not None:
        return _claim(session, queue, user, held, resumed=True)
    draws = rng if rng is not None else random.Random()
    if queue.gold_rate > 0 and float(draws.random()) < queue.gold_rate:
        gold = _gold_candidate(session, queue, user, draws)
        if gold is not None:
            assignment = _assign(session, queue, user, gold, now, gold=True)
            return _claim(session, queue, user, assignment, resumed=False)
    item = _open_candidate(session, queue, user, now)
    if item is None:
        return None
    assignment = _assign(session, queue, user, item, now, gold=False)
    return _claim(session, queue, user, assignment, resumed=False)


def skip(
    session: Session,
    queue: QueueView,
    user: UserView,
    item_id: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> None:
    """Pass on an item: its slot is freed and it is never handed to this annotator again.

    An item can be skipped without a claim (seen in a list, say).

    Raises:
        InvalidInput: The reason is empty.
        NotFound: The queue has no such item.
        Conflict: The annotator labelled the item already.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason: say why the item is skipped (it helps fix the queue)")
    now = as_utc(now) if now is not None else utcnow()
    item = item_row(session, queue.id, item_id)
    assignment = own_assignment(session, item.id, user.id)
    if assignment is None:
        assignment = Assignment(item_id=item.id, user_id=user.id, claimed_at=now, expires_at=now)
        session.add(assignment)
    elif assignment.status == "done":
        raise Conflict(f"item {item_id} is labelled already; it cannot be skipped")
    assignment.status = "skipped"
    assignment.skip_reason = reason.strip()
    assignment.finished_at = now
    session.flush()


def progress(session: Session, queue: QueueView, user: UserView) -> Progress:
    """Items an annotator labelled in a queue, and open items left in it."""
    done = session.scalar(
        select(func.count())
        .select_from(Assignment)
        .join(QueueItem, QueueItem.id == Assignment.item_id)
        .where(
            QueueItem.queue_id == queue.id,
            Assignment.user_id == user.id,
            Assignment.status == "done",
        )
    )
    remaining = session.scalar(
        select(func.count()).where(QueueItem.queue_id == queue.id, QueueItem.status == "open")
    )
    return Progress(done=int(done or 0), remaining=int(remaining or 0))


def active(now: datetime) -> ColumnElement[bool]:
    """An assignment that takes a slot: done, or claimed and unexpired at ``now``."""
    return or_(
        Assignment.status == "done",
        and_(Assignment.status == "claimed", Assignment.expires_at > now),
    )


def taken_slots(session: Session, item_id: int, now: datetime, *, besides: int) -> int:
    """Slots of an item taken by annotators other than user ``besides``."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.item_id == item_id, Assignment.user_id != besides, active(now))
        )
        or 0
    )


def own_assignment(session: Session, item_id: int, user_id: int) -> Assignment | None:
    """A user's assignment on an item (there is at most one)."""
    return session.scalars(
        select(Assignment).where(Assignment.item_id == item_id, Assignment.user_id == user_id)
    ).one_or_none()


# -- helpers -----------------------------------------------------------------------


def _held(session: Session, queue: QueueView, user: UserView, now: datetime) -> Assignment | None:
    """The annotator's unexpired claim on an item still to be labelled, if any."""
    return session.scalars(
        select(Assignment)
        .join(QueueItem, QueueItem.id == Assignment.item_id)
        .where(
            QueueItem.queue_id == queue.id,
            Assignment.user_id == user.id,
            Assignment.status == "claimed",
            Assignment.expires_at > now,
            or_(QueueItem.status == "open", Assignment.gold == 1),
        )
        .order_by(Assignment.claimed_at, Assignment.id)
        .limit(1)
    ).first()


def _gold_candidate(
    session: Session, queue: QueueView, user: UserView, draws: Rng
) -> QueueItem | None:
    seen = exists().where(Assignment.item_id == QueueItem.id, Assignment.user_id == user.id)
    labelled = exists().where(Annotation.item_id == QueueItem.id, Annotation.user_id == user.id)
    ids = session.scalars(
        select(QueueItem.id)
        .where(
            QueueItem.queue_id == queue.id,
            QueueItem.status == "resolved",
            QueueItem.gold.is_not(None),
            ~seen,
            ~labelled,
            # The adjudicator who decided it knows the answer.
            or_(QueueItem.resolved_by.is_(None), QueueItem.resolved_by != user.id),
        )
        .order_by(QueueItem.id)
        .limit(GOLD_POOL)
    ).all()
    if not ids:
        return None
    picked = ids[min(int(float(draws.random()) * len(ids)), len(ids) - 1)]
    return item_row(session, queue.id, picked)


def _open_candidate(
    session: Session, queue: QueueView, user: UserView, now: datetime
) -> QueueItem | None:
    taken = (
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.item_id == QueueItem.id, active(now))
        .correlate(QueueItem)
        .scalar_subquery()
    )
    # Done, skipped or held: never again. An own expired claim may be renewed.
    barred = exists().where(
        Assignment.item_id == QueueItem.id,
        Assignment.user_id == user.id,
        or_(Assignment.status != "claimed", Assignment.expires_at > now),
    )
    own_expired = exists().where(
        Assignment.item_id == QueueItem.id,
        Assignment.user_id == user.id,
        Assignment.status == "claimed",
    )
    passed: list[int] = []
    for skip_locked in (True, False):
        while True:
            query = select(QueueItem).where(
                QueueItem.queue_id == queue.id,
                QueueItem.status == "open",
                ~barred,
                taken < queue.overlap,
            )
            if passed:
                query = query.where(QueueItem.id.not_in(passed))
            query = (
                query.order_by(case((own_expired, 0), else_=1), QueueItem.id)
                .limit(1)
                .with_for_update(skip_locked=skip_locked, of=QueueItem)
                .execution_options(populate_existing=True)
            )
            item = session.scalars(query).first()
            if item is None:
                break
            # Under the lock, a new statement sees claims committed since the one above.
            if taken_slots(session, item.id, now, besides=user.id) < queue.overlap:
                return item
            passed.append(item.id)
    return None


def _assign(
    session: Session,
    queue: QueueView,
    user: UserView,
    item: QueueItem,
    now: datetime,
    *,
    gold: bool,
) -> Assignment:
    expires = now + timedelta(seconds=queue.claim_seconds)
    assignment = own_assignment(session, item.id, user.id)
    if assignment is not None:  # the annotator's own expired claim: renew it
        assignment.claimed_at = now
        assignment.expires_at = expires
        session.flush()
        return assignment
    assignment = Assignment(
        item_id=item.id,
        user_id=user.id,
        status="claimed",
        gold=int(gold),
        claimed_at=now,
        expires_at=expires,
    )
    try:
        with session.begin_nested():
            session.add(assignment)
    except IntegrityError:
        raise Conflict(
            f"item {item.id} was claimed twice at once by {user.username!r}; try again"
        ) from None
    return assignment


def _claim(
    session: Session, queue: QueueView, user: UserView, assignment: Assignment, *, resumed: bool
) -> Claim:
    item = item_row(session, queue.id, assignment.item_id)
    return Claim(
        assignment_id=assignment.id,
        item_id=item.id,
        trace_id=item.trace_id,
        reason=item.reason,
        source=item.source,
        claimed_at=assignment.claimed_at,
        expires_at=assignment.expires_at,
        gold=bool(assignment.gold),
        resumed=resumed,
        context=trace_context(session, queue.project_id, item.trace_id),
        progress=progress(session, queue, user),
    )
