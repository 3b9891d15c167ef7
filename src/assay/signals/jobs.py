"""The job queue on the ``jobs`` table: background work on one trace, claimed by workers.

A job has a unique ``key`` (``score:<scorer id>:<trace id>``, ``route:<project
id>:<trace id>``, ``session:<project id>:<hash of the session id>``), so adding one
twice adds it once. Its life::

    pending --claim--> running --complete--> done
       ^                  |  \\--fail (attempts left)--> pending, later (backoff)
       |                  |   \\-fail (no attempts left)--> failed (error kept)
       +----- repend -----+ (a new signal: done/failed jobs run again)

**Claiming** selects pending jobs that are due, oldest first, with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL (concurrent workers take disjoint jobs without waiting), and
marks them running in the same transaction. SQLite has no row locks; the claim runs
in a write transaction (``store.write_session()`` takes the lock at BEGIN), which
serialises claimers. A running job holds a lease: its ``available_at`` is when the
lease ends, and a job still running then (its worker died) is claimable again.

**Re-pending** a job that is running cannot put it back to pending (a second worker
would run it concurrently); it clears ``claimed_at`` instead, and :func:`complete`
then leaves the job pending rather than done, so it runs once more with the new
signal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, select, update
from sqlalchemy.orm import Session

from assay.signals.facts import chunks
from assay.signals.inserts import insert_new
from assay.store.models import Job

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"

SCORE = "score"
"""Run one online scorer on one trace."""
ROUTE = "route"
"""Derive a trace's own implicit signals (edit distance) and route it to queues."""
SESSION = "session"
"""Derive a session's implicit signals (retried, abandoned)."""

BACKOFF_BASE_S = 5.0
"""Delay before the first retry of a failed job; each further retry doubles it."""
BACKOFF_MAX_S = 900.0
"""Longest delay between retries: a judge endpoint down for minutes is retried
every quarter hour rather than hammered."""


def _now() -> datetime:
    return datetime.now(UTC)


def route_key(project_id: int, trace_id: str) -> str:
    """The key of a trace's route job."""
    return f"{ROUTE}:{project_id}:{trace_id}"


def score_key(scorer_id: int, trace_id: str) -> str:
    """The key of one online scorer's job on one trace."""
    return f"{SCORE}:{scorer_id}:{trace_id}"


def session_key(project_id: int, session_id: str) -> str:
    """The key of a session's signals job (session ids run to 200 characters, so
    the key holds a hash of it)."""
    digest = hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:40]
    return f"{SESSION}:{project_id}:{digest}"


@dataclass(frozen=True)
class NewJob:
    """A job to add.

    Attributes:
        project_id: The trace's project.
        kind: ``score``, ``route`` or ``session``.
        key: The unique key (see :func:`route_key` and friends).
        trace_id: The trace (for a session job: a trace of the session).
        scorer_id: The online scorer, for a score job.
    """

    project_id: int
    kind: str
    key: str
    trace_id: str
    scorer_id: int | None = None


def route_job(project_id: int, trace_id: str) -> NewJob:
    """A trace's route job."""
    return NewJob(project_id, ROUTE, route_key(project_id, trace_id), trace_id)


