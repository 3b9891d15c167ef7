"""How much each routing rule routes: matches, enqueued traces, the last match, and
matches per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.errors import InvalidInput
from assay.signals.rules import list_rules
from assay.store.dialects import utc_day
from assay.store.models import RuleMatch


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
    # Counted by the database: a catch-all rule matches every trace, so its rows over
    # a few weeks may be millions.
    day = utc_day(session.get_bind().dialect.name, RuleMatch.matched_at)
    buckets: dict[tuple[int, date], int] = {
        (rule_id, date.fromisoformat(text)): int(count)
        for rule_id, text, count in session.execute(
            select(RuleMatch.rule_id, day, func.count())
            .where(RuleMatch.rule_id.in_(ids), RuleMatch.matched_at >= start)
            .group_by(RuleMatch.rule_id, day)
        )
    }
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
