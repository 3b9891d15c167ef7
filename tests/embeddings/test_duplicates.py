"""Best matches between embedding sets: correct, chunked, bounded, and the threshold."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from assay.embeddings import get_embedder
from assay.embeddings.duplicates import NEAR_DUPLICATE_COSINE, BestMatches, best_matches
from assay.errors import InvalidInput


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_best_match_and_cosine_of_each_new_row():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    b = np.array([[0.0, 1.0], [1.0, 0.1], [-1.0, 0.0]])
    result = best_matches(a, b)
    assert isinstance(result, BestMatches)
    np.testing.assert_array_equal(result.match, [1, 0, 1])
    expected = [1 / np.sqrt(1.01), 1.0, 1.1 / np.sqrt(2 * 1.01)]
    np.testing.assert_allclose(result.similarity, expected, rtol=1e-6)
    assert result.similarity.dtype == np.float32
    assert result.match.dtype == np.int64


@pytest.mark.parametrize("cells", [1, 7, 50, 10**9])
def test_chunking_gives_the_brute_force_answer(cells: int):
    rng = np.random.default_rng(7)
    a = _unit(rng.normal(size=(23, 5)))
    b = _unit(rng.normal(size=(11, 5)))
    full = a @ b.T
    result = best_matches(a, b, max_chunk_cells=cells)
    np.testing.assert_array_equal(result.match, full.argmax(axis=1))
    np.testing.assert_allclose(result.similarity, full.max(axis=1), rtol=1e-5)


def test_exclude_self_finds_duplicates_within_one_set():
    a = _unit(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.05]]))
    result = best_matches(a, a, exclude_self=True, max_chunk_cells=2)
    np.testing.assert_array_equal(result.match, [2, 2, 0])
    np.testing.assert_array_equal(result.above(0.99), [0, 2])
    lonely = best_matches(a[:1], a[:1], exclude_self=True)
    assert lonely.match.tolist() == [-1]
    assert lonely.similarity[0] == -np.inf


def test_empty_sets():
    none = best_matches(np.ones((3, 4)), np.zeros((0, 4)))
    assert none.match.tolist() == [-1, -1, -1]
    assert np.all(none.similarity == -np.inf)
    assert none.above(-1.0).size == 0
    assert best_matches(np.zeros((0, 4)), np.ones((2, 4))).match.shape == (0,)
    assert best_matches([], np.ones((2, 4))).match.shape == (0,)


def test_zero_rows_match_nothing_closely():
    result = best_matches(np.zeros((1, 3)), np.eye(3))
    assert result.similarity[0] == 0.0


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "match"),
    [
        (np.ones((2, 3)), np.ones((2, 4)), {}, "3 and 4 dimensions"),
        (np.ones(3), np.ones((2, 3)), {}, "2-D"),
        (np.ones((2, 3)), np.ones((3, 3)), {"exclude_self": True}, "same texts"),
    ],
)
def test_bad_shapes_are_invalid_input(a: np.ndarray, b: np.ndarray, kwargs: dict, match: str):
    with pytest.raises(InvalidInput, match=match):
        best_matches(a, b, **kwargs)


def test_ten_thousand_by_ten_thousand_stays_within_its_chunk_budget():
    rng = np.random.default_rng(0)
    # A small width keeps the test fast; the similarity matrix is what grows.
    a = rng.normal(size=(10_000, 8)).astype(np.float32)
    b = rng.normal(size=(10_000, 8)).astype(np.float32)
    cells = 1_000_000
    tracemalloc.start()
    try:
        result = best_matches(a, b, max_chunk_cells=cells)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.match.shape == (10_000,)
    # The whole matrix would be 400 MB; a chunk is 4 MB, plus normalised copies (0.6 MB).
    assert peak < 20 * 1024 * 1024, peak


def test_the_default_threshold_separates_rewording_from_opposites():
    embedder = get_embedder()
    new = embedder.embed(["What kind of computer", "is hal alive", "You are not immortal"])
    old = embedder.embed(["What type of computer", "is hal dead", "You are immortal"])
    similarity = (new * old).sum(axis=1)
    assert similarity[0] >= NEAR_DUPLICATE_COSINE
    assert similarity[1] < NEAR_DUPLICATE_COSINE
    assert similarity[2] < NEAR_DUPLICATE_COSINE
    assert best_matches(new, old).above().tolist() == [0]
