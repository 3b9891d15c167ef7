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

ROWS_PER_STATEMENT = 50
"""Rows per multi-row INSERT: 50 rows of up to 10 columns stay under SQLite's 999
bound parameters (its limit before 3.32)."""


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
    dialect = session.get_bind().dialect
    if dialect.insert_returning:
        return len(inserted_values(session, table, rows, unique=unique, column=unique[0]))
    inserted = 0
    for part in _parts(rows):
        statement = (
            insert_for(dialect.name, table)
            .values(part)
            .on_conflict_do_nothing(index_elements=unique)
        )
        inserted += max(0, session.execute(statement).rowcount)  # type: ignore[attr-defined]
    return inserted


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
    dialect = session.get_bind().dialect
    values: list[Any] = []
    for part in _parts(rows):
        statement = (
            insert_for(dialect.name, table)
            .values(part)
            .on_conflict_do_nothing(index_elements=unique)
            .returning(table.c[column])
        )
        values.extend(session.scalars(statement))
    return values


def _parts(rows: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    return [
        list(rows[start : start + ROWS_PER_STATEMENT])
        for start in range(0, len(rows), ROWS_PER_STATEMENT)
    ]
