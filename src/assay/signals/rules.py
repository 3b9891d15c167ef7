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

Rules load from a file (TOML, YAML or JSON) with :func:`load_rules_file`::

    [[rules]]
    name = "negative-feedback"
    queue = "triage"
    conditions = ["feedback.thumbs <= 0"]

    [[rules]]
    name = "calibration"
    queue = "calibration"
    sample_rate = 0.02
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from assay.errors import ConfigError, Conflict, InvalidInput, NotFound
from assay.review import enqueue
from assay.signals.conditions import Condition, conditions_json, load_conditions, parse_conditions
from assay.signals.facts import load_facts, needs
from assay.signals.inserts import insert_new
from assay.signals.sampling import check_rate, sampled
from assay.store.models import ReviewQueue, RoutingRule, RuleMatch

SAMPLER = "rule"
"""The sampling namespace of routing rules (see :func:`assay.signals.sampling.sampled`)."""

_RULE_KEYS = frozenset({"name", "queue", "conditions", "sample_rate", "enabled", "description"})


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


def _queue(session: Session, project_id: int, ref: str | int) -> ReviewQueue:
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


def _check_name(name: Any) -> str:
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
    name = _check_name(name)
    parsed = parse_conditions(conditions, where=f"rule {name!r} conditions")
    rate = check_rate(sample_rate, field=f"rule {name!r} sample_rate")
    target = _queue(session, project_id, queue)
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
    if name is not None and _check_name(name) != row.name:
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
        row.queue_id = _queue(session, project_id, queue).id
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


def _read_document(path: Path) -> Any:
    """A TOML, YAML or JSON file's content.

    Raises:
        ConfigError: The file cannot be read.
        InvalidInput: Unknown extension, not UTF-8, or does not parse.
    """
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml", ".json"):
        raise InvalidInput(
            f"{path}: unsupported rules file format {suffix!r}; use .toml, .yaml, .yml or .json"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read rules file: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: invalid TOML: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: invalid YAML: {exc}") from exc


@dataclass(frozen=True)
class RuleSpec:
    """One rule as a file gives it (checked, not yet stored)."""

    name: str
    queue: str | int
    conditions: list[Condition]
    sample_rate: float
    enabled: bool
    description: str


def parse_rules(data: Any, *, source: str = "rules") -> list[RuleSpec]:
    """Rules from parsed file content: a list of rule objects, or ``{"rules": [...]}``.

    Raises:
        InvalidInput: The content is not a list of rules, or a rule is malformed; the
            message names the rule (by position and name) and the field.
    """
    if isinstance(data, Mapping) and set(data) == {"rules"}:
        data = data["rules"]
    if not isinstance(data, list):
        raise InvalidInput(f"{source}: expected a list of rules (or a 'rules' list)")
    specs: list[RuleSpec] = []
    names: set[str] = set()
    for index, item in enumerate(data):
        where = f"{source}: rule {index + 1}"
        if not isinstance(item, Mapping):
            raise InvalidInput(f"{where}: expected an object; got {type(item).__name__}")
        unknown = set(item) - _RULE_KEYS
        if unknown:
            raise InvalidInput(
                f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}; "
                f"known: {', '.join(sorted(_RULE_KEYS))}"
            )
        for key in ("name", "queue"):
            if key not in item:
                raise InvalidInput(f"{where}: {key!r} is missing")
        try:
            name = _check_name(item["name"])
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        where = f"{source}: rule {name!r}"
        if name in names:
            raise InvalidInput(f"{where}: the name is given twice")
        names.add(name)
        queue = item["queue"]
        if isinstance(queue, bool) or not isinstance(queue, str | int):
            raise InvalidInput(f"{where}: 'queue' must be a queue name or id")
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            raise InvalidInput(f"{where}: 'enabled' must be true or false")
        description = item.get("description", "")
        if not isinstance(description, str):
            raise InvalidInput(f"{where}: 'description' must be text")
        specs.append(
            RuleSpec(
                name=name,
                queue=queue,
                conditions=parse_conditions(item.get("conditions"), where=f"{where} conditions"),
                sample_rate=check_rate(item.get("sample_rate", 1.0), field=f"{where} sample_rate"),
                enabled=enabled,
                description=description,
            )
        )
    return specs


