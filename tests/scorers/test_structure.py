"""The json scorer: parsing, extraction, JSON Schema with the failing path named."""

from __future__ import annotations

import json

import pytest

from assay.errors import InvalidInput
from assay.scorers import JsonArgs, JsonScorer, ScorerSpec, create_scorer

SCHEMA = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["price"],
                "properties": {"price": {"type": "number"}},
            },
        }
    },
}


@pytest.mark.parametrize("output", ['{"a": 1}', "[1, 2]", "3", '"text"', " null ", '{"é": "ü"}'])
def test_valid_json_text_passes(run_score, output: str) -> None:
    score = run_score(JsonScorer(), output)
    assert (score.value, score.passed) == (1.0, True)


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("{'a': 1}", "output is not JSON: Expecting property name"),
        ("", "output is not JSON"),
        ("NaN", "output is not JSON"),
        (None, "there is no output"),
        ({"when": {1, 2}}, "output is not JSON-able"),
        ('Sure! ```json\n{"a": 1}\n```', "output is not JSON"),
    ],
)
def test_invalid_output_fails_with_a_reason(run_score, output: object, reason: str) -> None:
    score = run_score(JsonScorer(), output)
    assert (score.value, score.passed) == (0.0, False)
    assert score.reason.startswith(reason)


def test_structured_output_is_already_json(run_score) -> None:
    assert run_score(JsonScorer(), {"a": [1, None]}).passed is True
    assert run_score(JsonScorer(), 5).passed is True


def test_extract_finds_json_in_prose(run_score) -> None:
    scorer = create_scorer("json:extract=true")
    assert run_score(scorer, 'Sure! ```json\n{"a": 1}\n```').passed is True
    failed = run_score(scorer, "I cannot do that.")
    assert failed.reason == "no JSON object or array found in the output"


def test_schema_pass_and_failing_path(run_score) -> None:
    scorer = JsonScorer(JsonArgs.model_validate({"schema": SCHEMA}))
    good = {"items": [{"price": 1}, {"price": 2.5}]}
    assert run_score(scorer, json.dumps(good)).reason == "output is valid under the schema"
    bad = {"items": [{"price": 1}, {"price": "cheap"}]}
    score = run_score(scorer, json.dumps(bad))
    assert (score.value, score.passed) == (0.0, False)
    assert score.reason == "$.items[1].price: 'cheap' is not of type 'number'"
    assert score.metadata == {
        "errors": [{"path": "$.items[1].price", "message": "'cheap' is not of type 'number'"}],
        "error_count": 1,
    }


def test_schema_counts_every_error(run_score) -> None:
    scorer = JsonScorer(JsonArgs.model_validate({"schema": SCHEMA}))
    bad = {"items": [{"price": str(i)} for i in range(15)]}
    score = run_score(scorer, bad)
    assert score.metadata["error_count"] == 15
    assert len(score.metadata["errors"]) == 10
    assert score.reason.endswith("(and 14 more)")


def test_schema_from_the_command_line_and_its_spec(run_score) -> None:
    scorer = create_scorer('json:{"schema": {"type": "object", "required": ["id"]}}')
    assert scorer.spec == ScorerSpec("json", {"schema": {"type": "object", "required": ["id"]}})
    assert create_scorer(scorer.spec).spec == scorer.spec
    assert run_score(scorer, '{"id": 1}').passed is True
    assert run_score(scorer, "{}").reason == "$: 'id' is a required property"


def test_an_invalid_schema_is_refused_naming_the_argument() -> None:
    with pytest.raises(InvalidInput, match=r"argument 'schema'.*not a valid JSON Schema"):
        create_scorer('json:{"schema": {"type": "strnig"}}')
    with pytest.raises(InvalidInput, match="unknown argument 'schema_'"):
        create_scorer('json:{"schema_": {}}')
