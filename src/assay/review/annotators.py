"""How each annotator of a queue works: volume, pace, gold accuracy, agreement with
the final labels."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.review.decision import load_label, matches
from assay.review.items import usernames
from assay.review.queues import QueueView
from assay.store.models import Annotation, Assignment, QueueItem


@dataclass(frozen=True, slots=True)
class AnnotatorStats:
    """One annotator in one queue.

    Attributes:
        user_id: The annotator's user id.
        annotator: Their username.
        annotations: Labels given on ordinary (not gold) items.
        skips: Items skipped.
        median_seconds: Median time per label, over labels whose time was measured
            (gold ones included); None when none was.
        items_per_hour: Labels per hour of measured labelling time.
        gold_seen: Labels given on gold items.
        gold_accuracy: Share of those equal to the gold label on every decisive field
            (items no longer gold are left out); None without any.
        resolved: Their labels on items resolved since.
        agreement_with_final: Share of those equal to the item's final label on every
            decisive field; None without any.
    """

    user_id: int
    annotator: str
    annotations: int
    skips: int
    median_seconds: float | None
    items_per_hour: float | None
    gold_seen: int
    gold_accuracy: float | None
    resolved: int
    agreement_with_final: float | None


def annotator_stats(session: Session, queue: QueueView) -> list[AnnotatorStats]:
    """Every annotator who labelled or skipped items of the queue, by username."""
    schema = queue.schema
    rows = session.execute(
        select(
            Annotation.user_id,
            Annotation.values,
            Annotation.gold,
            Annotation.seconds,
            QueueItem.status,
            QueueItem.label,
            QueueItem.gold,
        )
        .join(QueueItem, QueueItem.id == Annotation.item_id)
        .where(Annotation.queue_id == queue.id)
    ).all()
    skips = dict(
        session.execute(
            select(Assignment.user_id, func.count())
            .join(QueueItem, QueueItem.id == Assignment.item_id)
            .where(QueueItem.queue_id == queue.id, Assignment.status == "skipped")
            .group_by(Assignment.user_id)
        ).all()
    )
    ordinary: dict[int, int] = defaultdict(int)
    seconds: dict[int, list[float]] = defaultdict(list)
    gold_seen: dict[int, int] = defaultdict(int)
    gold_checks: dict[int, list[bool]] = defaultdict(list)
    final_checks: dict[int, list[bool]] = defaultdict(list)
    for user_id, text, is_gold, spent, status, label, gold in rows:
        values = json.loads(text)
        if spent is not None:
            seconds[user_id].append(float(spent))
        if is_gold:
            gold_seen[user_id] += 1
            if gold is not None:
                gold_checks[user_id].append(matches(schema, values, load_label(gold) or {}))
            continue
        ordinary[user_id] += 1
        if status == "resolved" and label is not None:
            final_checks[user_id].append(matches(schema, values, load_label(label) or {}))
    users = set(ordinary) | set(gold_seen) | set(skips)
    names = usernames(session, users)
    out = [
        AnnotatorStats(
            user_id=user_id,
            annotator=names.get(user_id, str(user_id)),
            annotations=ordinary.get(user_id, 0),
            skips=int(skips.get(user_id, 0)),
            median_seconds=statistics.median(seconds[user_id]) if seconds[user_id] else None,
            items_per_hour=_per_hour(seconds[user_id]),
            gold_seen=gold_seen.get(user_id, 0),
            gold_accuracy=_share(gold_checks[user_id]),
            resolved=len(final_checks[user_id]),
            agreement_with_final=_share(final_checks[user_id]),
        )
        for user_id in users
    ]
    return sorted(out, key=lambda s: s.annotator)


def _share(checks: list[bool]) -> float | None:
    return sum(checks) / len(checks) if checks else None


def _per_hour(seconds: list[float]) -> float | None:
    total = sum(seconds)
    return len(seconds) * 3600.0 / total if total > 0 else None
