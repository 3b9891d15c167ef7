"""Submitting labels: unanimous and disputed decisions, re-submits, gold items."""

from __future__ import annotations

import pytest

from assay.errors import Conflict, InvalidInput
from assay.review import annotator_stats, get_item, item_labels, mark_gold, skip

from .conftest import BAD, GOOD, MakeReview, Review, later


def test_agreeing_labels_resolve_unanimously(review: Review) -> None:
    first = review.label("ann", {**BAD, "fix": "Refunds take 5 days. ", "note": "old KB"})
    assert (first.status, first.resolution, first.replaced) == ("open", None, False)
    # Same decisive values; an empty correction agrees with any.
    second = review.label("bo", {**BAD, "fix": None}, comment="  ", seconds=42)
    assert (second.status, second.resolution) == ("resolved", "unanimous")
    with review.store.session() as session:
        item = get_item(session, review.queue, first.item_id)
        labels = item_labels(session, first.item_id)
    assert item.label == {
        "verdict": "bad", "score": 1, "issues": ["wrong"], "fix": "Refunds take 5 days. ",
        "note": None,
    }  # fmt: skip
    assert item.resolved_at == later(0)
    assert [(a.annotator, a.comment, a.seconds) for a in labels.annotations] == [
        ("ann", None, None), ("bo", None, 42.0),
    ]  # fmt: skip
    with pytest.raises(Conflict, match="is resolved; its labels can no longer change"):
        review.submit("ann", first.item_id, GOOD)


@pytest.mark.parametrize(
    "other",
    [
        {**BAD, "score": 2},  # an ordinal differs
        {**BAD, "issues": ["wrong", "rude"]},  # tags differ
        {**BAD, "fix": "Refunds take 7 days."},  # two corrections differ
    ],
)
def test_any_decisive_difference_or_two_corrections_dispute(
    review: Review, other: dict[str, object]
) -> None:
    review.label("ann", BAD)
    result = review.label("bo", other)
    assert (result.status, result.resolution) == ("disputed", None)


def test_resubmit_replaces_while_open_but_never_settles_a_dispute(review: Review) -> None:
    first = review.label("ann", GOOD)
    replaced = review.submit("ann", first.item_id, {**GOOD, "score": 4}, comment="4", now=later(5))
    assert replaced.replaced
    assert replaced.annotation_id == first.annotation_id
    assert replaced.status == "open"
    disputed = review.label("bo", BAD)
    assert disputed.status == "disputed"
    # Seeing the dispute, ann must not settle it alone by switching sides.
    with pytest.raises(Conflict, match="is disputed: its labels stay as they are"):
        review.submit("ann", first.item_id, BAD, comment="misread it", now=later(9))
    with review.store.session() as session:
        labels = item_labels(session, first.item_id)
    mine = labels.annotations[0]
    assert labels.item.status == "disputed"
    assert (mine.values["verdict"], mine.comment, mine.updated_at) == ("good", "4", later(5))


def test_single_annotator_queue_resolves_on_one_label(make_review: MakeReview) -> None:
    review = make_review(traces=1, overlap=1)
    result = review.label("ann", BAD)
    assert (result.status, result.resolution) == ("resolved", "single")


def test_invalid_values_store_nothing(review: Review) -> None:
    claim = review.claim("ann")
    assert claim is not None
    with pytest.raises(InvalidInput, match="field 'verdict': 'meh' is not one of the options"):
        review.submit("ann", claim.item_id, {"verdict": "meh"})
    with pytest.raises(InvalidInput, match="seconds must be a non-negative number"):
        review.submit("ann", claim.item_id, GOOD, seconds=-1)
    assert review.refresh().annotations == 0
    assert review.claim("ann").resumed  # type: ignore[union-attr]


def test_gold_items_measure_annotators_and_never_change(make_review: MakeReview) -> None:
    review = make_review(traces=2, overlap=1, gold_rate=0.9)
    gold = review.label("ann", BAD)
    with review.store.write_session() as session:
        with pytest.raises(Conflict, match="is open: only resolved items can be gold"):
            mark_gold(session, review.queue, review.items[1])
        with pytest.raises(InvalidInput, match="field 'verdict'"):
            mark_gold(session, review.queue, gold.item_id, {"verdict": "maybe"})
        item = mark_gold(session, review.queue, gold.item_id, {**BAD, "fix": "Other words."})
    assert item.is_gold
    assert item.gold is not None
    assert item.gold["fix"] == "Other words."
    review.refresh()
    # Corrections are not decisive: a different one is still right.
    right = review.label("bo", {**BAD, "fix": "Anything."}, rng=_draw(0.0))
    wrong = review.label("cy", GOOD, rng=_draw(0.0))
    assert (right.gold, right.gold_correct, wrong.gold_correct) == (True, True, False)
    with review.store.session() as session:
        after = get_item(session, review.queue, gold.item_id)
        stats = {s.annotator: s for s in annotator_stats(session, review.queue)}
    assert (after.status, after.resolution, after.label) == ("resolved", "single", item.label)
    assert after.annotations == 1  # gold annotations are not the item's labels
    assert (stats["bo"].gold_seen, stats["bo"].gold_accuracy) == (1, 1.0)
    assert (stats["cy"].gold_seen, stats["cy"].gold_accuracy, stats["cy"].annotations) == (
        1, 0.0, 0,
    )  # fmt: skip
    # A second label on a gold item is refused as on any resolved item: no "gold".
    with pytest.raises(Conflict) as refused:
        review.submit("cy", gold.item_id, BAD)
    with pytest.raises(Conflict) as ordinary:
        review.submit("ann", gold.item_id, GOOD)
    assert str(refused.value) == str(ordinary.value)
    assert "gold" not in str(refused.value)


def test_a_skipped_or_expired_gold_claim_takes_no_label(make_review: MakeReview) -> None:
    review = make_review(traces=3, overlap=1, gold_rate=0.9, claim_seconds=60)
    first = review.label("ann", BAD)
    with review.store.write_session() as session:
        mark_gold(session, review.queue, first.item_id)
    review.refresh()
    skipped = review.claim("bo", rng=_draw(0.0))
    expired = review.claim("cy", rng=_draw(0.0))
    assert skipped is not None
    assert expired is not None
    assert (skipped.gold, expired.gold) == (True, True)
    with review.store.write_session() as session:
        skip(session, review.queue, review.user("bo"), first.item_id, "unsure")
    with pytest.raises(Conflict, match="you skipped item"):
        review.submit("bo", first.item_id, BAD)
    with pytest.raises(Conflict, match="is resolved already; your label is not needed"):
        review.submit("cy", first.item_id, BAD, now=later(61))
    with review.store.session() as session:
        stats = {s.annotator: s for s in annotator_stats(session, review.queue)}
        assert item_labels(session, first.item_id).annotations[0].annotator == "ann"
    assert (stats["bo"].gold_seen, stats["bo"].gold_accuracy) == (0, None)
    assert "cy" not in stats  # no label, no skip


class _draw:  # noqa: N801 - reads as a function in the tests
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value
