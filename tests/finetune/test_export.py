"""Fine-tuning export: corrections become chat examples; eval cases never do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assay.accounts import create_user
from assay.cli.main import app
from assay.datasets import CaseSpec, add_version
from assay.embeddings import Embedder, get_embedder
from assay.errors import InvalidInput
from assay.finetune import export_corrections
from assay.ingest.normalize import normalize_traces
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects import create_project, project_config
from assay.review import claim_next, create_queue, enqueue, get_queue, promote, submit
from assay.store import Store
from assay.testing.otlp import export_trace_request, genai_llm_span
from assay.traces import record_feedback

QUESTIONS = {
    "a" * 32: "How do I reset my password?",
    "b" * 32: "Can I change the delivery address after ordering?",
    "c" * 32: "What is your refund policy for opened items?",
    "d" * 32: "Do you ship to Norway?",
}


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return get_embedder("minilm")


@pytest.fixture
def shop(store: Store) -> int:
    """A project with four answered questions, each one trace."""
    with store.write_session() as session:
        project_id = create_project(session, "shop").id
    with store.session() as session:
        config = project_config(session, project_id)
    spans = [
        genai_llm_span(
            prompt=question, completion="Please contact support.", system="Be brief.",
            trace_id=trace_id,
        )
        for trace_id, question in QUESTIONS.items()
    ]  # fmt: skip
    batch = normalize_traces(export_trace_request(spans), config, PriceTable())
    Writer(store, queue_bytes=1 << 20, batch_bytes=1 << 20).write_now(spans=batch)
    return project_id


def correct(store: Store, project_id: int, trace_id: str, answer: Any, **kw: Any) -> None:
    with store.write_session() as session:
        record_feedback(session, project_id, trace_id, kw.pop("name", "correction"), answer, **kw)


def eval_cases(store: Store, project_id: int, *inputs: str) -> None:
    with store.write_session() as session:
        add_version(
            session,
            project_id,
            "golden",
            [CaseSpec(id=f"g{i}", input=t) for i, t in enumerate(inputs)],
        )


def test_corrections_become_chat_examples_and_eval_questions_are_excluded(
    store: Store, shop: int, minilm: Embedder
) -> None:
    for trace_id in QUESTIONS:
        correct(store, shop, trace_id, f"Fixed answer for {trace_id[0]}.", comment="agent")
    # A newer correction of the same trace wins; a thumbs-down is not a correction.
    correct(store, shop, "d" * 32, "We ship to Norway in 3-5 days.")
    correct(store, shop, "d" * 32, False, name="thumbs")
    eval_cases(
        store, shop,
        "how do I   RESET my password?",  # the same question: case and spaces differ
        "Can I change the delivery address after ordering",  # nearly: no question mark
        "Which payment methods do you accept?",
    )  # fmt: skip
    result = export_corrections(store, shop, embedder=minilm)
    assert result.corrections == 4
    assert result.cases_checked == 3
    assert result.threshold == 0.95
    excluded = {e.trace_id: e for e in result.excluded}
    assert excluded["a" * 32].kind == "exact"
    assert (excluded["a" * 32].dataset, excluded["a" * 32].case_id) == ("golden", "g0")
    assert excluded["b" * 32].kind == "near"
    assert excluded["b" * 32].similarity >= 0.95
    assert excluded["b" * 32].case_id == "g1"
    assert len(result.records) == 2
    by_question = {r["messages"][1]["content"]: r["messages"] for r in result.records}
    assert by_question[QUESTIONS["d" * 32]] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Do you ship to Norway?"},
        {"role": "assistant", "content": "We ship to Norway in 3-5 days."},
    ]
    assert by_question[QUESTIONS["c" * 32]][-1]["content"] == "Fixed answer for c."
    lines = [json.loads(line) for line in result.jsonl().decode().splitlines()]
    assert lines == result.records


def test_without_an_embedder_only_exact_copies_are_excluded(store: Store, shop: int) -> None:
    for trace_id in QUESTIONS:
        correct(store, shop, trace_id, "Better answer.")
    eval_cases(store, shop, "How do I reset my password?", "Can I change the delivery address")
    result = export_corrections(store, shop, format="generic")
    assert [e.trace_id for e in result.excluded] == ["a" * 32]
    assert result.threshold is None
    assert len(result.records) == 3
    record = next(r for r in result.records if r["trace_id"] == "c" * 32)
    assert record["output"] == "Better answer."
    assert record["original_output"][0]["content"] == "Please contact support."
    assert record["input"][-1] == {"role": "user", "content": QUESTIONS["c" * 32]}
    assert record["correction"]["source"] == "feedback"
    assert record["correction"]["id"] > 0


def test_corrections_without_a_trace_or_text_are_skipped(store: Store, shop: int) -> None:
    correct(store, shop, "e" * 32, "An answer for a trace that never came.")
    correct(store, shop, "c" * 32, "   ")
    result = export_corrections(store, shop)
    assert result.records == []
    assert {(s.trace_id, s.reason) for s in result.skipped} == {
        ("e" * 32, "the trace has not arrived"),
        ("c" * 32, "the correction is empty"),
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "csv"}, "format must be one of openai, generic"),
        ({"feedback_name": " "}, "feedback name must not be empty"),
        ({"threshold": 0.2}, "threshold must be between 0.5 and 1"),
    ],
)
def test_bad_options_are_refused(
    store: Store, shop: int, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        export_corrections(store, shop, **options)


def test_cli_writes_the_file_and_reports_exclusions(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    with store.write_session() as session:
        project_id = create_project(session, "cli-shop").id
    with store.session() as session:
        config = project_config(session, project_id)
    span = genai_llm_span(prompt=QUESTIONS["a" * 32], trace_id="a" * 32)
    other = genai_llm_span(prompt=QUESTIONS["c" * 32], trace_id="c" * 32)
    batch = normalize_traces(export_trace_request([span, other]), config, PriceTable())
    Writer(store, queue_bytes=1 << 20, batch_bytes=1 << 20).write_now(spans=batch)
    correct(store, project_id, "a" * 32, "Use the reset link.")
    correct(store, project_id, "c" * 32, "Opened items: store credit.")
    eval_cases(store, project_id, QUESTIONS["a" * 32])
    out = tmp_path / "train.jsonl"
    runner = CliRunner()
    args = ["finetune", "export", "-p", "cli-shop", "-o", str(out), "--db", store.url]
    result = runner.invoke(app, [*args, "--no-near-duplicates", "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["written"] == 1
    assert [e["trace_id"] for e in report["excluded"]] == ["a" * 32]
    assert "records" not in report
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["messages"][-1] == {
        "role": "assistant", "content": "Opened items: store credit."
    }  # fmt: skip
    human = runner.invoke(app, [*args, "--no-near-duplicates"])
    assert human.exit_code == 0
    assert "Wrote 1 examples" in human.stdout
    assert "exact" in human.stdout
    bad = runner.invoke(app, [*args, "--format", "csv"])
    assert bad.exit_code == 2
    assert "--format must be one of openai, generic" in bad.stderr
    review_only = runner.invoke(app, [*args, "--no-near-duplicates", "--source", "review"])
    assert review_only.exit_code == 0
    assert "Wrote 0 examples" in review_only.stdout
    wrong = runner.invoke(app, [*args, "--source", "tickets"])
    assert wrong.exit_code == 2
    assert "--source must be one of feedback, review" in wrong.stderr


def test_chat_cases_are_compared_by_their_last_user_message(store: Store, shop: int) -> None:
    correct(store, shop, "c" * 32, "Store credit for opened items.")
    chat_case = [
        {"role": "system", "content": "You are the shop's assistant."},
        {"role": "user", "content": "what is your refund policy for OPENED items?"},
    ]
    with store.write_session() as session:
        add_version(session, shop, "chats", [CaseSpec(id="chat-1", input=chat_case)])
    result = export_corrections(store, shop)
    assert [(e.trace_id, e.kind, e.dataset, e.case_id) for e in result.excluded] == [
        ("c" * 32, "exact", "chats", "chat-1")
    ]
    assert result.records == []


def test_a_trace_without_input_text_is_skipped(store: Store, shop: int) -> None:
    with store.session() as session:
        config = project_config(session, shop)
    silent = genai_llm_span(include_content=False, trace_id="f" * 32)
    batch = normalize_traces(export_trace_request([silent]), config, PriceTable())
    Writer(store, queue_bytes=1 << 20, batch_bytes=1 << 20).write_now(spans=batch)
    correct(store, shop, "f" * 32, "A fine answer.")
    result = export_corrections(store, shop)
    assert [(s.trace_id, s.reason) for s in result.skipped] == [
        ("f" * 32, "the trace has no input text")
    ]


def _reviewed(store: Store, project_id: int, corrections: dict[str, str]) -> None:
    """Each trace labelled in a one-annotator queue whose label carries a correction."""
    with store.write_session() as session:
        queue = create_queue(
            session,
            project_id,
            {
                "name": "fixes",
                "overlap": 1,
                "fields": [
                    {"name": "ok", "type": "boolean"},
                    {"name": "fix", "type": "correction", "required": False},
                ],
            },
        )
        user = create_user(session, "rev", "password-1", role="annotator")
        for trace_id in corrections:
            enqueue(session, project_id, queue.id, trace_id)
    for _ in corrections:
        with store.write_session() as session:
            claim = claim_next(session, queue, user)
            assert claim is not None
            fix = corrections[claim.trace_id]
            submit(session, queue, user, claim.item_id, {"ok": not fix, "fix": fix})


def test_reviewed_corrections_are_a_source_and_promoted_ones_are_excluded(
    store: Store, shop: int
) -> None:
    correct(store, shop, "a" * 32, "Feedback answer for a.")
    _reviewed(store, shop, {"b" * 32: "Reviewed answer for b.", "c" * 32: ""})
    result = export_corrections(store, shop, format="generic")
    by_trace = {r["trace_id"]: r for r in result.records}
    assert set(by_trace) == {"a" * 32, "b" * 32}  # c's label has no correction
    assert by_trace["b" * 32]["output"] == "Reviewed answer for b."
    assert by_trace["b" * 32]["correction"]["source"] == "review"
    assert by_trace["b" * 32]["correction"]["queue"] == "fixes"
    only_feedback = export_corrections(store, shop, sources=("feedback",))
    assert only_feedback.corrections == 1
    # Once promoted, b is an eval case: its correction must not train a model.
    with store.write_session() as session:
        queue = get_queue(session, shop, "fixes")
        promote(session, shop, queue, "regressions")
    guarded = export_corrections(store, shop, sources=("review",))
    assert guarded.records == []
    assert [(e.trace_id, e.kind, e.dataset) for e in guarded.excluded] == [
        ("b" * 32, "exact", "regressions")
    ]
    with pytest.raises(InvalidInput, match="sources must be"):
        export_corrections(store, shop, sources=("tickets",))  # type: ignore[arg-type]
