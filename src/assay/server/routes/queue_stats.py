"""REST API: how far a queue's annotators agree, and how each of them works (under
/api/v1, project key).

Agreement is computed per decisive field by :func:`assay.review.queue_agreement`
(Krippendorff's alpha, Fleiss' kappa and pairwise Cohen's kappa, each with a
bootstrap interval over items); gold annotations are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from assay.review import (
    AnnotatorStats,
    Bucket,
    FieldAgreement,
    PeriodAgreement,
    agreement_over_time,
    annotator_stats,
    get_queue,
    queue_agreement,
)
from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state
from assay.stats.agreement import AGREEMENT_RESAMPLES, Estimate, PairAgreement

if TYPE_CHECKING:
    from assay.stats.bootstrap import BootstrapInterval

router = APIRouter(
    prefix="/api/v1",
    tags=["queues"],
    responses={
        400: {"description": "A malformed parameter; the message names it."},
        401: {"description": "Missing, unknown or revoked project API key."},
        404: {"description": "The key's project has no such queue."},
    },
)
State = Annotated[ServerState, Depends(get_state)]

# Bootstrap resamples one request may ask for: 10,000 keeps a queue of a few thousand
# labelled items under a few seconds per field.
_MAX_RESAMPLES = 10_000


class IntervalOut(BaseModel):
    """A percentile bootstrap confidence interval over items."""

    low: float = Field(description="Lower endpoint.")
    high: float = Field(description="Upper endpoint.")
    confidence: float = Field(description="Coverage aimed at, e.g. 0.95.")
    resamples: int = Field(description="Bootstrap resamples drawn.")
    seed: int = Field(description="Seed of the draws; the same seed gives the same interval.")


class EstimateOut(BaseModel):
    """One agreement coefficient with its interval."""

    value: float | None = Field(description="The coefficient; null when undefined.")
    ci: IntervalOut | None = Field(description="Its bootstrap interval; null when undefined.")
    items: int = Field(description="Items it was computed on.")
    note: str | None = Field(description="Why the value or interval is missing or rough.")


class PairOut(BaseModel):
    """Cohen's kappa of two annotators on the items both labelled."""

    first: str = Field(description="One annotator's username.")
    second: str = Field(description="The other's.")
    items: int = Field(description="Items both labelled.")
    observed: float | None = Field(description="Share of those they labelled alike.")
    kappa: EstimateOut = Field(description="Cohen's kappa (linearly weighted for ordinal).")


class FieldAgreementOut(BaseModel):
    """Agreement on one decisive field."""

    field: str = Field(description="The field's name.")
    type: str = Field(description="Its type.")
    level: str = Field(description="Level of measurement: nominal, ordinal or interval.")
    items: int = Field(description="Items with a label on the field.")
    pairable: int = Field(description="Items with two or more labels (the ones that count).")
    labels: int = Field(description="Labels given on the field.")
    observed: float | None = Field(description="Share of agreeing pairs of labels.")
    alpha: EstimateOut | None = Field(description="Krippendorff's alpha; null without pairs.")
    fleiss: EstimateOut | None = Field(description="Fleiss' kappa; null for interval fields.")
    pairs: list[PairOut] = Field(description="Cohen's kappa per pair of annotators.")
    below_floor: bool = Field(description="Whether alpha is under the queue's floor.")
    warnings: list[str] = Field(description="Plain sentences: alpha under the floor, few items.")
    note: str | None = Field(description="Why there are no coefficients, if there are none.")


class AgreementOut(BaseModel):
    """Agreement in a queue, one entry per decisive field."""

    queue: str = Field(description="The queue's name.")
    items: int = Field(description="Items with at least one (non-gold) label.")
    annotations: int = Field(description="Labels counted (gold annotations left out).")
    annotators: int = Field(description="Distinct annotators.")
    floor: float = Field(description="The queue's agreement floor.")
    below_floor: bool = Field(description="Whether any field's alpha is under the floor.")
    fields: list[FieldAgreementOut] = Field(description="Decisive fields, in schema order.")


class PeriodOut(BaseModel):
    """Alpha on one field for the items first labelled in one period."""

    start: datetime = Field(description="The period's first instant (UTC; weeks start Monday).")
    items: int = Field(description="Items first labelled in the period.")
    labels: int = Field(description="Their labels on the field.")
    alpha: float | None = Field(description="Krippendorff's alpha; null when undefined.")
    ci: IntervalOut | None = Field(description="Its bootstrap interval.")
    note: str | None = Field(description="Why alpha or its interval is missing.")


class AgreementOverTimeOut(BaseModel):
    """Alpha on one field per period, oldest first."""

    field: str = Field(description="The field.")
    bucket: Bucket = Field(description="day, week or month.")
    periods: list[PeriodOut] = Field(description="Periods with labels, oldest first.")


