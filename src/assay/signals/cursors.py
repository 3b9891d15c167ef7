"""How far the worker has read the append-only tables (traces, feedback).

A cursor is a row id: everything at or below it has been taken up. Several workers
share a cursor. The one that scans holds the cursor row locked (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL: another worker skips the scan instead of waiting; SQLite's
write transaction serialises scanners anyway), and a cursor only moves forward
(``position = greatest(position, new)``).

**Commit order.** On PostgreSQL, row ids are drawn when a transaction inserts, not
when it commits: a row with id 100 can become visible after one with id 101, and a
cursor that moved past 101 would skip it for good. So on PostgreSQL a scan reads
only up to a *horizon*: the largest id that was seen at least ``lag`` seconds ago.
Every transaction that drew an id below it has committed by then, as long as
transactions are shorter than ``lag`` (the ingest writer's group commits take well
under a second). SQLite has one writer at a time, so ids commit in order and the
horizon is the newest id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from assay.store.dialects import greatest, insert_for
from assay.store.models import WorkerCursor

TRACES = "traces"
"""The cursor over ``traces`` row ids."""
FEEDBACK = "feedback"
"""The cursor over ``feedback`` row ids."""


def _table() -> Table:
    table: Table = WorkerCursor.__table__  # type: ignore[assignment]
    return table


def _ensure(session: Session, name: str, position: int, at: datetime) -> None:
    dialect = session.get_bind().dialect.name
    session.execute(
        insert_for(dialect, _table())
        .values(name=name, position=position, updated_at=at)
        .on_conflict_do_nothing(index_elements=["name"])
    )


def lock_cursor(session: Session, name: str) -> int | None:
    """Take the cursor for this transaction, creating it at 0 if needed.

    Returns:
        Its position, or None when another worker holds it (that worker scans now).
    """
    _ensure(session, name, 0, datetime.now(UTC))
    return session.scalar(
        select(WorkerCursor.position)
        .where(WorkerCursor.name == name)
        .with_for_update(skip_locked=True)
    )


def read_cursor(session: Session, name: str) -> int:
    """A cursor's position (0 when it does not exist yet)."""
    position = session.scalar(select(WorkerCursor.position).where(WorkerCursor.name == name))
    return int(position or 0)


def advance_cursor(
    session: Session, name: str, position: int, *, now: datetime | None = None
) -> None:
    """Move a cursor forward to ``position`` (never back)."""
    dialect = session.get_bind().dialect.name
    session.execute(
        update(WorkerCursor)
        .where(WorkerCursor.name == name)
        .values(
            position=greatest(dialect, WorkerCursor.position, position),
            updated_at=now or datetime.now(UTC),
        )
    )


def horizon(
    session: Session, name: str, newest: int, lag_s: float, *, now: datetime | None = None
) -> int:
    """The largest id of a table that is safe to read past (see the module docstring).

    Call it while holding the cursor (:func:`lock_cursor`).

    Args:
        session: The scanning worker's session.
        name: The cursor's name.
        newest: The table's largest id now.
        lag_s: How long ago an id must have been seen (0: ids commit in order).
        now: The current time (for tests).

    Returns:
        The horizon: ids up to it are all committed (or never will be).
    """
    if lag_s <= 0:
        return newest
    at = now or datetime.now(UTC)
    seen_name, ready_name = f"{name}.seen", f"{name}.ready"
    _ensure(session, seen_name, newest, at)
    _ensure(session, ready_name, 0, at)
    seen = session.execute(
        select(WorkerCursor.position, WorkerCursor.updated_at).where(WorkerCursor.name == seen_name)
    ).one()
    ready = read_cursor(session, ready_name)
    seen_at = seen.updated_at
    if seen_at.tzinfo is None:
        seen_at = seen_at.replace(tzinfo=UTC)
    if seen_at <= at - timedelta(seconds=lag_s):
        ready = max(ready, int(seen.position))
        advance_cursor(session, ready_name, ready, now=at)
        session.execute(
            update(WorkerCursor)
            .where(WorkerCursor.name == seen_name)
            .values(position=newest, updated_at=at)
        )
    return ready
