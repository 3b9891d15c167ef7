"""The condition language: both forms parse to the same condition, errors name the bad
part, and evaluation against facts loaded in batches."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from assay.errors import InvalidInput
from assay.signals.conditions import (
    Condition,
    conditions_json,
    load_conditions,
    parse_condition,
    parse_conditions,
)
from assay.signals.facts import TraceFacts, load_facts

from .conftest import Project, tid


@pytest.mark.parametrize(
    ("text", "as_dict"),
    [
        ("feedback.thumbs <= 0", {"field": "feedback.thumbs", "op": "le", "value": 0}),
        ("status == error", {"field": "status", "op": "eq", "value": "error"}),
        ("status=error", {"field": "status", "op": "eq", "value": "error"}),
        ("slice.locale in de,fr", {"field": "slice.locale", "op": "in", "value": ["de", "fr"]}),
        (
            "slice.locale not in de, fr",
            {"field": "slice.locale", "op": "not_in", "value": ["de", "fr"]},
        ),
        (
            "passed.faithfulness == false",
            {"field": "passed.faithfulness", "op": "eq", "value": False},
        ),
        ("score.judge < 0.5", {"field": "score.judge", "op": "lt", "value": 0.5}),
        ("feedback.correction exists", {"field": "feedback.correction", "op": "exists"}),
        ("signal.retried missing", {"field": "signal.retried", "op": "missing"}),
        ("output contains refund", {"field": "output", "op": "contains", "value": "refund"}),
        ("release == 1.10", {"field": "release", "op": "eq", "value": "1.10"}),
        ("latency_ms >= 2000", {"field": "latency_ms", "op": "ge", "value": 2000}),
        ('model != "gpt 4, turbo"', {"field": "model", "op": "ne", "value": "gpt 4, turbo"}),
    ],
)
def test_text_and_object_forms_agree(text: str, as_dict: dict[str, Any]) -> None:
    from_text = parse_condition(text)
    assert from_text.to_dict() == as_dict
    assert parse_condition(as_dict) == from_text
    # The text form reads back as the same condition.
    assert parse_condition(str(from_text)) == from_text


def test_stored_json_round_trips() -> None:
    conditions = parse_conditions(
        ["feedback.thumbs <= 0", {"field": "status", "op": "ne", "value": "ok"}]
    )
    assert load_conditions(conditions_json(conditions)) == conditions
    assert parse_conditions(None) == []
    assert parse_conditions("status == error") == [Condition("status", "eq", "error")]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "condition is empty"),
        ("colour == red", "unknown field 'colour'"),
        ("feedback. == 1", "name what comes after 'feedback.'"),
        ("status ~ error", "unknown operator '~'"),
        ("status == broken", "status must be one of ok, error, unset; got 'broken'"),
        ("score.judge < high", "value must be a number; got 'high'"),
        ("passed.judge == maybe", "value must be true or false; got 'maybe'"),
        ("status <", "no value after '<'"),
        ("feedback.correction exists now", "'exists' takes no value"),
        ("status contains err", "operator 'contains' does not apply to 'status'"),
        ("passed.judge < 1", "operator '<' does not apply to 'passed.judge'"),
        ("slice.locale in de,,fr", "empty item in the list of values"),
        ("just-a-word", "expected FIELD OP VALUE"),
    ],
)
def test_text_errors_name_the_bad_part(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match="condition") as caught:
        parse_condition(raw)
    assert message in str(caught.value)
    if raw:
        assert repr(raw.strip()) in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"field": "status", "op": "eq"}, "condition on 'status': '==' needs a value"),
        ({"op": "eq", "value": 1}, "'field' is missing"),
        ({"field": "status", "op": "eq", "value": "ok", "extra": 1}, "unknown keys extra"),
        ({"field": "cost", "op": "gt", "value": [1, 2]}, "value must be a single"),
        (42, "expected text 'FIELD OP VALUE' or an object"),
    ],
)
def test_object_errors_name_the_bad_part(raw: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match="condition") as caught:
        parse_condition(raw)
    assert message in str(caught.value)


def test_a_list_names_the_position_of_the_bad_condition() -> None:
    with pytest.raises(InvalidInput, match=r"rule 'x'\[1\]: condition 'nope == 1': unknown"):
        parse_conditions(["status == ok", "nope == 1"], where="rule 'x'")


def _facts(**kwargs: Any) -> TraceFacts:
    attributes = {
        "status": "ok",
        "model": "gpt-x",
        "latency_ms": 1500.0,
        "cost": 0.02,
        "tokens": 15,
        "input": "How do I get a refund?",
        "output": "Please contact Support.",
    }
    facts = TraceFacts(row_id=1, project_id=1, trace_id=tid(0), attributes=attributes)
    for key, value in kwargs.items():
        setattr(facts, key, value)
    return facts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status == ok", True),
        ("status != ok", False),
        ("status in error,unset", False),
        ("latency_ms > 1000", True),
        ("tokens <= 14", False),
        ("cost == 0.02", True),
        ("model in gpt-x,gpt-y", True),
        ("input contains REFUND", True),
        ("output contains refund", False),
        ("feedback.thumbs <= 0", True),
        ("feedback.thumbs == false", True),
        ("feedback.label == wrong", True),
        ("feedback.label < 1", False),
        ("feedback.correction exists", False),
        ("feedback.correction missing", True),
        ("signal.retried == 1", True),
        ("slice.locale in de,fr", True),
        ("slice.tier == 2", True),
        ("slice.beta == true", True),
        ("slice.region != eu", False),
        ("slice.region not in eu", False),
        ("passed.judge == false", True),
        ("score.judge < 0.5", True),
        ("confidence.judge < 0.5", False),
        ("score.other < 0.5", False),
    ],
)
def test_evaluation(text: str, expected: bool) -> None:
    from assay.signals.facts import ScoreFact

    facts = _facts(
        feedback={"thumbs": 0.0, "label": "wrong"},
        signals={"retried": 1.0},
        slices={"locale": "de", "tier": "2", "beta": True},
        scores={"judge": ScoreFact(value=0.2, passed=False, confidence=None)},
    )
    assert facts.check([parse_condition(text)]) is expected


def test_all_conditions_must_hold_and_none_always_holds() -> None:
    facts = _facts(feedback={"thumbs": 0.0})
    assert facts.check([])
    assert facts.check(parse_conditions(["status == ok", "feedback.thumbs <= 0"]))
    assert not facts.check(parse_conditions(["status == ok", "feedback.thumbs > 0"]))


def test_explain_shows_the_trace_value() -> None:
    facts = _facts(feedback={"thumbs": 0.0})
    conditions = parse_conditions(["feedback.thumbs <= 0", "signal.retried missing"])
    assert facts.explain(conditions) == "feedback.thumbs <= 0 (was 0); signal.retried missing"


def test_facts_load_in_one_query_per_table(project: Project) -> None:
    project.traces(range(30), slices={"locale": "de"}, input='[{"role": "user", "content": "hi"}]')
    project.feedback(1, "thumbs", False)
    project.feedback(1, "thumbs", True)  # the latest wins
    project.feedback(2, "correction", "Paris")
    project.feedback(2, "retried", 1.0, source="implicit")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(project.store.engine, "before_cursor_execute", count)
    try:
        with project.store.session() as session:
            facts = load_facts(session, project.id, [tid(n) for n in range(30)] + [tid(99)])
    finally:
        event.remove(project.store.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, selects
    assert len(facts) == 30
    assert facts[tid(1)].get("feedback.thumbs") == 1.0
    assert facts[tid(2)].get("feedback.correction") == "Paris"
    assert facts[tid(2)].get("signal.retried") == 1.0
    assert facts[tid(2)].get("feedback.retried") is None
    assert facts[tid(0)].get("slice.locale") == "de"
    assert facts[tid(0)].get("input") == "hi"
    assert facts[tid(0)].get("tokens") == 15
    assert facts[tid(0)].get("latency_ms") == 1000.0
    assert facts[tid(0)].get("release") == "v1"