class AnnotatorOut(BaseModel):
    """One annotator in one queue."""

    annotator: str = Field(description="Their username.")
    annotations: int = Field(description="Labels given on ordinary (not gold) items.")
    skips: int = Field(description="Items skipped.")
    median_seconds: float | None = Field(description="Median measured time per label.")
    items_per_hour: float | None = Field(description="Labels per hour of measured time.")
    gold_seen: int = Field(description="Labels given on gold items.")
    gold_accuracy: float | None = Field(description="Share of those equal to the gold label.")
    resolved: int = Field(description="Their labels on items resolved since.")
    agreement_with_final: float | None = Field(
        description="Share of those equal to the item's final label."
    )


def _interval(ci: BootstrapInterval | None) -> IntervalOut | None:
    if ci is None:
        return None
    return IntervalOut(
        low=ci.low, high=ci.high, confidence=ci.confidence, resamples=ci.resamples, seed=ci.seed
    )


def _estimate(e: Estimate | None) -> EstimateOut | None:
    if e is None:
        return None
    return EstimateOut(value=e.value, ci=_interval(e.ci), items=e.items, note=e.note)


def _pair(p: PairAgreement) -> PairOut:
    kappa = _estimate(p.kappa)
    assert kappa is not None
    return PairOut(first=p.first, second=p.second, items=p.items, observed=p.observed, kappa=kappa)


def _field(f: FieldAgreement) -> FieldAgreementOut:
    r = f.report
    return FieldAgreementOut(
        field=f.field,
        type=f.type,
        level=f.level,
        items=r.items if r else 0,
        pairable=r.pairable if r else 0,
        labels=r.labels if r else 0,
        observed=r.observed if r else None,
        alpha=_estimate(r.alpha) if r else None,
        fleiss=_estimate(r.fleiss) if r else None,
        pairs=[_pair(p) for p in r.pairs] if r else [],
        below_floor=f.below_floor,
        warnings=list(r.warnings) if r else [],
        note=f.note,
    )


def _period(p: PeriodAgreement) -> PeriodOut:
    return PeriodOut(
        start=p.start,
        items=p.items,
        labels=p.labels,
        alpha=p.alpha,
        ci=_interval(p.ci),
        note=p.note,
    )


def _annotator(s: AnnotatorStats) -> AnnotatorOut:
    return AnnotatorOut(
        annotator=s.annotator,
        annotations=s.annotations,
        skips=s.skips,
        median_seconds=s.median_seconds,
        items_per_hour=s.items_per_hour,
        gold_seen=s.gold_seen,
        gold_accuracy=s.gold_accuracy,
        resolved=s.resolved,
        agreement_with_final=s.agreement_with_final,
    )


Resamples = Annotated[
    int, Query(ge=1, le=_MAX_RESAMPLES, description="Bootstrap resamples per coefficient.")
]
Seed = Annotated[int, Query(ge=0, description="Seed of the draws; same seed, same intervals.")]


@router.get("/queues/{queue}/agreement", response_model=AgreementOut, summary="Queue agreement")
def agreement(
    queue: str,
    project: ApiProject,
    state: State,
    resamples: Resamples = AGREEMENT_RESAMPLES,
    seed: Seed = 0,
) -> AgreementOut:
    """Krippendorff's alpha, Fleiss' kappa and pairwise Cohen's kappa on each decisive
    field, with bootstrap intervals over items; `below_floor` flags alpha under the
    queue's floor. Gold annotations are left out."""
    with state.store.session() as session:
        view = get_queue(session, project.project_id, queue)
        report = queue_agreement(session, view, resamples=resamples, seed=seed)
    return AgreementOut(
        queue=report.queue,
        items=report.items,
        annotations=report.annotations,
        annotators=report.annotators,
        floor=report.floor,
        below_floor=report.below_floor,
        fields=[_field(f) for f in report.fields],
    )


@router.get(
    "/queues/{queue}/agreement/over-time",
    response_model=AgreementOverTimeOut,
    summary="Queue agreement over time",
)
def agreement_trend(
    queue: str,
    project: ApiProject,
    state: State,
    field: Annotated[str, Query(description="A decisive field of the queue's schema.")],
    bucket: Annotated[Bucket, Query(description="day, week or month.")] = "week",
    resamples: Annotated[
        int, Query(ge=1, le=_MAX_RESAMPLES, description="Bootstrap resamples per period.")
    ] = 200,
    seed: Seed = 0,
) -> AgreementOverTimeOut:
    """Alpha on one field per period; an item counts in the period of its first label,
    with all its labels."""
    with state.store.session() as session:
        view = get_queue(session, project.project_id, queue)
        periods = agreement_over_time(
            session, view, field, bucket=bucket, resamples=resamples, seed=seed
        )
    return AgreementOverTimeOut(field=field, bucket=bucket, periods=[_period(p) for p in periods])


@router.get(
    "/queues/{queue}/annotators", response_model=list[AnnotatorOut], summary="Queue annotators"
)
def annotators(queue: str, project: ApiProject, state: State) -> list[AnnotatorOut]:
    """Every annotator who labelled or skipped items of the queue, by username: volume,
    pace, gold accuracy and agreement with the final labels."""
    with state.store.session() as session:
        view = get_queue(session, project.project_id, queue)
        return [_annotator(s) for s in annotator_stats(session, view)]