def session_job(project_id: int, session_id: str, trace_id: str) -> NewJob:
    """A session's signals job, made from one of its traces."""
    return NewJob(project_id, SESSION, session_key(project_id, session_id), trace_id)


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker claimed, to run and then :func:`complete` or :func:`fail`.

    Attributes:
        id: The job's row id.
        project_id: The trace's project.
        kind: ``score``, ``route`` or ``session``.
        key: The job's key.
        trace_id: The trace.
        scorer_id: The online scorer, for a score job.
        attempts: How many times it has been claimed since it last succeeded,
            this time included.
    """

    id: int
    project_id: int
    kind: str
    key: str
    trace_id: str
    scorer_id: int | None
    attempts: int


def _table() -> Table:
    table: Table = Job.__table__  # type: ignore[assignment]
    return table


def add_jobs(session: Session, jobs: Sequence[NewJob], *, now: datetime | None = None) -> int:
    """Add jobs; one whose key exists already is left as it is.

    Args:
        session: The caller's session (the caller commits).
        jobs: The jobs.
        now: When they become due (default: now).

    Returns:
        How many were added.
    """
    if not jobs:
        return 0
    at = now or _now()
    unique = {job.key: job for job in jobs}.values()
    rows = [
        {
            "project_id": job.project_id,
            "kind": job.kind,
            "key": job.key,
            "trace_id": job.trace_id,
            "scorer_id": job.scorer_id,
            "status": PENDING,
            "attempts": 0,
            "available_at": at,
            "created_at": at,
        }
        for job in unique
    ]
    return insert_new(session, _table(), rows, unique=["key"])


def repend(session: Session, keys: Collection[str], *, now: datetime | None = None) -> int:
    """Make jobs run again because something about their trace changed.

    Done and failed jobs go back to pending, due now (with their attempts reset); a
    pending job deferred to later becomes due now; a running job is marked to run
    once more when it completes (see the module docstring). Unknown keys are skipped.

    Args:
        session: The caller's session (the caller commits).
        keys: The jobs' keys.
        now: The current time (for tests).

    Returns:
        How many of the keys are jobs (each is written, if only to lock it).
    """
    at = now or _now()
    table = _table()
    c = table.c
    finished = c.status.in_((DONE, FAILED))
    # One statement, its new values computed from the row as it is when written: on
    # PostgreSQL a row that a worker completes meanwhile is re-read after that commit
    # (statements per status could miss it between two of them, running when one
    # looked and done when the next did). Every job of the keys is written, so a
    # pending one is locked until the caller commits, and a worker claiming it
    # meanwhile (SKIP LOCKED) passes it over instead of running it without the
    # change that re-pends it.
    statement = (
        update(table)
        .where(c.key.in_(bindparam("keys", expanding=True)))
        .values(
            status=case((finished, PENDING), else_=c.status),
            available_at=case(
                (finished, at),
                ((c.status == PENDING) & (c.available_at > at), at),
                else_=c.available_at,
            ),
            attempts=case((finished, 0), else_=c.attempts),
            error=case((finished, None), else_=c.error),
            claimed_at=case((c.status == RUNNING, None), else_=c.claimed_at),
        )
    )
    changed = 0
    for part in chunks(sorted(set(keys))):
        result = session.execute(statement, {"keys": list(part)})
        changed += result.rowcount  # type: ignore[attr-defined]
    return changed


def add_or_repend(session: Session, jobs: Sequence[NewJob], *, now: datetime | None = None) -> int:
    """Add jobs, and re-pend those that existed (see :func:`repend`).

    Returns:
        How many were added (not counting the re-pended ones).
    """
    added = add_jobs(session, jobs, now=now)
    repend(session, [job.key for job in jobs], now=now)
    return added


def claim(
    session: Session,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    *,
    kinds: Collection[str] | None = None,
    other_than: Collection[str] = (),
    now: datetime | None = None,
) -> list[ClaimedJob]:
    """Claim up to ``limit`` due jobs, oldest first, and mark them running.

    Due: pending with ``available_at`` passed, or running with an expired lease.

    Args:
        session: A write session (``store.write_session()``): on SQLite it holds
            the write lock, so two claimers never take the same job. The claim is
            committed with it.
        worker_id: Who claims (kept in ``claimed_by``).
        limit: Most jobs to claim.
        lease_seconds: How long the jobs are the worker's; after that another worker
            may claim them.
        kinds: Claim only jobs of these kinds (all kinds when None).
        other_than: Claim no jobs of these kinds.
        now: The current time (for tests).

    Returns:
        The claimed jobs, by id.
    """
    at = now or _now()
    due = select(Job.id).where(Job.status.in_((PENDING, RUNNING)), Job.available_at <= at)
    if kinds is not None:
        due = due.where(Job.kind.in_(sorted(kinds)))
    if other_than:
        due = due.where(Job.kind.not_in(sorted(other_than)))
    ids = list(session.scalars(due.order_by(Job.id).limit(limit).with_for_update(skip_locked=True)))
    if not ids:
        return []
    session.execute(
        update(Job)
        .where(Job.id.in_(ids))
        .values(
            status=RUNNING,
            claimed_by=worker_id,
            claimed_at=at,
            available_at=at + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
        )
    )
    rows = session.execute(
        select(Job.id, Job.project_id, Job.kind, Job.key, Job.trace_id, Job.scorer_id, Job.attempts)
        .where(Job.id.in_(ids))
        .order_by(Job.id)
    )
    return [ClaimedJob(*row) for row in rows]


def _mine(job_ids: Collection[int], worker_id: str) -> Any:
    return (Job.id.in_(sorted(job_ids)), Job.status == RUNNING, Job.claimed_by == worker_id)


def held(session: Session, jobs: Sequence[ClaimedJob], worker_id: str) -> list[ClaimedJob]:
    """The jobs this worker still holds, locked until the caller commits.

    A job whose lease ran out may have been claimed by another worker meanwhile;
    work whose writes are not idempotent (implicit signals) is done only for the
    jobs this returns. On PostgreSQL the rows are locked (``FOR UPDATE``), so no
    other worker can take them before the caller's writes commit; on SQLite the
    caller's write transaction already holds the database's write lock.
    """
    ids: set[int] = set()
    for part in chunks([job.id for job in jobs]):
        ids.update(session.scalars(select(Job.id).where(*_mine(part, worker_id)).with_for_update()))
    return [job for job in jobs if job.id in ids]


def complete(
    session: Session, jobs: Sequence[ClaimedJob], worker_id: str, *, now: datetime | None = None
) -> int:
    """Mark claimed jobs done (or pending again, if re-pended while they ran).

    A job whose lease expired and that another worker claimed since is left alone.

    Returns:
        How many jobs this worker still held.
    """
    if not jobs:
        return 0
    at = now or _now()
    rerun = Job.claimed_at.is_(None)
    changed = 0
    for part in chunks([job.id for job in jobs]):
        changed += session.execute(  # type: ignore[attr-defined]
            update(Job)
            .where(*_mine(part, worker_id))
            .values(
                status=case((rerun, PENDING), else_=DONE),
                attempts=case((rerun, 0), else_=Job.attempts),
                available_at=at,
                error=None,
            )
        ).rowcount
    return changed


def defer(
    session: Session,
    jobs: Sequence[tuple[ClaimedJob, datetime]],
    worker_id: str,
    *,
    now: datetime | None = None,
) -> int:
    """Put claimed jobs back to pending until a later time each, without counting an
    attempt (session jobs waiting for their session to go quiet).

    A job re-pended while it ran is due now instead.

    Args:
        session: The caller's session (the caller commits).
        jobs: The jobs and when each is due again.
        worker_id: The worker that claimed them.
        now: The current time (for tests).

    Returns:
        How many of the jobs the worker still held.
    """
    if not jobs:
        return 0
    at = now or _now()
    table = _table()
    # One statement run with every job's parameters (an executemany): a batch of
    # session jobs defers hundreds at a time, each to its own time.
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("job_id"),
            table.c.status == RUNNING,
            table.c.claimed_by == worker_id,
        )
        .values(
            status=PENDING,
            available_at=case((table.c.claimed_at.is_(None), at), else_=bindparam("until")),
            attempts=0,
        )
    )
    result = session.execute(statement, [{"job_id": job.id, "until": until} for job, until in jobs])
    return max(0, int(result.rowcount))  # type: ignore[attr-defined]


def backoff(attempts: int) -> float:
    """Seconds to wait before the next try after ``attempts`` failed ones."""
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def fail(
    session: Session,
    job: ClaimedJob,
    worker_id: str,
    error: str,
    *,
    max_attempts: int,
    now: datetime | None = None,
) -> str:
    """Record a claimed job's failure: retry later with exponential backoff, or give up.

    Args:
        session: The caller's session (the caller commits).
        job: The job.
        worker_id: The worker that ran it.
        error: What went wrong (kept on the job).
        max_attempts: Tries before the job is ``failed`` for good.
        now: The current time (for tests).

    Returns:
        The job's new status: ``pending`` (to be retried) or ``failed``; ``running``
        when another worker holds the job now.
    """
    at = now or _now()
    status = FAILED if job.attempts >= max_attempts else PENDING
    later = at + timedelta(seconds=backoff(job.attempts))
    result = session.execute(
        update(Job)
        .where(*_mine([job.id], worker_id))
        .values(status=status, available_at=later, error=error[:10_000])
    )
    return status if result.rowcount else RUNNING  # type: ignore[attr-defined]


@dataclass(frozen=True)
class JobCounts:
    """How many jobs are in each state."""

    pending: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0


PRUNABLE = (ROUTE, SESSION)
"""Job kinds whose finished rows may go. Score jobs stay: their unique key is what keeps
a backfill from scoring a trace twice."""


def prune_jobs(session: Session, before: datetime, *, limit: int = 10_000) -> int:
    """Delete finished route and session jobs that finished before ``before``.

    A route or session job only marks work done; routing and signals are
    idempotent, so a pruned job that a new signal needs again is simply made again.
    At most ``limit`` rows go per call, so one pass never holds the lock for long.

    Returns:
        How many jobs were deleted.
    """
    # A done job's available_at is when it finished (see complete), and (status,
    # available_at) is indexed: the scan reads only what it deletes.
    doomed = (
        select(Job.id)
        .where(Job.status == DONE, Job.available_at < before, Job.kind.in_(PRUNABLE))
        .limit(limit)
    )
    ids = list(session.scalars(doomed))
    deleted = 0
    for part in chunks(ids):
        result = session.execute(delete(Job).where(Job.id.in_(part), Job.status == DONE))
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


def job_counts(session: Session, project_id: int | None = None) -> JobCounts:
    """Jobs by status, of one project or all."""
    query = select(Job.status, func.count()).group_by(Job.status)
    if project_id is not None:
        query = query.where(Job.project_id == project_id)
    counts = {status: int(n) for status, n in session.execute(query)}
    return JobCounts(
        pending=counts.get(PENDING, 0),
        running=counts.get(RUNNING, 0),
        done=counts.get(DONE, 0),
        failed=counts.get(FAILED, 0),
    )
