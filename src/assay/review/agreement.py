"""How far a queue's annotators agree, field by field and over time.

The coefficients come from :func:`assay.stats.agreement.agreement` (Krippendorff's
alpha, Fleiss' kappa, Cohen's kappa per annotator pair, each with a bootstrap
interval over items). Each decisive field is one set of (item, annotator, value)
labels at the field's level of measurement: nominal for categorical and boolean
fields, ordinal (or the field's ``level``) for ordinal ones, and nominal on the
sorted tuple of tags for tags fields. Gold annotations are left out: they measure
annotators against a known answer, not against each other. Annotators are named by
username.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import InvalidInput
from assay.review.items import usernames
from assay.review.queues import QueueView
from assay.review.schema import FieldType, LabelField, agreement_level
from assay.stats.agreement import (
    AGREEMENT_RESAMPLES,
    AgreementReport,
    Level,
    agreement,
    ratings_from_rows,
)
from assay.store.models import Annotation
from assay.traces.times import as_utc

if TYPE_CHECKING:
    from assay.stats.bootstrap import BootstrapInterval

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")
NOT_ENOUGH = "not enough data: no item has this field labelled by two annotators"


@dataclass(frozen=True, slots=True)
class FieldAgreement:
    """Agreement on one decisive field.

    Attributes:
        field: The field's name.
        type: Its type.
        level: The level of measurement used.
        report: Alpha, Fleiss' kappa and pairwise Cohen's kappa; None when no item
            has two labels (``note`` says so).
        floor: The queue's agreement floor.
        note: Why there is no report, if there is none.
    """

    field: str
    type: FieldType
    level: Level
    report: AgreementReport | None
    floor: float
    note: str | None = None

    @property
    def alpha(self) -> float | None:
        """Krippendorff's alpha, when defined."""
        return self.report.alpha.value if self.report is not None else None

    @property
    def below_floor(self) -> bool:
        """Whether alpha is defined and under the queue's floor."""
        return self.alpha is not None and self.alpha < self.floor


@dataclass(frozen=True, slots=True)
class QueueAgreement:
    """Agreement in a queue, one report per decisive field.

    Attributes:
        queue: The queue's name.
        items: Items with at least one (non-gold) label.
        annotations: Labels counted (gold annotations left out).
        annotators: Distinct annotators.
        floor: The queue's agreement floor.
        fields: One entry per decisive field, in schema order.
    """

    queue: str
    items: int
    annotations: int
    annotators: int
    floor: float
    fields: list[FieldAgreement]

    @property
    def below_floor(self) -> bool:
        """Whether any field's alpha is under the floor."""
        return any(f.below_floor for f in self.fields)


@dataclass(frozen=True, slots=True)
class PeriodAgreement:
    """Alpha on one field for the items first labelled in one period.

    Attributes:
        start: The period's first instant (UTC; weeks start on Monday).
        items: Items first labelled in the period.
        labels: Their labels on the field.
        alpha: Krippendorff's alpha; None when undefined (``note`` says why).
        ci: Its bootstrap interval over items.
        note: Why alpha or its interval is missing, if it is.
    """

    start: datetime
    items: int
    labels: int
    alpha: float | None
    ci: BootstrapInterval | None
    note: str | None


@dataclass(frozen=True, slots=True)
class _Label:
    item_id: int
    annotator: str
    values: dict[str, Any]
    created_at: datetime


def queue_agreement(
    session: Session, queue: QueueView, *, resamples: int = AGREEMENT_RESAMPLES, seed: int = 0
) -> QueueAgreement:
    """Agreement on each decisive field of a queue's (non-gold) labels.

    Args:
        session: The session to read with.
        queue: The queue.
        resamples: Bootstrap resamples per coefficient.
        seed: Seed of the draws; the same labels and seed give the same intervals.

    Raises:
        InvalidInput: ``resamples`` or ``seed`` out of range.
    """
    labels = _labels(session, queue)
    fields = [
        _field_agreement(labels, f, queue.agreement_floor, resamples, seed)
        for f in queue.schema.decisive_fields
    ]
    return QueueAgreement(
        queue=queue.name,
        items=len({label.item_id for label in labels}),
        annotations=len(labels),
        annotators=len({label.annotator for label in labels}),
        floor=queue.agreement_floor,
        fields=fields,
    )


