"""Implicit signals: what users did, read as evidence about a trace's quality.

A session is the traces of one project that share a ``session_id``, in order of
start. Three signals are derived, each stored once per (trace, name) as feedback
with source ``implicit`` (conditions read them as ``signal.<name>``):

``retried`` (1.0)
    The next trace of the session starts at most ``retry_seconds`` after this one
    ends (or before it ends: an impatient user) and its input is similar: the
    rapidfuzz ``fuzz.ratio`` of the two user inputs, divided by 100, is at least
    ``retry_similarity``. The user asked again because this answer did not do.

``abandoned`` (1.0, on the session's last trace)
    The session has been quiet for ``abandon_seconds`` since its last trace ended,
    no trace of it got positive feedback, and it ended in trouble: the last trace
    was itself a retry (the trace before it was ``retried``), failed (status
    ``error``), or got negative feedback. A session that simply ended after an
    answer is not abandoned: most users leave once they have what they came for.

``edit_distance`` (0 to 1)
    When a ``correction`` feedback (the answer the user wanted) exists: the
    normalised Levenshtein distance between the trace's output and the correction
    (0: the user changed nothing; 1: nothing in common); the comment carries the
    raw distance.

Feedback is positive when it is ``true`` or a number above 0, and negative when it
is ``false`` or a number at or below 0 (thumbs as 1/0, -1/1 or true/false); text
feedback counts as neither, except a ``correction``, which is negative. Implicit
signals are facts about what happened and are never withdrawn: a session that
comes back to life after being ``abandoned`` keeps the signal on the trace where
the user left.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.settings import Settings
from assay.signals.facts import CHUNK, IMPLICIT_SOURCE, chunks, content_text
from assay.store.models import Feedback, Trace
from assay.traces.times import datetime_to_ns, ns_to_datetime

RETRIED = "retried"
ABANDONED = "abandoned"
EDIT_DISTANCE = "edit_distance"
SIGNALS = (RETRIED, ABANDONED, EDIT_DISTANCE)
"""The implicit signals, as named in conditions (``signal.retried``)."""

CORRECTION = "correction"
"""The feedback name of a user's corrected answer."""

SESSION_LOOKBACK_NS = 24 * 3600 * 10**9
"""How far before a session's newest trace its traces are read (through the
(project, session, start) index), so a session that lives for months is read a day
at a time; a day covers conversations with assistants, which rarely pause longer."""

# Inputs compared for retries are cut to this length: fuzz.ratio costs grow with
# the product of the lengths, and a retry is told apart well within 5,000 characters.
_COMPARED_CHARS = 5_000
_NS = 10**9


@dataclass(frozen=True)
class ImplicitConfig:
    """The thresholds of the implicit signals (see the module docstring).

    Attributes:
        retry_seconds: Longest pause between a trace's end and the next trace's
            start that counts as a retry.
        retry_similarity: Least input similarity (``fuzz.ratio`` / 100) of a retry.
        abandon_seconds: Quiet time after which a session counts as ended.
    """

    retry_seconds: float = 120.0
    retry_similarity: float = 0.6
    abandon_seconds: float = 1800.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ImplicitConfig:
        """The thresholds configured in ``settings``."""
        return cls(
            retry_seconds=settings.signal_retry_s,
            retry_similarity=settings.signal_retry_similarity,
            abandon_seconds=settings.signal_abandon_s,
        )


@dataclass(frozen=True)
class SessionTrace:
    """What the session signals read of one trace.

    Attributes:
        trace_id: The trace.
        start_ns: Start, ns since the epoch.
        end_ns: End, ns since the epoch.
        status: ``ok``, ``error`` or ``unset``.
        question: The user's input as text (the last user message of a chat).
    """

    trace_id: str
    start_ns: int
    end_ns: int
    status: str
    question: str | None


@dataclass(frozen=True)
class ImplicitSignal:
    """One derived signal on one trace.

    Attributes:
        trace_id: The trace.
        name: ``retried``, ``abandoned`` or ``edit_distance``.
        value: The signal's value.
        comment: Why, in words (stored as the feedback's comment).
    """

    trace_id: str
    name: str
    value: float
    comment: str


@dataclass(frozen=True)
class FeedbackFact:
    """An explicit feedback's name and value, for polarity."""

    name: str
    value_num: float | None
    value_text: str | None


def polarity(feedback: FeedbackFact) -> int:
    """+1 for positive feedback, -1 for negative, 0 for neither (module docstring)."""
    if feedback.name == CORRECTION and feedback.value_text:
        return -1
    if feedback.value_num is None:
        return 0
    return 1 if feedback.value_num > 0 else -1


