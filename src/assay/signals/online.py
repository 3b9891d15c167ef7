"""Online scorers: evaluation-engine scorers run by the worker on sampled live traffic.

An online scorer is a project's named :class:`~assay.scorers.ScorerSpec` (any scorer
an experiment can use: ``regex``, ``judge``, a plugin, a user's ``python``
function), a sample rate and filters (conditions, see
:mod:`assay.signals.conditions`). The worker scores each new trace the scorer
selects: sampled (deterministically, see :mod:`assay.signals.sampling`) and
meeting every filter. A trace that ended before the scorer was created is history:
:func:`backfill` scores those on request.

A trace is scored as a case whose input is the trace's input and whose output is
its output; there is no reference, so a scorer that needs one (``exact``,
``numeric``) records an error for every trace rather than a failing score. The
verdict is stored once per (scorer, trace) as an :class:`~assay.store.models.OnlineScore`:
value, pass/fail, the judge's ``confidence`` when its metadata carries one, the
reason, or the error. Conditions read it as ``score.<name>``, ``passed.<name>`` and
``confidence.<name>``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from assay.datasets import CaseSpec
from assay.errors import Conflict, InvalidInput, NotFound
from assay.experiments.scoring import Scoring
from assay.scorers import Scorer, ScorerSpec, create_scorer
from assay.scorers.spec import NAME_PATTERN
from assay.signals.conditions import Condition, conditions_json, load_conditions, parse_conditions
from assay.signals.facts import TraceFacts, chunks, facts_of, load_facts, needs
from assay.signals.inserts import insert_new
from assay.signals.jobs import SCORE, NewJob, add_jobs, score_key
from assay.signals.sampling import check_rate, sampled
from assay.store.models import OnlineScore, OnlineScorer, Trace
from assay.traces.content import parse_content
from assay.traces.times import datetime_to_ns

SAMPLER = "scorer"
"""The sampling namespace of online scorers (see :func:`assay.signals.sampling.sampled`)."""

_PAGE = 500


@dataclass(frozen=True)
class OnlineScorerView:
    """An online scorer as callers see it.

    Attributes:
        id: Row id.
        project_id: Its project.
        name: Its name in conditions (``score.<name>``).
        spec: The scorer it runs.
        sample_rate: Share of traces scored, in (0, 1].
        filters: Conditions a trace must meet to be scored.
        enabled: Whether the worker runs it on new traces.
        created_at: When it was created; traces that ended before are left to
            :func:`backfill`.
    """

    id: int
    project_id: int
    name: str
    spec: ScorerSpec
    sample_rate: float
    filters: list[Condition]
    enabled: bool
    created_at: datetime

    def selects(self, facts: TraceFacts) -> bool:
        """Whether this scorer scores the trace: sampled, and meeting every filter."""
        return sampled(SAMPLER, self.id, facts.trace_id, self.sample_rate) and facts.check(
            self.filters
        )


@dataclass(frozen=True)
class OnlineVerdict:
    """An online scorer's verdict on one trace, or the error that kept it from one.

    Attributes:
        value: The score in [0, 1]; None on error.
        passed: Pass/fail where the scorer defines one.
        confidence: The judge's confidence, when its metadata carries one.
        reason: Why, in words.
        error: What went wrong (the scorer could not score the trace).
    """

    value: float | None = None
    passed: bool | None = None
    confidence: float | None = None
    reason: str = ""
    error: str | None = None


def view_of(row: OnlineScorer) -> OnlineScorerView:
    """The view of a stored online scorer."""
    return OnlineScorerView(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        spec=ScorerSpec.from_dict(json.loads(row.spec)),
        sample_rate=row.sample_rate,
        filters=load_conditions(row.filters),
        enabled=bool(row.enabled),
        created_at=row.created_at,
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or len(name) > 100:
        raise InvalidInput(
            f"online scorer name {name!r} is not valid: use 1-100 letters, digits, '_', '.' "
            "or '-', starting with a letter or '_' (conditions name it as score.<name>)"
        )
    return name


def _spec_of(spec: ScorerSpec | str | Mapping[str, Any]) -> ScorerSpec:
    if isinstance(spec, ScorerSpec):
        parsed = spec
    elif isinstance(spec, str):
        parsed = ScorerSpec.parse(spec)
    elif isinstance(spec, Mapping):
        parsed = ScorerSpec.from_dict(spec)
    else:
        raise InvalidInput(f"scorer spec: expected NAME[:ARGS] or an object; got {spec!r}")
    # Building it checks the name and the arguments; its spec is the canonical one.
    return create_scorer(parsed).spec


def _row(session: Session, project_id: int, ref: str | int) -> OnlineScorer:
    query = select(OnlineScorer).where(OnlineScorer.project_id == project_id)
    if isinstance(ref, int):
        row = session.scalar(query.where(OnlineScorer.id == ref))
    else:
        row = session.scalar(query.where(OnlineScorer.name == ref))
        if row is None and ref.isdigit():
            row = session.scalar(query.where(OnlineScorer.id == int(ref)))
    if row is None:
        raise NotFound(f"online scorer {ref!r} does not exist in this project")
    return row


def create_online_scorer(
    session: Session,
    project_id: int,
    name: str,
    spec: ScorerSpec | str | Mapping[str, Any],
    *,
    sample_rate: float = 1.0,
    filters: Any = None,
    enabled: bool = True,
) -> OnlineScorerView:
    """Create an online scorer.

    Args:
        session: The caller's session (the caller commits).
        project_id: The project.
        name: Its name, used in conditions as ``score.<name>``.
        spec: The scorer: a :class:`ScorerSpec`, ``NAME[:ARGS]`` text, or
            ``{"name", "args"}``.
        sample_rate: Share of new traces to score, in (0, 1].
        filters: Conditions a trace must meet (see :func:`parse_conditions`).
        enabled: Whether the worker runs it.

    Returns:
        The new scorer.

    Raises:
        InvalidInput: The name, spec, rate or a filter is malformed (named in the message).
        Conflict: The project has an online scorer of that name.
    """
    _check_name(name)
    canonical = _spec_of(spec)
    rate = check_rate(sample_rate)
    conditions = parse_conditions(filters, where="filters")
    taken = session.scalar(
        select(OnlineScorer.id).where(
            OnlineScorer.project_id == project_id, OnlineScorer.name == name
        )
    )
    if taken is not None:
        raise Conflict(f"online scorer {name!r} already exists in this project")
    row = OnlineScorer(
        project_id=project_id,
        name=name,
        spec=json.dumps(canonical.to_dict(), sort_keys=True),
        sample_rate=rate,
        filters=conditions_json(conditions),
        enabled=int(enabled),
    )
    session.add(row)
    session.flush()
    return view_of(row)


def get_online_scorer(session: Session, project_id: int, ref: str | int) -> OnlineScorerView:
    """An online scorer by name or id.

    Raises:
        NotFound: The project has no such scorer.
    """
    return view_of(_row(session, project_id, ref))


def list_online_scorers(
    session: Session, project_id: int, *, enabled: bool | None = None
) -> list[OnlineScorerView]:
    """A project's online scorers, by name (only enabled or disabled ones when asked)."""
    query = select(OnlineScorer).where(OnlineScorer.project_id == project_id)
    if enabled is not None:
        query = query.where(OnlineScorer.enabled == int(enabled))
    return [view_of(row) for row in session.scalars(query.order_by(OnlineScorer.name))]


