"""OpenAI-compatible chat targets against the test suite's own OpenAI server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from assay.errors import InvalidInput
from assay.targets import OpenAIChatTarget, TargetError, TargetOutput
from assay.testing.openai_server import OpenAIServer, serve_openai


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with serve_openai(require_api_key="sk-test") as running:
        yield running


def call(target: OpenAIChatTarget, value: Any) -> TargetOutput:
    async def go() -> TargetOutput:
        try:
            return await target(value)
        finally:
            await target.aclose()

    return asyncio.run(go())


def test_prompt_template_usage_and_cost(server: OpenAIServer) -> None:
    target = OpenAIChatTarget(
        server.base_url,
        "gpt-4o-mini",
        prompt="Question: {{ question }}",
        system="You answer in {{ lang }}.",
        params={"temperature": 0},
        api_key="sk-test",
    )
    out = call(target, {"question": "Where is my parcel?", "lang": "German"})
    assert out.output == "Echo: Question: Where is my parcel?"
    body = server.requests[-1]
    assert body["messages"] == [
        {"role": "system", "content": "You answer in German."},
        {"role": "user", "content": "Question: Where is my parcel?"},
    ]
    assert body["temperature"] == 0
    assert out.prompt_tokens
    assert out.completion_tokens
    assert out.cost is not None
    assert out.cost > 0


def test_chat_input_is_sent_as_it_is(server: OpenAIServer) -> None:
    chat = [{"role": "user", "content": "Hi"}]
    target = OpenAIChatTarget(server.base_url, "gpt-4o-mini", api_key="sk-test")
    assert call(target, chat).output == "Echo: Hi"
    assert server.requests[-1]["messages"] == chat


def test_errors(server: OpenAIServer) -> None:
    target = OpenAIChatTarget(server.base_url, "gpt-4o-mini", api_key="sk-test")
    server.fail_next(429, retry_after_s=3)
    with pytest.raises(TargetError, match="answered 429") as info:
        call(target, "x")
    assert info.value.retryable
    assert info.value.retry_after == 3.0
    wrong_key = OpenAIChatTarget(server.base_url, "gpt-4o-mini", api_key="nope")
    with pytest.raises(TargetError, match="answered 401") as info:
        call(wrong_key, "x")
    assert not info.value.retryable
    templated = OpenAIChatTarget(server.base_url, "m", prompt="{{ missing }}", api_key="sk-test")
    with pytest.raises(TargetError, match="'missing' is undefined"):
        call(templated, "x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": "{% if %}"}, "prompt template, line 1"),
        ({"params": {"messages": []}}, "params may not set messages"),
        ({"model": ""}, "model is empty"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"model": "m", **kwargs}
    with pytest.raises(InvalidInput, match=message):
        OpenAIChatTarget("http://x/v1", **args)


def test_fingerprint_covers_behaviour_not_the_key() -> None:
    a = OpenAIChatTarget("http://x/v1", "m", prompt="p", api_key="one")
    assert (
        a.fingerprint == OpenAIChatTarget("http://x/v1", "m", prompt="p", api_key="two").fingerprint
    )
    assert a.fingerprint != OpenAIChatTarget("http://x/v1", "m", prompt="q").fingerprint
    assert (
        a.fingerprint
        != OpenAIChatTarget("http://x/v1", "m", prompt="p", params={"seed": 1}).fingerprint
    )
