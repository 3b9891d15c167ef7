"""Promotion: resolved items become cases with provenance, idempotently."""

from __future__ import annotations

import pytest

from assay.datasets import CaseSpec, add_version, get_version, version_cases
from assay.errors import InvalidInput, NotFound
from assay.review import PromotionResult, adjudicate, item_labels, promote
from assay.traces import TraceFilter

from .conftest import BAD, GOOD, Review, later, trace_id


@pytest.fixture
def resolved(review: Review) -> Review:
    """Item 0 unanimous (bad, with a fix), item 1 adjudicated, item 2 open, 3 untouched."""
    review.label("ann", BAD)
    review.label("bo", {**BAD, "fix": None})
    review.label("ann", GOOD)
    review.label("bo", {**BAD, "issues": ["rude"], "fix": "Sorry, we are closed."})
    review.label("ann", GOOD)
    judge = review.user("judge", "adjudicator")
    with review.store.write_session() as session:
        adjudicate(
            session, review.queue, judge, review.items[1],
            {"verdict": "bad", "issues": ["rude"], "fix": "We open at 9."}, "rude and wrong",
            now=later(100),
        )  # fmt: skip
        add_version(session, review.project_id, "regressions", [CaseSpec(id="faq-1", input="Hi?")])
    return review


def run(review: Review, dataset: str = "regressions", **kw: object) -> PromotionResult:
    with review.store.write_session() as session:
        return promote(session, review.project_id, review.queue, dataset, created_by="ana", **kw)  # type: ignore[arg-type]


def test_resolved_items_become_cases_with_provenance(resolved: Review) -> None:
    review = resolved
    result = run(review)
    t0, t1 = f"trace-{trace_id(0)}", f"trace-{trace_id(1)}"
    assert result.created
    assert result.version is not None
    assert result.version.number == 2
    assert (result.added, result.changed, result.unchanged, result.skipped) == (
        [t0, t1],
        [],
        [],
        [],
    )
    with review.store.session() as session:
        version = get_version(session, review.project_id, "regressions")
        cases = {c.id: c.case for c in version_cases(session, version.id)}
    assert set(cases) == {"faq-1", t0, t1}  # the previous version's case is kept
    assert version.created_by == "ana"
    assert version.source == "review:answers"
    unanimous, adjudicated = cases[t0], cases[t1]
    assert (unanimous.input, unanimous.reference) == ("Question 0?", "Refunds take 5 days.")
    assert unanimous.slices == {"locale": "en"}
    assert adjudicated.slices == {"locale": "de"}
    assert unanimous.tags == ("wrong", "queue:answers")
    assert adjudicated.tags == ("rude", "queue:answers")
    assert adjudicated.reference == "We open at 9."
    assert adjudicated.metadata["label"]["verdict"] == "bad"
    provenance = adjudicated.provenance
    assert provenance == {
        "source": "review",
        "trace_id": trace_id(1),
        "queue": "answers",
        "item_id": review.items[1],
        "reason": "thumbs down",
        "rule_id": None,
        "annotation_ids": provenance["annotation_ids"],
        "annotators": ["ann", "bo"],
        "resolution": "adjudicated",
        "adjudicator": "judge",
        "resolution_reason": "rude and wrong",
        "resolved_at": later(100).isoformat(),
    }
    with review.store.session() as session:
        labels = item_labels(session, review.items[1]).annotations
    assert provenance["annotation_ids"] == [a.id for a in labels]
    assert unanimous.provenance["adjudicator"] is None
    assert unanimous.provenance["resolution_reason"] is None
    assert unanimous.provenance["resolution"] == "unanimous"


def test_promoting_again_adds_no_version(resolved: Review) -> None:
    first = run(resolved)
    again = run(resolved)
    assert not again.created
    assert again.version == first.version
    assert (again.added, again.unchanged) == ([], first.added)


def test_open_items_and_unknown_ids(resolved: Review) -> None:
    result = run(resolved, item_ids=[resolved.items[2], resolved.items[0]])
    assert result.added == [f"trace-{trace_id(0)}"]
    assert [(s.item_id, s.reason) for s in result.skipped] == [
        (resolved.items[2], "the item is open"),
    ]  # fmt: skip
    with pytest.raises(NotFound, match="has no item 999"):
        run(resolved, item_ids=[999])
    with pytest.raises(InvalidInput, match="dataset name 'a@b' may not hold '@'"):
        run(resolved, "a@b", item_ids=[resolved.items[3]])
    # Nothing to promote into a dataset that has no version: no version, no error.
    empty = run(resolved, "empty", item_ids=[resolved.items[3]])
    assert (empty.version, empty.created, empty.skipped[0].reason) == (
        None,
        False,
        "the item is open",
    )


def test_promotion_by_trace_filter_takes_only_matching_traces(resolved: Review) -> None:
    result = run(resolved, "german", trace_filter=TraceFilter(slices=[("locale", "de")]))
    assert result.dataset_created
    assert result.added == [f"trace-{trace_id(1)}"]


def test_promotion_never_drops_cases_already_there(resolved: Review) -> None:
    """Cases kept on purpose though their inputs repeat each other stay; a promoted case
    whose input repeats one already there is reported and left out."""
    review = resolved
    kept = [
        CaseSpec(id="a", input="Reset password?"),
        CaseSpec(id="b", input="reset  PASSWORD?"),
        CaseSpec(id="q0", input=" question 0? ", reference="known"),
    ]
    with review.store.write_session() as session:
        add_version(session, review.project_id, "faq", kept, on_duplicate="keep")
    result = run(review, "faq")
    t0, t1 = f"trace-{trace_id(0)}", f"trace-{trace_id(1)}"
    assert (result.created, result.added, result.changed) == (True, [t1], [])
    assert [(d.case_id, d.duplicate_of, d.kind, d.dropped) for d in result.duplicates] == [
        (t0, "q0", "exact", True),
    ]  # fmt: skip
    assert not result.duplicates[0].same_reference
    with review.store.session() as session:
        version = get_version(session, review.project_id, "faq")
        assert [c.id for c in version_cases(session, version.id)] == ["a", "b", "q0", t1]
    # Again: nothing new, nothing dropped, the repeat reported again.
    again = run(review, "faq")
    assert (again.created, again.unchanged) == (False, [t1])
    assert [d.case_id for d in again.duplicates] == [t0]
