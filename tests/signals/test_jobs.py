"""The job queue: idempotent adds, claims, leases, backoff, re-pending; and the cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from assay.signals.cursors import advance_cursor, horizon, lock_cursor, read_cursor
from assay.signals.jobs import (
    ROUTE,
    SCORE,
    SESSION,
    NewJob,
    add_jobs,
    add_or_repend,
    backoff,
    claim,
    complete,
    defer,
    fail,
    held,
    job_counts,
    prune_jobs,
    repend,
    route_key,
    score_key,
    session_key,
)
from assay.store import Store
from assay.store.models import Job

from .conftest import Project, tid

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _jobs(project: Project, n: int) -> list[NewJob]:
    return [NewJob(project.id, ROUTE, route_key(project.id, tid(i)), tid(i)) for i in range(n)]


def _status(store: Store, key: str) -> tuple[str, int, str | None]:
    with store.session() as session:
        row = session.execute(
            select(Job.status, Job.attempts, Job.error).where(Job.key == key)
        ).one()
        return row.status, row.attempts, row.error


def test_add_is_idempotent_and_claim_takes_due_jobs_once(project: Project) -> None:
    store = project.store
    with store.session() as session:
        assert add_jobs(session, _jobs(project, 3), now=T0) == 3
        assert add_jobs(session, _jobs(project, 4), now=T0) == 1
    with store.write_session() as session:
        first = claim(session, "w1", 3, 60, now=T0)
    with store.write_session() as session:
        second = claim(session, "w2", 10, 60, now=T0)
    assert [j.trace_id for j in first] == [tid(0), tid(1), tid(2)]
    assert [j.trace_id for j in second] == [tid(3)]
    assert all(j.attempts == 1 for j in first + second)
    with store.write_session() as session:
        assert claim(session, "w3", 10, 60, now=T0 + timedelta(seconds=59)) == []
        assert complete(session, first, "w1", now=T0) == 3
        assert complete(session, second, "w1", now=T0) == 0  # not w1's
    # w2 died: its lease ends and another worker takes the job.
    with store.write_session() as session:
        again = claim(session, "w3", 10, 60, now=T0 + timedelta(seconds=61))
    assert [(j.trace_id, j.attempts) for j in again] == [(tid(3), 2)]
    with store.session() as session:
        assert job_counts(session, project.id).done == 3
        assert job_counts(session).running == 1


def test_failures_back_off_then_give_up(project: Project) -> None:
    store = project.store
    key = route_key(project.id, tid(0))
    with store.session() as session:
        add_jobs(session, _jobs(project, 1), now=T0)
    now = T0
    for attempt in (1, 2, 3):
        with store.write_session() as session:
            (job,) = claim(session, "w", 1, 60, now=now)
            assert job.attempts == attempt
            status = fail(session, job, "w", f"boom {attempt}", max_attempts=3, now=now)
        assert status == ("failed" if attempt == 3 else "pending")
        assert _status(store, key) == (status, attempt, f"boom {attempt}")
        with store.write_session() as session:
            assert (
                claim(session, "w", 1, 60, now=now + timedelta(seconds=backoff(attempt) - 1)) == []
            )
        now += timedelta(seconds=backoff(attempt))
    with store.write_session() as session:
        assert claim(session, "w", 1, 60, now=now + timedelta(days=1)) == []
    assert [backoff(1), backoff(2), backoff(20)] == [5.0, 10.0, 900.0]
    # A new signal brings a failed job back, with fresh attempts.
    with store.session() as session:
        assert repend(session, [key], now=now) == 1
    assert _status(store, key) == ("pending", 0, None)


def test_repend_while_running_runs_the_job_once_more(project: Project) -> None:
    store = project.store
    key = route_key(project.id, tid(0))
    with store.session() as session:
        add_jobs(session, _jobs(project, 1), now=T0)
    with store.write_session() as session:
        (job,) = claim(session, "w", 1, 60, now=T0)
    with store.session() as session:
        repend(session, [key], now=T0)
    with store.write_session() as session:
        # Nobody else takes it while it runs...
        assert claim(session, "x", 1, 60, now=T0) == []
        complete(session, [job], "w", now=T0)
    assert _status(store, key)[0] == "pending"  # ...and it runs again after.
    with store.write_session() as session:
        (job,) = claim(session, "w", 1, 60, now=T0)
        complete(session, [job], "w", now=T0)
    assert _status(store, key)[0] == "done"
    with store.session() as session:
        repend(session, [key, "no-such-key"], now=T0)
    assert _status(store, key)[0] == "pending"


def test_defer_and_add_or_repend(project: Project) -> None:
    store = project.store
    key = session_key(project.id, "a session id that is long " * 10)
    assert len(key) < 100
    job = NewJob(project.id, "session", key, tid(0))
    with store.session() as session:
        assert add_or_repend(session, [job], now=T0) == 1
    with store.write_session() as session:
        (claimed,) = claim(session, "w", 1, 60, now=T0)
        assert defer(session, [(claimed, T0 + timedelta(hours=1))], "w", now=T0) == 1
    with store.write_session() as session:
        assert claim(session, "w", 1, 60, now=T0 + timedelta(minutes=59)) == []
    # A new trace in the session: due now.
    with store.session() as session:
        assert add_or_repend(session, [job], now=T0 + timedelta(minutes=1)) == 0
    with store.write_session() as session:
        assert len(claim(session, "w", 1, 60, now=T0 + timedelta(minutes=1))) == 1


def test_cursor_moves_forward_only_and_horizon_lags(store: Store) -> None:
    with store.write_session() as session:
        assert lock_cursor(session, "traces") == 0
        advance_cursor(session, "traces", 10)
        advance_cursor(session, "traces", 5)
    with store.session() as session:
        assert read_cursor(session, "traces") == 10
        assert read_cursor(session, "nothing") == 0
    with store.write_session() as session:
        assert horizon(session, "traces", 50, 0) == 50
        # With a lag, an id is read past only once it was seen `lag` seconds ago.
        assert horizon(session, "traces", 50, 15, now=T0) == 0
        assert horizon(session, "traces", 60, 15, now=T0 + timedelta(seconds=10)) == 0
        assert horizon(session, "traces", 70, 15, now=T0 + timedelta(seconds=15)) == 50
        assert horizon(session, "traces", 80, 15, now=T0 + timedelta(seconds=20)) == 50
        assert horizon(session, "traces", 90, 15, now=T0 + timedelta(seconds=30)) == 70


def test_prune_deletes_only_finished_route_and_session_jobs_past_the_retention(
    project: Project,
) -> None:
    store = project.store
    old = [
        NewJob(project.id, ROUTE, route_key(project.id, tid(0)), tid(0)),
        NewJob(project.id, SESSION, session_key(project.id, "s1"), tid(0)),
        NewJob(project.id, SCORE, score_key(1, tid(0)), tid(0), None),
        NewJob(project.id, ROUTE, route_key(project.id, tid(1)), tid(1)),  # stays pending
    ]
    with store.session() as session:
        add_jobs(session, old[:3], now=T0)
    with store.write_session() as session:
        done = claim(session, "w1", 10, 60, now=T0)
        complete(session, done, "w1", now=T0)
        add_jobs(session, old[3:], now=T0)
        recent = NewJob(project.id, ROUTE, route_key(project.id, tid(2)), tid(2))
        add_jobs(session, [recent], now=T0 + timedelta(days=8))
        claimed = claim(session, "w1", 10, 60, now=T0 + timedelta(days=8))
        late = T0 + timedelta(days=8)
        complete(session, [j for j in claimed if j.trace_id == tid(2)], "w1", now=late)
    with store.write_session() as session:
        assert prune_jobs(session, T0 + timedelta(days=7)) == 2
        assert prune_jobs(session, T0 + timedelta(days=7)) == 0
        kept = {key: status for key, status in session.execute(select(Job.key, Job.status))}
    assert kept[score_key(1, tid(0))] == "done"  # score jobs keep backfills from rescoring
    assert route_key(project.id, tid(2)) in kept  # finished, but within the retention
    assert route_key(project.id, tid(1)) in kept  # never finished
    assert route_key(project.id, tid(0)) not in kept


def test_a_job_claimed_again_after_its_lease_is_no_longer_held(project: Project) -> None:
    store = project.store
    with store.session() as session:
        add_jobs(
            session,
            [NewJob(project.id, ROUTE, route_key(project.id, tid(n)), tid(n)) for n in range(2)],
            now=T0,
        )
    with store.write_session() as session:
        first = claim(session, "a", 2, 60, now=T0)
    # The lease runs out; "b" takes one of them over.
    with store.write_session() as session:
        (taken,) = claim(session, "b", 1, 60, now=T0 + timedelta(seconds=61))
    with store.write_session() as session:
        still = held(session, first, "a")
        assert [j.key for j in still] == [j.key for j in first if j.id != taken.id]
        assert held(session, [taken], "b") == [taken]
        assert held(session, [taken], "a") == []
