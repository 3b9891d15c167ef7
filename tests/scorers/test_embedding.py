"""The embedding scorer, with a fake embedder and once with the real default one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from assay.errors import InvalidInput
from assay.scorers import EmbeddingArgs, EmbeddingScorer, ScorerError, ScorerSpec, create_scorer


class FakeEmbedder:
    """Unit vectors looked up by text; unknown texts get the last axis."""

    model_id = "fake-2d"
    dim = 2

    def __init__(self, vectors: dict[str, tuple[float, float]]) -> None:
        self.vectors = vectors
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = np.array([self.vectors.get(t, (0.0, 1.0)) for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_cosine_similarity_is_the_value(run_score) -> None:
    embedder = FakeEmbedder({"cat": (1.0, 0.0), "kitten": (0.8, 0.6)})
    score = run_score(EmbeddingScorer(embedder=embedder), "kitten", "cat")
    assert score.value == pytest.approx(0.8, abs=1e-6)
    assert score.passed is None
    assert score.reason == "cosine similarity 0.800"
    assert score.metadata == {"cosine": pytest.approx(0.8), "model_id": "fake-2d"}
    assert embedder.calls == [["kitten", "cat"]]


def test_negative_cosine_scores_zero(run_score) -> None:
    embedder = FakeEmbedder({"up": (1.0, 0.0), "down": (-1.0, 0.0)})
    score = run_score(EmbeddingScorer(embedder=embedder), "up", "down")
    assert score.value == 0.0
    assert score.metadata["cosine"] == pytest.approx(-1.0)


def test_threshold_gives_pass_and_fail(run_score) -> None:
    embedder = FakeEmbedder({"a": (1.0, 0.0), "b": (0.6, 0.8), "c": (0.9, 0.1)})
    scorer = EmbeddingScorer(EmbeddingArgs(threshold=0.7), embedder=embedder)
    assert run_score(scorer, "b", "a").passed is False
    passed = run_score(scorer, "c", "a")
    assert passed.passed is True
    assert passed.reason.endswith("at or above 0.7")


def test_non_string_none_and_non_ascii_outputs_are_embedded_as_text(run_score) -> None:
    embedder = FakeEmbedder({'{"a": 1}': (1.0, 0.0), "": (1.0, 0.0), "日本語": (1.0, 0.0)})
    scorer = EmbeddingScorer(embedder=embedder)
    assert run_score(scorer, {"a": 1}, "日本語").value == pytest.approx(1.0)
    assert run_score(scorer, None, "日本語").value == pytest.approx(1.0)
    assert embedder.calls == [['{"a": 1}', "日本語"], ["", "日本語"]]


def test_no_reference_is_an_error(run_score) -> None:
    with pytest.raises(ScorerError, match="'embedding' needs a reference"):
        run_score(EmbeddingScorer(embedder=FakeEmbedder({})), "text", None)


def test_spec_leaves_out_the_api_key_and_defaults() -> None:
    scorer = create_scorer(
        "embedding:embedder=openai:text-embedding-3-small,threshold=0.8",
        secrets={"api_key": "sk-x"},
    )
    assert scorer.spec == ScorerSpec(
        "embedding", {"embedder": "openai:text-embedding-3-small", "threshold": 0.8}
    )
    assert create_scorer("embedding").spec == ScorerSpec("embedding")
    with pytest.raises(InvalidInput, match="argument 'threshold'"):
        create_scorer("embedding:threshold=1.5")


def test_unknown_embedder_is_refused_when_built() -> None:
    with pytest.raises(InvalidInput, match="argument 'embedder': unknown embedder 'nonesuch'"):
        create_scorer("embedding:embedder=nonesuch")


def test_real_default_embedder_ranks_a_paraphrase_above_an_unrelated_text(run_score) -> None:
    # Uses the offline all-MiniLM-L6-v2 from assay.embeddings (loads the ONNX model).
    scorer = create_scorer("embedding")
    reference = "How do I reset my password?"
    close = run_score(scorer, "I forgot my password, how can I change it?", reference)
    far = run_score(scorer, "The weather in Lisbon is sunny today.", reference)
    assert close.value > far.value + 0.3
    assert "MiniLM" in close.metadata["model_id"]
    same = run_score(scorer, reference, reference)
    assert same.value == pytest.approx(1.0, abs=1e-5)
