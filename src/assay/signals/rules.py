"""Routing rules: conditions over a trace's signals that send it to a review queue.

A rule names a queue, a list of conditions (all must hold; see
:mod:`assay.signals.conditions`) and a sample rate. :func:`route` evaluates every
enabled rule of a project on some traces. A rule's match on a trace is recorded
once (a :class:`~assay.store.models.RuleMatch`, inserted with ``ON CONFLICT DO
NOTHING``; the rule's ``matches`` counter grows only when the row is new), kept
with deterministic sampling (see :mod:`assay.signals.sampling`), and the kept trace
is enqueued with :func:`assay.review.enqueue`, which puts a trace in a queue at most
once. Several workers routing the same trace at once therefore count and enqueue
it once.

Presets worth starting from (text form of the conditions):

=========================  ==========================================  ===========
rule                       conditions                                  sample_rate
=========================  ==========================================  ===========
negative feedback          ``feedback.thumbs <= 0``                    1
online scorer failure      ``passed.faithfulness == false``            1
low judge confidence       ``confidence.faithfulness < 0.5``           1
errors                     ``status == error``                         0.2
calibration sample         (none)                                      0.02
=========================  ==========================================  ===========

Rules also load from files (:mod:`assay.signals.rule_files`), and
:mod:`assay.signals.hits` tells how much each one routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from assay.errors import Conflict, InvalidInput, NotFound
from assay.review import enqueue
from assay.signals.conditions import Condition, conditions_json, load_conditions, parse_conditions
from assay.signals.facts import TraceFacts, chunks, load_facts, needs
from assay.signals.inserts import inserted_values
from assay.signals.sampling import check_rate, sampled
from assay.store.models import ReviewQueue, RoutingRule, RuleMatch

SAMPLER = "rule"
"""The sampling namespace of routing rules (see :func:`assay.signals.sampling.sampled`)."""


@dataclass(frozen=True)
class RuleView:
    """A routing rule as callers see it.

    Attributes:
        id: Row id.
        project_id: Its project.
        name: Its name, unique in the project.
        queue_id: The queue it sends traces to.
        queue: That queue's name.
        conditions: All must hold for a trace to match (none: every trace matches).
        sample_rate: Share of matching traces enqueued, in (0, 1].
        enabled: Whether :func:`route` applies it.
        description: What it is for.
        matches: Traces it matched (each once), enqueued or not.
        created_at: When it was created.
    """

    id: int
    project_id: int
    name: str
    queue_id: int
    queue: str
    conditions: list[Condition]
    sample_rate: float
    enabled: bool
    description: str
    matches: int
    created_at: datetime


def _view(row: RoutingRule, queue: str) -> RuleView:
    return RuleView(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        queue_id=row.queue_id,
        queue=queue,
        conditions=load_conditions(row.conditions),
        sample_rate=row.sample_rate,
        enabled=bool(row.enabled),
        description=row.description,
        matches=row.matches,
        created_at=row.created_at,
    )


def find_queue(session: Session, project_id: int, ref: str | int) -> ReviewQueue:
    """A review queue of the project by name or id.

    Raises:
        NotFound: The project has no such queue.
    """
    query = select(ReviewQueue).where(ReviewQueue.project_id == project_id)
    if isinstance(ref, int):
        row = session.scalar(query.where(ReviewQueue.id == ref))
    else:
        row = session.scalar(query.where(ReviewQueue.name == ref))
        if row is None and ref.isdigit():
            row = session.scalar(query.where(ReviewQueue.id == int(ref)))
    if row is None:
        raise NotFound(f"review queue {ref!r} does not exist in this project")
    return row


def _queue_names(session: Session, project_id: int) -> dict[int, str]:
    rows = session.execute(
        select(ReviewQueue.id, ReviewQueue.name).where(ReviewQueue.project_id == project_id)
    )
    return {queue_id: name for queue_id, name in rows}


def _row(session: Session, project_id: int, ref: str | int) -> RoutingRule:
    query = select(RoutingRule).where(RoutingRule.project_id == project_id)
    if isinstance(ref, int):
        row = session.scalar(query.where(RoutingRule.id == ref))
    else:
        row = session.scalar(query.where(RoutingRule.name == ref))
        if row is None and ref.isdigit():
            row = session.scalar(query.where(RoutingRule.id == int(ref)))
    if row is None:
        raise NotFound(f"routing rule {ref!r} does not exist in this project")
    return row


def check_rule_name(name: Any) -> str:
    """A rule name, stripped.

    Raises:
        InvalidInput: Not 1-100 characters of text.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise InvalidInput(f"rule name must be 1-100 characters; got {name!r}")
    return name.strip()


