"""exact, contains and regex on passing, failing and edge inputs."""

from __future__ import annotations

import pytest

from assay.errors import InvalidInput
from assay.scorers import (
    ContainsArgs,
    ContainsScorer,
    ExactArgs,
    ExactScorer,
    RegexScorer,
    ScorerError,
    create_scorer,
)
from assay.scorers.match import RegexArgs


@pytest.mark.parametrize(
    ("output", "reference"),
    [
        ("Paris", "Paris"),
        (" paris. ", "PARIS"),
        ("Ｔｏｋｙｏ", "tokyo"),
        ("Straße", "STRASSE"),
        ("東京。", "東京"),
        (42, "42"),
        ({"b": 2, "a": 1}, {"a": 1, "b": 2}),
        ("", ""),
        (None, ""),
    ],
)
def test_exact_passes(run_score, output: object, reference: object) -> None:
    score = run_score(ExactScorer(), output, reference)
    assert (score.value, score.passed) == (1.0, True)
    assert score.reason == "output equals the reference"


@pytest.mark.parametrize(
    ("output", "reference"),
    [("Lyon", "Paris"), ("-5", "5"), (None, "Paris"), (42, 43), ("Paris is nice", "Paris")],
)
def test_exact_fails(run_score, output: object, reference: object) -> None:
    score = run_score(ExactScorer(), output, reference)
    assert (score.value, score.passed) == (0.0, False)
    assert "differs from reference" in score.reason


def test_exact_without_normalisation_is_strict(run_score) -> None:
    strict = ExactScorer(ExactArgs(normalize=False))
    assert run_score(strict, "Paris.", "Paris").passed is False
    assert run_score(strict, "Paris", "Paris").passed is True
    assert strict.spec.args == {"normalize": False}


def test_exact_reason_quotes_are_cut(run_score) -> None:
    score = run_score(ExactScorer(), "x" * 500, "y")
    assert len(score.reason) < 200
    assert "…" in score.reason


def test_exact_without_a_reference_is_an_error_not_a_fail(run_score) -> None:
    with pytest.raises(ScorerError, match="'exact' needs a reference"):
        run_score(ExactScorer(), "Paris", None)


def test_contains_the_reference(run_score) -> None:
    scorer = ContainsScorer()
    assert run_score(scorer, "The capital is PARIS!", "paris.").passed is True
    failed = run_score(scorer, "The capital is Lyon", "Paris")
    assert (failed.value, failed.passed) == (0.0, False)
    assert failed.metadata == {"found": [], "missing": ["Paris"]}
    assert run_score(scorer, {"city": "Paris"}, "paris").passed is True
    assert run_score(scorer, None, "Paris").passed is False


def test_contains_all_gives_partial_credit(run_score) -> None:
    scorer = create_scorer('contains:values=["refund", "sorry", "ticket"]')
    score = run_score(scorer, "Sorry! A refund is on its way.")
    assert score.value == pytest.approx(2 / 3)
    assert score.passed is False
    assert score.metadata == {"found": ["refund", "sorry"], "missing": ["ticket"]}
    assert "'ticket'" in score.reason
    assert run_score(scorer, "sorry, refund, ticket").value == 1.0


def test_contains_any(run_score) -> None:
    scorer = create_scorer('contains:values=["refund", "remboursement"],mode=any')
    score = run_score(scorer, "Votre remboursement arrive.")
    assert (score.value, score.passed) == (1.0, True)
    assert "remboursement" in score.reason
    assert run_score(scorer, "nothing").value == 0.0


def test_contains_a_value_case_sensitively(run_score) -> None:
    scorer = ContainsScorer(ContainsArgs(value="Ñandú", normalize=False))
    assert run_score(scorer, "un Ñandú corre").passed is True
    assert run_score(scorer, "un ñandú corre").passed is False


def test_contains_a_list_reference(run_score) -> None:
    score = run_score(ContainsScorer(), "alpha and beta", ["alpha", "beta"])
    assert score.passed is True
    with pytest.raises(ScorerError, match="empty list"):
        run_score(ContainsScorer(), "alpha", [])


def test_contains_argument_errors() -> None:
    with pytest.raises(InvalidInput, match="give `value` or `values`, not both"):
        create_scorer('contains:value=a,values=["b"]')
    with pytest.raises(InvalidInput, match="argument 'values'"):
        create_scorer("contains:values=[]")
    with pytest.raises(InvalidInput, match="argument 'value'"):
        create_scorer('contains:value=""')
    with pytest.raises(InvalidInput, match="argument 'mode'"):
        create_scorer("contains:mode=some")


def test_contains_without_reference_or_values_is_an_error(run_score) -> None:
    with pytest.raises(ScorerError, match="'contains' needs a reference"):
        run_score(ContainsScorer(), "text", None)


def test_regex_search_and_metadata(run_score) -> None:
    scorer = create_scorer(r"regex:pattern=order #\d+")
    score = run_score(scorer, "Your order #1234 shipped")
    assert (score.value, score.passed) == (1.0, True)
    assert score.metadata == {"match": "order #1234", "start": 5}
    failed = run_score(scorer, "Your order shipped")
    assert (failed.value, failed.passed) == (0.0, False)
    assert failed.reason == r"output has no match for /order #\d+/"


def test_regex_flags_and_fullmatch(run_score) -> None:
    assert run_score(create_scorer("regex:pattern=^yes$,flags=mi"), "well\nYES\n").passed
    assert not run_score(create_scorer("regex:pattern=^yes$"), "well\nYES\n").passed
    full = create_scorer(r"regex:pattern=\d+,fullmatch=true")
    assert run_score(full, "123").passed
    assert not run_score(full, "123abc").passed
    assert "does not fully match" in run_score(full, "123abc").reason


def test_regex_on_non_ascii_none_and_structured_output(run_score) -> None:
    assert run_score(create_scorer(r"regex:pattern=\w+é"), "café").passed
    assert run_score(create_scorer(r"regex:pattern=\w+,flags=a"), "ééé").passed is False
    assert run_score(create_scorer("regex:pattern=^$"), None).passed is True
    assert run_score(create_scorer('regex:pattern="\\"ok\\": true"'), {"ok": True}).passed


def test_regex_argument_errors() -> None:
    with pytest.raises(
        InvalidInput, match=r"scorer 'regex': pattern '\(unclosed' does not compile"
    ):
        create_scorer("regex:pattern=(unclosed")
    with pytest.raises(InvalidInput, match="unknown flags 'qz'"):
        create_scorer("regex:pattern=a,flags=iqz")


def test_regex_flags_are_canonical() -> None:
    assert (
        create_scorer("regex:pattern=a,flags=mi").spec
        == create_scorer("regex:pattern=a,flags=im").spec
    )
    assert isinstance(create_scorer("regex:pattern=a"), RegexScorer)


def test_a_backtracking_regex_stops_and_is_an_error_not_a_hang(run_score) -> None:
    scorer = RegexScorer(RegexArgs(pattern="^(a|aa)+$"))
    with pytest.raises(ScorerError, match="took longer than 1 s"):
        run_score(scorer, "a" * 60 + "b")
    assert run_score(scorer, "aaaa").passed is True
