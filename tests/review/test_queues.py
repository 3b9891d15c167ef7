"""Queues: create, look up, update; items: enqueue by filter, list, get."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from assay.errors import Conflict, InvalidInput, NotFound
from assay.review import (
    claim_next,
    create_queue,
    enqueue,
    enqueue_filtered,
    get_item,
    get_queue,
    list_items,
    list_queues,
    submit,
    update_queue,
)
from assay.store import Store
from assay.store.models import Annotation
from assay.traces import TraceFilter

from .conftest import BAD, FIELDS, GOOD, NOW, MakeReview, Review, add_trace

YES_NO = [{"name": "ok", "type": "boolean"}]


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


def test_a_label_is_decided_by_the_settings_as_they_are_now(make_review: MakeReview) -> None:
    """A caller's view of the queue, read before an update, is not what decides."""
    review = make_review(traces=2, overlap=3)
    stale = review.queue
    claim = review.claim("ann")
    assert claim is not None
    with review.store.write_session() as session:
        update_queue(session, stale, fields=YES_NO)
    with pytest.raises(InvalidInput, match="field 'ok': is required"):
        review.submit("ann", claim.item_id, GOOD)
    assert review.submit("ann", claim.item_id, {"ok": True}).status == "open"
    assert review.claim("bo").item_id == claim.item_id  # type: ignore[union-attr]
    with review.store.write_session() as session:
        update_queue(session, stale, overlap=2)
    result = review.submit("bo", claim.item_id, {"ok": True})
    assert (result.status, result.resolution) == ("resolved", "unanimous")


def _interleave(
    store: Store,
    first: Callable[[Session], Any],
    second: Callable[[Session], Any],
    then: Callable[[Session], Any] | None = None,
) -> Any:
    """Run ``first`` in a transaction and, before it commits, ``second`` in another
    thread; once ``second`` waits on a lock (or is done), run ``then`` in the first
    transaction and commit it. Returns what ``second`` returned, or the exception it
    raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            with store.write_session() as session:
                outcome.append(second(session))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    with store.write_session() as session:
        first(session)
        thread.start()
        deadline = time.monotonic() + 10
        while thread.is_alive() and not _lock_waits(store) and time.monotonic() < deadline:
            time.sleep(0.01)
        if then is not None:
            then(session)
    thread.join(timeout=30)
    assert not thread.is_alive()
    return outcome[0]


def _lock_waits(store: Store) -> int:
    with store.session() as session:
        query = "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
        return int(session.scalar(text(query)) or 0)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("label_first", [True, False], ids=["label-first", "update-first"])
def test_lowering_overlap_during_a_label_still_decides_the_item(
    make_review: MakeReview, store: Store, label_first: bool
) -> None:
    review = make_review(traces=1, overlap=3)
    first = review.label("ann", GOOD)
    assert review.claim("bo") is not None
    stale, bo = review.queue, review.user("bo")

    def label(session: Session) -> Any:
        return submit(session, stale, bo, first.item_id, GOOD, now=NOW)

    def lower(session: Session) -> Any:
        return update_queue(session, stale, overlap=2)

    outcome = _interleave(store, label, lower) if label_first else _interleave(store, lower, label)
    assert not isinstance(outcome, Exception), outcome
    with store.session() as session:
        item = get_item(session, stale, first.item_id)
    assert (item.status, item.resolution, item.annotations) == ("resolved", "unanimous", 2)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_claiming_and_labelling_in_one_transaction_never_deadlocks_an_update(
    make_review: MakeReview, store: Store
) -> None:
    """``assay queue label`` claims and labels in one transaction: the claim locks the
    queue before the item, as the label does, so update_queue waits instead of
    holding the queue while waiting for the item."""
    review = make_review(traces=1, overlap=3)
    first = review.label("ann", GOOD)
    stale, bo = review.queue, review.user("bo")
    outcome = _interleave(
        store,
        lambda session: claim_next(session, stale, bo, now=NOW),
        lambda session: update_queue(session, stale, overlap=2),
        then=lambda session: submit(session, stale, bo, first.item_id, GOOD, now=NOW),
    )
    assert not isinstance(outcome, Exception), outcome
    assert (review.refresh().resolved, review.queue.overlap) == (1, 2)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("label_first", [True, False], ids=["label-first", "update-first"])
def test_the_schema_never_changes_under_a_label(
    make_review: MakeReview, store: Store, label_first: bool
) -> None:
    review = make_review(traces=1, overlap=2)
    assert review.claim("ann") is not None
    stale, ann = review.queue, review.user("ann")

    def label(session: Session) -> Any:
        return submit(session, stale, ann, review.items[0], GOOD, now=NOW)

    def change(session: Session) -> Any:
        return update_queue(session, stale, fields=YES_NO)

    if label_first:
        refused = _interleave(store, label, change)
        assert isinstance(refused, Conflict), refused
        assert review.refresh().schema == stale.schema
    else:
        refused = _interleave(store, change, label)
        assert isinstance(refused, InvalidInput), refused
        assert review.refresh().schema.names == ("ok",)
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(Annotation)) == 0


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
