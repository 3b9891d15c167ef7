"""The group-commit writer: the only path by which ingested data reaches the store.

Requests hand their normalised rows to one writer thread and wait. The thread takes
everything queued (up to ``batch_bytes``), writes it in one transaction and commits,
then answers every waiting request at once: one fsync serves many requests, and a
request is acknowledged only after its rows are durable.

Memory is bounded in bytes, not spans: a request reserves room before its body is
decoded and gives it back after the commit. When the room is gone the server answers
503 with Retry-After, which OTLP exporters honour. See design/2026-11-22-ingest.md.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from assay.errors import Overloaded
from assay.ingest.commit import SpanKey, Statements, prepare, write_rows
from assay.ingest.logs import LogBatch
from assay.ingest.normalize import SpanBatch
from assay.store.checkpoint import WalCheckpointer, has_wal
from assay.store.engine import Store

log = logging.getLogger(__name__)

# Transient failures (SQLite busy, PostgreSQL deadlock or serialization failure)
# are retried this many times with doubling backoff before a request fails.
RETRIES = 4
BUSY_WINDOW_S = 1.0
"""How long after its last group commit the writer still counts as busy."""


@dataclass(frozen=True)
class WriteResult:
    """What one request's commit did."""

    spans_inserted: int
    spans_duplicate: int
    logs_inserted: int


@dataclass
class _Item:
    spans: SpanBatch | None
    logs: LogBatch | None
    reserved: int
    future: Future[WriteResult]

    @property
    def nbytes(self) -> int:
        """Bytes of data the item writes (estimated)."""
        return (self.spans.nbytes if self.spans else 0) + (self.logs.nbytes if self.logs else 0)


class Reservation:
    """Room in the writer queue held by one request until its commit is answered."""

    def __init__(self, writer: Writer, nbytes: int) -> None:
        self.writer = writer
        self.nbytes = nbytes
        self._released = False

    def grow_to(self, nbytes: int) -> None:
        """Hold at least ``nbytes`` in all, as the request turns out bigger.

        Raises:
            Overloaded: the queue has no room for the rest; retry later.
        """
        if nbytes > self.nbytes and not self._released:
            self.writer._grow(nbytes - self.nbytes)
            self.nbytes = nbytes

    def release(self) -> None:
        """Give the room back (idempotent)."""
        if not self._released:
            self._released = True
            self.writer._release(self.nbytes)


