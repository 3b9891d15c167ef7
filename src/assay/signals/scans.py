"""The worker's scans: new traces and new feedback, turned into jobs.

**Traces.** A trace is taken up once its last span ended ``settle_s`` ago (a trace
still receiving spans waits): it gets a ``score`` job per enabled online scorer
that selects it (see :meth:`~assay.signals.online.OnlineScorerView.selects`; a
trace that ended before the scorer was created is left to backfill), a
``session`` job for its session (re-pended if the session has one), and a
``route`` job, added last. The route job marks the trace as taken up: the cursor
stops before the first trace still waiting, and traces after it whose route job
exists are skipped by the next scans rather than taken up twice.

**Feedback.** New explicit feedback re-pends its trace's route job and its
session's job. Feedback on a trace not taken up yet needs nothing: the trace's
own jobs will read it. Implicit signals are feedback rows too, written by the jobs
themselves, which re-pend what they affect; the scan passes over them.

Both scans run under their cursor's lock (see :mod:`assay.signals.cursors`), so
one worker scans at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from assay.signals.cursors import FEEDBACK, TRACES, advance_cursor, horizon, lock_cursor
from assay.signals.facts import IMPLICIT_SOURCE, chunks, load_facts, needs
from assay.signals.jobs import (
    ROUTE,
    SCORE,
    NewJob,
    add_jobs,
    add_or_repend,
    route_job,
    score_key,
    session_job,
)
from assay.signals.online import OnlineScorerView, view_of
from assay.store.models import Feedback, Job, OnlineScorer, Trace
from assay.traces.times import datetime_to_ns

SCAN_ROWS = 1000
"""Most traces (or feedback rows) one scan takes up; a backlog drains over passes."""
FUTURE_SKEW_NS = 120 * 10**9
"""A trace ending more than two minutes in the future comes from a skewed clock;
waiting for it to settle would hold the cursor (and make every later scan re-check
the traffic behind it), so it is taken up at once."""
_NS = 10**9


@dataclass(frozen=True)
class ScanResult:
    """What a scan did.

    Attributes:
        rows: Traces taken up, or explicit feedback rows read.
        jobs_added: Jobs created.
        backlog: Traces stored beyond the cursor after the scan (taken up or not):
            how far behind the worker is.
    """

    rows: int = 0
    jobs_added: int = 0
    backlog: int = 0


def _route_key_sql() -> Any:
    # jobs.route_key() spelled in SQL, so a scan can skip traces already taken up.
    return literal(f"{ROUTE}:") + cast(Trace.project_id, String) + literal(":") + Trace.trace_id


def scan_traces(
    session: Session,
    *,
    now: datetime,
    settle_s: float,
    lag_s: float,
    root_wait_s: float = 300.0,
) -> ScanResult:
    """Take up new settled traces: make their jobs and move the ``traces`` cursor.

    A trace is settled when its last span ended ``settle_s`` ago and its root span
    has arrived: children are often exported before the root ends, and a trace
    scored and routed without its root would be judged on no input. A trace whose
    root never comes (it lives in a service that does not send to assay) is taken
    up ``root_wait_s`` after its last span ended.

    Args:
        session: A write session.
        now: The current time.
        settle_s: How long after its last span ends a trace is taken up.
        lag_s: The commit lag (see :func:`assay.signals.cursors.horizon`).
        root_wait_s: How long a trace without its root span is waited for.

    Returns:
        How many traces were taken up and jobs added (zero when another worker
        holds the cursor).
    """
    now_ns = datetime_to_ns(now)
    settled_ns = now_ns - int(settle_s * _NS)
    rootless_ns = now_ns - int(max(root_wait_s, settle_s) * _NS)
    position = lock_cursor(session, TRACES)
    if position is None:
        return ScanResult()
    newest = int(session.scalar(select(func.max(Trace.id))) or 0)
    limit_id = horizon(session, TRACES, newest, lag_s, now=now)
    if limit_id <= position:
        return ScanResult(backlog=max(0, newest - position))
    taken = exists().where(Job.key == _route_key_sql())
    rows = session.execute(
        select(
            Trace.id,
            Trace.project_id,
            Trace.trace_id,
            Trace.end_ns,
            Trace.session_id,
            Trace.has_root,
        )
        .where(Trace.id > position, Trace.id <= limit_id, ~taken)
        .order_by(Trace.id)
        .limit(SCAN_ROWS)
    ).all()

    def settled(row: Any) -> bool:
        if row.end_ns > now_ns + FUTURE_SKEW_NS:
            return True  # a skewed clock: waiting would hold the cursor
        return bool(row.end_ns <= (settled_ns if row.has_root else rootless_ns))

    ready = [r for r in rows if settled(r)]
    waiting = [r for r in rows if not settled(r)]
    added = jobs_for(session, ready, now=now) if ready else 0
    if waiting:
        moved = waiting[0].id - 1
    elif len(rows) < SCAN_ROWS:
        moved = limit_id
    else:
        moved = rows[-1].id
    if moved > position:
        advance_cursor(session, TRACES, moved, now=now)
    return ScanResult(
        rows=len(ready), jobs_added=added, backlog=max(0, newest - max(moved, position))
    )


def _enabled_scorers(
    session: Session, project_ids: Sequence[int]
) -> dict[int, list[OnlineScorerView]]:
    scorers: dict[int, list[OnlineScorerView]] = defaultdict(list)
    for part in chunks(sorted(project_ids)):
        for row in session.scalars(
            select(OnlineScorer).where(OnlineScorer.project_id.in_(part), OnlineScorer.enabled == 1)
        ):
            scorers[row.project_id].append(view_of(row))
    return scorers


def jobs_for(session: Session, rows: Sequence[Any], *, now: datetime) -> int:
    """Add the jobs of traces being taken up.

    Args:
        session: The scan's session.
        rows: The traces: ``project_id``, ``trace_id``, ``end_ns``, ``session_id``.
        now: When the jobs become due.

    Returns:
        How many jobs were added.
    """
    by_project: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_project[row.project_id].append(row)
    scorers = _enabled_scorers(session, list(by_project))
    score_jobs: list[NewJob] = []
    session_jobs: list[NewJob] = []
    route_jobs: list[NewJob] = []
    for project_id, project_rows in by_project.items():
        ends = {r.trace_id: r.end_ns for r in project_rows}
        if scorers[project_id]:
            tables: set[str] = set()
            for scorer in scorers[project_id]:
                tables |= needs(scorer.filters)
            facts = load_facts(session, project_id, list(ends), tables=tables)
            for scorer in scorers[project_id]:
                created_ns = datetime_to_ns(scorer.created_at)
                score_jobs.extend(
                    NewJob(project_id, SCORE, score_key(scorer.id, tid), tid, scorer.id)
                    for tid, fact in facts.items()
                    if ends[tid] >= created_ns and scorer.selects(fact)
                )
        for row in project_rows:
            if row.session_id:
                session_jobs.append(session_job(project_id, row.session_id, row.trace_id))
            route_jobs.append(route_job(project_id, row.trace_id))
    # Scores first, routes last: claimed oldest first, a trace's route job then tends
    # to run after its scores and signals rather than before them.
    added = add_jobs(session, score_jobs, now=now)
    added += add_or_repend(session, session_jobs, now=now)
    added += add_jobs(session, route_jobs, now=now)
    return added


def scan_feedback(session: Session, *, now: datetime, lag_s: float) -> ScanResult:
    """Read new feedback: re-pend the route and session jobs of its traces, and move
    the ``feedback`` cursor.

    Args:
        session: A write session.
        now: The current time.
        lag_s: The commit lag (see :func:`assay.signals.cursors.horizon`).

    Returns:
        How many explicit feedback rows were read.
    """
    position = lock_cursor(session, FEEDBACK)
    if position is None:
        return ScanResult()
    newest = int(session.scalar(select(func.max(Feedback.id))) or 0)
    limit_id = horizon(session, FEEDBACK, newest, lag_s, now=now)
    if limit_id <= position:
        return ScanResult()
    rows = session.execute(
        select(Feedback.id, Feedback.project_id, Feedback.trace_id, Feedback.source)
        .where(Feedback.id > position, Feedback.id <= limit_id)
        .order_by(Feedback.id)
        .limit(SCAN_ROWS)
    ).all()
    explicit = [r for r in rows if r.source != IMPLICIT_SOURCE]
    by_project: dict[int, set[str]] = defaultdict(set)
    for row in explicit:
        by_project[row.project_id].add(row.trace_id)
    # Made again when missing: a finished route or session job may have been pruned.
    jobs: dict[str, NewJob] = {}
    for project_id, trace_ids in by_project.items():
        for tid in trace_ids:
            job = route_job(project_id, tid)
            jobs[job.key] = job
        for part in chunks(sorted(trace_ids)):
            found = session.execute(
                select(Trace.trace_id, Trace.session_id).where(
                    Trace.project_id == project_id,
                    Trace.trace_id.in_(part),
                    Trace.session_id.is_not(None),
                )
            )
            for tid, sid in found:
                if sid:
                    job = session_job(project_id, sid, tid)
                    jobs[job.key] = job
    add_or_repend(session, list(jobs.values()), now=now)
    moved = rows[-1].id if len(rows) == SCAN_ROWS else limit_id
    advance_cursor(session, FEEDBACK, moved, now=now)
    return ScanResult(rows=len(explicit))
