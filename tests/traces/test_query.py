"""Listing traces: every filter, keyset pagination, summaries, project scope."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from assay.errors import InvalidInput, NotFound
from assay.releases import register_release
from assay.testing.otlp import (
    IdFactory,
    genai_llm_span,
    make_span,
    trace_with_children,
)
from assay.traces import (
    TraceFilter,
    get_trace,
    list_traces,
    record_feedback,
)
from assay.traces.cursor import encode_cursor

from .conftest import MS, T0, Ingest

ids = IdFactory("test_query")


def root(
    ingest: Ingest,
    start_ns: int,
    *,
    name: str = "ask",
    question: str = "What is the capital of France?",
    answer: str = "Paris.",
    status: Literal["ok", "error", "unset"] = "ok",
    attributes: dict[str, Any] | None = None,
    release: str | None = None,
    resource: dict[str, Any] | None = None,
) -> str:
    """A one-span trace (an OpenInference CHAIN root with text input/output)."""
    attrs = {"openinference.span.kind": "CHAIN", "input.value": question, "output.value": answer}
    attrs.update(attributes or {})
    span = make_span(
        name, attributes=attrs, start_ns=start_ns, duration_ms=250, status=status, ids=ids
    )
    return ingest.spans([span], release=release, resource_attributes=resource)


def trace_ids(ingest: Ingest, **filters: Any) -> list[str]:
    with ingest.store.session() as session:
        page = list_traces(session, ingest.project_id, TraceFilter(**filters), limit=500)
    return [item.trace_id for item in page.items]


def test_summary_fields_newest_first(ingest: Ingest) -> None:
    spans = trace_with_children(
        2,
        root_name="answer",
        root_input="Capital of France?",
        root_output="Paris",
        start_ns=T0,
        ids=ids,
    )
    first = ingest.spans(spans, resource_attributes={"locale": "fr", "service.version": "v9"})
    second = root(ingest, T0 + 1000 * MS, status="error")

    with ingest.store.session() as session:
        page = list_traces(session, ingest.project_id)
    assert [t.trace_id for t in page.items] == [second, first]
    assert page.next_cursor is None
    summary = page.items[1]
    assert summary.name == "answer"
    assert summary.start_ns == T0
    assert summary.start_time == "2025-11-20T00:53:20.000000Z"
    assert summary.duration_ms == pytest.approx(202.0)
    assert summary.status == "unset"
    assert summary.model == "gpt-4o-mini"
    assert summary.input_preview == "Capital of France?"
    assert summary.output_preview == "Paris"
    assert summary.span_count == 3
    assert summary.error_count == 0
    assert summary.prompt_tokens == 4  # "question 0", "question 1": two words each
    assert summary.completion_tokens == 4
    assert summary.total_tokens == 8
    assert summary.cost > 0
    assert summary.release is not None
    assert (summary.release.ref, summary.release.name) == ("v9", None)
    assert summary.slices == {"locale": "fr"}
    assert summary.feedback_count == 0
    assert page.items[0].status == "error"
    assert page.items[0].error_count == 1


def test_preview_of_messages_shows_the_question_and_answer(ingest: Ingest) -> None:
    span = genai_llm_span(
        system="You are terse.",
        prompt="Name a   prime\nnumber",
        completion="Seven. " * 100,
        start_ns=T0,
        ids=ids,
    )
    ingest.spans([span])
    with ingest.store.session() as session:
        (summary,) = list_traces(session, ingest.project_id).items
    assert summary.input_preview == "Name a prime number"
    assert summary.output_preview is not None
    assert len(summary.output_preview) == 200
    assert summary.output_preview.endswith("…")


def test_time_range_from_inclusive_to_exclusive(ingest: Ingest) -> None:
    a = root(ingest, T0)
    b = root(ingest, T0 + 10 * MS)
    c = root(ingest, T0 + 20 * MS)
    assert trace_ids(ingest, start_from_ns=T0 + 10 * MS) == [c, b]
    assert trace_ids(ingest, start_to_ns=T0 + 10 * MS) == [a]
    assert trace_ids(ingest, start_from_ns=T0, start_to_ns=T0 + 20 * MS) == [b, a]


def test_release_filter_by_name_fingerprint_prefix_or_raw_ref(ingest: Ingest) -> None:
    with ingest.store.session() as session:
        release = register_release(
            session, ingest.project_id, {"name": "v1", "model": {"id": "gpt-4o"}}
        )
    by_name = root(ingest, T0, release="v1")
    by_fingerprint = root(ingest, T0 + MS, release=release.fingerprint)
    raw = root(ingest, T0 + 2 * MS, release="nightly-7")
    root(ingest, T0 + 3 * MS)

    both = [by_fingerprint, by_name]
    assert trace_ids(ingest, release="v1") == both
    assert trace_ids(ingest, release=release.fingerprint) == both
    assert trace_ids(ingest, release=release.fingerprint[:8].upper()) == both
    assert trace_ids(ingest, release="nightly-7") == [raw]
    assert trace_ids(ingest, release="unknown") == []
    with ingest.store.session() as session:
        items = {t.trace_id: t for t in list_traces(session, ingest.project_id).items}
    for trace_id in both:
        resolved = items[trace_id].release
        assert resolved is not None
        assert (resolved.name, resolved.fingerprint) == ("v1", release.fingerprint)
    assert items[by_fingerprint].release.ref == release.fingerprint  # type: ignore[union-attr]
    assert items[raw].release.fingerprint is None  # type: ignore[union-attr]


def test_release_registered_after_its_traces_is_resolved(ingest: Ingest) -> None:
    trace = root(ingest, T0, release="late")
    with ingest.store.session() as session:
        register_release(session, ingest.project_id, {"name": "late", "model": {"id": "m"}})
        (summary,) = list_traces(session, ingest.project_id).items
    assert summary.release is not None
    assert summary.release.name == "late"
    assert trace_ids(ingest, release="late") == [trace]


def test_model_filter_matches_the_trace_model_or_any_span(ingest: Ingest) -> None:
    def two_models(index: int, trace: bytes, parent: bytes, begin: int) -> Any:
        model = "gpt-4o" if index == 0 else "claude-3-5-sonnet"
        return genai_llm_span(
            model=model, trace_id=trace, parent_span_id=parent, start_ns=begin, ids=ids
        )

    mixed = ingest.spans(trace_with_children(2, child=two_models, start_ns=T0, ids=ids))
    single = ingest.spans([genai_llm_span(model="gpt-4o", start_ns=T0 + MS, ids=ids)])
    assert trace_ids(ingest, model="gpt-4o") == [single, mixed]
    assert trace_ids(ingest, model="claude-3-5-sonnet") == [mixed]
    assert trace_ids(ingest, model="llama") == []


def test_status_filter(ingest: Ingest) -> None:
    ok = root(ingest, T0, status="ok")
    error = root(ingest, T0 + MS, status="error")
    unset = root(ingest, T0 + 2 * MS, status="unset")
    assert trace_ids(ingest, status="ok") == [ok]
    assert trace_ids(ingest, status="error") == [error]
    assert trace_ids(ingest, status="unset") == [unset]
    with ingest.store.session() as session, pytest.raises(InvalidInput, match=r"^status:"):
        list_traces(session, ingest.project_id, TraceFilter(status="failed"))


def test_kind_filter_finds_traces_with_a_span_of_that_kind(ingest: Ingest) -> None:
    def tool(index: int, trace: bytes, parent: bytes, begin: int) -> Any:
        return make_span(
            "search",
            trace_id=trace,
            parent_span_id=parent,
            start_ns=begin,
            attributes={"openinference.span.kind": "TOOL"},
            ids=ids,
        )

    with_tool = ingest.spans(trace_with_children(1, child=tool, start_ns=T0, ids=ids))
    with_llm = ingest.spans(trace_with_children(1, start_ns=T0 + MS, ids=ids))
    assert trace_ids(ingest, kind="tool") == [with_tool]
    assert trace_ids(ingest, kind="llm") == [with_llm]
    assert trace_ids(ingest, kind="chain") == [with_llm, with_tool]
    with ingest.store.session() as session, pytest.raises(InvalidInput, match=r"^kind:"):
        list_traces(session, ingest.project_id, TraceFilter(kind="banana"))


def test_slice_filters_compare_as_text(ingest: Ingest) -> None:
    en_pro = root(ingest, T0, resource={"locale": "en", "assay.slice.tier": 3})
    fr_pro = root(ingest, T0 + MS, resource={"locale": "fr", "assay.slice.tier": 3})
    en_free = root(ingest, T0 + 2 * MS, attributes={"locale": "en", "assay.slice.tier": 1.5})
    root(ingest, T0 + 3 * MS)
    assert trace_ids(ingest, slices=[("locale", "en")]) == [en_free, en_pro]
    assert trace_ids(ingest, slices=[("tier", "3")]) == [fr_pro, en_pro]
    assert trace_ids(ingest, slices=[("tier", "1.5")]) == [en_free]
    assert trace_ids(ingest, slices=[("locale", "en"), ("tier", "3")]) == [en_pro]
    assert trace_ids(ingest, slices=[("locale", "en"), ("locale", "fr")]) == [
        en_free,
        fr_pro,
        en_pro,
    ]
    assert trace_ids(ingest, slices=[("locale", "de")]) == []
    assert trace_ids(ingest, slices=[("user.tier", "3")]) == []


def test_text_search_is_case_insensitive_and_literal(ingest: Ingest) -> None:
    percent = root(ingest, T0, question="I am 100% SURE")
    plain = root(ingest, T0 + MS, question="I am 1000 sure", answer="snake_case")
    child = ingest.spans(
        trace_with_children(1, root_input="top", root_output="level", start_ns=T0 + 2 * MS, ids=ids)
    )
    assert trace_ids(ingest, q="100% sure") == [percent]
    assert trace_ids(ingest, q="100") == [plain, percent]
    assert trace_ids(ingest, q="e_c") == [plain]
    assert trace_ids(ingest, q="%") == [percent]
    assert trace_ids(ingest, q="ANSWER 0") == [child]  # a child span's output
    assert trace_ids(ingest, q="question 0") == [child]  # a child span's input
    assert trace_ids(ingest, q="/") == []
    assert trace_ids(ingest, q="") == [child, plain, percent]


def test_session_and_user_filters(ingest: Ingest) -> None:
    a = root(ingest, T0, attributes={"session.id": "s1", "user.id": "u1"})
    b = root(ingest, T0 + MS, attributes={"session.id": "s1", "user.id": "u2"})
    root(ingest, T0 + 2 * MS)
    assert trace_ids(ingest, session_id="s1") == [b, a]
    assert trace_ids(ingest, user_id="u1") == [a]
    assert trace_ids(ingest, session_id="s1", user_id="u2") == [b]


def test_has_feedback_filter_and_count(ingest: Ingest, other: Ingest) -> None:
    rated = root(ingest, T0)
    unrated = root(ingest, T0 + MS)
    with ingest.store.session() as session:
        record_feedback(session, ingest.project_id, rated, "thumbs", True)
        record_feedback(session, ingest.project_id, rated, "rating", 4)
        # Another project's feedback on the same id counts for nothing here.
        record_feedback(session, other.project_id, unrated, "thumbs", False)
    assert trace_ids(ingest, has_feedback=True) == [rated]
    assert trace_ids(ingest, has_feedback=False) == [unrated]
    with ingest.store.session() as session:
        counts = {
            t.trace_id: t.feedback_count for t in list_traces(session, ingest.project_id).items
        }
    assert counts == {rated: 2, unrated: 0}


def test_pages_cover_everything_once_and_ignore_newer_arrivals(ingest: Ingest) -> None:
    # Pairs of traces share a start time, so the id breaks ties inside a page boundary.
    expected = [root(ingest, T0 + (i // 2) * MS) for i in range(25)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        with ingest.store.session() as session:
            page = list_traces(session, ingest.project_id, limit=4, cursor=cursor)
        seen += [t.trace_id for t in page.items]
        pages += 1
        if pages == 2:
            # Newer traces arriving between requests do not shift later pages.
            root(ingest, T0 + 1000 * MS)
            root(ingest, T0 + 12 * MS)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 7
    assert len(seen) == len(set(seen)) == 25
    with ingest.store.session() as session:
        newest_first = [
            t.trace_id for t in list_traces(session, ingest.project_id, limit=500).items
        ]
    assert seen == [t for t in newest_first if t in set(expected)]


def test_filters_apply_across_pages(ingest: Ingest) -> None:
    errors = [root(ingest, T0 + i * MS, status="error" if i % 2 else "ok") for i in range(9)]
    got: list[str] = []
    cursor = None
    while True:
        with ingest.store.session() as session:
            page = list_traces(
                session, ingest.project_id, TraceFilter(status="error"), limit=2, cursor=cursor
            )
        got += [t.trace_id for t in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert got == list(reversed(errors[1::2]))


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "", "!!!", encode_cursor("feedback", 3), encode_cursor("traces", 1)],
)
def test_malformed_cursor_is_invalid_input(ingest: Ingest, cursor: str) -> None:
    with ingest.store.session() as session, pytest.raises(InvalidInput, match=r"^cursor:"):
        list_traces(session, ingest.project_id, cursor=cursor)


@pytest.mark.parametrize("limit", [0, 501])
def test_limit_out_of_range(ingest: Ingest, limit: int) -> None:
    with ingest.store.session() as session, pytest.raises(InvalidInput, match=r"^limit:"):
        list_traces(session, ingest.project_id, limit=limit)


def test_other_projects_traces_are_invisible(ingest: Ingest, other: Ingest) -> None:
    mine = root(ingest, T0)
    theirs = root(other, T0 + MS)
    assert trace_ids(ingest) == [mine]
    with ingest.store.session() as session:
        with pytest.raises(NotFound):
            get_trace(session, ingest.project_id, theirs)
        assert get_trace(session, other.project_id, theirs).trace_id == theirs


def test_boolean_slices_match_alike_on_both_dialects(ingest: Ingest) -> None:
    beta = root(ingest, T0, resource={"assay.slice.beta": True})
    stable = root(ingest, T0 + MS, resource={"assay.slice.beta": False})
    assert trace_ids(ingest, slices=[("beta", "true")]) == [beta]
    assert trace_ids(ingest, slices=[("beta", "false")]) == [stable]
    assert trace_ids(ingest, slices=[("beta", "1")]) == []
