"""The numeric scorer: number parsing, tolerances, extraction, errors."""

from __future__ import annotations

import math

import pytest

from assay.errors import InvalidInput
from assay.scorers import NumericScorer, ScorerError, create_scorer, parse_number


@pytest.mark.parametrize(
    ("value", "extract", "expected"),
    [
        (42, False, 42.0),
        (-1.5, False, -1.5),
        (" 3.14 ", False, 3.14),
        ("1,234.5", False, 1234.5),
        ("+7", False, 7.0),
        (".5", False, 0.5),
        ("6.02e23", False, 6.02e23),
        ("４２", False, 42.0),
        ("12,34", False, None),
        ("1_000", False, None),
        ("nan", False, None),
        ("inf", False, None),
        (math.nan, False, None),
        (True, False, None),
        (None, False, None),
        ([1], False, None),
        ("about 42", False, None),
        ("The answer is 42.", True, 42.0),
        ("Total: -1,250.00 EUR", True, -1250.0),
        ("COVID-19 cases", True, 19.0),
        ("v1.2.3", True, None),
        ("no digits", True, None),
    ],
)
def test_parse_number(value: object, extract: bool, expected: float | None) -> None:
    assert parse_number(value, extract=extract) == expected


def test_equal_numbers_pass_and_others_fail(run_score) -> None:
    scorer = NumericScorer()
    assert run_score(scorer, "42", 42).passed is True
    assert run_score(scorer, 0.1 + 0.2, "0.3").passed is True
    failed = run_score(scorer, "42.5", "42")
    assert (failed.value, failed.passed) == (0.0, False)
    assert failed.reason == "42.5 differs from 42 by 0.5 (allowed 4.25e-08)"
    assert failed.metadata == {"output": 42.5, "reference": 42.0, "difference": 0.5}


def test_tolerances(run_score) -> None:
    absolute = create_scorer("numeric:abs_tol=0.01")
    assert run_score(absolute, "3.141", 3.1416).passed is True
    assert run_score(absolute, "3.13", 3.1416).passed is False
    relative = create_scorer("numeric:rel_tol=0.05")
    assert run_score(relative, "104", 100).passed is True
    assert run_score(relative, "106", 100).passed is False


def test_extract(run_score) -> None:
    scorer = create_scorer("numeric:extract=true")
    assert run_score(scorer, "Il y a 42 chats.", "42").passed is True
    assert run_score(create_scorer("numeric"), "Il y a 42 chats.", "42").reason == (
        "output 'Il y a 42 chats.' is not a number"
    )
    assert run_score(scorer, "aucun", "42").reason == "output 'aucun' holds no number"


def test_edge_outputs_fail(run_score) -> None:
    scorer = NumericScorer()
    for output in (None, True, {"n": 1}, "", "NaN"):
        score = run_score(scorer, output, 1)
        assert (score.value, score.passed) == (0.0, False), output


def test_overflowing_difference_is_not_stored_as_inf(run_score) -> None:
    score = run_score(NumericScorer(), 1e308, -1e308)
    assert score.passed is False
    assert score.metadata["difference"] is None


def test_reference_problems_are_errors(run_score) -> None:
    with pytest.raises(ScorerError, match="needs a reference"):
        run_score(NumericScorer(), "1", None)
    with pytest.raises(ScorerError, match="the reference 'about 3' is not a number"):
        run_score(NumericScorer(), "3", "about 3")


def test_tolerances_must_be_finite_and_non_negative() -> None:
    with pytest.raises(InvalidInput, match="argument 'abs_tol'"):
        create_scorer("numeric:abs_tol=-0.1")
    with pytest.raises(InvalidInput, match=r"scorer 'numeric': args\.rel_tol: NaN and infinity"):
        create_scorer('numeric:{"rel_tol": 1e999}')
