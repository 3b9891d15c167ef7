"""Engines and sessions: SQLite pragmas, URL errors, and the SQLite write lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from assay.errors import ConfigError
from assay.store import Store
from assay.store.dialects import SQLITE_PAGE_SIZE
from assay.store.engine import make_engine
from assay.store.models import ApiKey, Project

# Generous bound for a thread to reach a point; never asserted as a duration.
WAIT_S = 60


def _sqlite_path(store: Store) -> str:
    path = store.engine.url.database
    assert path
    return path


def test_sqlite_connections_use_wal_and_foreign_keys(sqlite_store: Store):
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_new_sqlite_files_get_the_store_page_size(sqlite_store: Store):
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_SIZE
    assert SQLITE_PAGE_SIZE != 4096  # SQLite's default, so the check above means something


def test_an_existing_sqlite_file_keeps_its_page_size(tmp_path: Path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA page_size=4096")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE kept (x)")
        conn.execute("INSERT INTO kept VALUES (1)")
    store = Store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
            assert conn.exec_driver_sql("SELECT x FROM kept").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        store.dispose()


def test_sqlite_enforces_foreign_keys(sqlite_store: Store):
    with pytest.raises(IntegrityError), sqlite_store.session() as session:
        session.add(ApiKey(project_id=999, prefix="ak_x", key_hash="0" * 64))


@pytest.mark.parametrize(
    "url",
    ["not a url", "", "postgresql://postgres@localhost:notaport/assay"],
    ids=["garbage", "empty", "bad-port"],
)
def test_bad_url_is_a_config_error_naming_it(url: str):
    with pytest.raises(ConfigError) as info:
        Store(url)
    assert repr(url) in str(info.value)


def test_unsupported_backend_is_a_config_error():
    url = "mysql://root@localhost/assay"
    with pytest.raises(ConfigError, match="unsupported backend 'mysql'") as info:
        Store(url)
    assert url in str(info.value)


def test_sqlite_parent_folder_is_created(tmp_path: Path):
    path = tmp_path / "deep" / "er" / "assay.db"
    store = Store(f"sqlite:///{path}")
    try:
        assert path.parent.is_dir()
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert path.is_file()
    finally:
        store.dispose()


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2", "postgresql+psycopg"])
def test_postgresql_urls_use_psycopg_3(scheme: str):
    engine = make_engine(f"{scheme}://postgres@127.0.0.1:5432/assay")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_dialect_names(store: Store, db_url: str):
    assert store.dialect == db_url.split(":")[0].split("+")[0]
    assert store.is_sqlite == (store.dialect == "sqlite")


def _add_project_then_fail(store: Store, name: str) -> None:
    with store.session() as session:
        session.add(Project(name=name))
        session.flush()
        raise RuntimeError("boom")


def test_sessions_commit_on_success_and_roll_back_on_error(store: Store):
    with store.write_session() as session:
        session.add(Project(name="kept"))
    with pytest.raises(RuntimeError, match="boom"):
        _add_project_then_fail(store, "rolled-back")
    with store.session() as session:
        assert session.scalars(select(Project.name)).all() == ["kept"]


def _write_lock_is_free(path: str) -> bool:
    """Whether another connection could take the write lock right now (no waiting)."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
            raise
        return False
    else:
        probe.execute("ROLLBACK")
        return True
    finally:
        probe.close()


def test_plain_session_read_does_not_take_the_write_lock(sqlite_store: Store):
    with sqlite_store.session() as session:
        session.execute(select(Project.id)).all()
        assert _write_lock_is_free(_sqlite_path(sqlite_store))


def test_write_session_takes_the_write_lock_at_begin(sqlite_store: Store):
    with sqlite_store.write_session() as session:
        # Only a read: a deferred BEGIN would not hold the write lock yet.
        session.execute(select(Project.id)).all()
        assert not _write_lock_is_free(_sqlite_path(sqlite_store))
    assert _write_lock_is_free(_sqlite_path(sqlite_store))


def test_second_write_session_waits_for_the_first(sqlite_store: Store):
    second_thread: list[threading.Thread] = []
    begin_issued = threading.Event()
    begin_returned = threading.Event()
    errors: list[BaseException] = []
    seen: list[int | None] = []

    def _is_second_begin(statement: str) -> bool:
        return threading.current_thread() in second_thread and statement.startswith("BEGIN")

    @event.listens_for(sqlite_store.engine, "before_cursor_execute")
    def _before(_conn, _cursor, statement, *_args):
        if _is_second_begin(statement):
            begin_issued.set()

    @event.listens_for(sqlite_store.engine, "after_cursor_execute")
    def _after(_conn, _cursor, statement, *_args):
        if _is_second_begin(statement):
            begin_returned.set()

    def second_writer():
        try:
            with sqlite_store.write_session() as session:
                # Read before writing: under a deferred BEGIN this read's snapshot
                # would predate the first commit and the INSERT would then fail
                # with "database is locked" however long the busy timeout.
                seen.append(session.scalar(select(func.count(Project.id))))
                session.add(Project(name="second"))
        except BaseException as exc:
            errors.append(exc)

    with sqlite_store.write_session() as first:
        first.add(Project(name="first"))
        first.flush()
        second_thread.append(threading.Thread(target=second_writer))
        second_thread[0].start()
        assert begin_issued.wait(WAIT_S)
        # The first writer still holds the lock, so the second cannot be past BEGIN;
        # were BEGIN deferred, it would be, and would fail later on its INSERT.
        assert not begin_returned.is_set()
        assert not errors
    second_thread[0].join(WAIT_S)
    assert not second_thread[0].is_alive()
    assert errors == []
    assert begin_returned.is_set()
    assert seen == [1], "the second writer began before the first committed"
    with sqlite_store.session() as session:
        names = session.scalars(select(Project.name).order_by(Project.id)).all()
    assert names == ["first", "second"]


def test_write_session_round_trip(store: Store):
    with store.write_session() as session:
        session.add(Project(name="p1", owner="team"))
    with store.session() as session:
        row = session.execute(text("SELECT name, owner FROM projects")).one()
    assert tuple(row) == ("p1", "team")
