"""The only place SQLite and PostgreSQL differ.

Everything dialect-specific (connection pragmas, upsert constructs, JSON field
extraction, scalar min/max) lives here so the rest of the store reads the same on
both.
"""

from __future__ import annotations

import operator
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import Connection, DateTime, Dialect, Table, Text, TypeDecorator, case, event, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

SQLITE_PAGE_SIZE = 16_384
"""Page size of SQLite files the store creates (see :func:`configure_sqlite`)."""


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
        # 16 KiB pages rather than SQLite's 4 KiB default: a span row with its input
        # and output is ~3 KB, so at 4 KiB most pages held one row and a third of each
        # was empty, or a row spilled onto overflow pages. 16 KiB pages made the file
        # a quarter smaller and the writer 30-45% faster (bench/README.md). Only a new
        # file takes it (before WAL is on); an existing one keeps its page size.
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # An 8 MiB page cache a connection (SQLite's default is 2 MiB). Each pooled
        # connection has its own, and the server holds several (the ingest writer's,
        # the worker's, the pages'): at 64 MiB each a burst took the server's peak
        # memory from ~240 to ~300 MB with no faster ingest, and 16 MiB cost ~10 MB
        # more than 8 at the bench's rate (bench/README.md).
        cur.execute("PRAGMA cache_size=-8192")
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


def utc_day(dialect_name: str, column: Any) -> ColumnElement[str]:
    """The UTC calendar day of a :class:`UTCDateTime` column, as ``YYYY-MM-DD`` text.

    SQLite keeps the UTC timestamp as text that starts with the day; PostgreSQL's
    ``timestamptz`` is turned to UTC first, whatever the session's time zone.
    """
    if is_sqlite(dialect_name):
        return func.substr(column, 1, 10)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


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


class ManyStatement:
    """A statement compiled once and executed with many rows through the DBAPI.

    SQLAlchemy's executemany path builds and processes every row's parameters in
    Python; for the writer's wide rows that was over half of the write time
    (measured: 0.25 s of 0.46 s for 2,560 spans on SQLite). Our columns need no bind
    processing (integers, floats, text), so rows go to the driver as they are. The
    SQL is still SQLAlchemy's, compiled for the connection's dialect.

    On SQLite an ``INSERT ... VALUES`` is sent as multi-row statements of up to
    :data:`MULTI_ROWS` rows. pysqlite's executemany releases the GIL around every
    row's step and must take it back after each: while other threads run Python
    (the ingest normalisers), each of those hand-backs waits for a forced switch,
    and writing fell from ~16,700 to ~130 spans/s with two busy normaliser threads
    (measured in-process). One statement of many rows releases the GIL once for all
    of their work, which then runs beside the normalisers instead of between them.
    """

    def __init__(self, statement: Any, keys: Sequence[str], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(compiled)
        self.positional = compiled.positiontup is not None
        self.order = tuple(compiled.positiontup or compiled.params)
        self.constants = {k: v for k, v in compiled.params.items() if k not in set(keys)}
        self._get = operator.itemgetter(*self.order)
        self._multi = (
            _multi_row_parts(self.sql, self.order, keys) if dialect.name == "sqlite" else None
        )
        self._multi_sql: dict[int, str] = {}

    def params(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The driver parameters for ``rows``."""
        merged: list[Mapping[str, Any]] = (
            [{**self.constants, **row} for row in rows] if self.constants else list(rows)
        )
        if not self.positional:
            return merged
        if len(self.order) == 1:
            return [(self._get(row),) for row in merged]
        return [self._get(row) for row in merged]

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute for every row; the rows it changed, as counted by the driver (-1
        when it cannot tell)."""
        if not rows:
            return 0
        if self._multi is None:
            return conn.exec_driver_sql(self.sql, self.params(rows)).rowcount
        head, group, tail, getter, tail_keys = self._multi
        tail_params = tuple(self.constants[k] for k in tail_keys)
        most = _rows_per_statement(group.count("?") + len(tail_keys))
        changed = 0
        start = 0
        for size in _chunk_sizes(len(rows), most):
            sql = self._multi_sql.get(size)
            if sql is None:
                sql = self._multi_sql[size] = head + ", ".join([group] * size) + tail
            chunk = rows[start : start + size]
            start += size
            # One flat tuple of every row's values, built in C (a comprehension over
            # the values cost ~4 us a span on the writer thread).
            flat = tuple(chain(chain.from_iterable(map(getter, chunk)), tail_params))
            changed += conn.exec_driver_sql(sql, flat).rowcount
        return changed


MULTI_ROWS = 256
"""Most rows in one multi-row SQLite statement: 256 x 21 span columns stays far
below SQLite's 32,766 bound parameters, and the statement text (~12 KB) parses in
well under a millisecond."""

# SQLite's default bound-parameter limit: 32,766 since 3.32.0, 999 before.
_SQLITE_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def _rows_per_statement(params_per_row: int) -> int:
    """The largest power of two of rows, up to :data:`MULTI_ROWS`, whose parameters
    fit SQLite's limit."""
    most = MULTI_ROWS
    while most > 1 and most * params_per_row > _SQLITE_VARIABLES:
        most >>= 1
    return most


_VALUES_GROUP = re.compile(r"VALUES (\(\?(?:, \?)*\))")


def _multi_row_parts(
    sql: str, order: Sequence[str], keys: Sequence[str]
) -> tuple[str, str, str, Any, tuple[str, ...]] | None:
    """Split ``INSERT ... VALUES (?, ...) <tail>`` for repeating the values group.

    Returns the SQL before the group, the group, the SQL after it, a getter of a
    row's values in group order, and the constant parameters of the tail; None when
    the statement is not of that shape (it then runs as an executemany).
    """
    found = _VALUES_GROUP.search(sql)
    if found is None or _VALUES_GROUP.search(sql, found.end()) is not None:
        return None
    width = found.group(1).count("?")
    if sql[: found.start()].count("?") or set(order[:width]) != set(keys) or width != len(keys):
        return None
    tail_keys = tuple(order[width:])
    if set(tail_keys) & set(keys):
        return None
    getter = operator.itemgetter(*order[:width]) if width > 1 else (lambda row: (row[order[0]],))
    return sql[: found.start(1)], found.group(1), sql[found.end(1) :], getter, tail_keys


def _chunk_sizes(n: int, most: int = MULTI_ROWS) -> list[int]:
    """``n`` rows as full chunks of ``most`` (a power of two) and a remainder in
    powers of two, so at most 9 distinct statements exist (each parsed and cached
    once)."""
    sizes = [most] * (n // most)
    rest = n % most
    bit = most >> 1
    while rest:
        if rest >= bit:
            sizes.append(bit)
            rest -= bit
        bit >>= 1
    return sizes
