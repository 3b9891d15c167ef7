"""Agreement on a queue is :func:`assay.stats.agreement` on the queue's labels."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from assay.errors import InvalidInput
from assay.review import (
    agreement_over_time,
    annotator_stats,
    mark_gold,
    queue_agreement,
    update_queue,
)
from assay.stats import agreement, ratings_from_rows

from .conftest import NOW, Review

# Two annotators on four items: the verdicts agree everywhere, scores and tags not.
ANN = [
    {"verdict": "good", "score": 5},
    {"verdict": "bad", "score": 1, "issues": ["wrong"]},
    {"verdict": "good", "score": 4},
    {"verdict": "bad", "score": 2, "issues": ["wrong", "rude"]},
]
BO = [
    {"verdict": "good", "score": 4},
    {"verdict": "bad", "score": 1, "issues": ["wrong"]},
    {"verdict": "good", "score": 4},
    {"verdict": "bad", "score": 1, "issues": ["rude"]},
]
WEEK = timedelta(days=7)


@pytest.fixture
def labelled(review: Review) -> Review:
    """ann and bo label the four items; items 2 and 3 a week after items 0 and 1."""
    for n, (a, b) in enumerate(zip(ANN, BO, strict=True)):
        when = NOW + (WEEK if n >= 2 else timedelta(0)) + timedelta(minutes=n)
        review.label("ann", a, now=when, seconds=30 + n)
        review.label("bo", b, now=when, seconds=60)
    return review


def test_queue_agreement_is_the_stats_function_on_the_same_rows(labelled: Review) -> None:
    review = labelled
    # A gold annotation is left out of agreement.
    with review.store.write_session() as session:
        mark_gold(session, review.queue, review.items[1])
        review.queue = update_queue(session, review.queue, gold_rate=0.5)
    review.label("cy", {"verdict": "good"}, rng=_Always())
    with review.store.session() as session:
        result = queue_agreement(session, review.queue, resamples=200, seed=7)
    assert (result.items, result.annotations, result.annotators) == (4, 8, 2)
    verdict, score, issues = result.fields
    assert (verdict.field, verdict.level, score.level, issues.level) == (
        "verdict", "nominal", "ordinal", "nominal",
    )  # fmt: skip
    assert verdict.alpha == 1.0  # two annotators agreeing on every item
    assert not verdict.below_floor
    items = [str(i) for i in review.items]
    expected_rows: dict[str, list[tuple[str, str, Any]]] = {
        "score": [], "issues": [],
    }  # fmt: skip
    for item, a, b in zip(items, ANN, BO, strict=True):
        for who, values in (("ann", a), ("bo", b)):
            expected_rows["score"].append((item, who, values["score"]))
            expected_rows["issues"].append((item, who, tuple(sorted(values.get("issues", [])))))
    for report, level in ((score, "ordinal"), (issues, "nominal")):
        expected = agreement(
            ratings_from_rows(expected_rows[report.field], level),  # type: ignore[arg-type]
            floor=0.667,
            resamples=200,
            seed=7,
        )
        assert report.report == expected
    assert issues.alpha is not None
    assert issues.alpha < 0.667
    assert issues.below_floor
    assert result.below_floor
    assert [(p.first, p.second) for p in issues.report.pairs] == [("ann", "bo")]  # type: ignore[union-attr]


def test_not_enough_data_is_said_not_raised(review: Review) -> None:
    with review.store.session() as session:
        empty = queue_agreement(session, review.queue)
    assert empty.annotations == 0
    assert all(f.report is None and f.note and "not enough data" in f.note for f in empty.fields)
    review.label("ann", ANN[0])
    with review.store.session() as session:
        one = queue_agreement(session, review.queue)
        assert one.annotations == 1
        assert not one.below_floor
        assert all(f.report is None for f in one.fields)
        assert agreement_over_time(session, review.queue, "verdict")[0].alpha is None


def test_agreement_over_time_per_week(labelled: Review) -> None:
    review = labelled
    with review.store.session() as session:
        weeks = agreement_over_time(session, review.queue, "score", resamples=50)
        days = agreement_over_time(session, review.queue, "verdict", bucket="day")
        with pytest.raises(InvalidInput, match="field 'fix' is correction"):
            agreement_over_time(session, review.queue, "fix")
        with pytest.raises(InvalidInput, match="unknown field 'nope'"):
            agreement_over_time(session, review.queue, "nope")
        with pytest.raises(InvalidInput, match="bucket: must be one of day, week, month"):
            agreement_over_time(session, review.queue, "score", bucket="year")  # type: ignore[arg-type]
    monday = NOW.replace(hour=0)  # 2026-01-05 is a Monday
    assert [(w.start, w.items, w.labels) for w in weeks] == [
        (monday, 2, 4), (monday + WEEK, 2, 4),
    ]  # fmt: skip
    first_week = [
        (str(item), who, values["score"])
        for item, a, b in zip(review.items[:2], ANN[:2], BO[:2], strict=True)
        for who, values in (("ann", a), ("bo", b))
    ]
    expected = agreement(ratings_from_rows(first_week, "ordinal"), resamples=50)
    assert weeks[0].alpha == expected.alpha.value
    assert [d.alpha for d in days] == [1.0, 1.0]


def test_annotator_stats(labelled: Review) -> None:
    review = labelled
    with review.store.session() as session:
        stats = {s.annotator: s for s in annotator_stats(session, review.queue)}
    ann = stats["ann"]
    assert (ann.annotations, ann.skips, ann.gold_seen, ann.gold_accuracy) == (4, 0, 0, None)
    assert ann.median_seconds == 31.5
    assert ann.items_per_hour == pytest.approx(4 * 3600 / (30 + 31 + 32 + 33))
    # Items 1 and 2 resolved unanimously, so both match the final label there.
    assert (ann.resolved, ann.agreement_with_final) == (2, 1.0)
    assert stats["bo"].items_per_hour == 60.0


class _Always:
    def random(self) -> float:
        return 0.0
