"""Calling a target the way a production client should: a timeout per call, retries
with exponential backoff and jitter for retryable errors only, the server's
``Retry-After`` honoured, and request and token rate limits shared by all workers.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from assay.errors import InvalidInput
from assay.targets import Target, TargetError, TargetOutput

# Backoff: 0.5 s, 1 s, 2 s, ... up to 30 s, plus up to 0.5 s of jitter so workers
# that failed together do not retry together.
_INITIAL_BACKOFF_S = 0.5
_JITTER_S = 0.5
_BACKOFF = wait_exponential_jitter(multiplier=_INITIAL_BACKOFF_S * 2, max=30.0, jitter=_JITTER_S)
# A rough tokens-per-character ratio for English text, to charge the token budget
# before a call (the actual count is charged after it).
_CHARS_PER_TOKEN = 4


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """How calls to one target are made.

    Attributes:
        timeout_s: Longest wait for one call before it counts as a (retryable) timeout.
        retries: Further attempts after a retryable failure (0: none).
        requests_per_minute: Most calls started in any minute (None: no limit).
        tokens_per_minute: Most tokens (prompt + completion) spent in any minute.
    """

    timeout_s: float = 60.0
    retries: int = 3
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise InvalidInput("timeout must be more than 0 seconds")
        if self.retries < 0:
            raise InvalidInput("retries must be 0 or more")
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidInput(f"{name.replace('_', ' ')} must be more than 0")


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, TargetError):
        return exc.retryable
    return isinstance(exc, TimeoutError)


def _first_wait(exc: BaseException) -> float:
    """The wait before the second attempt: the backoff's first step, or Retry-After."""
    delay = _INITIAL_BACKOFF_S + random.uniform(0, _JITTER_S)
    if isinstance(exc, TargetError) and exc.retry_after is not None:
        return max(delay, exc.retry_after)
    return delay


def _wait(state: RetryCallState) -> float:
    delay = float(_BACKOFF(state))
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    if isinstance(exc, TargetError) and exc.retry_after is not None:
        return max(delay, exc.retry_after)
    return delay


class Caller:
    """Calls one target under a :class:`CallPolicy`; shared by all workers of a run."""

    def __init__(self, target: Target, policy: CallPolicy) -> None:
        self.target = target
        self.policy = policy
        self._requests = (
            AsyncLimiter(policy.requests_per_minute, 60.0) if policy.requests_per_minute else None
        )
        self._tokens = (
            AsyncLimiter(policy.tokens_per_minute, 60.0) if policy.tokens_per_minute else None
        )
        self.retried = 0

    async def __call__(self, input: Any) -> TargetOutput:
        """The target's answer for ``input``.

        Raises:
            TargetError: the last attempt failed, or a non-retryable error.
            TimeoutError: every attempt timed out.
        """
        # Most calls succeed at once: tenacity's machinery (~0.2 ms a call, measured
        # with bench/runner.py) is set up only when a first attempt fails retryably.
        try:
            return await self._once(input)
        except (TargetError, TimeoutError) as exc:
            if self.policy.retries == 0 or not _retryable(exc):
                raise
            first = exc
        self.retried += 1
        await asyncio.sleep(_first_wait(first))
        if self.policy.retries == 1:
            return await self._once(input)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.retries),
            wait=_wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self.retried += 1
                return await self._once(input)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _once(self, input: Any) -> TargetOutput:
        if self._requests is not None:
            await self._requests.acquire()
        estimate = 0
        if self._tokens is not None:
            estimate = self._estimate(input)
            await self._tokens.acquire(estimate)
        async with asyncio.timeout(self.policy.timeout_s):
            out = await self.target(input)
        if self._tokens is not None:
            used = (out.prompt_tokens or 0) + (out.completion_tokens or 0)
            if used > estimate:
                # Charged after the fact: the next calls wait for the budget to refill.
                await self._tokens.acquire(min(used - estimate, self._capacity()))
        return out

    def _estimate(self, input: Any) -> int:
        text = input if isinstance(input, str) else json.dumps(input, ensure_ascii=False)
        return max(1, min(len(text) // _CHARS_PER_TOKEN, self._capacity()))

    def _capacity(self) -> int:
        assert self.policy.tokens_per_minute is not None
        return max(1, int(self.policy.tokens_per_minute))
