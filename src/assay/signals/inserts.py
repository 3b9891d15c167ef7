"""Inserting rows that may exist already (``ON CONFLICT DO NOTHING``), counting the new ones.

Counting needs care on PostgreSQL: the driver's ``rowcount`` is -1 when a statement
returns rows, which SQLAlchemy may add implicitly. So the new rows are counted by
what an explicit ``RETURNING`` gives back (both dialects have it; SQLite since 3.35),
and by ``rowcount`` only where ``RETURNING`` is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from assay.store.dialects import insert_for


def _statement(session: Session, table: Table, unique: Sequence[str]) -> Any:
    # One statement for any number of rows, executed with the rows as parameters:
    # SQLAlchemy batches them into multi-row VALUES itself ("insertmanyvalues") and
    # compiles the statement once, where ``.values(rows)`` built and compiled a new
    # construct for every batch (most of a worker's scan time).
    dialect = session.get_bind().dialect
    return insert_for(dialect.name, table).on_conflict_do_nothing(index_elements=unique)


def insert_new(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    unique: Sequence[str],
) -> int:
    """Insert rows, skipping those whose ``unique`` columns match a stored row.

    Args:
        session: The caller's session (the caller commits).
        table: The table.
        rows: The rows, all with the same keys.
        unique: The columns of the unique constraint that decides conflicts.

    Returns:
        How many rows were inserted.
    """
    if not rows:
        return 0
    if session.get_bind().dialect.insert_returning:
        return len(inserted_values(session, table, rows, unique=unique, column=unique[0]))
    result = session.execute(_statement(session, table, unique), list(rows))
    return max(0, int(result.rowcount))  # type: ignore[attr-defined]


def inserted_values(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    unique: Sequence[str],
    column: str,
) -> list[Any]:
    """Like :func:`insert_new`, but says which rows were new: their ``column`` values.

    Needs ``RETURNING`` (PostgreSQL; SQLite 3.35 and later, which every supported
    Python ships).
    """
    if not rows:
        return []
    statement = _statement(session, table, unique).returning(table.c[column])
    return list(session.scalars(statement, list(rows)))
