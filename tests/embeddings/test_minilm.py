"""The default embedder: the all-MiniLM-L6-v2 pipeline, offline, lazy and thread-safe."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from assay.embeddings import minilm
from assay.embeddings.minilm import DIM, MAX_SEQ_LENGTH, MiniLMEmbedder, mean_pool
from assay.errors import ConfigError, InvalidInput

ROOT = Path(__file__).resolve().parents[2]

# Pairs with the same meaning in different words, and pairs about unrelated things.
PARAPHRASES = [
    ("How do I reset my password?", "I forgot my password, how can I change it?"),
    ("The cat sat on the mat.", "A cat was sitting on a rug."),
    ("What time does the store open tomorrow?", "When will the shop open tomorrow?"),
    ("A man is playing the guitar.", "Someone is playing a guitar."),
]
UNRELATED = [
    ("How do I reset my password?", "The recipe calls for two cups of flour."),
    ("The cat sat on the mat.", "Interest rates rose by a quarter point."),
    ("What time does the store open tomorrow?", "Photosynthesis converts light to energy."),
    ("A man is playing the guitar.", "The invoice is attached to this email."),
]


@pytest.fixture
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def _cosines(embedder: MiniLMEmbedder, pairs: list[tuple[str, str]]) -> np.ndarray:
    left = embedder.embed([a for a, _ in pairs])
    right = embedder.embed([b for _, b in pairs])
    return (left * right).sum(axis=1)


def test_rows_are_float32_unit_vectors_of_384(embedder: MiniLMEmbedder):
    vectors = embedder.embed(["hello world", "", "a" * 5000, "Ünïcödé 東京 🚀"])
    assert vectors.shape == (4, DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.dim == DIM


def test_paraphrases_are_clearly_closer_than_unrelated_sentences(embedder: MiniLMEmbedder):
    close = _cosines(embedder, PARAPHRASES)
    far = _cosines(embedder, UNRELATED)
    assert close.min() > 0.6, close
    assert far.max() < 0.2, far
    assert close.min() - far.max() > 0.4


def test_matches_a_float_reference_from_the_published_weights(embedder: MiniLMEmbedder):
    # data/minilm_float_reference.json holds the vectors of the float safetensors
    # weights of sentence-transformers/all-MiniLM-L6-v2 for these texts, computed once
    # with the NumPy BERT of _bert_reference.py (itself checked against
    # sentence-transformers: max difference 1.9e-7). int8 weights cost a little:
    # measured cosine to the reference >= 0.996. The texts include an empty one, one
    # past 256 word pieces and non-ASCII text.
    data = json.loads((Path(__file__).parent / "data" / "minilm_float_reference.json").read_text())
    reference = np.array(data["vectors"], dtype=np.float32)
    cosines = (embedder.embed(data["texts"]) * reference).sum(axis=1)
    assert cosines.min() > 0.99, cosines


def test_input_is_truncated_to_256_word_pieces(embedder: MiniLMEmbedder):
    head = " ".join(["alpha"] * (MAX_SEQ_LENGTH + 10))
    a, b, short = embedder.embed([head + " completely different tail", head, "alpha alpha"])
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert float(a @ short) < 0.9999  # the long text is not cut to something trivial


def test_batching_and_padding_do_not_change_vectors():
    texts = ["short", "a somewhat longer sentence about the weather today", "", "mid length text"]
    together = MiniLMEmbedder(batch_size=4).embed(texts)
    alone = np.vstack([MiniLMEmbedder(batch_size=1).embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_order_of_texts_is_kept(embedder: MiniLMEmbedder):
    texts = ["zebra", "a much longer sentence that sorts after the short one", "apple"]
    forward = embedder.embed(texts)
    backward = embedder.embed(texts[::-1])
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-4)
    assert float(forward[0] @ forward[2]) < 0.99


def test_empty_input_gives_an_empty_matrix_without_loading(monkeypatch: pytest.MonkeyPatch):
    def fail(threads: int) -> None:
        raise AssertionError("model loaded for an empty input")

    monkeypatch.setattr(minilm, "_runtimes", {})
    monkeypatch.setattr(minilm, "_build_runtime", fail)
    result = MiniLMEmbedder().embed([])
    assert result.shape == (0, DIM)
    assert result.dtype == np.float32


def test_a_single_string_is_rejected(embedder: MiniLMEmbedder):
    with pytest.raises(InvalidInput, match="sequence of texts"):
        embedder.embed("not a list")


def test_model_loads_once_for_concurrent_first_calls(monkeypatch: pytest.MonkeyPatch):
    built: list[int] = []
    real = minilm._build_runtime

    def counting(threads: int) -> minilm._Runtime:
        built.append(threads)
        return real(threads)

    monkeypatch.setattr(minilm, "_runtimes", {})
    monkeypatch.setattr(minilm, "_build_runtime", counting)
    texts = ["first thread text", "second text", "third"]
    results: list[np.ndarray] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        results.append(MiniLMEmbedder(threads=1).embed(texts))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [1]
    assert len(results) == 4
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])


def test_model_id_names_the_model_and_follows_its_bytes(monkeypatch: pytest.MonkeyPatch):
    first = MiniLMEmbedder().model_id
    assert first.startswith("all-MiniLM-L6-v2/onnx-int8/")
    assert first == minilm.minilm_model_id()
    monkeypatch.setattr(minilm, "_model_id", None)
    monkeypatch.setattr(minilm, "_model_bytes", lambda: b"another model")
    assert minilm.minilm_model_id() != first


def test_missing_model_package_names_the_pip_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(minilm, "_runtimes", {})
    monkeypatch.setattr(minilm, "MODEL_PACKAGE", "assay_no_such_model_pkg")
    with pytest.raises(ConfigError, match="pip install assay-no-such-model-pkg"):
        MiniLMEmbedder().embed(["x"])


@pytest.mark.parametrize("kwargs", [{"threads": 0}, {"batch_size": 0}])
def test_bad_settings_are_config_errors(kwargs: dict[str, int]):
    with pytest.raises(ConfigError):
        MiniLMEmbedder(**kwargs)


def test_default_threads_fit_the_machine():
    assert 1 <= minilm.default_threads() <= 2
    assert MiniLMEmbedder().threads == minilm.default_threads()


def test_mean_pool_ignores_padding():
    states = np.array([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]], dtype=np.int64)
    np.testing.assert_allclose(mean_pool(states, mask), [[2 / np.sqrt(8), 2 / np.sqrt(8)]])


def test_embedding_imports_neither_torch_nor_sentence_transformers():
    code = (
        "import sys\n"
        "from assay.embeddings import get_embedder\n"
        "assert get_embedder().embed(['offline']).shape == (1, 384)\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"