def load_rules_file(session: Session, project_id: int, path: str | Path) -> list[RuleView]:
    """Create or update a project's rules from a file; rules not in the file stay.

    A rule is matched by name: an existing one takes the file's queue, conditions,
    rate, state and description. Every rule is checked before any is written.

    Args:
        session: The caller's session (the caller commits).
        project_id: The project.
        path: A ``.toml``, ``.yaml``/``.yml`` or ``.json`` file.

    Returns:
        The file's rules as stored, in file order.

    Raises:
        ConfigError: The file cannot be read.
        InvalidInput: It does not parse, or a rule is malformed.
        NotFound: A rule names a queue the project does not have.
    """
    file = Path(path)
    specs = parse_rules(_read_document(file), source=str(file))
    for spec in specs:
        try:
            _queue(session, project_id, spec.queue)
        except NotFound as exc:
            raise NotFound(f"{file}: rule {spec.name!r}: {exc}") from None
    views: list[RuleView] = []
    for spec in specs:
        existing = session.scalar(
            select(RoutingRule.id).where(
                RoutingRule.project_id == project_id, RoutingRule.name == spec.name
            )
        )
        conditions = [c.to_dict() for c in spec.conditions]
        if existing is None:
            views.append(
                create_rule(
                    session,
                    project_id,
                    spec.name,
                    spec.queue,
                    conditions=conditions,
                    sample_rate=spec.sample_rate,
                    enabled=spec.enabled,
                    description=spec.description,
                )
            )
        else:
            views.append(
                update_rule(
                    session,
                    project_id,
                    existing,
                    queue=spec.queue,
                    conditions=conditions,
                    sample_rate=spec.sample_rate,
                    enabled=spec.enabled,
                    description=spec.description,
                )
            )
    return views


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
    rules = list_rules(session, project_id, enabled=True)
    if not rules or not trace_ids:
        return RouteReport()
    tables: set[str] = set()
    for rule in rules:
        tables |= needs(rule.conditions)
    facts = load_facts(session, project_id, trace_ids, tables=tables)
    if not facts:
        return RouteReport()
    table: Table = RuleMatch.__table__  # type: ignore[assignment]
    matched = enqueued = 0
    for rule in rules:
        hits = [fact for tid, fact in sorted(facts.items()) if fact.check(rule.conditions)]
        new = 0
        for fact in hits:
            row = {"rule_id": rule.id, "trace_id": fact.trace_id, "enqueued": 0}
            if not insert_new(session, table, [row], unique=["rule_id", "trace_id"]):
                continue
            new += 1
            if not sampled(SAMPLER, rule.id, fact.trace_id, rule.sample_rate):
                continue
            reason = _reason(rule, rule.conditions, fact.explain(rule.conditions))
            if enqueue(
                session,
                project_id,
                rule.queue_id,
                fact.trace_id,
                source="rule",
                rule_id=rule.id,
                reason=reason,
            ):
                enqueued += 1
                session.execute(
                    update(RuleMatch)
                    .where(RuleMatch.rule_id == rule.id, RuleMatch.trace_id == fact.trace_id)
                    .values(enqueued=1)
                )
        if new:
            session.execute(
                update(RoutingRule)
                .where(RoutingRule.id == rule.id)
                .values(matches=RoutingRule.matches + new)
            )
            matched += new
    return RouteReport(matched=matched, enqueued=enqueued)


@dataclass(frozen=True)
class DayCount:
    """Matches on one UTC day."""

    day: date
    matches: int


@dataclass(frozen=True)
class RuleHits:
    """How much a rule routes.

    Attributes:
        rule_id: The rule.
        name: Its name.
        queue: Its queue's name.
        enabled: Whether it routes.
        matches: Traces it matched, all time.
        enqueued: Of those, traces it put in its queue.
        last_match_at: When it last matched, if ever.
        per_day: Matches per UTC day over the last ``days`` days, oldest first
            (days without matches included, as 0).
    """

    rule_id: int
    name: str
    queue: str
    enabled: bool
    matches: int
    enqueued: int
    last_match_at: datetime | None
    per_day: list[DayCount]


def rule_hits(
    session: Session, project_id: int, *, days: int = 14, now: datetime | None = None
) -> list[RuleHits]:
    """Per rule: matches, enqueued traces, the last match and matches per day.

    Args:
        session: The session to read with.
        project_id: The project.
        days: How many days (today included) ``per_day`` covers, 1-366.
        now: The current time (for tests).

    Raises:
        InvalidInput: ``days`` out of range.
    """
    if not 1 <= days <= 366:
        raise InvalidInput(f"days: must be between 1 and 366; got {days}")
    rules = list_rules(session, project_id)
    if not rules:
        return []
    ids = [rule.id for rule in rules]
    totals = {
        rule_id: (int(enqueued or 0), last)
        for rule_id, enqueued, last in session.execute(
            select(RuleMatch.rule_id, func.sum(RuleMatch.enqueued), func.max(RuleMatch.matched_at))
            .where(RuleMatch.rule_id.in_(ids))
            .group_by(RuleMatch.rule_id)
        )
    }
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    # Bucketed in Python: the day of a timestamp is spelled differently on each dialect,
    # and a rule's matches over a few weeks are few enough to read.
    buckets: dict[tuple[int, date], int] = {}
    for rule_id, at in session.execute(
        select(RuleMatch.rule_id, RuleMatch.matched_at).where(
            RuleMatch.rule_id.in_(ids), RuleMatch.matched_at >= start
        )
    ):
        day = _utc(at).date()
        buckets[(rule_id, day)] = buckets.get((rule_id, day), 0) + 1
    out = []
    for rule in rules:
        enqueued, last = totals.get(rule.id, (0, None))
        out.append(
            RuleHits(
                rule_id=rule.id,
                name=rule.name,
                queue=rule.queue,
                enabled=rule.enabled,
                matches=rule.matches,
                enqueued=enqueued,
                last_match_at=_utc(last) if last is not None else None,
                per_day=[
                    DayCount(
                        first + timedelta(days=i),
                        buckets.get((rule.id, first + timedelta(days=i)), 0),
                    )
                    for i in range(days)
                ],
            )
        )
    return out


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
