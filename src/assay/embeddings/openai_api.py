"""Embeddings from an OpenAI-compatible ``POST /v1/embeddings`` endpoint (httpx).

Spec ``openai:MODEL@BASE_URL`` (``openai:MODEL`` means OpenAI itself): OpenAI,
Azure-style proxies, vLLM, Ollama, LM Studio, text-embeddings-inference and
LiteLLM all answer this API. The API key is an argument, never read from the
environment. Texts go out in batches; a failed batch is retried on 429, 5xx and
transport errors, then reported with the URL and status.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from assay.embeddings.base import Matrix, check_texts, empty_matrix, normalize_rows
from assay.errors import AssayError, ConfigError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Texts per request. OpenAI accepts up to 2,048 inputs and 300,000 tokens per
#: request; 256 sentences stay far below both and keep one failed request cheap.
BATCH_SIZE = 256
#: Seconds per request (connect, read, write). OpenAI answers a 256-text batch in
#: about a second; 30 s leaves room for a slow self-hosted server without hanging.
TIMEOUT_S = 30.0
#: Retries of one batch after a 429, a 5xx or a transport error.
RETRIES = 2
#: First retry delay in seconds; it doubles per retry (a server's Retry-After wins,
#: capped at 30 s).
BACKOFF_S = 0.5
_MAX_RETRY_AFTER_S = 30.0
#: The text sent for an empty string, which OpenAI rejects with a 400 (the input
#: "must not be empty"); a single space is the closest text it accepts.
EMPTY_TEXT_STANDIN = " "


class OpenAIEmbedder:
    """An embeddings model behind an OpenAI-compatible HTTP API.

    Args:
        model: The model name the server knows (``text-embedding-3-small``).
        base_url: The API root, ending in ``/v1`` (``http://localhost:11434/v1``).
        api_key: Sent as ``Authorization: Bearer <api_key>``; omitted when ``None``.
        dimensions: Ask for vectors of this size (OpenAI text-embedding-3 models);
            when ``None`` the model's own size is used, learned from the first answer.
        batch_size: Texts per request.
        timeout_s: Seconds per request.
        retries: Retries of a batch after a 429, a 5xx or a transport error.
        backoff_s: First retry delay; doubles per retry.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        dimensions: int | None = None,
        batch_size: int = BATCH_SIZE,
        timeout_s: float = TIMEOUT_S,
        retries: int = RETRIES,
        backoff_s: float = BACKOFF_S,
    ) -> None:
        if not model:
            raise ConfigError("the OpenAI-compatible embedder needs a model name")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"embeddings base URL {base_url!r} must start with http:// or https://"
            )
        if dimensions is not None and dimensions < 1:
            raise ConfigError(f"embedding dimensions must be at least 1, got {dimensions}")
        if batch_size < 1:
            raise ConfigError(f"embedder batch_size must be at least 1, got {batch_size}")
        if timeout_s <= 0:
            raise ConfigError(f"embedder timeout must be positive, got {timeout_s}")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/embeddings"
        self.dimensions = dimensions
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._api_key = api_key
        self._dim = dimensions

    @property
    def model_id(self) -> str:
        """``openai:MODEL@BASE_URL``, plus ``?dimensions=N`` when a size was asked for.

        The base URL is part of the id: the same model name on two servers may be
        two different models.
        """
        suffix = f"?dimensions={self.dimensions}" if self.dimensions is not None else ""
        return f"openai:{self.model}@{self.base_url}{suffix}"

    @property
    def dim(self) -> int:
        """The vector size; when not configured, learned by embedding one probe text."""
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None  # set by embed() or it raised
        return self._dim

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed ``texts`` (see :meth:`assay.embeddings.Embedder.embed`).

        Raises:
            ConfigError: The server refused the request (wrong URL, key or model)
                or cannot be reached.
            AssayError: The server kept failing (429, 5xx, timeout) or answered
                something that is not an embeddings list of the right length.
        """
        texts = check_texts(texts)
        if not texts:
            return empty_matrix(self.dim)
        # One connection pool per call: batches reuse its connection, and nothing is
        # left open between calls (no close() for callers to forget).
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        with httpx.Client(timeout=self.timeout_s, headers=headers) as client:
            parts = [
                self._embed_batch(
                    client, [t or EMPTY_TEXT_STANDIN for t in texts[i : i + self.batch_size]]
                )
                for i in range(0, len(texts), self.batch_size)
            ]
        return normalize_rows(np.concatenate(parts))

    def _embed_batch(self, client: httpx.Client, batch: list[str]) -> Matrix:
        body: dict[str, Any] = {"model": self.model, "input": batch, "encoding_format": "float"}
        if self.dimensions is not None:
            body["dimensions"] = self.dimensions
        response = self._post(client, body)
        matrix = self._parse(response, len(batch))
        if self._dim is None:
            self._dim = matrix.shape[1]
        elif matrix.shape[1] != self._dim:
            raise AssayError(
                f"embeddings from {self.url} have {matrix.shape[1]} dimensions, "
                f"earlier ones had {self._dim}"
            )
        return matrix

    def _post(self, client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = client.post(self.url, json=body)
            except httpx.TimeoutException as exc:
                if last:
                    raise AssayError(
                        f"embeddings request to {self.url} timed out after {self.timeout_s} s "
                        f"({attempt + 1} attempts)"
                    ) from exc
            except httpx.TransportError as exc:
                if last:
                    raise ConfigError(
                        f"cannot reach the embeddings endpoint {self.url}: {exc}"
                    ) from exc
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response
                retryable = status == 429 or status >= 500
                if not retryable or last:
                    raise _status_error(self.url, response, attempt + 1)
                delay = _retry_after(response, delay)
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _parse(self, response: httpx.Response, expected: int) -> Matrix:
        try:
            payload = response.json()
            items = sorted(payload["data"], key=lambda item: item["index"])
            vectors = [item["embedding"] for item in items]
            matrix = np.asarray(vectors, dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise AssayError(
                f"embeddings response from {self.url} is not an OpenAI embeddings list: {exc}"
            ) from exc
        if matrix.ndim != 2 or matrix.shape[0] != expected or matrix.shape[1] == 0:
            raise AssayError(
                f"embeddings response from {self.url} has shape {matrix.shape}; "
                f"expected {expected} vectors of one size"
            )
        if self.dimensions is not None and matrix.shape[1] != self.dimensions:
            raise AssayError(
                f"embeddings from {self.url} have {matrix.shape[1]} dimensions; "
                f"{self.dimensions} were asked for (does model {self.model!r} support "
                "`dimensions`?)"
            )
        return matrix


def _retry_after(response: httpx.Response, default: float) -> float:
    header = response.headers.get("retry-after")
    try:
        seconds = float(header) if header is not None else default
    except ValueError:  # an HTTP date: rare for APIs; keep our own backoff
        return default
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S)


def _status_error(url: str, response: httpx.Response, attempts: int) -> AssayError:
    """The error for a non-2xx answer, with the server's own message when it has one."""
    status = response.status_code
    try:
        detail = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        detail = response.text[:200]
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    message = f"embeddings request to {url} failed with HTTP {status}{tries}: {detail}"
    # A redirect or a 4xx other than 429: the URL, key, model or request is wrong.
    if status < 500 and status != 429:
        return ConfigError(message)
    return AssayError(message)