def create_rule(
    session: Session,
    project_id: int,
    name: str,
    queue: str | int,
    *,
    conditions: Any = None,
    sample_rate: float = 1.0,
    enabled: bool = True,
    description: str = "",
) -> RuleView:
    """Create a routing rule.

    Args:
        session: The caller's session (the caller commits).
        project_id: The project.
        name: The rule's name, unique in the project.
        queue: The review queue (name or id) it sends traces to.
        conditions: What a trace must meet (see :func:`parse_conditions`); none
            makes a calibration sample of every trace at ``sample_rate``.
        sample_rate: Share of matching traces to enqueue, in (0, 1].
        enabled: Whether it routes.
        description: What it is for.

    Returns:
        The new rule.

    Raises:
        InvalidInput: The name, a condition or the rate is malformed.
        NotFound: No such queue in the project.
        Conflict: The project has a rule of that name.
    """
    name = check_rule_name(name)
    parsed = parse_conditions(conditions, where=f"rule {name!r} conditions")
    rate = check_rate(sample_rate, field=f"rule {name!r} sample_rate")
    target = find_queue(session, project_id, queue)
    taken = session.scalar(
        select(RoutingRule.id).where(RoutingRule.project_id == project_id, RoutingRule.name == name)
    )
    if taken is not None:
        raise Conflict(f"routing rule {name!r} already exists in this project")
    row = RoutingRule(
        project_id=project_id,
        queue_id=target.id,
        name=name,
        description=description,
        conditions=conditions_json(parsed),
        sample_rate=rate,
        enabled=int(enabled),
        matches=0,
    )
    session.add(row)
    session.flush()
    return _view(row, target.name)


_UNSET: Any = object()


def update_rule(
    session: Session,
    project_id: int,
    ref: str | int,
    *,
    name: str | None = None,
    queue: str | int | None = None,
    conditions: Any = _UNSET,
    sample_rate: float | None = None,
    enabled: bool | None = None,
    description: str | None = None,
) -> RuleView:
    """Change a routing rule; what is not given stays.

    Matches recorded under the old conditions stay recorded (and counted).

    Args:
        session: The caller's session (the caller commits).
        project_id: The project.
        ref: The rule's name or id.
        name: A new name.
        queue: Another queue (name or id).
        conditions: New conditions (``None`` or ``[]``: none).
        sample_rate: A new rate.
        enabled: Turn it on or off.
        description: A new description.

    Raises:
        NotFound: No such rule or queue.
        InvalidInput: A malformed value.
        Conflict: The new name is taken.
    """
    row = _row(session, project_id, ref)
    if name is not None and check_rule_name(name) != row.name:
        taken = session.scalar(
            select(RoutingRule.id).where(
                RoutingRule.project_id == project_id, RoutingRule.name == name.strip()
            )
        )
        if taken is not None:
            raise Conflict(f"routing rule {name!r} already exists in this project")
        row.name = name.strip()
    if conditions is not _UNSET:
        row.conditions = conditions_json(
            parse_conditions(conditions, where=f"rule {row.name!r} conditions")
        )
    if sample_rate is not None:
        row.sample_rate = check_rate(sample_rate, field=f"rule {row.name!r} sample_rate")
    if queue is not None:
        row.queue_id = find_queue(session, project_id, queue).id
    if enabled is not None:
        row.enabled = int(enabled)
    if description is not None:
        row.description = description
    session.flush()
    return _view(row, _queue_names(session, project_id).get(row.queue_id, ""))


def delete_rule(session: Session, project_id: int, ref: str | int) -> None:
    """Delete a routing rule and its recorded matches (queue items it made stay).

    Raises:
        NotFound: No such rule.
    """
    row = _row(session, project_id, ref)
    session.execute(delete(RuleMatch).where(RuleMatch.rule_id == row.id))
    session.delete(row)
    session.flush()


def get_rule(session: Session, project_id: int, ref: str | int) -> RuleView:
    """A routing rule by name or id.

    Raises:
        NotFound: No such rule.
    """
    row = _row(session, project_id, ref)
    return _view(row, _queue_names(session, project_id).get(row.queue_id, ""))


