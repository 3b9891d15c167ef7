"""Checkpointing SQLite's write-ahead log on a thread of its own.

In WAL mode a commit appends pages to the ``-wal`` file, and a checkpoint copies them
into the database file and fsyncs it. By default SQLite runs the checkpoint inside
the commit that takes the log past 1,000 pages, so every ~16 MiB one of the ingest
writer's commits also carries the copy and an fsync of the database file. The
writer's commits bound how fast ingest goes, so the server hands that work to this
thread, which copies the log while the writer goes on inserting (SQLite lets a
PASSIVE checkpoint run beside a writer).

The writer's connection still checkpoints by itself once the log passes
:data:`BACKSTOP_PAGES`. That bounds the log if this thread falls behind, and it ends
each long burst: SQLite only restarts the log from its beginning when a write
transaction starts with every page copied, which never happens while the writer
starts its next transaction as soon as the last one committed; the writer's own
checkpoint right after its commit then has only the last few pages left to copy.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Connection, event

from assay.store.engine import Store

log = logging.getLogger(__name__)

CHECKPOINT_BYTES = 4 * 1024 * 1024
"""How much the writer writes between two checkpoints of this thread."""
BACKSTOP_PAGES = 4096
"""Log pages past which the writer's own connection checkpoints (SQLite's
``wal_autocheckpoint``; 64 MiB at the store's 16 KiB pages)."""
SQLITE_AUTOCHECKPOINT = 1000
"""SQLite's default ``wal_autocheckpoint``, which every other connection keeps."""
_DEFERRING = "assay_defers_checkpoints"


def has_wal(store: Store) -> bool:
    """Whether ``store`` is a SQLite file, which keeps a write-ahead log (an
    in-memory database has none, and shares its one connection across threads)."""
    database = store.engine.url.database
    return store.is_sqlite and bool(database) and database != ":memory:"


class WalCheckpointer:
    """A thread that checkpoints a SQLite store's write-ahead log as it grows.

    Args:
        store: A SQLite store in a file (WAL mode).
        every_bytes: Checkpoint after this many bytes were reported by :meth:`wrote`.
    """

    def __init__(self, store: Store, *, every_bytes: int = CHECKPOINT_BYTES) -> None:
        if not has_wal(store):
            raise ValueError("only a SQLite file has a write-ahead log to checkpoint")
        self.store = store
        self.every_bytes = every_bytes
        self.stats = {"checkpoints": 0, "failures": 0}
        self.last: tuple[int, int] | None = None
        """(pages in the log, pages of it copied) after the last checkpoint."""
        self._pending = 0
        self._stopping = False
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        if not event.contains(store.engine, "checkin", _restore_autocheckpoint):
            event.listen(store.engine, "checkin", _restore_autocheckpoint)

    @property
    def running(self) -> bool:
        """Whether the thread is running (it ends if it cannot open a connection)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread."""
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="assay-checkpoint", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread after the checkpoint it is running, if any."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def defer(self, conn: Connection) -> None:
        """Leave the checkpoints of ``conn`` (the writer's, in its transaction) to this
        thread, up to :data:`BACKSTOP_PAGES`, until it goes back to the pool."""
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        conn.connection.info[_DEFERRING] = True

    def wrote(self, nbytes: int) -> None:
        """Count ``nbytes`` just committed; wake the thread once enough has been."""
        with self._wake:
            self._pending += nbytes
            if self._pending >= self.every_bytes:
                self._wake.notify()

    def _run(self) -> None:
        try:
            raw = self.store.engine.raw_connection()
        except Exception:
            # Without the thread the writer leaves checkpoints to SQLite, as by default.
            log.exception("the WAL checkpoint thread could not connect; it stops")
            return
        try:
            while True:
                with self._wake:
                    while self._pending < self.every_bytes and not self._stopping:
                        self._wake.wait()
                    if self._stopping:
                        return
                    self._pending = 0
                self._checkpoint(raw.driver_connection)
        finally:
            raw.close()

    def _checkpoint(self, conn: Any) -> None:
        try:
            # PASSIVE: copy what no reader still needs, never wait for a lock. The
            # connection is in autocommit (see configure_sqlite), so no transaction
            # of its own holds the log back.
            busy, log_pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except Exception:
            # The writer's own checkpoints (BACKSTOP_PAGES) keep the log bounded.
            self.stats["failures"] += 1
            log.exception("WAL checkpoint failed")
            return
        if not busy:
            self.stats["checkpoints"] += 1
            self.last = (log_pages, copied)


def _restore_autocheckpoint(dbapi_connection: Any, record: Any) -> None:
    # A pool "checkin" listener: a connection that deferred its checkpoints goes
    # back to the pool checkpointing as SQLite does by default.
    if record.info.pop(_DEFERRING, False) and dbapi_connection is not None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT}")
