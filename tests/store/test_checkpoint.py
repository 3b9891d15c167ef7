"""The WAL checkpointer thread, and the ingest writer handing it its checkpoints."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from assay.ingest.normalize import SpanBatch, normalize_traces
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects import create_project, project_config
from assay.store import Store, checkpoint
from assay.store.checkpoint import WalCheckpointer, has_wal
from assay.testing.otlp import IdFactory, export_trace_request, genai_llm_span

# Generous bound for the thread to get round to a checkpoint; never asserted as a duration.
WAIT_S = 60


def _db_bytes(store: Store) -> int:
    path = store.engine.url.database
    assert path
    return os.path.getsize(path)


def _fill_log(store: Store, nbytes: int) -> None:
    """Commit ``nbytes`` of rows on a connection that never checkpoints by itself."""
    with store.writer.begin() as conn:
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (blob TEXT)"))
        for _ in range(nbytes // 100_000):
            conn.execute(text("INSERT INTO filler VALUES (:b)"), {"b": "x" * 100_000})


def _wait_for(predicate: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_only_a_sqlite_file_has_a_log(store: Store, tmp_path: Path) -> None:
    assert has_wal(store) == store.is_sqlite
    memory = Store("sqlite:///:memory:")
    try:
        assert not has_wal(memory)
        with pytest.raises(ValueError, match="only a SQLite file"):
            WalCheckpointer(memory)
    finally:
        memory.dispose()


def test_the_thread_copies_the_log_into_the_database_file(sqlite_store: Store) -> None:
    checkpointer = WalCheckpointer(sqlite_store, every_bytes=1_000_000)
    before = _db_bytes(sqlite_store)
    _fill_log(sqlite_store, 2_000_000)
    assert _db_bytes(sqlite_store) == before  # committed, but only in the log so far
    checkpointer.start()
    try:
        checkpointer.wrote(999_999)
        checkpointer.wrote(1)
        _wait_for(lambda: checkpointer.stats["checkpoints"], "a checkpoint")
    finally:
        checkpointer.stop()
    assert checkpointer.stats == {"checkpoints": 1, "failures": 0}
    assert checkpointer.last is not None
    log_pages, copied = checkpointer.last
    assert log_pages > 0
    assert copied == log_pages
    assert _db_bytes(sqlite_store) > before + 2_000_000
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("SELECT count(*) FROM filler").scalar() == 20


def test_no_checkpoint_until_enough_was_written(sqlite_store: Store) -> None:
    checkpointer = WalCheckpointer(sqlite_store, every_bytes=1_000_000)
    before = _db_bytes(sqlite_store)
    checkpointer.start()
    _fill_log(sqlite_store, 500_000)
    checkpointer.wrote(999_999)
    checkpointer.stop()  # returns once the thread has ended: it had nothing to do
    assert checkpointer.stats["checkpoints"] == 0
    assert not checkpointer.running
    assert _db_bytes(sqlite_store) == before


def test_a_thread_that_cannot_connect_ends_and_says_so(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse() -> None:
        raise OSError("no connection today")

    monkeypatch.setattr(sqlite_store.engine, "raw_connection", refuse)
    checkpointer = WalCheckpointer(sqlite_store)
    checkpointer.start()
    _wait_for(lambda: not checkpointer.running, "the thread to end")
    checkpointer.stop()
    assert "could not connect" in caplog.text
    assert "no connection today" in caplog.text


def _batches(store: Store, count: int) -> list[SpanBatch]:
    with store.session() as session:
        config = project_config(session, create_project(session, "checkpoint").id)
    text_ = "lorem " * 2_000
    return [
        normalize_traces(
            export_trace_request(
                [genai_llm_span(prompt=text_, completion=text_, ids=IdFactory(f"c{i}"))]
            ),
            config,
            PriceTable(),
        )
        for i in range(count)
    ]


def _write_each(writer: Writer, batches: list[SpanBatch], then: Callable[[], None]) -> None:
    """Commit ``batches`` one by one through the writer's thread, call ``then``, and
    stop the writer."""
    writer.start()
    try:
        for batch in batches:
            writer.submit(writer.reserve(1000), spans=batch).result(timeout=WAIT_S)
        then()
    finally:
        writer.stop()


def test_the_writer_hands_its_checkpoints_to_the_thread(sqlite_store: Store) -> None:
    writer = Writer(sqlite_store, queue_bytes=1 << 30, batch_bytes=1 << 30)
    assert writer.checkpointer is not None
    writer.checkpointer.every_bytes = 100_000
    batches = _batches(sqlite_store, 20)
    before = _db_bytes(sqlite_store)
    checkpointer = writer.checkpointer
    _write_each(
        writer,
        batches,
        then=lambda: _wait_for(lambda: checkpointer.stats["checkpoints"], "a checkpoint"),
    )
    assert not writer.checkpointer.running  # stopped with the writer
    assert _db_bytes(sqlite_store) > before


def test_the_writer_checkpoints_by_itself_past_the_backstop(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The thread never wakes (every_bytes too big), so only the writer's connection,
    # past its backstop, can have copied the log into the file.
    monkeypatch.setattr(checkpoint, "BACKSTOP_PAGES", 2)
    writer = Writer(sqlite_store, queue_bytes=1 << 30, batch_bytes=1 << 30)
    assert writer.checkpointer is not None
    writer.checkpointer.every_bytes = 1 << 40
    batches = _batches(sqlite_store, 5)
    before = _db_bytes(sqlite_store)
    _write_each(writer, batches, then=lambda: None)
    assert writer.checkpointer.stats["checkpoints"] == 0
    assert _db_bytes(sqlite_store) > before


def test_the_writer_connection_goes_back_to_the_pool_checkpointing_as_usual(
    sqlite_store: Store,
) -> None:
    writer = Writer(sqlite_store, queue_bytes=1 << 30, batch_bytes=1 << 30)
    checkpointer = writer.checkpointer
    assert checkpointer is not None
    _write_each(
        writer,
        _batches(sqlite_store, 3),
        then=lambda: _wait_for(lambda: checkpointer.running, "the thread"),
    )
    # Every connection the pool holds, the writer's among them (checked out together).
    pool_size = sqlite_store.engine.pool.checkedin()  # type: ignore[attr-defined]
    assert pool_size >= 1
    conns = [sqlite_store.engine.connect() for _ in range(pool_size)]
    try:
        values = {c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() for c in conns}
    finally:
        for c in conns:
            c.close()
    assert values == {checkpoint.SQLITE_AUTOCHECKPOINT}


def test_a_postgresql_writer_has_no_checkpointer(store: Store) -> None:
    writer = Writer(store, queue_bytes=1 << 20, batch_bytes=1 << 20)
    assert (writer.checkpointer is None) == (not store.is_sqlite)
