"""Calling a target: request and token budgets hold calls back, the policy is
validated, and Retry-After is honoured before the second attempt."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from assay.errors import InvalidInput
from assay.experiments import CallPolicy
from assay.experiments.calls import Caller, _first_wait
from assay.targets import TargetError, TargetOutput

# A blocked call is one still waiting after this long; a free one takes microseconds.
BLOCKED_S = 0.3


class CountingTarget:
    """Answers at once, reporting ``tokens`` prompt tokens a call."""

    kind = "python"
    fingerprint = "f" * 64

    def __init__(self, tokens: int = 0) -> None:
        self.calls = 0
        self.tokens = tokens

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}

    async def __call__(self, input: Any) -> TargetOutput:
        self.calls += 1
        return TargetOutput(output=input, prompt_tokens=self.tokens)

    async def aclose(self) -> None:
        return None


async def blocked(call: Any) -> bool:
    try:
        await asyncio.wait_for(call, BLOCKED_S)
    except TimeoutError:
        return True
    return False


def test_requests_per_minute_hold_the_next_call_back() -> None:
    async def go() -> tuple[int, bool]:
        target = CountingTarget()
        caller = Caller(target, CallPolicy(requests_per_minute=2))  # type: ignore[arg-type]
        await caller("a")
        await caller("b")
        third_blocked = await blocked(caller("c"))
        return target.calls, third_blocked

    calls, third_blocked = asyncio.run(go())
    assert calls == 2
    assert third_blocked


def test_tokens_used_are_charged_after_the_call() -> None:
    async def go() -> tuple[int, bool]:
        # 100 tokens a minute; each call reports 90: the second call is charged its
        # tokens after it answers, and waits for the budget to refill.
        target = CountingTarget(tokens=90)
        caller = Caller(target, CallPolicy(tokens_per_minute=100))  # type: ignore[arg-type]
        await caller("a")
        second_blocked = await blocked(caller("b"))
        return target.calls, second_blocked

    calls, second_blocked = asyncio.run(go())
    assert calls == 2
    assert second_blocked


def test_without_limits_calls_are_not_held_back() -> None:
    async def go() -> bool:
        caller = Caller(CountingTarget(tokens=10_000), CallPolicy())  # type: ignore[arg-type]
        for value in range(50):
            await caller(value)
        return await blocked(caller("last"))

    assert not asyncio.run(go())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout_s": 0}, "timeout must be more than 0"),
        ({"retries": -1}, "retries must be 0 or more"),
        ({"requests_per_minute": 0}, "requests per minute must be more than 0"),
        ({"tokens_per_minute": -5}, "tokens per minute must be more than 0"),
    ],
)
def test_bad_policies(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CallPolicy(**kwargs)


def test_retry_after_sets_the_least_wait() -> None:
    assert _first_wait(TargetError("busy", retryable=True, retry_after=7)) == 7
    assert 0.5 <= _first_wait(TimeoutError()) <= 1.0
