"""The worker end to end: traces and feedback in the store become online scores,
implicit signals and routed queue items; cursors advance; a second pass does nothing."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import make_url, select, update

from assay.settings import Settings
from assay.signals import scans, signal_jobs
from assay.signals import worker as worker_module
from assay.signals.cursors import FEEDBACK, TRACES, read_cursor
from assay.signals.jobs import job_counts
from assay.signals.rules import create_rule
from assay.signals.worker import BackgroundWorker, Worker, WorkerReport
from assay.store.models import Feedback, Job, OnlineScore, OnlineScorer, QueueItem, Trace
from assay.traces import datetime_to_ns

from .conftest import NS, Project, tid


def _queue_items(project: Project) -> dict[str, list[tuple[int, str]]]:
    with project.store.session() as session:
        rows = session.execute(
            select(QueueItem.trace_id, QueueItem.queue_id, QueueItem.reason).order_by(QueueItem.id)
        )
        out: dict[str, list[tuple[int, str]]] = {}
        for trace_id, queue_id, reason in rows:
            out.setdefault(trace_id, []).append((queue_id, reason))
        return out


def _signals(project: Project) -> set[tuple[str, str]]:
    with project.store.session() as session:
        rows = session.execute(
            select(Feedback.trace_id, Feedback.name).where(Feedback.source == "implicit")
        )
        return {(t, n) for t, n in rows}


def test_traces_and_feedback_become_scores_signals_and_queue_items(
    project: Project, settings: Settings
) -> None:
    triage = project.queue("triage")
    retries = project.queue("retries")
    # A session: asked, asked again 30 s later (a retry), then left.
    project.trace(0, start_s=0, session_id="s1", input="Where is my parcel 123?", output="No.")
    project.trace(
        1, start_s=31, session_id="s1", input="where is my parcel #123", output="please wait"
    )
    project.trace(2, output="Paris is the capital, please.")  # thumbs down
    project.trace(3, output="Lyon, please.")  # corrected
    project.trace(4, output="fine, please")
    # Still running: its last span ended now and more may come.
    now_ns = datetime_to_ns(datetime.now(UTC))
    waiting = project.trace(5, end_ns=now_ns + 60 * NS)
    project.feedback(2, "thumbs", False)
    project.feedback(3, "correction", "Paris, please.")
    project.scorer("polite", "regex:pattern=please")
    with project.store.session() as session:
        create_rule(session, project.id, "thumbs", "triage", conditions="feedback.thumbs <= 0")
        create_rule(session, project.id, "rude", "triage", conditions="passed.polite == false")
        create_rule(session, project.id, "retried", retries, conditions="signal.retried == 1")
        create_rule(
            session, project.id, "edited", "triage", conditions="signal.edit_distance > 0.1"
        )

    worker = Worker(project.store, settings)
    first = worker.run_once()
    assert (first.traces, first.feedback, first.scores, first.signals) == (5, 2, 5, 3)
    assert first.jobs_failed == 0
    assert _signals(project) == {
        (tid(0), "retried"),
        (tid(1), "abandoned"),
        (tid(3), "edit_distance"),
    }
    with project.store.session() as session:
        scores = dict(
            (t, p) for t, p in session.execute(select(OnlineScore.trace_id, OnlineScore.passed))
        )
        assert scores == {tid(0): 0, tid(1): 1, tid(2): 1, tid(3): 1, tid(4): 1}
        waiting_row = session.scalar(select(Trace.id).where(Trace.trace_id == waiting))
        assert read_cursor(session, TRACES) == waiting_row - 1
        assert read_cursor(session, FEEDBACK) == 2
    items = {t: sorted(found) for t, found in _queue_items(project).items()}
    edited = items[tid(3)][0][1]
    assert edited.startswith("edited: signal.edit_distance > 0.1 (was 0.")
    assert items == {
        tid(0): sorted(
            [
                (triage, "rude: passed.polite == false (was false)"),
                (retries, "retried: signal.retried == 1 (was 1)"),
            ]
        ),
        tid(2): [(triage, "thumbs: feedback.thumbs <= 0 (was 0)")],
        tid(3): [(triage, edited)],
    }
    assert first.enqueued == 4
    assert first.matches == 4

    second = worker.run_once()
    assert second == WorkerReport()
    with project.store.session() as session:
        counts = job_counts(session, project.id)
    # 5 scores, 5 routes, 1 session; the unsettled trace has none yet.
    assert (counts.done, counts.pending, counts.running, counts.failed) == (11, 0, 0, 0)

    # Feedback that comes later routes its trace again.
    project.feedback(4, "thumbs", 0)
    third = Worker(project.store, settings).run_once()
    assert (third.feedback, third.matches, third.enqueued, third.scores) == (1, 1, 1, 0)
    assert _queue_items(project)[tid(4)] == [(triage, "thumbs: feedback.thumbs <= 0 (was 0)")]


def test_a_failing_job_is_retried_and_kept_as_failed(project: Project, settings: Settings) -> None:
    project.trace(0)
    scorer = project.scorer("broken", "regex:pattern=x")
    with project.store.session() as session:
        # As if the plugin that provided the scorer were uninstalled since.
        session.execute(
            update(OnlineScorer)
            .where(OnlineScorer.id == scorer.id)
            .values(spec='{"name": "gone-plugin", "args": {}}')
        )
    moments = [datetime.now(UTC)]
    worker = Worker(
        project.store,
        settings.model_copy(update={"worker_max_attempts": 2}),
        clock=lambda: moments[-1],
    )
    first = worker.run_once()
    assert first.jobs_failed == 1
    moments.append(moments[-1] + timedelta(minutes=1))
    assert worker.run_once().jobs_failed == 1
    moments.append(moments[-1] + timedelta(hours=1))
    assert worker.run_once() == WorkerReport()
    with project.store.session() as session:
        counts = job_counts(session, project.id)
        error = session.scalar(select(Job.error).where(Job.status == "failed"))
    assert (counts.failed, counts.done) == (1, 1)
    assert error is not None
    assert "scorer 'broken' cannot be built: unknown scorer 'gone-plugin'" in error


def test_background_worker_starts_and_stops(project: Project, settings: Settings) -> None:
    project.queue("triage")
    project.trace(0, status="error")
    with project.store.session() as session:
        create_rule(session, project.id, "errors", "triage", conditions="status == error")
    background = BackgroundWorker(
        project.store, settings.model_copy(update={"worker_interval_s": 0.05})
    )
    background.start()
    try:
        pause = threading.Event()
        for _ in range(600):  # up to 30 s on a busy machine; a pass takes milliseconds
            if _queue_items(project):
                break
            pause.wait(0.05)
        assert background.alive
    finally:
        assert background.stop(timeout=10)
    assert not background.alive
    assert list(_queue_items(project)) == [tid(0)]


class _Rests(threading.Event):
    """A stop event that records how long the worker asked to rest."""

    def __init__(self) -> None:
        super().__init__()
        self.rests: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.rests.append(timeout or 0.0)
        return False


class _Load:
    """Ingest as the worker sees it: busy or not, and saturated for ``saturated_probes``
    more looks (each look at a saturated ingest finds it was occupied throughout)."""

    def __init__(self, busy: bool, saturated_probes: int = 0) -> None:
        self.is_busy = busy
        self.saturated_probes = saturated_probes
        self.asked = 0
        self.looks = 0
        self._occupied = 0.0

    def busy(self) -> bool:
        self.asked += 1
        return self.is_busy

    def occupied_s(self) -> float:
        self.looks += 1
        if self.looks % 2 == 0 and self.saturated_probes:  # a probe's second look
            self.saturated_probes -= 1
            self._occupied += 3600.0
        return self._occupied


@pytest.mark.parametrize("ingest_busy", [True, False])
def test_the_worker_gives_way_while_ingest_is_busy(
    project: Project, settings: Settings, ingest_busy: bool
) -> None:
    project.queue("triage")
    for n in range(3):
        project.trace(n, session_id="s", status="error")
    with project.store.session() as session:
        create_rule(session, project.id, "errors", "triage", conditions="status == error")
    load = _Load(ingest_busy)
    stop = _Rests()
    report = Worker(project.store, settings, yield_to=load).run_once(stop)
    # The work is done either way; only the pace differs.
    assert report.traces == 3
    assert sorted(_queue_items(project)) == [tid(0), tid(1), tid(2)]
    assert load.asked  # asked after each step: the scans and each batch of jobs
    if ingest_busy:
        # Busy but not saturated: one rest a step (a sixth of the time), and one
        # look at whether ingest is saturated after it.
        rests = [r for r in stop.rests if r != worker_module.SATURATION_PROBE_S]
        assert len(rests) == load.asked
        assert all(0 < rest <= 5.0 for rest in rests)
        assert stop.rests.count(worker_module.SATURATION_PROBE_S) == load.asked
    else:
        assert stop.rests == []
        assert load.looks == 0


def test_the_worker_rests_on_while_ingest_is_saturated(
    project: Project, settings: Settings
) -> None:
    project.trace(0)
    load = _Load(busy=True, saturated_probes=3)
    stop = _Rests()
    worker = Worker(project.store, settings, yield_to=load)
    worker._stop = stop
    worker._paced(lambda report: None, WorkerReport())
    # The short rest, three probes that found ingest saturated, one that did not.
    assert stop.rests[1:] == [worker_module.SATURATION_PROBE_S] * 4
    assert load.saturated_probes == 0


def test_a_saturated_ingest_holds_the_worker_back_for_a_bounded_time(
    project: Project, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # However long a burst lasts, the worker takes a step every MAX_YIELD_S.
    monkeypatch.setattr(worker_module, "MAX_YIELD_S", 0.05)
    monkeypatch.setattr(worker_module, "SATURATION_PROBE_S", 0.01)
    load = _Load(busy=True, saturated_probes=10**9)
    worker = Worker(project.store, settings, yield_to=load)
    worker._stop = threading.Event()
    worker._paced(lambda report: None, WorkerReport())  # returns: no hang
    probes = 10**9 - load.saturated_probes
    assert 1 <= probes <= 5  # it rested on, for 0.05 s at most


def test_a_worker_far_behind_stops_giving_way(
    project: Project, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under traffic it cannot follow at a sixth of the time, resting would let the
    # worker fall behind without end: past YIELD_BACKLOG traces it works flat out.
    monkeypatch.setattr(scans, "SCAN_ROWS", 1)
    project.traces(range(4))
    stop = _Rests()
    monkeypatch.setattr(worker_module, "YIELD_BACKLOG", 3)
    report = Worker(project.store, settings, yield_to=_Load(busy=True)).run_once(stop)
    assert report.traces == 1  # three more are waiting beyond the cursor
    assert stop.rests == []
    monkeypatch.setattr(worker_module, "YIELD_BACKLOG", 4)
    report = Worker(project.store, settings, yield_to=_Load(busy=True)).run_once(stop)
    assert report.traces == 1  # two waiting: under the bound, so it rests again
    assert stop.rests


def test_a_trace_still_running_holds_the_cursor_but_not_the_traces_after_it(
    project: Project, settings: Settings
) -> None:
    now_ns = datetime_to_ns(datetime.now(UTC))
    project.trace(0)
    running = project.trace(1, end_ns=now_ns)
    project.trace(2)
    worker = Worker(project.store, settings)
    assert worker.run_once().traces == 2
    with project.store.session() as session:
        first_row = session.scalar(select(Trace.id).where(Trace.trace_id == tid(0)))
        assert read_cursor(session, TRACES) == first_row
    assert worker.run_once() == WorkerReport()
    with project.store.session() as session:
        session.execute(
            update(Trace).where(Trace.trace_id == running).values(end_ns=now_ns - 60 * NS)
        )
    assert worker.run_once().traces == 1
    with project.store.session() as session:
        last_row = session.scalar(select(Trace.id).where(Trace.trace_id == tid(2)))
        assert read_cursor(session, TRACES) == last_row
        assert job_counts(session, project.id).done == 3


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_on_postgresql_new_rows_are_read_after_the_commit_lag(
    project: Project, settings: Settings
) -> None:
    project.trace(0)
    project.feedback(0, "thumbs", True)
    moments = [datetime.now(UTC)]
    lagging = settings.model_copy(update={"worker_commit_lag_s": 15.0})
    worker = Worker(project.store, lagging, clock=lambda: moments[-1])
    assert worker.run_once() == WorkerReport()
    moments.append(moments[-1] + timedelta(seconds=15))
    report = worker.run_once()
    assert (report.traces, report.feedback) == (1, 1)


def test_a_trace_waits_for_its_root_span_then_for_root_wait(
    project: Project, settings: Settings
) -> None:
    now = datetime.now(UTC)
    ended = datetime_to_ns(now) - 30 * NS
    project.trace(0, end_ns=ended, has_root=False)
    project.trace(1, end_ns=ended)
    worker = Worker(project.store, settings, clock=lambda: now)
    assert worker.run_once().traces == 1  # trace 1; trace 0 waits for its root
    later = now + timedelta(seconds=settings.worker_root_wait_s)
    assert Worker(project.store, settings, clock=lambda: later).run_once().traces == 1


def test_feedback_long_after_routing_routes_again_though_the_job_was_pruned(
    project: Project,
) -> None:
    triage = project.queue("triage")
    project.trace(0)
    with project.store.session() as session:
        create_rule(session, project.id, "thumbs", "triage", conditions="feedback.thumbs <= 0")
    settings = Settings(worker_settle_s=0.0, worker_commit_lag_s=0.0, worker_job_retention_s=0.0)
    assert Worker(project.store, settings).run_once().jobs_pruned >= 1
    project.feedback(0, "thumbs", False)
    second = Worker(project.store, settings).run_once()
    assert second.enqueued == 1
    assert _queue_items(project)[tid(0)][0][0] == triage


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("reader", ["find_sessions", "find_edit_distances", "find_routes"])
def test_signal_jobs_read_without_the_write_lock(
    project: Project, settings: Settings, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    # On SQLite the write lock is the ingest writer's too: reading a batch of
    # sessions while holding it stalled ingest for as long.
    project.queue("triage")
    with project.store.session() as session:
        create_rule(session, project.id, "all", "triage")
    project.trace(0, start_s=0, session_id="s1", input="Where is my parcel 123?")
    project.trace(1, start_s=31, session_id="s1", input="where is my parcel #123")
    path = make_url(project.store.url).database
    assert path
    writable: list[bool] = []
    real = getattr(signal_jobs, reader)

    def reading(*args: Any, **kwargs: Any) -> Any:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the worker held it
            other.execute("ROLLBACK")
            writable.append(True)
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(signal_jobs, reader, reading)
    Worker(project.store, settings).run_once()
    assert writable  # each read could have written: no write lock was held
    assert (tid(0), "retried") in _signals(project)
    assert sorted(_queue_items(project)) == [tid(0), tid(1)]


def test_a_session_job_taken_over_while_reading_stores_nothing(
    project: Project, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Between the read and the write another worker may take the job over (its lease
    # ran out): then it, not this worker, stores the session's signals.
    project.trace(0, start_s=0, session_id="s1", input="Where is my parcel 123?")
    project.trace(1, start_s=31, session_id="s1", input="where is my parcel #123")
    real = signal_jobs.find_sessions

    def taken_over(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        with project.store.write_session() as session:
            session.execute(update(Job).where(Job.kind == "session").values(claimed_by="other"))
        return found

    monkeypatch.setattr(signal_jobs, "find_sessions", taken_over)
    Worker(project.store, settings).run_once()
    assert _signals(project) == set()
    with project.store.session() as session:
        owners = session.execute(select(Job.status, Job.claimed_by).where(Job.kind == "session"))
        assert {(status, owner) for status, owner in owners} == {("running", "other")}
