"""What every target is: an async callable from a case input to an output, with a
fingerprint of its behaviour.

The fingerprint keys the result cache (an unchanged target over an unchanged input
is not called again) and is recorded with every run. It covers what decides the
output (code, URL and mapping, model, prompt, parameters), never secrets.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx

from assay.errors import AssayError


@dataclass(frozen=True, slots=True)
class TargetOutput:
    """What a target answered for one input.

    A Python target may return one of these to report tokens and cost; any other
    return value is taken as the output itself.

    Attributes:
        output: Text, or JSON-able data.
        prompt_tokens: Input tokens, when known.
        completion_tokens: Output tokens, when known.
        cost: USD, when known.
    """

    output: Any
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None


class TargetError(AssayError):
    """A target call failed.

    Args:
        message: What failed, naming the target (URL, function) and the cause.
        retryable: Whether trying again may succeed (timeouts, HTTP 429 and 5xx,
            dropped connections); the runner retries only these.
        retry_after: Seconds the server asked to wait, if it said.
    """

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@runtime_checkable
class Target(Protocol):
    """An async callable from a case input to a :class:`TargetOutput`."""

    kind: str
    """``python``, ``http`` or ``openai``."""

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of what decides the output."""
        ...

    def describe(self) -> dict[str, Any]:
        """The target as JSON-able data, secrets left out (stored with each run)."""
        ...

    async def __call__(self, input: Any) -> TargetOutput:
        """Run on one case input.

        Raises:
            TargetError: the call failed (``retryable`` says whether to try again).
        """
        ...

    async def aclose(self) -> None:
        """Release connections and threads."""
        ...


def fingerprint_of(description: dict[str, Any], *extra: bytes) -> str:
    """SHA-256 of a target's description (canonical JSON) and any extra bytes
    (a Python target's source)."""
    digest = hashlib.sha256(json.dumps(description, sort_keys=True, separators=(",", ":")).encode())
    for part in extra:
        digest.update(part)
    return digest.hexdigest()


class JsonEndpoint:
    """One lazily opened HTTP client that sends JSON and turns failures into
    :class:`TargetError`: shared by the HTTP and the OpenAI-compatible targets."""

    # The runner enforces the per-call timeout; this only stops a stuck socket.
    SOCKET_TIMEOUT_S = 600.0

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    async def send(
        self, method: str, url: str, body: Any, headers: dict[str, str]
    ) -> httpx.Response:
        """Send ``body`` as JSON; the response, when its status is below 400.

        Raises:
            TargetError: a network error or timeout (retryable), or an HTTP error
                (retryable for 408, 409, 425, 429 and 5xx, with ``Retry-After``).
        """
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.SOCKET_TIMEOUT_S)
        try:
            response = await self._client.request(method, url, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise TargetError(
                f"{method} {url}: {type(exc).__name__}: {exc}", retryable=True
            ) from exc
        if response.status_code >= 400:
            raise TargetError(
                f"{method} {url} answered {response.status_code}: {response.text[:300]}",
                retryable=retryable_status(response.status_code),
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        return response

    async def aclose(self) -> None:
        """Close the client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth retrying: 408, 409 (lock), 425, 429 and 5xx."""
    return status in (408, 409, 425, 429) or status >= 500


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (HTTP dates are not honoured: None)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