def retries(traces: Sequence[SessionTrace], config: ImplicitConfig) -> list[ImplicitSignal]:
    """The ``retried`` signals of a session's traces (in order of start)."""
    out: list[ImplicitSignal] = []
    window_ns = config.retry_seconds * _NS
    for this, following in itertools.pairwise(traces):
        gap_ns = following.start_ns - this.end_ns
        if gap_ns > window_ns or not this.question or not following.question:
            continue
        similarity = (
            fuzz.ratio(this.question[:_COMPARED_CHARS], following.question[:_COMPARED_CHARS])
            / 100.0
        )
        if similarity < config.retry_similarity:
            continue
        out.append(
            ImplicitSignal(
                this.trace_id,
                RETRIED,
                1.0,
                f"trace {following.trace_id} asked again {max(0.0, gap_ns / _NS):.1f} s "
                f"later (input similarity {similarity:.2f})",
            )
        )
    return out


def abandonment(
    traces: Sequence[SessionTrace],
    feedback: Mapping[str, Sequence[FeedbackFact]],
    retried: Collection[str],
    config: ImplicitConfig,
    now_ns: int,
) -> tuple[ImplicitSignal | None, int | None]:
    """Whether a session was abandoned, or when to look again.

    Args:
        traces: The session's traces, in order of start.
        feedback: Explicit feedback by trace id.
        retried: Ids of the traces that were retried.
        config: The thresholds.
        now_ns: The current time.

    Returns:
        The ``abandoned`` signal (or None), and the time (ns) at which the session
        will have been quiet long enough to decide, when it has not yet.
    """
    if not traces:
        return None, None
    last = traces[-1]
    quiet_at = max(t.end_ns for t in traces) + int(config.abandon_seconds * _NS)
    if now_ns < quiet_at:
        return None, quiet_at
    if any(polarity(f) > 0 for facts in feedback.values() for f in facts):
        return None, None
    trouble = []
    if len(traces) > 1 and traces[-2].trace_id in retried:
        trouble.append("a retry")
    if last.status == "error":
        trouble.append("an error")
    if any(polarity(f) < 0 for f in feedback.get(last.trace_id, ())):
        trouble.append("negative feedback")
    if not trouble:
        return None, None
    comment = (
        f"the session went quiet for {config.abandon_seconds:g} s after "
        f"{' and '.join(trouble)}, with no positive feedback"
    )
    return ImplicitSignal(last.trace_id, ABANDONED, 1.0, comment), None


def edit_distance(trace_id: str, output: str, correction: str) -> ImplicitSignal:
    """The ``edit_distance`` signal between an output and the user's correction."""
    raw = Levenshtein.distance(output, correction)
    value = Levenshtein.normalized_distance(output, correction)
    return ImplicitSignal(
        trace_id,
        EDIT_DISTANCE,
        float(value),
        f"Levenshtein distance {raw} between the output ({len(output)} characters) and "
        f"the correction ({len(correction)} characters)",
    )


@dataclass(frozen=True)
class SessionResult:
    """What deriving a session's signals did.

    Attributes:
        added: The signals stored now (earlier ones are not repeated).
        recheck_at: When the session will have been quiet long enough to decide
            whether it was abandoned; None when that is decided.
    """

    added: list[ImplicitSignal]
    recheck_at: datetime | None


@dataclass(frozen=True)
class SessionFindings:
    """A session's signals as read, before they are stored (:func:`find_sessions`).

    Attributes:
        signals: Every signal the session's traces call for, stored or not.
        recheck_ns: When to look again for abandonment (ns since the epoch); None
            when that is decided.
    """

    signals: list[ImplicitSignal]
    recheck_ns: int | None


def session_traces(
    session: Session, project_id: int, session_id: str, *, since_ns: int | None = None
) -> list[SessionTrace]:
    """A session's traces in order of start (from ``since_ns`` on, when given)."""
    query = select(Trace.trace_id, Trace.start_ns, Trace.end_ns, Trace.status, Trace.input).where(
        Trace.project_id == project_id, Trace.session_id == session_id
    )
    if since_ns is not None:
        query = query.where(Trace.start_ns >= since_ns)
    rows = session.execute(query.order_by(Trace.start_ns, Trace.id))
    return [
        SessionTrace(trace_id, start, end, status, content_text(text, role="user"))
        for trace_id, start, end, status, text in rows
    ]


