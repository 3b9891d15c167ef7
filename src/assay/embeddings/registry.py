"""Embedders by spec: ``minilm``, ``sentence-transformers:MODEL``, ``openai:MODEL@URL``.

A spec is a short string a user can put in a setting, an option or a scorer's
arguments:

- ``minilm``: the offline default, all-MiniLM-L6-v2 int8 on onnxruntime.
- ``sentence-transformers:MODEL``: a sentence-transformers model name or folder
  (needs ``pip install sentence-transformers``).
- ``openai:MODEL@BASE_URL``: an OpenAI-compatible ``/v1/embeddings`` endpoint, for
  example ``openai:nomic-embed-text@http://localhost:11434/v1``; ``openai:MODEL``
  is OpenAI itself. The model name ends at the first ``@``.

Other kinds can be added with :func:`register_embedder`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from assay.embeddings.base import Embedder
from assay.embeddings.minilm import MiniLMEmbedder
from assay.embeddings.openai_api import DEFAULT_BASE_URL, TIMEOUT_S, OpenAIEmbedder
from assay.embeddings.sbert import SentenceTransformerEmbedder
from assay.errors import ConfigError, Conflict

#: The embedder assay uses when none is configured.
DEFAULT_EMBEDDER = "minilm"


@dataclass(frozen=True)
class EmbedderOptions:
    """Settings a caller passes along with a spec (assay reads no environment).

    Attributes:
        api_key: Key for embedders behind an API (``openai:``).
        timeout_s: Seconds per request for embedders behind an API.
        dimensions: Vector size to ask for, where the embedder supports it.
    """

    api_key: str | None = None
    timeout_s: float = TIMEOUT_S
    dimensions: int | None = None


#: Builds an embedder from the part of the spec after ``KIND:`` ("" for a bare kind).
EmbedderFactory = Callable[[str, EmbedderOptions], Embedder]

_registry_lock = threading.Lock()
_shared: dict[str, Embedder] = {}


def _minilm(argument: str, options: EmbedderOptions) -> Embedder:
    if argument:
        raise ConfigError(f"embedder spec 'minilm' takes no argument, got 'minilm:{argument}'")
    return MiniLMEmbedder()


def _sentence_transformers(argument: str, options: EmbedderOptions) -> Embedder:
    if not argument:
        raise ConfigError(
            "embedder spec 'sentence-transformers' needs a model: "
            "'sentence-transformers:sentence-transformers/all-mpnet-base-v2'"
        )
    return SentenceTransformerEmbedder(argument)


def _openai(argument: str, options: EmbedderOptions) -> Embedder:
    model, _, base_url = argument.partition("@")
    if not model:
        raise ConfigError(
            "embedder spec 'openai' needs a model: 'openai:MODEL' or 'openai:MODEL@BASE_URL'"
        )
    return OpenAIEmbedder(
        model,
        base_url=base_url or DEFAULT_BASE_URL,
        api_key=options.api_key,
        dimensions=options.dimensions,
        timeout_s=options.timeout_s,
    )


_factories: dict[str, EmbedderFactory] = {
    "minilm": _minilm,
    "sentence-transformers": _sentence_transformers,
    "openai": _openai,
}


def register_embedder(kind: str, factory: EmbedderFactory) -> None:
    """Make ``KIND`` and ``KIND:ARGUMENT`` specs build embedders with ``factory``.

    Raises:
        Conflict: ``kind`` is already registered.
    """
    if not kind or ":" in kind:
        raise ConfigError(f"embedder kind {kind!r} must be non-empty and contain no ':'")
    with _registry_lock:
        if kind in _factories:
            raise Conflict(f"embedder kind {kind!r} is already registered")
        _factories[kind] = factory


def embedder_kinds() -> list[str]:
    """The registered spec kinds, sorted."""
    with _registry_lock:
        return sorted(_factories)


def get_embedder(
    spec: str = DEFAULT_EMBEDDER,
    *,
    api_key: str | None = None,
    timeout_s: float = TIMEOUT_S,
    dimensions: int | None = None,
) -> Embedder:
    """The embedder a spec names.

    ``minilm`` always gives the same process-wide instance, so the model loads once.

    Args:
        spec: ``minilm``, ``sentence-transformers:MODEL`` or ``openai:MODEL@BASE_URL``
            (see the module docstring), or a kind added by :func:`register_embedder`.
        api_key: Key for API-backed embedders.
        timeout_s: Seconds per request for API-backed embedders.
        dimensions: Vector size to ask for, where supported.

    Raises:
        ConfigError: The spec is malformed or names an unknown kind.
    """
    spec = spec.strip()
    kind, _, argument = spec.partition(":")
    with _registry_lock:
        factory = _factories.get(kind)
        if factory is None:
            known = ", ".join(sorted(_factories))
            raise ConfigError(f"unknown embedder {spec!r}; known kinds: {known}")
        if spec == DEFAULT_EMBEDDER:
            shared = _shared.get(spec)
            if shared is None:
                shared = _shared[spec] = factory("", EmbedderOptions())
            return shared
    return factory(argument.strip(), EmbedderOptions(api_key, timeout_s, dimensions))