def update_online_scorer(
    session: Session,
    project_id: int,
    ref: str | int,
    *,
    enabled: bool | None = None,
    sample_rate: float | None = None,
    filters: Any = None,
) -> OnlineScorerView:
    """Enable or disable an online scorer, or change its rate or filters.

    The spec cannot change: stored scores would mean two things under one name.
    Create another scorer instead. Changes apply to traces the worker takes up
    afterwards; scores already stored stay.

    Raises:
        NotFound: No such scorer.
        InvalidInput: The rate or a filter is malformed.
    """
    row = _row(session, project_id, ref)
    if sample_rate is not None:
        row.sample_rate = check_rate(sample_rate)
    if filters is not None:
        row.filters = conditions_json(parse_conditions(filters, where="filters"))
    if enabled is not None:
        row.enabled = int(enabled)
    session.flush()
    return view_of(row)


def delete_online_scorer(session: Session, project_id: int, ref: str | int) -> None:
    """Delete an online scorer with its scores and pending jobs.

    Raises:
        NotFound: No such scorer.
    """
    row = _row(session, project_id, ref)
    # Foreign keys cascade on both dialects; the explicit delete keeps SQLite files
    # opened without the foreign_keys pragma (another tool) consistent too.
    session.execute(delete(OnlineScore).where(OnlineScore.scorer_id == row.id))
    session.delete(row)
    session.flush()