def _explicit_feedback(
    session: Session, project_id: int, trace_ids: Sequence[str]
) -> dict[str, list[FeedbackFact]]:
    out: dict[str, list[FeedbackFact]] = {}
    for part in chunks(sorted(set(trace_ids))):
        rows = session.execute(
            select(Feedback.trace_id, Feedback.name, Feedback.value_num, Feedback.value_text)
            .where(
                Feedback.project_id == project_id,
                Feedback.trace_id.in_(part),
                Feedback.source != IMPLICIT_SOURCE,
            )
            .order_by(Feedback.id)
        )
        for trace_id, name, num, text in rows:
            out.setdefault(trace_id, []).append(FeedbackFact(name, num, text))
    return out


def derive_session(
    session: Session,
    project_id: int,
    session_id: str,
    config: ImplicitConfig,
    *,
    since_ns: int | None = None,
    now: datetime | None = None,
) -> SessionResult:
    """Derive and store a session's ``retried`` and ``abandoned`` signals.

    Args:
        session: The caller's session (the caller commits).
        project_id: The project.
        session_id: The session.
        config: The thresholds.
        since_ns: Read the session's traces from this start time on (see
            :data:`SESSION_LOOKBACK_NS`); all of them when None.
        now: The current time (for tests).

    Returns:
        The signals added, and when to look again for abandonment.
    """
    traces = session_traces(session, project_id, session_id, since_ns=since_ns)
    found = _find(session, project_id, {session_id: traces}, config, now)
    return store_sessions(session, project_id, found)[session_id]


def derive_sessions(
    session: Session,
    project_id: int,
    session_ids: Collection[str],
    config: ImplicitConfig,
    *,
    now: datetime | None = None,
) -> dict[str, SessionResult]:
    """:func:`derive_session` for many sessions of a project, in a few queries.

    Each session is read from :data:`SESSION_LOOKBACK_NS` before its newest trace
    on, so a long-lived session is read a day at a time.

    Returns:
        Each session's result (a session with no traces has an empty one).
    """
    found = find_sessions(session, project_id, session_ids, config, now=now)
    return store_sessions(session, project_id, found)


def find_sessions(
    session: Session,
    project_id: int,
    session_ids: Collection[str],
    config: ImplicitConfig,
    *,
    now: datetime | None = None,
) -> dict[str, SessionFindings]:
    """The reading half of :func:`derive_sessions`: it only reads, so it can run in a
    read transaction (on SQLite that leaves the write lock to ingest), and
    :func:`store_sessions` stores what it found in a short write transaction."""
    ids = sorted(set(session_ids))
    traces: dict[str, list[SessionTrace]] = {sid: [] for sid in ids}
    since: dict[str, int] = {}
    for part in chunks(ids):
        rows = session.execute(
            select(Trace.session_id, func.max(Trace.start_ns))
            .where(Trace.project_id == project_id, Trace.session_id.in_(part))
            .group_by(Trace.session_id)
        )
        since.update((sid, int(start) - SESSION_LOOKBACK_NS) for sid, start in rows if sid)
    # Sessions whose windows start within a lookback of each other are read together
    # from the earliest start: one session idle for a month must not make its
    # neighbours be read a month back.
    group: list[str] = []
    for sid in sorted(since, key=since.__getitem__):
        if group and (len(group) == CHUNK or since[sid] - since[group[0]] > SESSION_LOOKBACK_NS):
            _read_window(session, project_id, group, since, traces)
            group = []
        group.append(sid)
    if group:
        _read_window(session, project_id, group, since, traces)
    return _find(session, project_id, traces, config, now)


def _read_window(
    session: Session,
    project_id: int,
    session_ids: Sequence[str],
    since: Mapping[str, int],
    out: dict[str, list[SessionTrace]],
) -> None:
    """Append to ``out`` the traces of each session from its ``since`` on, in order."""
    rows = session.execute(
        select(
            Trace.session_id,
            Trace.trace_id,
            Trace.start_ns,
            Trace.end_ns,
            Trace.status,
            Trace.input,
        )
        .where(
            Trace.project_id == project_id,
            Trace.session_id.in_(session_ids),
            Trace.start_ns >= min(since[sid] for sid in session_ids),
        )
        .order_by(Trace.start_ns, Trace.id)
    )
    for sid, trace_id, start, end, status, text in rows:
        if sid is not None and start >= since[sid]:
            out[sid].append(
                SessionTrace(trace_id, start, end, status, content_text(text, role="user"))
            )


