"""One chat completion against an OpenAI-compatible endpoint, for the judges.

Timeouts and retries belong to the runner: a failed call raises
:class:`JudgeHTTPError` with the status and URL, marked ``retryable`` when trying
again can help (HTTP 408, 409, 425, 429, 5xx, or no response at all).
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assay.scorers.base import ScorerError

if TYPE_CHECKING:
    import httpx

#: Seconds a judge call may take when the caller sets no limit of its own: the
#: default of the official ``openai`` client (a safety net; the runner's per-case
#: timeout is normally the tighter one).
TIMEOUT_S = 600.0
#: Statuses worth retrying (the ``openai`` client's list): timeout, lock conflict,
#: too early, rate limit, and server errors.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
# Characters of an error body quoted in a message.
_ERROR_BODY_CHARS = 300

_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None


def _shared_ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; one context serves every call.
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            import httpx

            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


class JudgeHTTPError(ScorerError):
    """The judge endpoint answered an error status, or did not answer.

    Attributes:
        status_code: The HTTP status, or ``None`` when no response came.
        url: The URL called.
    """

    def __init__(self, message: str, *, status_code: int | None, url: str) -> None:
        retryable = status_code is None or status_code in RETRYABLE_STATUSES or status_code >= 500
        super().__init__(message, retryable=retryable)
        self.status_code = status_code
        self.url = url


class JudgeResponseError(ScorerError):
    """The judge answered, but not with a usable verdict.

    Attributes:
        raw: The judge's raw reply text (or response body).
    """

    def __init__(self, message: str, *, raw: str) -> None:
        super().__init__(message)
        self.raw = raw


@dataclass(frozen=True)
class ChatReply:
    """The part of a chat completion the judges use.

    Attributes:
        content: The assistant message text.
        model: The model the endpoint says answered.
        usage: The ``usage`` object (token counts), if the endpoint sent one.
    """

    content: str
    model: str | None
    usage: dict[str, Any] | None


@dataclass(frozen=True)
class ChatEndpoint:
    """An OpenAI-compatible chat completion endpoint and the parameters of a call.

    Attributes:
        model: Model name sent in the request.
        base_url: API root, including ``/v1`` (``https://api.openai.com/v1``).
        api_key: Sent as ``Authorization: Bearer <key>`` when set.
        temperature: Sampling temperature.
        max_tokens: Longest reply, when set.
        timeout_s: Seconds per call (see :data:`TIMEOUT_S`).
    """

    model: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.0
    max_tokens: int | None = None
    timeout_s: float = TIMEOUT_S

    @property
    def url(self) -> str:
        """The chat completions URL."""
        return f"{self.base_url.rstrip('/')}/chat/completions"

    async def complete(self, prompt: str, *, client: httpx.AsyncClient | None = None) -> ChatReply:
        """Send ``prompt`` as one user message and return the reply.

        Args:
            prompt: The user message.
            client: An httpx client to reuse (connection pooling); a short-lived
                one is made per call otherwise.

        Raises:
            JudgeHTTPError: Transport failure or an error status.
            JudgeResponseError: The body is not a chat completion with text.
        """
        import httpx

        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
        }
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            if client is not None:
                response = await client.post(
                    self.url, json=body, headers=headers, timeout=self.timeout_s
                )
            else:
                async with httpx.AsyncClient(
                    verify=_shared_ssl_context(), timeout=self.timeout_s
                ) as own:
                    response = await own.post(self.url, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise JudgeHTTPError(
                f"judge request to {self.url} failed: {type(exc).__name__}: {exc}",
                status_code=None,
                url=self.url,
            ) from exc
        if response.status_code >= 400:
            raise JudgeHTTPError(
                f"judge request to {self.url} failed with HTTP {response.status_code}: "
                f"{_error_text(response)}",
                status_code=response.status_code,
                url=self.url,
            )
        return _reply(response.text, self.url)


def _error_text(response: httpx.Response) -> str:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text
    text = str(message).strip() or response.reason_phrase
    return text[:_ERROR_BODY_CHARS]


def _reply(text: str, url: str) -> ChatReply:
    try:
        body = json.loads(text)
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        content = None
        body = None
    if not isinstance(content, str):
        raise JudgeResponseError(
            f"judge at {url} answered without message text: {text[:_ERROR_BODY_CHARS]}",
            raw=text,
        )
    model = body.get("model")
    usage = body.get("usage")
    return ChatReply(
        content,
        model if isinstance(model, str) else None,
        usage if isinstance(usage, dict) else None,
    )
