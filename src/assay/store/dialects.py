"""The only place SQLite and PostgreSQL differ.

Everything dialect-specific (connection pragmas, upsert constructs, JSON field
extraction, scalar min/max) lives here so the rest of the store reads the same on
both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Table, Text, TypeDecorator, case, event, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement


def is_sqlite(engine_or_name: Engine | str) -> bool:
    """Whether an engine (or dialect name) is SQLite."""
    name = engine_or_name if isinstance(engine_or_name, str) else engine_or_name.dialect.name
    return name == "sqlite"


def configure_sqlite(engine: Engine) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection.

    ``synchronous=FULL`` makes each commit survive power loss, not just a crash: the
    writer group-commits, so this costs one fsync per batch rather than per request.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN control transactions (pysqlite's own are quirky).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # 64 MiB page cache: the spans table's unique index stays hot under load.
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on the
        # busy timeout instead of failing with "database is locked" mid-transaction.
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def write_engine(engine: Engine) -> Engine:
    """A view of ``engine`` whose transactions take SQLite's write lock at BEGIN.

    IMMEDIATE makes a second writer wait on the busy timeout instead of failing with
    "database is locked" when it upgrades a read transaction. PostgreSQL ignores it.
    """
    if not is_sqlite(engine):
        return engine
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def insert_for(dialect_name: str, table: Table) -> Any:
    """A dialect INSERT construct that supports ``on_conflict_do_*``."""
    if is_sqlite(dialect_name):
        return sqlite.insert(table)
    return postgresql.insert(table)


def least(dialect_name: str, a: Any, b: Any) -> ColumnElement[Any]:
    """Scalar minimum of two expressions."""
    return func.min(a, b) if is_sqlite(dialect_name) else func.least(a, b)


def greatest(dialect_name: str, a: Any, b: Any) -> ColumnElement[Any]:
    """Scalar maximum of two expressions."""
    return func.max(a, b) if is_sqlite(dialect_name) else func.greatest(a, b)


def json_text_field(dialect_name: str, column: Any, key: str) -> ColumnElement[Any]:
    """The value at top-level ``key`` of a JSON object stored as text, as text."""
    if is_sqlite(dialect_name):
        # Quote the key so dots in attribute names ("user.tier") are not paths.
        path = '$."' + key.replace('"', '\\"') + '"'
        # json_extract turns JSON true/false into 1/0; PostgreSQL gives 'true'/'false'.
        kind = func.json_type(column, path)
        return case(
            (kind == "true", "true"),
            (kind == "false", "false"),
            else_=func.json_extract(column, path),
        )
    return func.jsonb_extract_path_text(func.cast(column, postgresql.JSONB), key)


def json_merge(dialect_name: str, a: Any, b: Any) -> ColumnElement[Any]:
    """Merge two JSON objects stored as text (keys of ``b`` win), as text."""
    if is_sqlite(dialect_name):
        return func.json_patch(a, b)
    merged = func.cast(a, postgresql.JSONB).op("||")(func.cast(b, postgresql.JSONB))
    return func.cast(merged, Text)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on both dialects.

    PostgreSQL returns aware datetimes; SQLite stores the text and returns naive
    ones. Values are written in UTC, so a naive value read back is UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
