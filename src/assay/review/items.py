"""Queue items: a trace put in a queue, at most once; reading items and their labels.

The unique key ``(queue_id, trace_id)`` is the guarantee; :func:`enqueue` inserts
with ``ON CONFLICT DO NOTHING`` on both dialects, so concurrent routers (several
workers on PostgreSQL) cannot put one trace in one queue twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from assay.errors import InvalidInput, NotFound
from assay.review.decision import load_label
from assay.review.queues import QueueView
from assay.review.views import ITEM_STATUSES, AnnotationView, ItemStatus, ItemView
from assay.store.dialects import insert_for
from assay.store.models import Annotation, QueueItem, Trace, User
from assay.traces import TraceFilter
from assay.traces.query import trace_conditions

SOURCES = ("rule", "manual", "filter")
MAX_PAGE = 500
MAX_BULK = 10_000
# Ids per IN (...) list: under SQLite's bound-parameter limit with room to spare.
_CHUNK = 500


def enqueue(
    session: Session,
    project_id: int,
    queue_id: int,
    trace_id: str,
    *,
    source: str = "manual",
    rule_id: int | None = None,
    reason: str = "",
) -> bool:
    """Put a trace in a queue unless it is there already.

    Args:
        session: The caller's session (the caller commits).
        project_id: The queue's project.
        queue_id: The queue.
        trace_id: The trace (32 hex digits).
        source: Why it came: ``rule``, ``manual`` or ``filter`` (bulk by trace filter).
        rule_id: The routing rule that sent it, for ``rule``.
        reason: Words for the annotator ("thumbs down", "faithfulness 0.2 < 0.5").

    Returns:
        Whether the trace was added (False: it was in the queue already).
    """
    table: Table = QueueItem.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect
    statement = (
        insert_for(dialect.name, table)
        .values(
            queue_id=queue_id,
            project_id=project_id,
            trace_id=trace_id,
            rule_id=rule_id,
            source=source,
            reason=reason,
            status="open",
        )
        .on_conflict_do_nothing(index_elements=["queue_id", "trace_id"])
    )
    if dialect.insert_returning:
        # With RETURNING (which PostgreSQL uses implicitly for the new id) the
        # driver's rowcount is -1, so a skipped row shows as a missing returned id.
        return session.execute(statement.returning(table.c.id)).first() is not None
    result = session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


class EnqueueResult(NamedTuple):
    """What :func:`enqueue_filtered` did.

    Attributes:
        added: Traces put in the queue.
        already: Matching traces that were in the queue already.
    """

    added: int
    already: int


def enqueue_filtered(
    session: Session,
    project_id: int,
    queue: QueueView,
    trace_filter: TraceFilter,
    *,
    limit: int,
    reason: str = "",
) -> EnqueueResult:
    """Put the newest ``limit`` traces matching a filter in a queue (source ``filter``).

    Args:
        session: The caller's session (the caller commits).
        project_id: The project; it must be the queue's.
        queue: The queue.
        trace_filter: Which traces (see :class:`~assay.traces.TraceFilter`).
        limit: At most this many traces, newest first (1 to 10,000).
        reason: Words for the annotator; by default ``matched a trace filter``.

    Raises:
        InvalidInput: A malformed filter or limit, or a queue of another project.
    """
    if queue.project_id != project_id:
        raise InvalidInput(f"queue {queue.name!r} belongs to another project")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_BULK:
        raise InvalidInput(f"limit: must be between 1 and {MAX_BULK}; got {limit!r}")
    trace_ids = session.scalars(
        select(Trace.trace_id)
        .where(Trace.project_id == project_id, *trace_conditions(session, project_id, trace_filter))
        .order_by(Trace.start_ns.desc(), Trace.id.desc())
        .limit(limit)
    ).all()
    added = sum(
        enqueue(
            session,
            project_id,
            queue.id,
            trace_id,
            source="filter",
            reason=reason or "matched a trace filter",
        )
        for trace_id in trace_ids
    )
    return EnqueueResult(added=added, already=len(trace_ids) - added)


def list_items(
    session: Session,
    queue: QueueView,
    *,
    status: ItemStatus | str | None = None,
    gold: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ItemView]:
    """A page of a queue's items, oldest first.

    Args:
        session: The session to read with.
        queue: The queue.
        status: Only items of this status (``open``, ``disputed``, ``resolved``).
        gold: True: only gold items; False: only items that are not gold.
        limit: Page size, 1 to 500.
        offset: Items to pass over.

    Raises:
        InvalidInput: An unknown status, or limit or offset out of range.
    """
    if status is not None and status not in ITEM_STATUSES:
        raise InvalidInput(f"status: must be one of {', '.join(ITEM_STATUSES)}; got {status!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: must be between 1 and {MAX_PAGE}; got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInput(f"offset: must be a non-negative integer; got {offset!r}")
    query = select(QueueItem).where(QueueItem.queue_id == queue.id)
    if status is not None:
        query = query.where(QueueItem.status == status)
    if gold is not None:
        query = query.where(QueueItem.gold.is_not(None) if gold else QueueItem.gold.is_(None))
    rows = session.scalars(query.order_by(QueueItem.id).offset(offset).limit(limit)).all()
    return item_views(session, rows)


def get_item(session: Session, queue: QueueView, item_id: int) -> ItemView:
    """One item of a queue.

    Raises:
        NotFound: The queue has no such item.
    """
    return item_views(session, [item_row(session, queue.id, item_id)])[0]


def item_row(session: Session, queue_id: int, item_id: int, *, lock: bool = False) -> QueueItem:
    """An item's row, locked ``FOR UPDATE`` on PostgreSQL when ``lock`` is set.

    Raises:
        NotFound: The queue has no such item.
    """
    query = select(QueueItem).where(QueueItem.id == item_id, QueueItem.queue_id == queue_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFound(f"the queue has no item {item_id}")
    return row


def item_views(session: Session, rows: Sequence[QueueItem]) -> list[ItemView]:
    """Views of item rows, with annotation counts and adjudicators' names in two queries."""
    ids = [row.id for row in rows]
    counts: dict[int, int] = {}
    if ids:
        counts = dict(
            session.execute(
                select(Annotation.item_id, func.count())
                .where(Annotation.item_id.in_(ids), Annotation.gold == 0)
                .group_by(Annotation.item_id)
            ).all()
        )
    names = usernames(session, {row.resolved_by for row in rows if row.resolved_by is not None})
    return [
        ItemView(
            id=row.id,
            queue_id=row.queue_id,
            trace_id=row.trace_id,
            source=row.source,
            reason=row.reason,
            rule_id=row.rule_id,
            status=row.status,  # type: ignore[arg-type]
            label=load_label(row.label),
            gold=load_label(row.gold),
            resolution=row.resolution,  # type: ignore[arg-type]
            resolved_by=names.get(row.resolved_by) if row.resolved_by is not None else None,
            resolution_reason=row.resolution_reason,
            resolved_at=row.resolved_at,
            created_at=row.created_at,
            annotations=counts.get(row.id, 0),
        )
        for row in rows
    ]


