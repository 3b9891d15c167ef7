"""Handing out items: claims, resume, overlap, expiry, skips, gold items, concurrency."""

from __future__ import annotations

import random
import threading
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import select

from assay.errors import Conflict, InvalidInput, NotFound
from assay.review import adjudicate, claim_next, mark_gold, skip, submit
from assay.store import Store
from assay.store.models import Assignment

from .conftest import BAD, GOOD, NOW, MakeReview, Review, add_steps, add_user, later


def test_claims_resume_and_fill_overlap_oldest_first(review: Review) -> None:
    first = review.claim("ann")
    assert first is not None
    assert not first.resumed
    assert not first.gold
    assert first.item_id == review.items[0]
    assert first.expires_at == later(1800)
    assert first.reason == "thumbs down"
    assert (first.progress.done, first.progress.remaining) == (0, 4)
    # Asking again resumes the same claim.
    again = review.claim("ann", now=later(60))
    assert again is not None
    assert again.resumed
    assert again.item_id == first.item_id
    # The item has a second slot; a third annotator gets the next item.
    assert review.claim("bo").item_id == review.items[0]  # type: ignore[union-attr]
    assert review.claim("cy").item_id == review.items[1]  # type: ignore[union-attr]
    result = review.submit("ann", first.item_id, GOOD)
    assert result.status == "open"
    after = review.claim("ann")
    assert after is not None
    assert after.item_id == review.items[1]
    assert after.progress.done == 1


def test_expired_claims_free_the_slot_and_own_expired_claims_are_renewed(
    make_review: MakeReview,
) -> None:
    review = make_review(traces=2, overlap=1, claim_seconds=60)
    first = review.claim("ann")
    assert first is not None
    assert first.item_id == review.items[0]
    # Within the claim, bo gets the other item; after it expires, ann's item.
    assert review.claim("bo", now=later(30)).item_id == review.items[1]  # type: ignore[union-attr]
    taken = review.claim("cy", now=later(61))
    assert taken is not None
    assert taken.item_id == review.items[0]
    # ann's claim expired and its slot was taken: her label is refused, nothing changes.
    with pytest.raises(Conflict, match="expired and another annotator took its slot"):
        review.submit("ann", first.item_id, GOOD, now=later(62))
    # ann is not handed an item she held while it is taken by someone else.
    assert review.claim("ann", now=later(62)) is None
    # Once every claim has expired, ann's own expired claim comes first and is renewed,
    # not duplicated.
    renewed = review.claim("ann", now=later(200))
    assert renewed is not None
    assert renewed.item_id == first.item_id
    assert renewed.assignment_id == first.assignment_id
    assert renewed.expires_at == later(260)
    # An expired own claim whose slot nobody took is accepted.
    result = review.submit("ann", first.item_id, GOOD, now=later(400))
    assert (result.status, result.resolution) == ("resolved", "single")
    with pytest.raises(Conflict, match="is resolved already; your label is not needed"):
        review.submit("cy", first.item_id, BAD, now=later(401))


def test_skip_frees_the_slot_and_never_hands_the_item_back(make_review: MakeReview) -> None:
    review = make_review(traces=2, overlap=1)
    first = review.claim("ann")
    assert first is not None
    with review.store.write_session() as session:
        with pytest.raises(InvalidInput, match="reason: say why"):
            skip(session, review.queue, review.user("ann"), first.item_id, "  ")
        skip(session, review.queue, review.user("ann"), first.item_id, "not English")
    # The slot is free for bo; ann gets the other item, then nothing.
    assert review.claim("bo").item_id == first.item_id  # type: ignore[union-attr]
    second = review.claim("ann")
    assert second is not None
    assert second.item_id == review.items[1]
    review.submit("ann", second.item_id, GOOD)
    assert review.claim("ann", now=later(7200)) is None
    with pytest.raises(Conflict, match="you skipped item"):
        review.submit("ann", first.item_id, GOOD)
    with review.store.write_session() as session:
        with pytest.raises(Conflict, match="is labelled already"):
            skip(session, review.queue, review.user("ann"), second.item_id, "oops")
        with pytest.raises(NotFound, match="no item 999"):
            skip(session, review.queue, review.user("ann"), 999, "gone")
    with pytest.raises(Conflict, match="no claim on item"):
        review.submit("cy", review.items[1], GOOD)


