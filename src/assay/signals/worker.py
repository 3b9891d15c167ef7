"""The background worker: turns new traces and feedback into scores, signals and queue items.

One pass (:meth:`Worker.run_once`):

1. **Traces.** New traces (beyond the ``traces`` cursor) whose last span ended
   ``worker_settle_s`` ago get their jobs: a ``score`` job per enabled online
   scorer that selects the trace, a ``session`` job for its session, and a
   ``route`` job (see :mod:`assay.signals.scans`).
2. **Feedback.** New explicit feedback (beyond the ``feedback`` cursor) re-pends
   its trace's route job and its session's job.
3. **Jobs.** Due jobs are claimed in batches and run: score jobs of a batch
   concurrently (each verdict stored, the trace's route job re-pended), then
   session jobs (``retried``/``abandoned``; a session not yet quiet is deferred
   until it will be), then route jobs (``edit_distance``, then the routing rules;
   both in :mod:`assay.signals.signal_jobs`, which reads outside write transactions).

Several workers may run against one PostgreSQL store: scans take the cursor row
with ``SKIP LOCKED`` (one scans, the others go on to jobs), jobs are claimed with
``SKIP LOCKED``, and every write is idempotent (unique keys with ``ON CONFLICT DO
NOTHING``). On SQLite one worker is the norm (the server's), though several work.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from assay.experiments.scoring import Scoring
from assay.settings import Settings
from assay.signals.facts import TraceFacts, chunks, facts_of
from assay.signals.implicit import ImplicitConfig
from assay.signals.jobs import (
    ROUTE,
    SCORE,
    SESSION,
    ClaimedJob,
    add_or_repend,
    claim,
    complete,
    fail,
    prune_jobs,
    route_job,
)
from assay.signals.online import (
    OnlineScorerView,
    OnlineVerdict,
    build_scoring,
    score_trace,
    store_verdicts,
    view_of,
)
from assay.signals.scans import scan_feedback, scan_traces
from assay.signals.signal_jobs import SignalJobs
from assay.store.engine import Store
from assay.store.models import OnlineScorer, Trace

log = logging.getLogger(__name__)

SIGNAL_BATCH = 500
"""Most session and route jobs claimed at once. They only read and write the store
(milliseconds each), so they go in larger batches than score jobs, whose batch
(``worker_batch``) bounds the calls in flight to a judge."""
YIELD_RATIO = 5.0
"""While the process has more urgent work, a worker rests this many times as long
as its last step took (see :class:`Worker`)."""
MAX_YIELD_S = 5.0
"""The longest rest after one step, however saturated ingest stays."""
SATURATED = 0.8
"""Ingest with requests in flight this fraction of the time or more is saturated: a
burst that takes all the server has. The worker then rests on, up to
:data:`MAX_YIELD_S` a step."""
SATURATION_PROBE_S = 0.25
"""How often a resting worker looks again at whether ingest is still saturated."""
YIELD_BACKLOG = 50_000
"""A worker this many traces behind stops giving way: under traffic that keeps
ingest saturated, resting would let it fall behind without end. 50,000 traces are
about 20 s of a worker's full speed on two cores."""
MAX_ROUNDS = 20
"""Most job batches one pass claims, so a long backlog of jobs does not hold off the
next scan of new traces."""
_WRITE_ATTEMPTS = 3
_PRUNE_EVERY_S = 600.0
"""How often a worker deletes finished route and session jobs past the retention."""
# SQLSTATEs of transactions the server aborted to resolve a conflict; trying again
# succeeds. Only PostgreSQL sets them (SQLite's locks wait on the busy timeout).
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure

T = TypeVar("T")


