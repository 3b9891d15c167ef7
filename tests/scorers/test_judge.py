"""The LLM judge against the fake OpenAI server: verdicts, errors, prompts, secrets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assay.errors import InvalidInput
from assay.scorers import (
    DEFAULT_TEMPLATE,
    JudgeArgs,
    JudgeHTTPError,
    JudgeResponseError,
    JudgeScorer,
    ScoreInput,
    ScorerError,
    ScorerSpec,
    create_scorer,
    parse_verdict,
)
from assay.testing import Fault, OpenAIServer, Reply, serve_openai

# What the fake judge answers, keyed by a marker found in the graded output.
REPLIES = {
    "GOOD": 'The answer is right.\n```json\n{"reason": "Correct and complete.", "score": 1}\n```',
    "MEH": '{"reason": "Partly right.", "score": 0.4}',
    "FIVE": 'Reasoning first. {"score": 2} ... final: {"reason": "Weak.", "score": "2"}',
    "PROSE": "I would give this a solid four out of five.",
    "OUTSIDE": '{"reason": "Great", "score": 7}',
    "TEXTSCORE": '{"reason": "?", "score": "high"}',
}


def judge_reply(body: dict[str, Any]) -> str | Reply | None:
    prompt = body["messages"][-1]["content"]
    graded = prompt.split("<output>", 1)[-1]
    for marker, reply in REPLIES.items():
        if marker in graded:
            return reply
    return None


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    """A fake OpenAI-compatible endpoint answering with :data:`REPLIES`."""
    with serve_openai(responses=judge_reply, require_api_key="sk-judge") as running:
        yield running


def make(server: OpenAIServer, args: str = "") -> JudgeScorer:
    spec = f"judge:model=judge-1,base_url={server.base_url}" + (f",{args}" if args else "")
    scorer = create_scorer(spec, secrets={"api_key": "sk-judge"})
    assert isinstance(scorer, JudgeScorer)
    return scorer


def test_verdict_from_a_fenced_json_object(server: OpenAIServer, run_score) -> None:
    score = run_score(make(server), "GOOD answer", "ref", input="What is 2+2?")
    assert (score.value, score.passed, score.reason) == (1.0, True, "Correct and complete.")
    assert score.metadata["raw"] == REPLIES["GOOD"]
    assert score.metadata["score"] == 1
    assert score.metadata["judge_model"] == "judge-1"
    assert score.metadata["usage"]["total_tokens"] > 0


def test_threshold_decides_pass(server: OpenAIServer, run_score) -> None:
    score = run_score(make(server), "MEH answer")
    assert (score.value, score.passed) == (0.4, False)
    assert run_score(make(server, "threshold=0.3"), "MEH answer").passed is True
    assert run_score(make(server, "threshold=null"), "MEH answer").passed is None


def test_one_to_five_scale_maps_onto_the_unit_interval(server: OpenAIServer, run_score) -> None:
    scorer = make(server, "scale=[1,5]")
    score = run_score(scorer, "FIVE")
    assert score.value == pytest.approx(0.25)
    assert score.reason == "Weak."
    assert "from 1 (worst) to 5 (best)" in server.requests[-1]["messages"][0]["content"]


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("PROSE", 'judge reply has no JSON object with a "score"'),
        ("OUTSIDE", "judge score 7 is outside the scale 0-1"),
        ("TEXTSCORE", "judge score 'high' is not a number"),
    ],
)
def test_unreadable_verdicts_are_errors_not_fails(
    server: OpenAIServer, run_score, marker: str, message: str
) -> None:
    with pytest.raises(JudgeResponseError, match=message) as info:
        run_score(make(server), marker)
    assert info.value.raw == REPLIES[marker]
    assert isinstance(info.value, ScorerError)
    assert not info.value.retryable


def test_http_errors_carry_status_and_url(server: OpenAIServer, run_score) -> None:
    server.state.add_fault(Fault(status_code=503, message="overloaded"))
    with pytest.raises(JudgeHTTPError) as info:
        run_score(make(server), "GOOD")
    url = f"{server.base_url}/chat/completions"
    assert str(info.value) == f"judge request to {url} failed with HTTP 503: overloaded"
    assert (info.value.status_code, info.value.retryable) == (503, True)
    # The fault is used up; the next call succeeds.
    assert run_score(make(server), "GOOD").value == 1.0


def test_wrong_key_is_a_non_retryable_http_error(server: OpenAIServer, run_score) -> None:
    scorer = create_scorer(
        f"judge:model=judge-1,base_url={server.base_url}", secrets={"api_key": "sk-wrong"}
    )
    with pytest.raises(JudgeHTTPError, match="HTTP 401: Incorrect API key") as info:
        run_score(scorer, "GOOD")
    assert not info.value.retryable


def test_request_and_default_prompt(server: OpenAIServer, run_score) -> None:
    run_score(make(server), "GOOD: 4", 4, input={"question": "2+2?"}, rubric="Be exact.")
    (call,) = [c for c in server.state.calls if c.method == "POST"]
    assert call.headers["authorization"] == "Bearer sk-judge"
    body = call.body
    assert (body["model"], body["temperature"]) == ("judge-1", 0)
    (message,) = body["messages"]
    prompt = message["content"]
    assert message["role"] == "user"
    assert "Criteria:\nBe exact.\n" in prompt
    assert '<input>\n{"question": "2+2?"}\n</input>' in prompt
    assert "<reference>\n4\n</reference>" in prompt
    assert "<output>\nGOOD: 4\n</output>" in prompt
    assert "from 0 (worst) to 1 (best)" in prompt


def test_prompt_without_reference_or_rubric(server: OpenAIServer) -> None:
    scorer = make(server)
    prompt = scorer.prompt(ScoreInput(input="Hi", output=None))
    assert "<reference>" not in prompt
    assert "The output should answer the input correctly" in prompt
    assert "<output>\n\n</output>" in prompt
    assert "and the reference" not in prompt


def test_case_rubric_wins_over_the_scorer_rubric(server: OpenAIServer) -> None:
    scorer = make(server, "rubric=Be polite.")
    assert "Criteria:\nBe polite." in scorer.prompt(ScoreInput("q", "a"))
    assert "Criteria:\nBe brief." in scorer.prompt(ScoreInput("q", "a", rubric="Be brief."))


def test_custom_template(server: OpenAIServer, run_score) -> None:
    template = "Rate {{ output }} for {{ input }} ({{ rubric or 'no rubric' }}) on {{ scale_max }}"
    scorer = make(server, "template=" + json.dumps(template))
    score = run_score(scorer, "MEH", input="Ω")
    assert score.value == 0.4
    assert server.requests[-1]["messages"][0]["content"] == "Rate MEH for Ω (no rubric) on 1"


def test_template_problems_are_refused_at_build() -> None:
    with pytest.raises(InvalidInput, match="argument 'template': template uses unknown variables"):
        create_scorer('judge:model=m,template="{{ answer }}"')
    with pytest.raises(InvalidInput, match="argument 'template': template does not parse"):
        create_scorer('judge:model=m,template="{% if output %}"')


def test_argument_errors() -> None:
    with pytest.raises(InvalidInput, match="argument 'model' is required"):
        create_scorer("judge")
    with pytest.raises(InvalidInput, match="scale must be \\[low, high\\] with low < high"):
        create_scorer("judge:model=m,scale=[5,1]")
    with pytest.raises(InvalidInput, match="argument 'temperature'"):
        create_scorer("judge:model=m,temperature=3")


def test_the_key_never_reaches_the_spec() -> None:
    given = create_scorer("judge:model=m,api_key=sk-inline")
    passed = create_scorer("judge:model=m", secrets={"api_key": "sk-passed"})
    assert given.spec == passed.spec == ScorerSpec("judge", {"model": "m"})
    assert "sk-" not in given.spec.canonical
    assert "sk-inline" not in repr(given.args)  # type: ignore[attr-defined]


def test_an_injected_client_is_used(run_score) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        content = '{"reason": "ok", "score": 0.9}'
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    async def go() -> float:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            scorer = JudgeScorer(JudgeArgs(model="m", base_url="http://j.test/v1"), client=client)
            return (await scorer.score(ScoreInput("q", "a"))).value

    assert asyncio.run(go()) == 0.9
    assert seen == ["http://j.test/v1/chat/completions"]


def test_parse_verdict_takes_the_last_scored_object() -> None:
    verdict = parse_verdict('{"score": 0} then {"note": 1} then {"score": 0.5, "reason": "r"}')
    assert (verdict.score, verdict.value, verdict.reason) == (0.5, 0.5, "r")
    assert parse_verdict('{"score": 3}', (1, 5)).value == 0.5
    assert parse_verdict('{"score": true, "x": 1} {"score": 1}').value == 1.0


def test_parse_verdict_refuses_a_boolean_score() -> None:
    with pytest.raises(JudgeResponseError, match="judge score True is not a number"):
        parse_verdict('{"score": true}')


def test_default_template_names_every_variable_it_offers() -> None:
    for name in ("input", "output", "reference", "rubric", "scale_min", "scale_max"):
        assert name in DEFAULT_TEMPLATE


def test_parse_verdict_reads_a_stated_confidence_and_drops_a_bad_one() -> None:
    assert parse_verdict('{"score": 1, "confidence": 0.3}').confidence == 0.3
    assert parse_verdict('{"score": 1, "confidence": "0.8"}').confidence == 0.8
    assert parse_verdict('{"score": 1}').confidence is None
    assert parse_verdict('{"score": 1, "confidence": 7}').confidence is None
    assert parse_verdict('{"score": 1, "confidence": "very"}').confidence is None
    assert "confidence" in DEFAULT_TEMPLATE


def test_the_judges_confidence_is_kept_for_routing_rules(run_score) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        content = '{"reason": "unsure", "score": 0.6, "confidence": 0.35}'
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    async def go() -> dict[str, object]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            scorer = JudgeScorer(JudgeArgs(model="m", base_url="http://j.test/v1"), client=client)
            return (await scorer.score(ScoreInput("q", "a"))).metadata

    assert asyncio.run(go())["confidence"] == 0.35
