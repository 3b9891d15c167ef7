"""Implicit signals on crafted sessions: retries, abandonment, edit distance, stored once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rapidfuzz.distance import Levenshtein
from sqlalchemy import select

from assay.signals.implicit import (
    ImplicitConfig,
    SessionTrace,
    derive_edit_distances,
    derive_session,
    derive_sessions,
    retries,
)
from assay.store.models import Feedback

from .conftest import BASE, NS, Project, tid

CONFIG = ImplicitConfig(retry_seconds=120, retry_similarity=0.6, abandon_seconds=1800)


def _trace(n: int, start_s: float, question: str | None, *, status: str = "ok") -> SessionTrace:
    return SessionTrace(tid(n), int(start_s * NS), int((start_s + 2) * NS), status, question)


def test_retry_needs_the_window_and_similar_input() -> None:
    traces = [
        _trace(0, 0, "How do I reset my password?"),
        _trace(1, 30, "how do I reset my password??"),  # 28 s after 0 ends: a retry of 0
        _trace(2, 100, "What are your opening hours?"),  # soon, but another question
        _trace(3, 400, "What are your opening hours"),  # similar, but 298 s later
        _trace(4, 401, None),
    ]
    found = retries(traces, CONFIG)
    assert [(s.trace_id, s.name, s.value) for s in found] == [(tid(0), "retried", 1.0)]
    assert "asked again 28.0 s later" in found[0].comment
    assert "input similarity 0.9" in found[0].comment


def _signals(project: Project) -> list[tuple[str, str, float | None, str | None]]:
    with project.store.session() as session:
        rows = session.execute(
            select(Feedback.trace_id, Feedback.name, Feedback.value_num, Feedback.comment)
            .where(Feedback.source == "implicit")
            .order_by(Feedback.trace_id, Feedback.name)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_session_signals_are_stored_once(project: Project) -> None:
    chat = '[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "%s"}]'
    project.trace(0, start_s=0, session_id="s1", input=chat % "Cancel my order 1234")
    project.trace(1, start_s=60, session_id="s1", input=chat % "cancel my order #1234!")
    project.trace(2, start_s=90, session_id="s2", input="Cancel my order 1234")  # other session
    with project.store.session() as session:
        first = derive_session(session, project.id, "s1", CONFIG)
    # The session ended on a retry, with no positive feedback, hours ago: abandoned.
    assert sorted((s.trace_id, s.name) for s in first.added) == [
        (tid(0), "retried"),
        (tid(1), "abandoned"),
    ]
    assert first.recheck_at is None
    with project.store.session() as session:
        again = derive_session(session, project.id, "s1", CONFIG)
    assert again.added == []
    assert [(t, n) for t, n, _, _ in _signals(project)] == [
        (tid(0), "retried"),
        (tid(1), "abandoned"),
    ]


def test_a_quiet_session_without_trouble_is_not_abandoned(project: Project) -> None:
    project.trace(0, start_s=0, session_id="s", input="What is the capital of France?")
    project.trace(1, start_s=60, session_id="s", input="And of Germany?")
    with project.store.session() as session:
        result = derive_session(session, project.id, "s", CONFIG)
    assert result.added == []
    assert result.recheck_at is None


@pytest.mark.parametrize(
    ("status", "feedback", "abandoned"),
    [
        ("error", None, True),
        ("ok", ("thumbs", False), True),
        ("ok", ("correction", "Berlin"), True),
        ("error", ("thumbs", True), False),  # positive feedback: the user got something
        ("ok", ("thumbs", True), False),
    ],
)
def test_abandonment_needs_trouble_and_no_positive_feedback(
    project: Project, status: str, feedback: tuple[str, object] | None, abandoned: bool
) -> None:
    project.trace(0, start_s=0, session_id="s", input="What is the weather in Oslo?")
    project.trace(1, start_s=60, session_id="s", input="Book a table for two at 8pm", status=status)
    if feedback is not None:
        project.feedback(1, *feedback)
    with project.store.session() as session:
        result = derive_session(session, project.id, "s", CONFIG)
    assert [(s.trace_id, s.name) for s in result.added] == (
        [(tid(1), "abandoned")] if abandoned else []
    )


def test_a_session_still_active_is_looked_at_again_later(project: Project) -> None:
    now = datetime.now(UTC)
    recent = now - timedelta(seconds=100)
    offset = (recent - BASE).total_seconds()
    project.trace(0, start_s=offset, session_id="s", status="error")
    with project.store.session() as session:
        result = derive_session(session, project.id, "s", CONFIG, now=now)
    assert result.added == []
    assert result.recheck_at is not None
    expected = recent + timedelta(seconds=1 + 1800)
    assert abs((result.recheck_at - expected).total_seconds()) < 0.01
    with project.store.session() as session:
        later = derive_session(session, project.id, "s", CONFIG, now=now + timedelta(seconds=1800))
    assert [s.name for s in later.added] == ["abandoned"]
    assert later.recheck_at is None


def test_many_sessions_at_once_are_each_judged_on_their_own(project: Project) -> None:
    # The worker derives a batch of sessions in a few queries; each session must
    # still see only its own traces and feedback.
    now = datetime.now(UTC)
    recent = (now - timedelta(seconds=100) - BASE).total_seconds()
    project.trace(0, start_s=0, session_id="happy", input="Where is my parcel?")
    project.trace(1, start_s=60, session_id="happy", input="Thanks, and the invoice?")
    project.feedback(1, "thumbs", True)  # positive, but only for the happy session
    project.trace(2, start_s=0, session_id="failed", input="Where is my parcel?")
    project.trace(3, start_s=30, session_id="failed", input="where is my parcel??")
    project.trace(4, start_s=recent, session_id="live", input="Hello", status="error")
    project.trace(5, start_s=0, session_id="other", input="Where is my parcel?", status="error")
    with project.store.session() as session:
        results = derive_sessions(
            session, project.id, ["happy", "failed", "live", "gone"], CONFIG, now=now
        )
    assert sorted(results) == ["failed", "gone", "happy", "live"]
    assert results["happy"].added == []
    assert [(s.trace_id, s.name) for s in results["failed"].added] == [
        (tid(2), "retried"),
        (tid(3), "abandoned"),
    ]
    assert results["live"].added == []
    assert results["live"].recheck_at is not None
    assert results["gone"].added == []
    assert results["gone"].recheck_at is None
    # Not asked for: no signal on the session "other", though it failed long ago.
    assert {t for t, _, _, _ in _signals(project)} == {tid(2), tid(3)}
    # One by one gives the same answers: nothing new to store.
    with project.store.session() as session:
        for sid in ("happy", "failed", "live"):
            assert derive_session(session, project.id, sid, CONFIG, now=now).added == []


def test_each_session_is_read_over_its_own_window(project: Project) -> None:
    # A session idle for a month, derived in the same batch as a live one, is read
    # from a day before its own newest trace; the live one from a day before its own.
    day = 24 * 3600.0
    project.trace(0, start_s=-40 * day, session_id="old", input="Reset my password")
    project.trace(1, start_s=-40 * day + 30, session_id="old", input="reset my password!")
    project.trace(2, start_s=-3 * day, session_id="live", input="Where is my parcel?")
    project.trace(3, start_s=-3 * day + 30, session_id="live", input="where is my parcel??")
    project.trace(4, start_s=0, session_id="live", input="Thanks")
    with project.store.session() as session:
        results = derive_sessions(session, project.id, ["old", "live"], CONFIG)
    # Asked again, then silence: retried, and abandoned on the retry.
    assert [(s.trace_id, s.name) for s in results["old"].added] == [
        (tid(0), "retried"),
        (tid(1), "abandoned"),
    ]
    # The live session's retry three days back is outside its one-day window.
    assert results["live"].added == []


def test_edit_distance_of_a_correction(project: Project) -> None:
    project.trace(0, output="The capital of France is Lyon.")
    project.trace(1, output='[{"role": "assistant", "content": "Bonn"}]')
    project.trace(2, output=None)
    project.feedback(0, "correction", "The capital of France is Paris.")
    project.feedback(1, "correction", "Berlin")
    project.feedback(2, "correction", "anything")
    with project.store.session() as session:
        added = derive_edit_distances(session, project.id, [tid(0), tid(1), tid(2), tid(3)])
    assert sorted(s.trace_id for s in added) == [tid(0), tid(1)]
    by_trace = {t: (v, c) for t, n, v, c in _signals(project) if n == "edit_distance"}
    expected = Levenshtein.normalized_distance(
        "The capital of France is Lyon.", "The capital of France is Paris."
    )
    value, comment = by_trace[tid(0)]
    assert value == pytest.approx(expected)
    assert comment is not None
    assert comment.startswith("Levenshtein distance 5 ")
    assert by_trace[tid(1)][0] == pytest.approx(Levenshtein.normalized_distance("Bonn", "Berlin"))
    with project.store.session() as session:
        assert derive_edit_distances(session, project.id, [tid(0), tid(1)]) == []
    assert len(_signals(project)) == 2
