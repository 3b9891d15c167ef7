"""Embedders by spec: the default, sentence-transformers, OpenAI-compatible, and custom kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.embeddings import registry
from assay.embeddings.base import Embedder
from assay.embeddings.minilm import MiniLMEmbedder
from assay.embeddings.openai_api import OpenAIEmbedder
from assay.embeddings.registry import (
    DEFAULT_EMBEDDER,
    EmbedderOptions,
    embedder_kinds,
    get_embedder,
    register_embedder,
)
from assay.embeddings.sbert import SentenceTransformerEmbedder
from assay.errors import ConfigError, Conflict

PACKAGE = Path(registry.__file__).parent


def test_the_default_is_one_shared_minilm():
    assert DEFAULT_EMBEDDER == "minilm"
    first = get_embedder()
    assert isinstance(first, MiniLMEmbedder)
    assert get_embedder("minilm") is first
    assert get_embedder(" minilm ") is first


def test_openai_spec_with_a_base_url_and_settings():
    embedder = get_embedder(
        "openai:nomic-embed-text@http://localhost:11434/v1/",
        api_key="sk-x",
        timeout_s=5.0,
        dimensions=64,
    )
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.model == "nomic-embed-text"
    assert embedder.url == "http://localhost:11434/v1/embeddings"
    assert embedder.timeout_s == 5.0
    assert embedder.dim == 64  # configured: no request made
    assert embedder.model_id == "openai:nomic-embed-text@http://localhost:11434/v1?dimensions=64"


def test_openai_spec_without_a_url_is_openai_and_the_model_ends_at_the_first_at():
    assert get_embedder("openai:text-embedding-3-small").model_id == (
        "openai:text-embedding-3-small@https://api.openai.com/v1"
    )
    embedder = get_embedder("openai:m@http://user:pw@proxy.internal/v1")
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.model == "m"
    assert embedder.base_url == "http://user:pw@proxy.internal/v1"


def test_sentence_transformers_spec_builds_without_loading():
    embedder = get_embedder("sentence-transformers:sentence-transformers/all-mpnet-base-v2")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.model_name == "sentence-transformers/all-mpnet-base-v2"
    assert embedder.model_id == "sentence-transformers:sentence-transformers/all-mpnet-base-v2"


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("word2vec", "unknown embedder 'word2vec'; known kinds: minilm, openai"),
        ("", "unknown embedder ''"),
        ("openai:", "needs a model"),
        ("openai:@http://localhost/v1", "needs a model"),
        ("sentence-transformers:", "needs a model"),
        ("minilm:large", "takes no argument"),
        ("openai:m@localhost:8000", "must start with http:// or https://"),
    ],
)
def test_bad_specs_are_config_errors_naming_the_problem(spec: str, match: str):
    with pytest.raises(ConfigError, match=match):
        get_embedder(spec)


class _Constant:
    model_id = "constant"
    dim = 2

    def __init__(self, argument: str) -> None:
        self.argument = argument

    def embed(self, texts):  # pragma: no cover - never called here
        raise AssertionError


def test_custom_kinds_can_be_registered_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(registry, "_factories", dict(registry._factories))

    def factory(argument: str, options: EmbedderOptions) -> Embedder:
        return _Constant(argument)

    register_embedder("constant", factory)
    built = get_embedder("constant:abc")
    assert isinstance(built, _Constant)
    assert built.argument == "abc"
    assert "constant" in embedder_kinds()
    with pytest.raises(Conflict, match="'constant' is already registered"):
        register_embedder("constant", factory)
    with pytest.raises(ConfigError):
        register_embedder("a:b", factory)


def test_embeddings_read_no_environment():
    # Settings come from callers (assay.settings reads the environment once).
    for path in PACKAGE.glob("*.py"):
        source = path.read_text()
        for reader in ("os.environ", "getenv(", "from os import environ"):
            assert reader not in source, f"{path.name} uses {reader}"
