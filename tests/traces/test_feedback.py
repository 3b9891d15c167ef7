"""Recording and listing feedback: values, validation, early feedback, pages, projects."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from assay.errors import InvalidInput
from assay.projects.service import update_project_settings
from assay.redaction import RedactionConfig
from assay.store.models import Feedback
from assay.testing.otlp import IdFactory, make_span
from assay.traces import list_feedback, record_feedback
from assay.traces.cursor import encode_cursor

from .conftest import T0, Ingest

ids = IdFactory("test_feedback")


def stored(ingest: Ingest) -> int:
    with ingest.store.session() as session:
        return session.scalar(select(func.count()).select_from(Feedback)) or 0


@pytest.mark.parametrize(
    ("value", "num", "text"),
    [
        (True, 1.0, "true"),
        (False, 0.0, "false"),
        (4, 4.0, None),
        (0.25, 0.25, None),
        ("Paris, not Lyon", None, "Paris, not Lyon"),
        ("true", None, "true"),
    ],
)
def test_values_round_trip(ingest: Ingest, value: Any, num: float | None, text: str | None) -> None:
    trace_id = ids.trace_id().hex()
    with ingest.store.session() as session:
        made = record_feedback(session, ingest.project_id, trace_id, "score", value)
    with ingest.store.session() as session:
        (listed,) = list_feedback(session, ingest.project_id).items
    for view in (made, listed):
        assert (view.value_num, view.value_text) == (num, text)
        assert view.value == value
        assert type(view.value) is (float if type(value) is int else type(value))
    assert listed.created_at.tzinfo is not None


def test_record_on_a_stored_trace_and_span(ingest: Ingest) -> None:
    span = make_span("ask", start_ns=T0, ids=ids)
    trace_id = ingest.spans([span])
    with ingest.store.session() as session:
        view = record_feedback(
            session,
            ingest.project_id,
            trace_id.upper(),
            "thumbs",
            False,
            comment="wrong city",
            span_id=span.span_id.hex().upper(),
            source="ui",
        )
    assert view.trace_id == trace_id
    assert view.span_id == span.span_id.hex()
    assert (view.comment, view.source, view.trace_known) == ("wrong city", "ui", True)


def test_unknown_well_formed_trace_is_accepted(ingest: Ingest) -> None:
    with ingest.store.session() as session:
        view = record_feedback(session, ingest.project_id, "0f" * 16, "thumbs", True)
    assert view.trace_known is False
    assert stored(ingest) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"trace_id": "xyz"}, "trace_id"),
        ({"trace_id": "ab" * 15}, "trace_id"),
        ({"trace_id": "0" * 32}, "trace_id"),
        ({"trace_id": "g" * 32}, "trace_id"),
        ({"span_id": "abc"}, "span_id"),
        ({"span_id": "0" * 16}, "span_id"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"value": float("nan")}, "value"),
        ({"value": float("inf")}, "value"),
        ({"value": 10**400}, "value"),
        ({"value": None}, "value"),
        ({"value": [1, 2]}, "value"),
        ({"value": "x" * 100_001}, "value"),
        ({"comment": "x" * 100_001}, "comment"),
        ({"source": ""}, "source"),
        ({"source": "s" * 21}, "source"),
    ],
)
def test_invalid_input_names_the_field_and_stores_nothing(
    ingest: Ingest, kwargs: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {"trace_id": "ab" * 16, "name": "thumbs", "value": True}
    args.update(kwargs)
    with pytest.raises(InvalidInput, match=rf"^{field}:"), ingest.store.session() as session:
        record_feedback(session, ingest.project_id, **args)
    assert stored(ingest) == 0


def test_name_of_100_characters_is_fine(ingest: Ingest) -> None:
    with ingest.store.session() as session:
        view = record_feedback(session, ingest.project_id, "ab" * 16, "n" * 100, 1)
    assert view.name == "n" * 100


def test_list_filters_and_pages(ingest: Ingest) -> None:
    a, b = "aa" * 16, "bb" * 16
    with ingest.store.session() as session:
        made = [
            record_feedback(session, ingest.project_id, a if i % 2 else b, f"n{i % 3}", i)
            for i in range(7)
        ]
    with ingest.store.session() as session:
        only_a = list_feedback(session, ingest.project_id, trace_id=a.upper()).items
        named = list_feedback(session, ingest.project_id, name="n0").items
        both = list_feedback(session, ingest.project_id, trace_id=b, name="n0").items
    assert [f.id for f in only_a] == [made[5].id, made[3].id, made[1].id]
    assert [f.value for f in named] == [6.0, 3.0, 0.0]
    assert [f.value for f in both] == [6.0, 0.0]

    seen: list[int] = []
    cursor = None
    while True:
        with ingest.store.session() as session:
            page = list_feedback(session, ingest.project_id, limit=3, cursor=cursor)
        seen += [f.id for f in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f.id for f in reversed(made)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": "nope"}, "cursor"),
        ({"cursor": encode_cursor("traces", 1, 2)}, "cursor"),
        ({"trace_id": "123"}, "trace_id"),
    ],
)
def test_list_rejects_bad_arguments(ingest: Ingest, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput, match=rf"^{field}:"), ingest.store.session() as session:
        list_feedback(session, ingest.project_id, **kwargs)


def test_feedback_stays_in_its_project(ingest: Ingest, other: Ingest) -> None:
    theirs = other.spans([make_span("theirs", start_ns=T0, ids=ids)])
    with ingest.store.session() as session:
        mine = record_feedback(session, ingest.project_id, theirs, "thumbs", False)
    # The id names a trace of the caller's project (not stored there), never theirs.
    assert mine.trace_known is False
    with ingest.store.session() as session:
        assert list_feedback(session, other.project_id).items == []
        assert list_feedback(session, other.project_id, trace_id=theirs).items == []
        assert [f.id for f in list_feedback(session, ingest.project_id).items] == [mine.id]


def test_text_values_and_comments_are_redacted_by_the_projects_rules(ingest: Ingest) -> None:
    # The same rules as feedback sent as a span event: the end user's words are
    # personal data whichever way they arrive.
    trace_id = ids.trace_id().hex()
    with ingest.store.session() as session:
        text = record_feedback(
            session,
            ingest.project_id,
            trace_id,
            "correction",
            "write to jane@example.com instead",
            comment="call me on 555 123 4567",
        )
        number = record_feedback(
            session, ingest.project_id, trace_id, "rating", 5551234567, comment="fine"
        )
        session.commit()
    assert text.value_text == "write to [REDACTED:email] instead"
    assert text.comment == "call me on [REDACTED:phone]"
    assert (number.value_num, number.comment) == (5551234567.0, "fine")
    with ingest.store.session() as session:
        stored_text = {f.comment for f in list_feedback(session, ingest.project_id).items}
        update_project_settings(session, ingest.project_id, redaction=RedactionConfig(builtins=[]))
        session.commit()
        kept = record_feedback(
            session, ingest.project_id, trace_id, "note", "x", comment="jane@example.com"
        )
    assert stored_text == {"call me on [REDACTED:phone]", "fine"}
    assert kept.comment == "jane@example.com"
