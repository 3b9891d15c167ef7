"""``assay.sdk.feedback_event``: feedback as a span event, in the names ingest reads."""

from __future__ import annotations

import importlib

import pytest

import assay
from assay.errors import InvalidInput
from assay.ingest import feedback as ingest_feedback
from assay.sdk import feedback_event, span

from .conftest import Pipeline


def test_the_sdk_writes_the_names_ingest_reads() -> None:
    # assay.sdk.feedback the module (the package re-exports a function of that name).
    sdk_feedback = importlib.import_module("assay.sdk.feedback")
    for name in ("FEEDBACK_EVENT", "NAME_KEY", "VALUE_KEY", "COMMENT_KEY"):
        assert getattr(sdk_feedback, name) == getattr(ingest_feedback, name)


def test_an_event_on_the_active_or_a_given_span(pipeline: Pipeline) -> None:
    with span("answer") as current:
        feedback_event("thumbs", True)
        feedback_event("correction", "Lyon", comment="not Paris", span=current)
    with span("other"):
        assay.feedback_event("rating", 4)
    answer, other = pipeline.exporter.get_finished_spans()
    events = [(e.name, dict(e.attributes or {})) for e in answer.events]
    assert events == [
        ("assay.feedback", {"assay.feedback.name": "thumbs", "assay.feedback.value": True}),
        (
            "assay.feedback",
            {
                "assay.feedback.name": "correction",
                "assay.feedback.value": "Lyon",
                "assay.feedback.comment": "not Paris",
            },
        ),
    ]
    assert dict(other.events[0].attributes or {})["assay.feedback.value"] == 4


def test_no_span_or_bad_values_are_refused(pipeline: Pipeline) -> None:
    with pytest.raises(InvalidInput, match="no active span"):
        feedback_event("thumbs", True)
    with span("answer"):
        with pytest.raises(InvalidInput, match="name must be a non-empty string"):
            feedback_event("", True)
        with pytest.raises(InvalidInput, match="finite number"):
            feedback_event("rating", float("nan"))
        with pytest.raises(InvalidInput, match="comment must be text"):
            feedback_event("thumbs", True, comment=3)  # type: ignore[arg-type]
    (finished,) = pipeline.exporter.get_finished_spans()
    assert not finished.events
