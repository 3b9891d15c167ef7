"""Queue items: a trace put in a queue, at most once.

The unique key ``(queue_id, trace_id)`` is the guarantee; :func:`enqueue` inserts
with ``ON CONFLICT DO NOTHING`` on both dialects, so concurrent routers (several
workers on PostgreSQL) cannot put one trace in one queue twice.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import Session

from assay.store.dialects import insert_for
from assay.store.models import QueueItem

SOURCES = ("rule", "manual", "filter")


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
    dialect = session.get_bind().dialect.name
    statement = (
        insert_for(dialect, table)
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
    result = session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]