def _transient(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


@dataclass
class WorkerReport:
    """What one pass did.

    Attributes:
        traces: New traces taken up.
        feedback: New explicit feedback rows read.
        jobs_added: Jobs created.
        jobs_run: Jobs claimed and run.
        jobs_failed: Jobs that failed (to be retried, or failed for good).
        scores: Online scores stored (verdicts and errors).
        signals: Implicit signals stored.
        matches: New (rule, trace) matches.
        enqueued: Traces put in review queues.
        jobs_pruned: Finished route and session jobs deleted (past the retention).
    """

    traces: int = 0
    feedback: int = 0
    jobs_added: int = 0
    jobs_run: int = 0
    jobs_failed: int = 0
    scores: int = 0
    signals: int = 0
    matches: int = 0
    enqueued: int = 0
    jobs_pruned: int = 0

    @property
    def busy(self) -> bool:
        """Whether the pass found anything to do."""
        return bool(self.traces or self.feedback or self.jobs_added or self.jobs_run)

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class IngestLoad(Protocol):
    """How busy the ingest is that a worker shares its process with (the server's
    :class:`~assay.ingest.writer.Writer`)."""

    def busy(self) -> bool:
        """Whether requests are in flight or a commit ended a moment ago."""
        ...

    def occupied_s(self) -> float:
        """Seconds so far during which requests were in flight."""
        ...


def default_worker_id() -> str:
    """``host:pid:random``: tells workers apart in ``jobs.claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def _gather(coros: Sequence[Coroutine[Any, Any, OnlineVerdict]]) -> list[Any]:
    return list(await asyncio.gather(*coros, return_exceptions=True))


class Worker:
    """Scans new traces and feedback, and runs the jobs they make.

    Args:
        store: The store.
        settings: Thresholds, batch sizes, the judge API key; defaults if omitted.
        worker_id: Who claims jobs (default: host, pid and a random suffix).
        clock: The current time (for tests); ``datetime.now(UTC)`` by default.
        yield_to: The ingest that shares the process, which comes first. While it
            is busy, the worker rests :data:`YIELD_RATIO` times as long as each
            step took, so it takes at most a sixth of the time. While ingest is
            saturated (requests in flight :data:`SATURATED` of the time), it rests
            on, up to :data:`MAX_YIELD_S` after each step: a burst goes in at the
            rate the server has without the worker, which catches up after it. A
            worker :data:`YIELD_BACKLOG` traces behind gives way no more.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings | None = None,
        worker_id: str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        yield_to: IngestLoad | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or Settings()
        self.worker_id = worker_id or default_worker_id()
        self.config = ImplicitConfig.from_settings(self.settings)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._pruned_at: datetime | None = None
        self._lag = 0.0 if store.is_sqlite else self.settings.worker_commit_lag_s
        self._scorings: dict[tuple[int, str], Scoring] = {}
        self._yield_to = yield_to
        self._backlog = 0
        self._stop: threading.Event | None = None

    def now(self) -> datetime:
        """The worker's current time."""
        return self._clock()

    # -- passes ------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> WorkerReport:
        """One pass: scan traces, scan feedback, run due jobs.

        Not to be called from a running event loop (score jobs run their own).

        Args:
            stop: When set, the pass ends after the job batch in progress.
        """
        report = WorkerReport()
        self._stop = stop
        self._paced(self._scan_traces, report)
        self._paced(self._scan_feedback, report)
        self._run_jobs(report, stop)
        self._prune(report)
        return report

    def _paced(self, step: Callable[[WorkerReport], None], report: WorkerReport) -> None:
        """Run one step, then rest if more urgent work is going on (see ``yield_to``)."""
        began = time.monotonic()
        step(report)
        load = self._yield_to
        if load is None or self._backlog >= YIELD_BACKLOG or not load.busy():
            return
        ended = time.monotonic()
        if self._rest(min(MAX_YIELD_S, YIELD_RATIO * (ended - began))):
            return
        # Resting a sixth of the time still took ~20% of a burst's rate (the worker's
        # steps hold the GIL and SQLite's write lock while they run), so while
        # ingest stays saturated the worker waits for the burst to end.
        while time.monotonic() - ended < MAX_YIELD_S:
            probe_began, occupied = time.monotonic(), load.occupied_s()
            if self._rest(SATURATION_PROBE_S):
                return
            grew = load.occupied_s() - occupied
            if not (grew > 0 and grew >= SATURATED * (time.monotonic() - probe_began)):
                return

    def _rest(self, seconds: float) -> bool:
        """Sleep ``seconds``; whether the worker was asked to stop meanwhile."""
        if self._stop is not None:
            return self._stop.wait(seconds)
        time.sleep(seconds)
        return False

    def run(self, stop: threading.Event, interval: float | None = None) -> None:
        """Pass after pass until ``stop`` is set; rest ``interval`` seconds after an
        idle pass (default: the ``worker_interval_s`` setting).

        An error in a pass (the database restarting) is logged and the next pass
        comes after the interval.
        """
        wait = self.settings.worker_interval_s if interval is None else interval
        while not stop.is_set():
            try:
                busy = self.run_once(stop).busy
            except Exception:
                log.exception(
                    "worker %s: pass failed; trying again in %.1f s", self.worker_id, wait
                )
                busy = False
            if not busy:
                stop.wait(wait)

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a write transaction, again if the database aborted it for
        a deadlock or a serialisation failure (concurrent workers on PostgreSQL can
        lock the same job rows in different orders)."""
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with self.store.write_session() as session:
                    return work(session)
            except OperationalError as exc:
                if attempt + 1 == _WRITE_ATTEMPTS or not _transient(exc):
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _prune(self, report: WorkerReport) -> None:
        """Delete finished route and session jobs older than the retention, at most
        once every ``_PRUNE_EVERY_S`` per worker."""
        now = self.now()
        if self._pruned_at is not None and (now - self._pruned_at).total_seconds() < _PRUNE_EVERY_S:
            return
        self._pruned_at = now
        before = now - timedelta(seconds=self.settings.worker_job_retention_s)
        report.jobs_pruned += self._write(partial(prune_jobs, before=before))

    # -- scanning ----------------------------------------------------------------

    def _scan_traces(self, report: WorkerReport) -> None:
        found = self._write(
            partial(
                scan_traces,
                now=self.now(),
                settle_s=self.settings.worker_settle_s,
                lag_s=self._lag,
                root_wait_s=self.settings.worker_root_wait_s,
            )
        )
        report.traces += found.rows
        report.jobs_added += found.jobs_added
        self._backlog = found.backlog

    def _scan_feedback(self, report: WorkerReport) -> None:
        found = self._write(partial(scan_feedback, now=self.now(), lag_s=self._lag))
        report.feedback += found.rows

    # -- jobs --------------------------------------------------------------------

    def _run_jobs(self, report: WorkerReport, stop: threading.Event | None) -> None:
        # Score jobs and the others are claimed and run in rounds of their own: a
        # score batch waits on a judge for as long as it takes, and signal jobs
        # claimed with it could outlive their lease meanwhile.
        rounds = (
            partial(self._claim, limit=self.settings.worker_batch, kinds=(SCORE,)),
            partial(self._claim, limit=SIGNAL_BATCH, other_than=(SCORE,)),
        )
        for _ in range(MAX_ROUNDS):
            ran = False
            for take in rounds:
                if stop is not None and stop.is_set():
                    return
                jobs = self._write(take)
                if jobs:
                    ran = True
                    report.jobs_run += len(jobs)
                    self._paced(partial(self._run_batch, jobs), report)
            if not ran:
                return

    def _claim(
        self,
        session: Session,
        limit: int,
        *,
        kinds: Sequence[str] | None = None,
        other_than: Sequence[str] = (),
    ) -> list[ClaimedJob]:
        return claim(
            session,
            self.worker_id,
            limit,
            self.settings.worker_lease_s,
            kinds=kinds,
            other_than=other_than,
            now=self.now(),
        )

    def _run_batch(self, jobs: Sequence[ClaimedJob], report: WorkerReport) -> None:
        limit = self.settings.worker_max_attempts
        runnable: list[ClaimedJob] = []
        for job in jobs:
            if job.attempts > limit:
                self._fail(job, f"claimed {job.attempts} times without finishing", report)
            elif job.kind not in (SCORE, SESSION, ROUTE):
                self._fail(job, f"unknown job kind {job.kind!r}", report)
            else:
                runnable.append(job)
        routes = [j for j in runnable if j.kind == ROUTE]
        # Route jobs of this batch run last and see everything before them: no need
        # to re-pend them.
        claimed = {j.key for j in routes}
        self._run_scores([j for j in runnable if j.kind == SCORE], claimed, report)
        signal_jobs = SignalJobs(
            self.store,
            self.worker_id,
            self.config,
            self.now,
            self._write,
            partial(self._fail, report=report),
        )
        sessions = [j for j in runnable if j.kind == SESSION]
        report.signals += signal_jobs.run_sessions(sessions, claimed)
        routed = signal_jobs.run_routes(routes)
        report.signals += routed.signals
        report.matches += routed.matched
        report.enqueued += routed.enqueued

    def _fail(self, job: ClaimedJob, error: str, report: WorkerReport) -> None:
        report.jobs_failed += 1
        log.warning(
            "worker %s: job %s failed (attempt %d): %s",
            self.worker_id,
            job.key,
            job.attempts,
            error,
        )
        self._write(
            lambda session: fail(
                session,
                job,
                self.worker_id,
                error,
                max_attempts=self.settings.worker_max_attempts,
                now=self.now(),
            )
        )

    def _scoring(self, scorer: OnlineScorerView) -> Scoring:
        key = (scorer.id, scorer.spec.fingerprint)
        scoring = self._scorings.get(key)
        if scoring is None:
            api_key = self.settings.openai_api_key
            scoring = build_scoring(scorer.spec, {"api_key": api_key} if api_key else None)
            self._scorings[key] = scoring
        return scoring

    def _score_inputs(
        self, jobs: Sequence[ClaimedJob]
    ) -> tuple[dict[int, OnlineScorerView], dict[tuple[int, str], tuple[TraceFacts, str | None]]]:
        scorers: dict[int, OnlineScorerView] = {}
        traces: dict[tuple[int, str], tuple[TraceFacts, str | None]] = {}
        with self.store.session() as session:
            ids = sorted({j.scorer_id for j in jobs if j.scorer_id is not None})
            for part in chunks(ids):
                for row in session.scalars(select(OnlineScorer).where(OnlineScorer.id.in_(part))):
                    scorers[row.id] = view_of(row)
            by_project: dict[int, set[str]] = defaultdict(set)
            for job in jobs:
                by_project[job.project_id].add(job.trace_id)
            for project_id, trace_ids in by_project.items():
                for part in chunks(sorted(trace_ids)):
                    for trace in session.scalars(
                        select(Trace).where(
                            Trace.project_id == project_id, Trace.trace_id.in_(part)
                        )
                    ):
                        traces[(project_id, trace.trace_id)] = (facts_of(trace), trace.input)
        return scorers, traces

    def _run_scores(
        self, jobs: Sequence[ClaimedJob], claimed: set[str], report: WorkerReport
    ) -> None:
        if not jobs:
            return
        scorers, traces = self._score_inputs(jobs)
        gone: list[ClaimedJob] = []
        planned: list[tuple[ClaimedJob, OnlineScorerView]] = []
        coros: list[Coroutine[Any, Any, OnlineVerdict]] = []
        for job in jobs:
            scorer = scorers.get(job.scorer_id or -1)
            trace = traces.get((job.project_id, job.trace_id))
            if scorer is None or trace is None:
                gone.append(job)  # the scorer was deleted, or the trace
                continue
            try:
                scoring = self._scoring(scorer)
            except Exception as exc:  # a plugin or a user's function that no longer loads
                self._fail(job, f"scorer {scorer.name!r} cannot be built: {exc}", report)
                continue
            planned.append((job, scorer))
            coros.append(score_trace(scoring, *trace))
        results = asyncio.run(_gather(coros)) if coros else []
        done: list[ClaimedJob] = list(gone)
        verdicts: dict[int, dict[str, OnlineVerdict]] = defaultdict(dict)
        for (job, scorer), result in zip(planned, results, strict=True):
            if isinstance(result, BaseException):
                self._fail(job, f"{type(result).__name__}: {result}", report)
                continue
            verdicts[scorer.id][job.trace_id] = result
            done.append(job)
        gone_ids = {j.id for j in gone}
        routes = [route_job(j.project_id, j.trace_id) for j in done if j.id not in gone_ids]

        def write(session: Session) -> int:
            stored = 0
            for scorer_id, by_trace in verdicts.items():
                project_id = scorers[scorer_id].project_id
                stored += store_verdicts(session, project_id, scorer_id, by_trace)
            complete(session, done, self.worker_id, now=self.now())
            # Made again if pruned: a backfill scores traces whose routing is long done.
            again = [r for r in routes if r.key not in claimed]
            add_or_repend(session, again, now=self.now())
            return stored

        report.scores += self._write(write)


class BackgroundWorker:
    """A :class:`Worker` on a daemon thread, for the lifetime of a server.

    Args:
        store: The store.
        settings: The settings (intervals, thresholds, the judge API key).
        worker_id: Who claims jobs (default: host, pid and a random suffix).
        yield_to: See :class:`Worker`.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        worker_id: str | None = None,
        *,
        yield_to: IngestLoad | None = None,
    ) -> None:
        self.worker = Worker(store, settings, worker_id, yield_to=yield_to)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        """Whether the thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.worker.run, args=(self._stop,), name="assay-worker", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the thread to stop after its current batch and wait for it.

        Jobs it had claimed and not finished are claimed again once their lease
        ends, by this process after a restart or by another worker.

        Returns:
            Whether the thread ended within ``timeout`` seconds.
        """
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()