def field_rows(labels: Sequence[Any], field: LabelField) -> list[tuple[str, str, Any]]:
    """(item, annotator, value) rows of one field, as the agreement functions read
    them; tags become the sorted tuple of tags. ``labels`` are objects with
    ``item_id``, ``annotator`` and ``values`` (such as annotation views)."""
    return [
        (str(label.item_id), label.annotator, _value(label.values.get(field.name)))
        for label in labels
    ]


def agreement_over_time(
    session: Session,
    queue: QueueView,
    field: str,
    *,
    bucket: Bucket = "week",
    resamples: int = 200,
    seed: int = 0,
) -> list[PeriodAgreement]:
    """Alpha on one decisive field per period, oldest period first.

    Each item belongs to the period of its first label, with all its labels, so an
    item labelled across a period boundary still counts as a pair.

    Raises:
        InvalidInput: An unknown field, a field that does not decide agreement, or
            an unknown bucket.
    """
    if bucket not in BUCKETS:
        raise InvalidInput(f"bucket: must be one of {', '.join(BUCKETS)}; got {bucket!r}")
    f = queue.schema.field(field)
    level = agreement_level(f)
    if level is None:
        raise InvalidInput(f"field {field!r} is {f.type}: only decisive fields have agreement")
    by_item: dict[int, list[_Label]] = defaultdict(list)
    for label in _labels(session, queue):
        by_item[label.item_id].append(label)
    periods: dict[datetime, list[_Label]] = defaultdict(list)
    for item_labels in by_item.values():
        first = min(label.created_at for label in item_labels)
        periods[_period(first, bucket)].extend(item_labels)
    out: list[PeriodAgreement] = []
    for start in sorted(periods):
        labels = periods[start]
        rows = field_rows(labels, f)
        given = [row for row in rows if row[2] is not None]
        alpha = ci = None
        note: str | None = NOT_ENOUGH
        if _pairable(given):
            report = agreement(ratings_from_rows(rows, level), resamples=resamples, seed=seed)
            alpha, ci, note = report.alpha.value, report.alpha.ci, report.alpha.note
        out.append(
            PeriodAgreement(
                start=start,
                items=len({label.item_id for label in labels}),
                labels=len(given),
                alpha=alpha,
                ci=ci,
                note=note,
            )
        )
    return out


def _field_agreement(
    labels: Sequence[_Label], f: LabelField, floor: float, resamples: int, seed: int
) -> FieldAgreement:
    level = agreement_level(f)
    assert level is not None
    rows = field_rows(labels, f)
    if not _pairable([row for row in rows if row[2] is not None]):
        return FieldAgreement(f.name, f.type, level, None, floor, NOT_ENOUGH)
    report = agreement(ratings_from_rows(rows, level), floor=floor, resamples=resamples, seed=seed)
    return FieldAgreement(f.name, f.type, level, report, floor)


def _labels(session: Session, queue: QueueView) -> list[_Label]:
    rows = session.execute(
        select(Annotation.item_id, Annotation.user_id, Annotation.values, Annotation.created_at)
        .where(Annotation.queue_id == queue.id, Annotation.gold == 0)
        .order_by(Annotation.item_id, Annotation.id)
    ).all()
    names = usernames(session, {user_id for _, user_id, _, _ in rows})
    return [
        _Label(item_id, names[user_id], json.loads(values), as_utc(created_at))
        for item_id, user_id, values, created_at in rows
    ]


def _value(value: Any) -> Any:
    return tuple(sorted(value)) if isinstance(value, list) else value


def _pairable(rows: Sequence[tuple[str, str, Any]]) -> bool:
    counts: dict[str, int] = defaultdict(int)
    for item, _, _ in rows:
        counts[item] += 1
        if counts[item] >= 2:
            return True
    return False


def _period(moment: datetime, bucket: Bucket) -> datetime:
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)