def _find(
    session: Session,
    project_id: int,
    traces: Mapping[str, Sequence[SessionTrace]],
    config: ImplicitConfig,
    now: datetime | None,
) -> dict[str, SessionFindings]:
    now_ns = datetime_to_ns(now or datetime.now(UTC))
    feedback = _explicit_feedback(
        session, project_id, [t.trace_id for ts in traces.values() for t in ts]
    )
    found: dict[str, SessionFindings] = {}
    for session_id, ordered in traces.items():
        signals = retries(ordered, config)
        # Only this session's feedback: abandonment asks whether any of it is positive.
        own = {t.trace_id: feedback[t.trace_id] for t in ordered if t.trace_id in feedback}
        abandoned, recheck_ns = abandonment(
            ordered, own, {s.trace_id for s in signals}, config, now_ns
        )
        if abandoned is not None:
            signals.append(abandoned)
        found[session_id] = SessionFindings(signals, recheck_ns)
    return found


def store_sessions(
    session: Session, project_id: int, found: Mapping[str, SessionFindings]
) -> dict[str, SessionResult]:
    """Store what :func:`find_sessions` found: each signal a trace does not have yet.

    Returns:
        Each session's result.
    """
    added = store_signals(session, project_id, [s for f in found.values() for s in f.signals])
    stored = {(s.trace_id, s.name) for s in added}
    return {
        session_id: SessionResult(
            added=[s for s in f.signals if (s.trace_id, s.name) in stored],
            recheck_at=ns_to_datetime(f.recheck_ns) if f.recheck_ns is not None else None,
        )
        for session_id, f in found.items()
    }


def derive_edit_distances(
    session: Session, project_id: int, trace_ids: Collection[str]
) -> list[ImplicitSignal]:
    """Derive and store ``edit_distance`` for the traces that have a correction.

    The latest correction of a trace is used; a trace with an ``edit_distance``
    already keeps it. Traces without output are skipped.

    Returns:
        The signals added.
    """
    return store_signals(session, project_id, find_edit_distances(session, project_id, trace_ids))


def find_edit_distances(
    session: Session, project_id: int, trace_ids: Collection[str]
) -> list[ImplicitSignal]:
    """The reading half of :func:`derive_edit_distances`: the signals, not stored."""
    ids = sorted(set(trace_ids))
    corrections: dict[str, str] = {}
    for part in chunks(ids):
        rows = session.execute(
            select(Feedback.trace_id, Feedback.value_text)
            .where(
                Feedback.project_id == project_id,
                Feedback.trace_id.in_(part),
                Feedback.name == CORRECTION,
                Feedback.source != IMPLICIT_SOURCE,
                Feedback.value_text.is_not(None),
            )
            .order_by(Feedback.created_at, Feedback.id)
        )
        for trace_id, text in rows:
            if text is not None:
                corrections[trace_id] = text
    if not corrections:
        return []
    signals: list[ImplicitSignal] = []
    for part in chunks(sorted(corrections)):
        rows = session.execute(
            select(Trace.trace_id, Trace.output).where(
                Trace.project_id == project_id, Trace.trace_id.in_(part)
            )
        )
        for trace_id, stored in rows:
            output = content_text(stored, role="assistant")
            if output is not None:
                signals.append(edit_distance(trace_id, output, corrections[trace_id]))
    return signals


def store_signals(
    session: Session, project_id: int, signals: Sequence[ImplicitSignal]
) -> list[ImplicitSignal]:
    """Store the signals a trace does not have yet (one per trace and name).

    Callers derive a trace's signals in jobs that one worker holds at a time, so
    the check before the insert is not raced.

    Returns:
        The signals stored now.
    """
    if not signals:
        return []
    existing: set[tuple[str, str]] = set()
    for part in chunks(sorted({s.trace_id for s in signals})):
        rows = session.execute(
            select(Feedback.trace_id, Feedback.name).where(
                Feedback.project_id == project_id,
                Feedback.trace_id.in_(part),
                Feedback.source == IMPLICIT_SOURCE,
            )
        )
        existing.update((trace_id, name) for trace_id, name in rows)
    added: list[ImplicitSignal] = []
    for signal in signals:
        key = (signal.trace_id, signal.name)
        if key in existing:
            continue
        existing.add(key)
        session.add(
            Feedback(
                project_id=project_id,
                trace_id=signal.trace_id,
                name=signal.name,
                value_num=signal.value,
                comment=signal.comment,
                source=IMPLICIT_SOURCE,
            )
        )
        added.append(signal)
    session.flush()
    return added