def item_annotations(
    session: Session, item_ids: Sequence[int], *, gold: bool | None = None
) -> dict[int, list[AnnotationView]]:
    """The annotations of items, oldest first, by item id (absent: none).

    Args:
        session: The session to read with.
        item_ids: The items.
        gold: True: only gold annotations; False: only the others; None: all.
    """
    out: dict[int, list[AnnotationView]] = {}
    for start in range(0, len(item_ids), _CHUNK):
        query = (
            select(Annotation, User.username)
            .join(User, User.id == Annotation.user_id)
            .where(Annotation.item_id.in_(item_ids[start : start + _CHUNK]))
            .order_by(Annotation.created_at, Annotation.id)
        )
        if gold is not None:
            query = query.where(Annotation.gold == int(gold))
        for row, name in session.execute(query):
            out.setdefault(row.item_id, []).append(annotation_view(row, name))
    return out


def annotation_view(row: Annotation, annotator: str) -> AnnotationView:
    """An annotation row as callers see it."""
    return AnnotationView(
        id=row.id,
        item_id=row.item_id,
        user_id=row.user_id,
        annotator=annotator,
        values=json.loads(row.values),
        comment=row.comment,
        gold=bool(row.gold),
        seconds=row.seconds,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Usernames by user id."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return {user_id: name for user_id, name in rows}
