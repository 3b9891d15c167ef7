"""Queues: create, look up, update; items: enqueue by filter, list, get."""

from __future__ import annotations

import pytest

from assay.errors import Conflict, InvalidInput, NotFound
from assay.review import (
    create_queue,
    enqueue,
    enqueue_filtered,
    get_item,
    get_queue,
    list_items,
    list_queues,
    update_queue,
)
from assay.store import Store
from assay.traces import TraceFilter

from .conftest import BAD, FIELDS, GOOD, MakeReview, Review, add_trace


def test_create_get_list_and_counts(review: Review) -> None:
    queue = review.queue
    assert (queue.name, queue.overlap, queue.claim_seconds, queue.gold_rate) == (
        "answers", 2, 1800, 0.0,
    )  # fmt: skip
    assert (queue.open, queue.disputed, queue.resolved, queue.items) == (4, 0, 0, 4)
    review.label("ann", GOOD)
    review.label("bo", BAD)  # the same first item: disputed
    queue = review.refresh()
    assert (queue.open, queue.disputed, queue.annotations) == (3, 1, 2)
    store = review.store
    with store.write_session() as session:
        create_queue(session, review.project_id, {"name": "a-first", "fields": FIELDS})
        with pytest.raises(Conflict, match="queue 'answers' already exists"):
            create_queue(session, review.project_id, {"name": "answers", "fields": FIELDS})
        with pytest.raises(NotFound, match="project 999 does not exist"):
            create_queue(session, 999, {"name": "x", "fields": FIELDS})
    with store.session() as session:
        assert [q.name for q in list_queues(session, review.project_id)] == ["a-first", "answers"]
        with pytest.raises(NotFound, match="no review queue named 'nope'"):
            get_queue(session, review.project_id, "nope")


def test_update_settings_and_schema_only_before_annotations(review: Review) -> None:
    store = review.store
    with store.write_session() as session:
        queue = update_queue(
            session, review.queue, instructions="Read the KB.", gold_rate=0.2, claim_seconds=600,
            fields=[{"name": "ok", "type": "boolean"}],
        )  # fmt: skip
    assert (queue.instructions, queue.gold_rate, queue.claim_seconds) == ("Read the KB.", 0.2, 600)
    assert queue.schema.names == ("ok",)
    with store.write_session() as session, pytest.raises(InvalidInput, match="overlap must be"):
        update_queue(session, queue, instructions="changed?", overlap=0)
    review.queue = queue
    review.label("ann", {"ok": True})
    queue = review.refresh()
    assert queue.instructions == "Read the KB."  # the refused update changed nothing
    with store.write_session() as session:
        with pytest.raises(Conflict, match="1 annotation"):
            update_queue(session, queue, fields=FIELDS)
        # The same schema again is no change.
        assert update_queue(session, queue, fields=queue.schema.to_data()).schema == queue.schema


def test_lowering_overlap_decides_items_that_have_enough_labels(make_review: MakeReview) -> None:
    review = make_review(traces=2, overlap=3)
    first = review.label("ann", GOOD)
    review.label("bo", GOOD)
    assert first.status == "open"
    with review.store.write_session() as session:
        queue = update_queue(session, review.queue, overlap=2)
    assert (queue.resolved, queue.open) == (1, 1)
    with review.store.session() as session:
        item = get_item(session, queue, first.item_id)
    assert (item.status, item.resolution, item.label) == (
        "resolved", "unanimous", {**GOOD, "issues": [], "fix": None, "note": None},
    )  # fmt: skip


def test_enqueue_filtered_and_list_items(review: Review) -> None:
    store = review.store
    for n in range(4, 7):
        add_trace(store, review.project_id, n, status="error")
    with store.write_session() as session:
        result = enqueue_filtered(
            session, review.project_id, review.queue, TraceFilter(slices=[("locale", "en")]),
            limit=100,
        )  # fmt: skip
        # Traces 0, 2 (in the queue already), 4 and 6 (new) are English.
        assert (result.added, result.already) == (2, 2)
        again = enqueue_filtered(
            session, review.project_id, review.queue, TraceFilter(status="error"), limit=1
        )
        assert again == (0, 1)  # the newest error, trace 6, is in already
    with store.session() as session:
        items = list_items(session, review.queue, limit=500)
        assert [i.source for i in items] == ["manual"] * 4 + ["filter"] * 2
        assert items[-1].reason == "matched a trace filter"
        assert [i.id for i in list_items(session, review.queue, limit=2, offset=4)] == [
            i.id for i in items[4:]
        ]
        assert list_items(session, review.queue, status="resolved") == []
        with pytest.raises(InvalidInput, match="status: must be one of open"):
            list_items(session, review.queue, status="done")
        with pytest.raises(InvalidInput, match="limit: must be between 1 and 10000"):
            enqueue_filtered(session, review.project_id, review.queue, TraceFilter(), limit=0)
        with pytest.raises(NotFound, match="no item 12345"):
            get_item(session, review.queue, 12345)


def test_enqueue_puts_a_trace_in_a_queue_once(review: Review) -> None:
    tid = add_trace(review.store, review.project_id, 9)
    with review.store.write_session() as session:
        assert enqueue(session, review.project_id, review.queue.id, tid, reason="sampled")
        assert not enqueue(session, review.project_id, review.queue.id, tid)
        assert not enqueue(session, review.project_id, review.queue.id, review.traces[0])
    assert review.refresh().open == 5


def test_queue_of_another_project_is_refused(review: Review, store: Store) -> None:
    with store.write_session() as session, pytest.raises(InvalidInput, match="another project"):
        enqueue_filtered(session, review.project_id + 1, review.queue, TraceFilter(), limit=5)