def list_rules(session: Session, project_id: int, *, enabled: bool | None = None) -> list[RuleView]:
    """A project's routing rules, by name (only enabled or disabled ones when asked)."""
    query = select(RoutingRule).where(RoutingRule.project_id == project_id)
    if enabled is not None:
        query = query.where(RoutingRule.enabled == int(enabled))
    queues = _queue_names(session, project_id)
    return [
        _view(row, queues.get(row.queue_id, ""))
        for row in session.scalars(query.order_by(RoutingRule.name))
    ]


@dataclass(frozen=True)
class RouteReport:
    """What :func:`route` did.

    Attributes:
        matched: New (rule, trace) matches recorded.
        enqueued: Traces put in a queue.
    """

    matched: int = 0
    enqueued: int = 0


def _reason(rule: RuleView, conditions: Sequence[Condition], explained: str) -> str:
    if not conditions:
        return f"{rule.name}: calibration sample ({rule.sample_rate:.0%} of traces)"
    return f"{rule.name}: {explained}"


RuleHits = list[tuple[RuleView, dict[str, TraceFacts]]]
"""Each enabled rule that matched some traces, with the facts of those traces."""


def route(session: Session, project_id: int, trace_ids: Sequence[str]) -> RouteReport:
    """Evaluate the project's enabled rules on some traces; record and enqueue matches.

    A (rule, trace) match already recorded is skipped: a trace is counted, sampled
    and enqueued once per rule, however often it is routed.

    Args:
        session: The caller's session (the caller commits).
        project_id: The project.
        trace_ids: The traces (ids not stored in the project are skipped).

    Returns:
        How many new matches and enqueued traces.
    """
    return store_routes(session, project_id, find_routes(session, project_id, trace_ids))


def find_routes(session: Session, project_id: int, trace_ids: Sequence[str]) -> RuleHits:
    """The reading half of :func:`route`: which enabled rules match which traces.

    It only reads, so the worker runs it in a read transaction (on SQLite that
    leaves the write lock to ingest) and :func:`store_routes` records the matches in
    a short write transaction.
    """
    rules = list_rules(session, project_id, enabled=True)
    if not rules or not trace_ids:
        return []
    tables: set[str] = set()
    for rule in rules:
        tables |= needs(rule.conditions)
    facts = load_facts(session, project_id, trace_ids, tables=tables)
    found: RuleHits = []
    for rule in rules:
        hits = {tid: fact for tid, fact in sorted(facts.items()) if fact.check(rule.conditions)}
        if hits:
            found.append((rule, hits))
    return found


def store_routes(session: Session, project_id: int, found: RuleHits) -> RouteReport:
    """Record and enqueue what :func:`find_routes` found.

    A rule switched off or deleted since it was read records nothing.
    """
    if not found:
        return RouteReport()
    enabled = set(
        session.scalars(
            select(RoutingRule.id).where(
                RoutingRule.project_id == project_id, RoutingRule.enabled == 1
            )
        )
    )
    table: Table = RuleMatch.__table__  # type: ignore[assignment]
    matched = enqueued = 0
    for rule, hits in found:
        if rule.id not in enabled:
            continue
        rows = [{"rule_id": rule.id, "trace_id": tid, "enqueued": 0} for tid in hits]
        # Only the matches this call recorded go on: a match recorded before (by an
        # earlier route, or by another worker a moment ago) was sampled and enqueued then.
        new = inserted_values(
            session, table, rows, unique=["rule_id", "trace_id"], column="trace_id"
        )
        if not new:
            continue
        session.execute(
            update(RoutingRule)
            .where(RoutingRule.id == rule.id)
            .values(matches=RoutingRule.matches + len(new))
        )
        matched += len(new)
        added: list[str] = []
        for trace_id in sorted(new):
            if not sampled(SAMPLER, rule.id, trace_id, rule.sample_rate):
                continue
            fact = hits[trace_id]
            reason = _reason(rule, rule.conditions, fact.explain(rule.conditions))
            if enqueue(
                session,
                project_id,
                rule.queue_id,
                trace_id,
                source="rule",
                rule_id=rule.id,
                reason=reason,
            ):
                added.append(trace_id)
        for part in chunks(added):
            session.execute(
                update(RuleMatch)
                .where(RuleMatch.rule_id == rule.id, RuleMatch.trace_id.in_(part))
                .values(enqueued=1)
            )
        enqueued += len(added)
    return RouteReport(matched=matched, enqueued=enqueued)