class Writer:
    """One thread that group-commits spans and span logs.

    Args:
        store: Where to write.
        queue_bytes: Room for data waiting to be written; beyond it, :meth:`reserve`
            raises :class:`~assay.errors.Overloaded`.
        batch_bytes: Most data written in one transaction.
    """

    def __init__(self, store: Store, *, queue_bytes: int, batch_bytes: int) -> None:
        self.store = store
        self.queue_bytes = queue_bytes
        self.batch_bytes = batch_bytes
        self._lock = threading.Condition()
        self._queue: collections.deque[_Item] = collections.deque()
        self._used = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._statements = Statements(store.dialect)
        self.checkpointer = WalCheckpointer(store) if has_wal(store) else None
        self.stats = {"batches": 0, "spans": 0, "rejected_overload": 0}
        self._wrote_at = -math.inf
        self._occupied = 0.0
        self._occupied_from = 0.0

    # -- admission -------------------------------------------------------------

    def reserve(self, nbytes: int) -> Reservation:
        """Hold ``nbytes`` of queue room for a request, or refuse.

        A request larger than the whole queue is still admitted when the queue is
        empty, so one big (but under the body limit) request cannot starve.

        Raises:
            Overloaded: the queue has no room; retry later.
        """
        self._grow(nbytes)
        return Reservation(self, nbytes)

    def _grow(self, nbytes: int) -> None:
        with self._lock:
            if self._used and self._used + nbytes > self.queue_bytes:
                self.stats["rejected_overload"] += 1
                raise Overloaded("ingest queue is full; retry later", retry_after=1)
            if not self._used and nbytes:
                self._occupied_from = time.monotonic()
            self._used += nbytes

    def _release(self, nbytes: int) -> None:
        with self._lock:
            was_used = self._used
            self._used -= nbytes
            if was_used and not self._used:
                self._occupied += time.monotonic() - self._occupied_from

    def busy(self, within_s: float = BUSY_WINDOW_S) -> bool:
        """Whether requests are waiting or a group commit ended in the last ``within_s``
        seconds: background work in the same process gives way while it is."""
        return bool(self._used) or time.monotonic() - self._wrote_at < within_s

    def occupied_s(self) -> float:
        """Seconds so far during which requests were in flight (admitted, not yet
        answered), like a CPU time counter: the change over an interval, divided by
        the interval, is how loaded ingest was. Background work uses it to tell a
        saturating burst from traffic that leaves ingest idle between requests."""
        with self._lock:
            if self._used:
                return self._occupied + time.monotonic() - self._occupied_from
            return self._occupied

    @property
    def queued_bytes(self) -> int:
        """Bytes currently reserved by requests in flight."""
        return self._used

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="assay-writer", daemon=True)
            self._thread.start()
            if self.checkpointer is not None:
                self.checkpointer.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.checkpointer is not None:
            self.checkpointer.stop(timeout)

    def submit(
        self, reservation: Reservation, spans: SpanBatch | None = None, logs: LogBatch | None = None
    ) -> Future[WriteResult]:
        """Queue rows for the next group commit; the future resolves after the commit."""
        future: Future[WriteResult] = Future()
        item = _Item(spans=spans, logs=logs, reserved=reservation.nbytes, future=future)
        with self._lock:
            if self._stopping or self._thread is None:
                future.set_exception(Overloaded("server is shutting down", retry_after=5))
                return future
            self._queue.append(item)
            self._lock.notify()
        return future

    def write_now(
        self, spans: SpanBatch | None = None, logs: LogBatch | None = None
    ) -> WriteResult:
        """Write synchronously on the calling thread (CLI, tests, the bench's raw path)."""
        return self._write([_Item(spans, logs, 0, Future())])[0]

    # -- the loop ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._lock.wait()
                if not self._queue:
                    return
                items = [self._queue.popleft()]
                size = items[0].reserved
                while self._queue and size + self._queue[0].reserved <= self.batch_bytes:
                    item = self._queue.popleft()
                    items.append(item)
                    size += item.reserved
            self._commit(items)
            self._wrote_at = time.monotonic()

    def _commit(self, items: list[_Item]) -> None:
        try:
            results = self._write_with_retry(items)
        except Exception as exc:
            if len(items) > 1:
                # One bad request must not fail the others: write them one by one.
                for item in items:
                    self._commit([item])
                return
            log.exception("ingest write failed")
            items[0].future.set_exception(exc)
            return
        for item, result in zip(items, results, strict=True):
            item.future.set_result(result)

    def _write_with_retry(self, items: list[_Item]) -> list[WriteResult]:
        delay = 0.05
        for attempt in range(RETRIES + 1):
            try:
                return self._write(items)
            except (OperationalError, DBAPIError) as exc:
                if attempt == RETRIES or not _transient(exc):
                    raise
                log.warning("transient store error, retrying: %s", exc)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _write(self, items: list[_Item]) -> list[WriteResult]:
        batches = [item.spans for item in items if item.spans is not None]
        total = sum(len(b.rows) for b in batches)
        keys = [prepare(b).keys for b in batches]
        owners: dict[SpanKey, int] | None = None
        feedback_rows = [fb for b in batches for fb in b.feedback]
        if len(frozenset().union(*keys)) < total:
            # A span sent twice in one group commit (or one request) is written
            # once, with the feedback of the request whose copy was written.
            first, owners, feedback_rows = _first_copies(items)
            batches = [first]
        log_rows = [row for item in items if item.logs for row in item.logs.rows]
        checkpointer = self.checkpointer
        with self.store.writer.begin() as conn:
            if checkpointer is not None and checkpointer.running:
                checkpointer.defer(conn)
            inserted = write_rows(conn, self._statements, batches, log_rows, feedback_rows)
        if checkpointer is not None:
            checkpointer.wrote(sum(item.nbytes for item in items))
        counts = [0] * len(items)
        if owners is not None:
            for key, index in owners.items():
                if inserted is None or key in inserted:
                    counts[index] += 1
        else:
            for index, item in enumerate(items):
                if item.spans is not None:
                    counts[index] = (
                        len(item.spans.rows)
                        if inserted is None
                        else len(prepare(item.spans).keys & inserted)
                    )
        self.stats["batches"] += 1
        self.stats["spans"] += sum(counts)
        return [
            WriteResult(
                spans_inserted=counts[index],
                spans_duplicate=(len(item.spans.rows) if item.spans else 0) - counts[index],
                logs_inserted=len(item.logs.rows) if item.logs else 0,
            )
            for index, item in enumerate(items)
        ]


def _first_copies(
    items: list[_Item],
) -> tuple[SpanBatch, dict[SpanKey, int], list[dict[str, Any]]]:
    """One batch of the first copy of every span in ``items``, which item each copy
    came from, and the feedback rows of those copies."""
    first = SpanBatch()
    owners: dict[SpanKey, int] = {}
    for index, item in enumerate(items):
        if item.spans is None:
            continue
        b = item.spans
        for row, res, sl in zip(b.rows, b.resources, b.slices, strict=True):
            key = (row["project_id"], row["trace_id"], row["span_id"])
            if key not in owners:
                owners[key] = index
                first.rows.append(row)
                first.resources.append(res)
                first.slices.append(sl)
    feedback = [
        fb
        for index, item in enumerate(items)
        if item.spans
        for fb in item.spans.feedback
        if owners.get((fb["project_id"], fb["trace_id"], fb["span_id"])) == index
    ]
    return first, owners, feedback


def _transient(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return any(
        s in text
        for s in ("database is locked", "deadlock detected", "could not serialize", "busy")
    )
