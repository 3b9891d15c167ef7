"""Pairwise judging: both orders asked, position bias cancelled, verdicts combined."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from assay.errors import InvalidInput
from assay.scorers import ChatEndpoint, JudgeResponseError, PairwiseResult, judge_pairwise
from assay.scorers.pairwise import parse_winner
from assay.testing import serve_openai

A = "Paris is the capital of France."
B = "I think it is Lyon."


def first_and_second(prompt: str) -> tuple[str, str]:
    first = prompt.split("<output_1>\n", 1)[1].split("\n</output_1>", 1)[0]
    second = prompt.split("<output_2>\n", 1)[1].split("\n</output_2>", 1)[0]
    return first, second


def run(responses: Callable[[dict[str, Any]], str], **kwargs: Any) -> tuple[PairwiseResult, list]:
    with serve_openai(responses=responses) as server:
        endpoint = ChatEndpoint("judge-1", server.base_url)
        result = asyncio.run(
            judge_pairwise(A, B, input="Capital of France?", endpoint=endpoint, **kwargs)
        )
        return result, server.requests


def prefers_paris(body: dict[str, Any]) -> str:
    first, _ = first_and_second(body["messages"][0]["content"])
    winner = "1" if "Paris" in first else "2"
    return f'{{"reason": "Paris is right.", "winner": "{winner}"}}'


def always_first(body: dict[str, Any]) -> str:
    return '{"reason": "The first one.", "winner": 1}'


def test_both_orders_are_asked_with_the_outputs_swapped() -> None:
    _, requests = run(prefers_paris)
    orders = sorted(first_and_second(r["messages"][0]["content"]) for r in requests)
    assert orders == sorted([(A, B), (B, A)])
    assert all("Capital of France?" in r["messages"][0]["content"] for r in requests)


def test_a_consistent_preference_wins() -> None:
    result, _ = run(prefers_paris)
    assert result.winner == "a"
    assert result.value == 1.0
    assert result.preferences == ("a", "a")
    assert result.reason.startswith("a preferred in both orders.")
    assert "a first: Paris is right." in result.reason
    # raw[0] is the reply with a shown first, raw[1] with b shown first.
    assert result.raw == (
        '{"reason": "Paris is right.", "winner": "1"}',
        '{"reason": "Paris is right.", "winner": "2"}',
    )


def test_a_position_biased_judge_gives_a_tie() -> None:
    result, _ = run(always_first)
    assert result.winner == "tie"
    assert result.value == 0.5
    assert result.preferences == ("a", "b")
    assert result.reason.startswith("orders disagree (a first: a, b first: b): tie")


def test_the_other_output_can_win() -> None:
    def prefers_lyon(body: dict[str, Any]) -> str:
        first, _ = first_and_second(body["messages"][0]["content"])
        return '{"winner": "%s"}' % ("first" if "Lyon" in first else "second")

    result, _ = run(prefers_lyon)
    assert (result.winner, result.value, result.preferences) == ("b", 0.0, ("b", "b"))
    assert result.reason == "b preferred in both orders"


def test_half_a_tie() -> None:
    def tie_when_paris_first(body: dict[str, Any]) -> str:
        first, _ = first_and_second(body["messages"][0]["content"])
        return '{"winner": "tie"}' if "Paris" in first else '{"winner": "2"}'

    result, _ = run(tie_when_paris_first)
    assert (result.winner, result.value, result.preferences) == ("tie", 0.75, ("tie", "a"))


def test_to_score() -> None:
    result, _ = run(prefers_paris)
    score = result.to_score()
    assert (score.value, score.passed) == (1.0, True)
    assert score.metadata["winner"] == "a"
    assert len(score.metadata["raw"]) == 2
    tie, _ = run(always_first)
    assert tie.to_score().passed is None


def test_reference_rubric_and_template_reach_the_prompt() -> None:
    template = "{{ rubric }}|{{ reference }}|{{ first }}|{{ second }}|winner?"
    _, requests = run(
        lambda body: '{"winner": "tie"}', reference="Paris", rubric="Facts only", template=template
    )
    prompts = sorted(r["messages"][0]["content"] for r in requests)
    assert prompts == sorted(
        [f"Facts only|Paris|{A}|{B}|winner?", f"Facts only|Paris|{B}|{A}|winner?"]
    )


def test_unreadable_winner_is_an_error() -> None:
    with pytest.raises(JudgeResponseError, match='no JSON object with a "winner"'):
        run(lambda body: "Output 1, clearly.")
    with pytest.raises(JudgeResponseError, match="winner 'both' is not"):
        run(lambda body: '{"winner": "both"}')


def test_bad_template_is_invalid_input() -> None:
    endpoint = ChatEndpoint("m", "http://unused.test/v1")
    with pytest.raises(InvalidInput, match="unknown variables output"):
        asyncio.run(judge_pairwise(A, B, input="q", endpoint=endpoint, template="{{ output }}"))


@pytest.mark.parametrize(
    ("reply", "winner"),
    [
        ('{"winner": 1}', "first"),
        ('{"winner": "Output 2"}', "second"),
        ('{"winner": " TIE "}', "tie"),
        ('{"winner": "1"} then {"reason": "x", "winner": "2"}', "second"),
    ],
)
def test_parse_winner(reply: str, winner: str) -> None:
    assert parse_winner(reply)[0] == winner


def test_parse_winner_refuses_booleans() -> None:
    with pytest.raises(JudgeResponseError):
        parse_winner('{"winner": true}')