def backfill(
    session: Session,
    scorer: OnlineScorerView,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> int:
    """Create score jobs for stored traces, so the worker scores history.

    Sampling and filters apply as for new traces; traces scored already are not
    scored again.

    Args:
        session: The caller's session (the caller commits).
        scorer: The online scorer (enabled or not).
        since: Only traces that started at or after this time.
        until: Only traces that started before this time.
        limit: At most this many traces, newest first.

    Returns:
        How many score jobs were added.

    Raises:
        InvalidInput: ``limit`` is below 1.
    """
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit: must be at least 1; got {limit}")
    tables = needs(scorer.filters)
    query = select(Trace).where(Trace.project_id == scorer.project_id)
    if since is not None:
        query = query.where(Trace.start_ns >= datetime_to_ns(since))
    if until is not None:
        query = query.where(Trace.start_ns < datetime_to_ns(until))
    query = query.order_by(Trace.start_ns.desc(), Trace.id.desc())
    added = 0
    seen = 0
    offset = 0
    while limit is None or seen < limit:
        size = _PAGE if limit is None else min(_PAGE, limit - seen)
        rows = list(session.scalars(query.offset(offset).limit(size)))
        if not rows:
            break
        offset += len(rows)
        seen += len(rows)
        facts = {row.trace_id: facts_of(row) for row in rows}
        if tables:
            facts = load_facts(session, scorer.project_id, list(facts), tables=tables)
        jobs = [
            NewJob(scorer.project_id, SCORE, score_key(scorer.id, tid), tid, scorer.id)
            for tid, fact in facts.items()
            if scorer.selects(fact)
        ]
        added += add_jobs(session, jobs)
    return added


def case_of(facts: TraceFacts, stored_input: str | None) -> CaseSpec | None:
    """The case a trace is scored as, or None when it has no input to show a scorer."""
    content = parse_content(stored_input)
    if content is None or (isinstance(content, str) and not content.strip()) or not content:
        return None
    slices = {k: v for k, v in facts.slices.items() if isinstance(v, str | int | float | bool)}
    metadata = {
        "trace_id": facts.trace_id,
        "model": facts.get("model"),
        "release": facts.get("release"),
        "session_id": facts.session_id,
    }
    return CaseSpec(input=content, slices=slices, metadata=metadata)


async def score_trace(
    scoring: Scoring, facts: TraceFacts, stored_input: str | None
) -> OnlineVerdict:
    """Run one scorer (wrapped in :class:`Scoring`, as experiments run it) on a trace.

    Scoring retries a judge's retryable failures and turns any failure into an error
    verdict, never a failing score.
    """
    case = case_of(facts, stored_input)
    if case is None:
        return OnlineVerdict(error="the trace has no input recorded, so it cannot be scored")
    result = await scoring.score(case, facts.get("output"))
    (verdict,) = result.values()
    return verdict_of(verdict)


def verdict_of(result: Mapping[str, Any]) -> OnlineVerdict:
    """A verdict from a score as experiments store it (``Score.to_dict()`` or ``{"error"}``)."""
    if "error" in result:
        return OnlineVerdict(error=str(result["error"]))
    metadata = result.get("metadata") or {}
    confidence = metadata.get("confidence") if isinstance(metadata, Mapping) else None
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not math.isfinite(confidence)
    ):
        confidence = None
    return OnlineVerdict(
        value=float(result["value"]),
        passed=result.get("passed"),
        confidence=None if confidence is None else float(confidence),
        reason=str(result.get("reason") or ""),
    )


def build_scoring(spec: ScorerSpec, secrets: Mapping[str, Any] | None = None) -> Scoring:
    """The :class:`Scoring` of one scorer, as the worker runs it.

    Raises:
        InvalidInput: The spec no longer builds (a scorer's arguments changed).
        ConfigError: A plugin or a user's function cannot be loaded.
    """
    scorer: Scorer = create_scorer(spec, secrets=secrets)
    return Scoring([scorer])


def store_verdicts(
    session: Session, project_id: int, scorer_id: int, verdicts: Mapping[str, OnlineVerdict]
) -> int:
    """Store verdicts by trace id; a (scorer, trace) scored already keeps its first.

    Returns:
        How many were stored.
    """
    table: Table = OnlineScore.__table__  # type: ignore[assignment]
    rows = [
        {
            "project_id": project_id,
            "scorer_id": scorer_id,
            "trace_id": trace_id,
            "value": verdict.value,
            "passed": None if verdict.passed is None else int(verdict.passed),
            "confidence": verdict.confidence,
            "reason": verdict.reason,
            "error": verdict.error,
        }
        for trace_id, verdict in sorted(verdicts.items())
    ]
    return insert_new(session, table, rows, unique=["scorer_id", "trace_id"])


@dataclass(frozen=True)
class StoredScore:
    """An online score as read back.

    Attributes:
        scorer: The online scorer's name.
        trace_id: The trace.
        value: The score, None on error.
        passed: Pass/fail, where defined.
        confidence: The judge's confidence, if it gave one.
        reason: Why.
        error: What kept the scorer from a verdict.
        created_at: When it was stored.
    """

    scorer: str
    trace_id: str
    value: float | None
    passed: bool | None
    confidence: float | None
    reason: str
    error: str | None
    created_at: datetime


def trace_scores(session: Session, project_id: int, trace_ids: Sequence[str]) -> list[StoredScore]:
    """The online scores of some traces, by trace then scorer name."""
    out: list[StoredScore] = []
    for part in chunks(sorted(set(trace_ids))):
        rows = session.execute(
            select(OnlineScorer.name, OnlineScore)
            .join(OnlineScorer, OnlineScorer.id == OnlineScore.scorer_id)
            .where(OnlineScore.project_id == project_id, OnlineScore.trace_id.in_(part))
            .order_by(OnlineScore.trace_id, OnlineScorer.name)
        )
        for name, score in rows:
            out.append(
                StoredScore(
                    scorer=name,
                    trace_id=score.trace_id,
                    value=score.value,
                    passed=None if score.passed is None else bool(score.passed),
                    confidence=score.confidence,
                    reason=score.reason,
                    error=score.error,
                    created_at=score.created_at,
                )
            )
    return out
