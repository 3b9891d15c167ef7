"""Export: JSONL and CSV carry the same results and read back to them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from assay.errors import InvalidInput
from assay.review import (
    adjudicate,
    csv_columns,
    export_results,
    mark_gold,
    read_results,
    result_records,
)

from .conftest import BAD, GOOD, Review, later


@pytest.fixture
def results(review: Review) -> Review:
    """A unanimous item (made gold), a disputed then adjudicated one, an open one."""
    review.label("ann", {**BAD, "fix": 'Refunds take 5 days,\n"not" 7.', "note": "KB, p. 3"})
    review.label("bo", {**BAD, "fix": None}, comment="agree ✓", seconds=12.5)
    review.label("ann", GOOD)
    review.label("bo", {**BAD, "issues": []})
    review.label("ann", {"verdict": "good", "score": 3, "issues": ["slow"]})
    judge = review.user("judge", "adjudicator")
    with review.store.write_session() as session:
        mark_gold(session, review.queue, review.items[0])
        adjudicate(
            session, review.queue, judge, review.items[1], GOOD,
            "the answer is right", now=later(30),
        )  # fmt: skip
    return review


def test_jsonl_and_csv_round_trip(results: Review) -> None:
    review = results
    with review.store.session() as session:
        records = result_records(session, review.queue)
        jsonl, table = io.StringIO(), io.StringIO(newline="")
        assert export_results(session, review.queue, jsonl) == 4
        assert export_results(session, review.queue, table, format="csv") == 4
    unanimous, adjudicated, open_item, untouched = records
    assert (unanimous["status"], unanimous["resolution"], unanimous["agreement"]) == (
        "resolved", "unanimous", "unanimous",
    )  # fmt: skip
    assert unanimous["gold"] == unanimous["label"]
    assert [a["annotator"] for a in unanimous["annotations"]] == ["ann", "bo"]
    assert unanimous["annotations"][1]["comment"] == "agree ✓"
    assert (adjudicated["agreement"], adjudicated["adjudicator"], adjudicated["reason"]) == (
        "disputed", "judge", "the answer is right",
    )  # fmt: skip
    assert adjudicated["resolved_at"] == later(30).isoformat()
    assert (open_item["status"], open_item["agreement"], open_item["label"]) == (
        "open",
        "single",
        None,
    )
    assert (untouched["agreement"], untouched["annotations"]) == (None, [])

    jsonl.seek(0)
    assert read_results(jsonl, "jsonl", review.queue.schema) == records
    table.seek(0)
    rows = list(csv.DictReader(io.StringIO(table.getvalue(), newline="")))
    assert len(rows) == 2 + 2 + 1 + 1  # one row per annotation, one for the empty item
    assert rows[0]["value.fix"] == 'Refunds take 5 days,\n"not" 7.'
    assert rows[0]["value.issues"] == '["wrong"]'
    assert rows[0]["label.verdict"] == "bad"
    assert rows[0]["is_gold"] == "true"
    table.seek(0)
    assert read_results(table, "csv", review.queue.schema) == records
    assert json.loads(jsonl.getvalue().splitlines()[0]) == records[0]


def test_status_filter_and_errors(results: Review) -> None:
    review = results
    with review.store.session() as session:
        out = io.StringIO()
        assert export_results(session, review.queue, out, status="resolved") == 2
        with pytest.raises(InvalidInput, match="format: must be jsonl or csv"):
            export_results(session, review.queue, out, format="xml")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="status: must be one of"):
            export_results(session, review.queue, out, status="closed")
    header = ",".join(csv_columns(review.queue.schema)[:-1])
    with pytest.raises(InvalidInput, match="header does not match"):
        read_results(io.StringIO(header + "\n"), "csv", review.queue.schema)
    with pytest.raises(InvalidInput, match="line 2: not JSON"):
        read_results(io.StringIO("{}\nnope\n"), "jsonl", review.queue.schema)
