"""The sentence-transformers embedder, against a stand-in module (no torch needed)."""

from __future__ import annotations

import sys
import types
from typing import Any, ClassVar

import numpy as np
import pytest

from assay.embeddings.sbert import INSTALL_HINT, SentenceTransformerEmbedder
from assay.errors import ConfigError, InvalidInput


class FakeSentenceTransformer:
    """Records how it was built and called; vectors are [len, 1, 0] (not unit length)."""

    instances: ClassVar[list[FakeSentenceTransformer]] = []

    def __init__(self, name: str, **kwargs: Any) -> None:
        if name == "missing/model":
            raise OSError("not in the local cache")
        self.name = name
        self.kwargs = kwargs
        self.calls: list[dict[str, Any]] = []
        FakeSentenceTransformer.instances.append(self)

    def get_sentence_embedding_dimension(self) -> int:
        return 3

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        self.calls.append({"texts": texts, **kwargs})
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float64)


@pytest.fixture
def fake_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    FakeSentenceTransformer.instances = []
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    return module


def test_embeds_through_sentence_transformers_offline(fake_module: types.ModuleType):
    embedder = SentenceTransformerEmbedder("org/model", device="cpu", batch_size=8)
    vectors = embedder.embed(["abc", ""])
    (model,) = FakeSentenceTransformer.instances
    assert model.kwargs == {"device": "cpu", "local_files_only": True}
    assert model.calls[0]["normalize_embeddings"] is True
    assert model.calls[0]["batch_size"] == 8
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, [[3 / np.sqrt(10), 1 / np.sqrt(10), 0.0], [0, 1, 0]])
    assert embedder.dim == 3
    assert embedder.model_id == "sentence-transformers:org/model"


def test_model_loads_once_and_only_when_used(fake_module: types.ModuleType):
    embedder = SentenceTransformerEmbedder("org/model")
    assert FakeSentenceTransformer.instances == []
    embedder.embed(["a"])
    embedder.embed(["b"])
    assert len(FakeSentenceTransformer.instances) == 1


def test_downloads_only_when_allowed(fake_module: types.ModuleType):
    SentenceTransformerEmbedder("org/model", allow_download=True).embed(["a"])
    assert FakeSentenceTransformer.instances[0].kwargs["local_files_only"] is False


def test_a_model_not_on_disk_is_a_config_error(fake_module: types.ModuleType):
    with pytest.raises(ConfigError, match="'missing/model'"):
        SentenceTransformerEmbedder("missing/model").embed(["a"])


def test_without_the_package_the_error_names_the_pip_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
    with pytest.raises(ConfigError) as info:
        SentenceTransformerEmbedder("org/model").embed(["a"])
    assert INSTALL_HINT in str(info.value)
    assert INSTALL_HINT == "pip install sentence-transformers"


def test_empty_input_and_bad_arguments(fake_module: types.ModuleType):
    assert SentenceTransformerEmbedder("org/model").embed([]).shape == (0, 3)
    with pytest.raises(InvalidInput):
        SentenceTransformerEmbedder("org/model").embed("text")
    with pytest.raises(ConfigError):
        SentenceTransformerEmbedder("")
