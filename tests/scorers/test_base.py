"""Score validation and serialisation; the Scorer protocol."""

from __future__ import annotations

import math

import pytest

from assay.errors import AssayError, InvalidInput
from assay.scorers import ExactScorer, Score, ScoreInput, Scorer, ScorerError, ScorerSpec


@pytest.mark.parametrize("value", [0, 0.0, 0.25, 1, 1.0])
def test_values_in_the_unit_interval_are_kept_as_floats(value: float) -> None:
    score = Score(value)
    assert score.value == value
    assert type(score.value) is float


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-0.01, "in \\[0, 1\\]"),
        (1.0001, "in \\[0, 1\\]"),
        (math.nan, "in \\[0, 1\\]"),
        (math.inf, "in \\[0, 1\\]"),
        (True, "must be a number, got bool"),
        ("0.5", "must be a number, got str"),
        (None, "must be a number, got NoneType"),
    ],
)
def test_bad_values_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Score(value)  # type: ignore[arg-type]


def test_passed_must_be_a_bool_or_none() -> None:
    with pytest.raises(InvalidInput, match="passed"):
        Score(1.0, 1)  # type: ignore[arg-type]


def test_reason_must_be_text() -> None:
    with pytest.raises(InvalidInput, match="reason"):
        Score(1.0, True, 42)  # type: ignore[arg-type]


@pytest.mark.parametrize("metadata", [{"when": object()}, {"x": math.nan}, {"s": {1, 2}}])
def test_metadata_must_be_json(metadata: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="metadata must be JSON-able"):
        Score(0.5, None, "", metadata)


def test_round_trip_through_a_dict() -> None:
    score = Score(0.75, False, "close, but no", {"raw": "ünïcode", "n": [1, 2]})
    assert Score.from_dict(score.to_dict()) == score
    assert score.to_dict() == {
        "value": 0.75,
        "passed": False,
        "reason": "close, but no",
        "metadata": {"raw": "ünïcode", "n": [1, 2]},
    }


def test_from_dict_names_unknown_and_missing_fields() -> None:
    with pytest.raises(InvalidInput, match="unknown fields: bogus"):
        Score.from_dict({"value": 1, "bogus": 2})
    with pytest.raises(InvalidInput, match="no value"):
        Score.from_dict({"passed": True})


def test_score_input_defaults() -> None:
    case = ScoreInput(input="q", output="a")
    assert (case.reference, case.rubric, case.metadata) == (None, None, {})


def test_scorer_error_is_an_assay_error_and_carries_retryable() -> None:
    error = ScorerError("judge down", retryable=True)
    assert isinstance(error, AssayError)
    assert error.retryable
    assert not ScorerError("bad verdict").retryable


def test_builtins_satisfy_the_protocol_and_plain_objects_do_not() -> None:
    assert isinstance(ExactScorer(), Scorer)
    assert not isinstance(object(), Scorer)

    class SpecOnly:
        spec = ScorerSpec("x")

    assert not isinstance(SpecOnly(), Scorer)
