"""Adjudication: only adjudicators and admins, with a reason, on items with labels."""

from __future__ import annotations

import pytest

from assay.errors import Conflict, Forbidden, InvalidInput, NotFound
from assay.review import (
    adjudicate,
    disputed_items,
    get_item,
    item_labels,
    mark_gold,
    unmark_gold,
    update_queue,
)

from .conftest import BAD, FIELDS, GOOD, Review, later


def test_disputed_items_are_settled_by_an_adjudicator_with_a_reason(review: Review) -> None:
    review.label("ann", GOOD)
    disputed = review.label("bo", BAD)
    item_id = disputed.item_id
    store = review.store
    with store.session() as session:
        (listed,) = disputed_items(session, review.queue)
        labels = item_labels(session, item_id)
    assert listed.id == item_id
    assert [(a.annotator, a.values["verdict"]) for a in labels.annotations] == [
        ("ann", "good"), ("bo", "bad"),
    ]  # fmt: skip
    assert labels.context is not None
    assert labels.context.input == "Question 0?"
    judge, annotator = review.user("judge", "adjudicator"), review.user("cy")
    with store.write_session() as session:
        with pytest.raises(Forbidden, match="user 'cy' is an annotator: only adjudicators"):
            adjudicate(session, review.queue, annotator, item_id, BAD, "I know")
        with pytest.raises(InvalidInput, match="reason: say why"):
            adjudicate(session, review.queue, judge, item_id, BAD, " ")
        with pytest.raises(InvalidInput, match="field 'verdict': is required"):
            adjudicate(session, review.queue, judge, item_id, {}, "empty")
        item = adjudicate(
            session, review.queue, judge, item_id, BAD, " KB says 5 days ", now=later(60)
        )
    assert (item.status, item.resolution, item.resolved_by) == ("resolved", "adjudicated", "judge")
    assert (item.resolution_reason, item.resolved_at) == ("KB says 5 days", later(60))
    assert item.label is not None
    assert item.label["fix"] == "Refunds take 5 days."
    with store.write_session() as session, pytest.raises(Conflict, match="resolved already"):
        adjudicate(session, review.queue, judge, item_id, GOOD, "changed my mind")


def test_the_schema_that_decides_is_the_queues_as_it_is_now(review: Review) -> None:
    # The caller's view of the queue may predate a change of its fields: like a
    # submitted label, an adjudicated or gold label is checked against the schema
    # as stored when it is written.
    stale = review.queue
    with review.store.write_session() as session:
        update_queue(session, stale, fields=[*FIELDS, {"name": "ok", "type": "boolean"}])
    review.label("ann", {**GOOD, "ok": True})
    item_id = review.label("bo", {**BAD, "ok": False}).item_id
    judge = review.user("judge", "adjudicator")
    with review.store.write_session() as session:
        with pytest.raises(InvalidInput, match="field 'ok': is required"):
            adjudicate(session, stale, judge, item_id, BAD, "bad")
        item = adjudicate(session, stale, judge, item_id, {**BAD, "ok": False}, "bad")
        assert item.label is not None
        assert item.label["ok"] is False
        with pytest.raises(InvalidInput, match="field 'ok': is required"):
            mark_gold(session, stale, item_id, GOOD)
        assert mark_gold(session, stale, item_id, {**GOOD, "ok": True}).gold is not None


def test_open_items_need_a_label_and_admins_may_adjudicate(review: Review) -> None:
    started = review.label("ann", GOOD)
    admin = review.user("root", "admin")
    with review.store.write_session() as session:
        with pytest.raises(Conflict, match="has no label yet"):
            adjudicate(session, review.queue, admin, review.items[1], GOOD, "obvious")
        item = adjudicate(session, review.queue, admin, started.item_id, GOOD, "enough")
        with pytest.raises(NotFound, match="no item 404"):
            adjudicate(session, review.queue, admin, 404, GOOD, "no such")
    assert (item.status, item.resolved_by) == ("resolved", "root")
    # The annotator holding the other slot finds the item settled.
    claim = review.claim("bo")
    assert claim is not None
    assert claim.item_id == review.items[1]


def test_gold_can_be_unmarked(review: Review) -> None:
    first = review.label("ann", GOOD)
    review.label("bo", GOOD)
    with review.store.write_session() as session:
        assert mark_gold(session, review.queue, first.item_id).gold is not None
        assert unmark_gold(session, review.queue, first.item_id).gold is None
        assert not get_item(session, review.queue, first.item_id).is_gold