def test_gold_items_are_handed_out_at_the_rate_without_their_label(
    make_review: MakeReview,
) -> None:
    review = make_review(traces=3, overlap=1, gold_rate=0.5)
    # No gold yet: a gold draw falls back to an open item.
    labelled = review.label("ann", GOOD, rng=random.Random(0))
    with review.store.write_session() as session:
        mark_gold(session, review.queue, labelled.item_id)
    review.refresh()
    # numpy and stdlib generators both work; 0.1 < 0.5 is a gold draw, 0.9 is not.
    gold = review.claim("bo", rng=_Fixed(0.1))
    assert gold is not None
    assert gold.gold
    assert gold.item_id == labelled.item_id
    assert not hasattr(gold, "label")
    result = review.submit("bo", gold.item_id, BAD)
    assert (result.gold, result.gold_correct, result.status) == (True, False, "resolved")
    # Never twice to the same annotator, and never to the one who labelled it.
    assert not review.claim("bo", rng=_Fixed(0.1)).gold  # type: ignore[union-attr]
    assert not review.claim("ann", rng=np.random.default_rng(3)).gold  # type: ignore[union-attr]
    with review.store.session() as session:
        rows = session.scalars(select(Assignment).where(Assignment.gold == 1)).all()
    assert [(row.status, row.user_id) for row in rows] == [("done", review.user("bo").id)]


def test_the_adjudicator_of_a_gold_item_is_never_handed_it(make_review: MakeReview) -> None:
    review = make_review(traces=2, overlap=2, gold_rate=0.5)
    review.label("ann", GOOD)
    disputed = review.label("bo", BAD)
    judge = review.user("judge", "adjudicator")
    with review.store.write_session() as session:
        adjudicate(session, review.queue, judge, disputed.item_id, BAD, "KB says so")
        mark_gold(session, review.queue, disputed.item_id)
    review.refresh()
    # A gold draw for the adjudicator falls back to the open item; cy gets the gold one.
    claim = review.claim("judge", rng=_Fixed(0.1))
    assert claim is not None
    assert (claim.gold, claim.item_id) == (False, review.items[1])
    gold = review.claim("cy", rng=_Fixed(0.1))
    assert gold is not None
    assert (gold.gold, gold.item_id) == (True, disputed.item_id)


def test_claim_carries_the_trace_context(review: Review) -> None:
    add_steps(review.store, review.project_id, review.traces[0])
    claim = review.claim("ann")
    assert claim is not None
    assert claim.context is not None
    context = claim.context
    assert (context.input, context.output, context.model) == (
        "Question 0?",
        "Answer 0.",
        "gpt-4o-mini",
    )
    assert context.slices == {"locale": "en"}
    (retrieval,) = context.retrievals
    assert [(d.id, d.content, d.score) for d in retrieval.documents] == [
        (None, "Shipping is free.", 0.9), ("kb-2", "Refunds take 5 days.", None),
    ]  # fmt: skip
    (tool,) = context.tools
    assert (tool.name, tool.input, tool.output) == ("lookup_order", '{"order": 42}', "shipped")


class _Fixed:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_claims_never_overfill_an_item(make_review: MakeReview, store: Store) -> None:
    """Eight annotators claim and label at once; every item ends with exactly 2 labels."""
    review = make_review(traces=5, overlap=2)
    users = [add_user(store, f"a{n}") for n in range(8)]
    barrier = threading.Barrier(len(users))
    errors: list[BaseException] = []
    peak: Counter[int] = Counter()

    def work(user_index: int) -> None:
        user = users[user_index]
        try:
            barrier.wait()
            while True:
                with store.write_session() as session:
                    claim = claim_next(session, review.queue, user, now=NOW)
                if claim is None:
                    return
                with store.session() as session:
                    active = session.scalars(
                        select(Assignment.id).where(Assignment.item_id == claim.item_id)
                    ).all()
                    peak[claim.item_id] = max(peak[claim.item_id], len(active))
                with store.write_session() as session:
                    submit(session, review.queue, user, claim.item_id, GOOD, now=NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(users))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with store.session() as session:
        per_item = Counter(session.scalars(select(Assignment.item_id)).all())
    assert per_item == {item_id: 2 for item_id in review.items}
    assert max(peak.values()) == 2
    queue = review.refresh()
    assert (queue.resolved, queue.open) == (5, 0)
