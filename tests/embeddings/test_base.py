"""The Embedder protocol and the shared helpers: text hashes and row normalisation."""

from __future__ import annotations

import hashlib
import inspect

import numpy as np
import pytest

from assay.embeddings import Embedder, MiniLMEmbedder, OpenAIEmbedder, SentenceTransformerEmbedder
from assay.embeddings.base import check_texts, empty_matrix, normalize_rows, text_hash
from assay.errors import InvalidInput


def test_text_hash_is_the_sha256_of_the_utf8_text():
    # Published SHA-256 test vector for "abc" (FIPS 180-2, appendix B.1).
    assert text_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert text_hash("café") == hashlib.sha256("café".encode()).hexdigest()
    assert text_hash("café") != text_hash("cafe")


def test_normalize_rows_gives_unit_rows_and_keeps_zero_rows_finite():
    rows = normalize_rows([[3.0, 4.0], [0.0, 0.0], [-2.0, 0.0]])
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]], atol=1e-7)


def test_normalize_rows_rejects_a_vector():
    with pytest.raises(InvalidInput, match="2-D"):
        normalize_rows([1.0, 2.0])


def test_empty_matrix_keeps_the_width():
    assert empty_matrix(7).shape == (0, 7)
    assert empty_matrix(7).dtype == np.float32


def _conforms(embedder: Embedder) -> Embedder:
    """mypy checks the conformance (run it on this file); the test checks the members."""
    return embedder


@pytest.mark.parametrize(
    "embedder",
    [
        MiniLMEmbedder(),
        OpenAIEmbedder("m", base_url="http://127.0.0.1:9/v1", dimensions=4),
        SentenceTransformerEmbedder("some/model"),
    ],
    ids=["minilm", "openai", "sentence-transformers"],
)
def test_every_embedder_has_the_protocol_members(embedder: Embedder):
    # getattr_static: reading `dim` of a real embedder may load a model or call an API.
    for name in ("model_id", "dim", "embed"):
        assert inspect.getattr_static(type(_conforms(embedder)), name, None) is not None, name


def test_check_texts_names_the_item_that_is_not_a_string():
    assert check_texts(("a", "")) == ["a", ""]
    with pytest.raises(InvalidInput, match="item 1 is int"):
        check_texts(["a", 3])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="not one string"):
        check_texts("abc")


@pytest.mark.parametrize(
    "embedder",
    [MiniLMEmbedder(), OpenAIEmbedder("m", dimensions=2), SentenceTransformerEmbedder("x/y")],
    ids=["minilm", "openai", "sentence-transformers"],
)
def test_embedders_refuse_non_text_before_any_work(embedder: Embedder):
    with pytest.raises(InvalidInput, match="item 0 is NoneType"):
        embedder.embed([None])  # type: ignore[list-item]
