"""Session and route jobs: implicit signals, then the routing rules.

A worker runs a batch of them per project (:class:`SignalJobs`). What they read
(sessions' traces and feedback, corrections, trace facts for the rules) is read in
read transactions, and only what was found is written, in short write transactions.
On SQLite the write lock is the ingest writer's too: deriving 500 sessions while
holding it kept ingest waiting ~0.1-0.8 s at a time (6.2 s over a 100,000-span burst;
0.6 s now, bench/README.md). Anything committed between the read and the write is
no different from what is committed just after the write: a new trace of a session
or new feedback on a trace re-pends its job (:mod:`assay.signals.scans`), and the
job runs again. Before writing, :func:`~assay.signals.jobs.held` keeps only the jobs
still this worker's, so a job whose lease ran out meanwhile stores nothing here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.signals.facts import chunks
from assay.signals.implicit import (
    ImplicitConfig,
    SessionFindings,
    find_edit_distances,
    find_sessions,
    store_sessions,
    store_signals,
)
from assay.signals.jobs import ClaimedJob, add_or_repend, complete, defer, held, route_job
from assay.signals.rules import RouteReport, find_routes, store_routes
from assay.store.engine import Store
from assay.store.models import Trace

T = TypeVar("T")


class Writes(Protocol):
    """Runs work in a write transaction (the worker's, which retries on conflicts)."""

    def __call__(self, work: Callable[[Session], T]) -> T: ...


@dataclass(frozen=True)
class RouteOutcome:
    """What a batch of route jobs did.

    Attributes:
        signals: ``edit_distance`` signals stored.
        matched: New (rule, trace) matches.
        enqueued: Traces put in review queues.
    """

    signals: int = 0
    matched: int = 0
    enqueued: int = 0

    def __add__(self, other: RouteOutcome) -> RouteOutcome:
        return RouteOutcome(
            self.signals + other.signals,
            self.matched + other.matched,
            self.enqueued + other.enqueued,
        )


@dataclass(frozen=True)
class SignalJobs:
    """Runs one worker's session and route jobs.

    Attributes:
        store: The store.
        worker_id: The worker that claimed the jobs.
        config: The implicit-signal thresholds.
        now: The worker's clock.
        write: Runs work in a write transaction.
        fail: Records a job's failure (with the error in words).
    """

    store: Store
    worker_id: str
    config: ImplicitConfig
    now: Callable[[], datetime]
    write: Writes
    fail: Callable[[ClaimedJob, str], None]

    def run_sessions(self, jobs: Sequence[ClaimedJob], claimed: set[str]) -> int:
        """Derive the sessions of ``jobs``; the signals stored.

        Args:
            jobs: Session jobs this worker claimed.
            claimed: Keys of route jobs claimed in the same batch (they run after
                these and need no re-pending).
        """
        signals = 0
        for project_id, group in _by_project(jobs).items():
            signals += self._session_group(project_id, group, claimed)
        return signals

    def run_routes(self, jobs: Sequence[ClaimedJob]) -> RouteOutcome:
        """Store ``edit_distance`` signals and route the traces of ``jobs``."""
        groups = _by_project(jobs).items()
        return sum((self._route_group(pid, group) for pid, group in groups), RouteOutcome())

    def _read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a read transaction (on SQLite it takes no write lock)."""
        with self.store.session() as session:
            return work(session)

    # -- sessions ------------------------------------------------------------------

    def _session_group(self, project_id: int, jobs: list[ClaimedJob], claimed: set[str]) -> int:
        """One project's sessions; if that fails, job by job, so one bad session does
        not hold back the others."""
        try:
            session_of, found = self._read(
                lambda session: self._find_sessions(session, project_id, jobs)
            )
            return self.write(
                lambda session: self._store_sessions(
                    session, project_id, jobs, claimed, session_of, found
                )
            )
        except Exception as exc:
            if len(jobs) == 1:
                self.fail(jobs[0], f"{type(exc).__name__}: {exc}")
                return 0
            return sum(self._session_group(project_id, [job], claimed) for job in jobs)

    def _find_sessions(
        self, session: Session, project_id: int, jobs: Sequence[ClaimedJob]
    ) -> tuple[dict[str, str], dict[str, SessionFindings]]:
        # A session job is made from one of the session's traces: that names the session.
        session_of: dict[str, str] = {}
        for part in chunks(sorted({j.trace_id for j in jobs})):
            rows = session.execute(
                select(Trace.trace_id, Trace.session_id).where(
                    Trace.project_id == project_id,
                    Trace.trace_id.in_(part),
                    Trace.session_id.is_not(None),
                )
            )
            session_of.update((trace_id, sid) for trace_id, sid in rows if sid)
        found = find_sessions(
            session, project_id, set(session_of.values()), self.config, now=self.now()
        )
        return session_of, found

    def _store_sessions(
        self,
        session: Session,
        project_id: int,
        jobs: Sequence[ClaimedJob],
        claimed: set[str],
        session_of: Mapping[str, str],
        found: Mapping[str, SessionFindings],
    ) -> int:
        now = self.now()
        # Signals are stored once by checking first: only for jobs still this
        # worker's (a lease that ran out may have handed them to another).
        jobs = held(session, jobs, self.worker_id)
        mine = {session_of[j.trace_id] for j in jobs if j.trace_id in session_of}
        results = store_sessions(
            session, project_id, {sid: f for sid, f in found.items() if sid in mine}
        )
        added = [s for result in results.values() for s in result.added]
        again = [route_job(project_id, s.trace_id) for s in added]
        add_or_repend(session, [r for r in again if r.key not in claimed], now=now)
        finished: list[ClaimedJob] = []
        waiting: list[tuple[ClaimedJob, datetime]] = []
        for job in jobs:
            result = results.get(session_of.get(job.trace_id, ""))
            if result is not None and result.recheck_at is not None:
                waiting.append((job, result.recheck_at))
            else:
                finished.append(job)  # decided, or the trace or its session is gone
        defer(session, waiting, self.worker_id, now=now)
        complete(session, finished, self.worker_id, now=now)
        return len(added)

    # -- routes --------------------------------------------------------------------

    def _route_group(self, project_id: int, jobs: list[ClaimedJob]) -> RouteOutcome:
        """One project's traces; if that fails, trace by trace.

        Edit distances are stored before the rules are read, so a rule on
        ``signal.edit_distance`` sees them.
        """
        trace_ids = [j.trace_id for j in jobs]

        def mine(session: Session) -> tuple[list[ClaimedJob], set[str]]:
            still = held(session, jobs, self.worker_id)  # see _store_sessions
            return still, {j.trace_id for j in still}

        def store_distances(session: Session) -> int:
            _, traces = mine(session)
            kept = [s for s in distances if s.trace_id in traces]
            return len(store_signals(session, project_id, kept))

        def store_matches(session: Session) -> RouteReport:
            still, traces = mine(session)
            kept = [(rule, {t: f for t, f in hits.items() if t in traces}) for rule, hits in found]
            routed = store_routes(session, project_id, [(rule, h) for rule, h in kept if h])
            complete(session, still, self.worker_id, now=self.now())
            return routed

        try:
            distances = self._read(lambda s: find_edit_distances(s, project_id, trace_ids))
            signals = self.write(store_distances) if distances else 0
            found = self._read(lambda s: find_routes(s, project_id, trace_ids))
            routed = self.write(store_matches)
        except Exception as exc:
            if len(jobs) == 1:
                self.fail(jobs[0], f"{type(exc).__name__}: {exc}")
                return RouteOutcome()
            # One bad trace must not hold back the others: route them one by one.
            return sum((self._route_group(project_id, [job]) for job in jobs), RouteOutcome())
        return RouteOutcome(signals, routed.matched, routed.enqueued)


def _by_project(jobs: Sequence[ClaimedJob]) -> dict[int, list[ClaimedJob]]:
    by_project: dict[int, list[ClaimedJob]] = defaultdict(list)
    for job in jobs:
        by_project[job.project_id].append(job)
    return by_project
