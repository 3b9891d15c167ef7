"""Vector caches: the in-process LRU and the store table, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

import numpy as np
import pytest
from sqlalchemy import func, select, update

from assay.embeddings.base import Matrix, normalize_rows, text_hash
from assay.embeddings.cache import (
    LOOKUP_CHUNK,
    CachedEmbedder,
    CacheStats,
    VectorLRU,
    load_vectors,
    save_vectors,
)
from assay.errors import ConfigError
from assay.store import Store
from assay.store.models import EmbeddingCache


class CountingEmbedder:
    """Deterministic vectors from a hash of the text; records every text it embeds."""

    def __init__(self, model_id: str = "fake-model", dim: int = 4) -> None:
        self.model_id = model_id
        self.dim = dim
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> Matrix:
        self.seen.extend(texts)
        rows = [
            np.frombuffer(hashlib.sha256(f"{self.model_id}{t}".encode()).digest(), np.uint8)[
                : self.dim
            ].astype(np.float32)
            + 1.0
            for t in texts
        ]
        return normalize_rows(np.array(rows).reshape(len(texts), self.dim))


def _rows(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(EmbeddingCache)) or 0)


def test_lru_evicts_the_least_recently_used():
    lru = VectorLRU(max_entries=2)
    one, two, three = (np.full(2, v, dtype=np.float32) for v in (1, 2, 3))
    lru.put("m", "a", one)
    lru.put("m", "b", two)
    assert lru.get("m", "a") is not None  # "a" becomes the most recent
    lru.put("m", "c", three)
    assert lru.get("m", "b") is None
    assert lru.get("m", "a") is not None
    assert lru.get("m", "c") is not None
    assert lru.get("other-model", "c") is None
    assert len(lru) == 2


def test_lru_keeps_read_only_copies():
    lru = VectorLRU()
    vector = np.ones(3, dtype=np.float32)
    lru.put("m", "a", vector)
    vector[0] = 5.0
    kept = lru.get("m", "a")
    assert kept is not None
    assert kept[0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        kept[0] = 2.0


def test_lru_of_size_zero_keeps_nothing():
    lru = VectorLRU(max_entries=0)
    lru.put("m", "a", np.ones(2, dtype=np.float32))
    assert len(lru) == 0


def test_only_unseen_texts_are_embedded_each_once():
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner)
    first = cached.embed(["a", "b", "a"])
    assert inner.seen == ["a", "b"]
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(first, inner.embed(["a", "b", "a"]))
    inner.seen.clear()
    second = cached.embed(["b", "c"])
    assert inner.seen == ["c"]
    np.testing.assert_array_equal(second[0], first[1])
    assert cached.stats == CacheStats(memory_hits=1, store_hits=0, embedded=3)
    assert (cached.model_id, cached.dim) == ("fake-model", 4)


def test_results_can_be_changed_without_touching_the_cache():
    cached = CachedEmbedder(CountingEmbedder())
    result = cached.embed(["a"])
    result[0, 0] = 42.0
    assert cached.embed(["a"])[0, 0] != 42.0


def test_model_ids_do_not_share_vectors_in_a_shared_lru():
    lru = VectorLRU()
    a, b = CountingEmbedder("model-a"), CountingEmbedder("model-b")
    va = CachedEmbedder(a, lru=lru).embed(["same text"])
    vb = CachedEmbedder(b, lru=lru).embed(["same text"])
    assert b.seen == ["same text"]
    assert not np.allclose(va, vb)


def test_empty_input():
    inner = CountingEmbedder(dim=6)
    assert CachedEmbedder(inner).embed([]).shape == (0, 6)
    assert inner.seen == []


def test_vectors_persist_in_the_store_across_embedders(store: Store):
    texts = ["How do I reset my password?", "", "Ünïcödé 東京"]
    first_inner = CountingEmbedder()
    fresh = CachedEmbedder(first_inner, store).embed(texts)
    assert _rows(store) == 3

    second_inner = CountingEmbedder()
    again = CachedEmbedder(second_inner, store)
    reloaded = again.embed([*texts, "new"])
    assert second_inner.seen == ["new"]
    np.testing.assert_array_equal(reloaded[:3], fresh)
    assert again.stats == CacheStats(memory_hits=0, store_hits=3, embedded=1)
    assert _rows(store) == 4


def test_stored_rows_are_little_endian_float32(store: Store):
    vector = np.array([0.5, -0.25, 1.0], dtype=np.float32)
    save_vectors(store, "m", {text_hash("x"): vector})
    with store.session() as session:
        row = session.execute(select(EmbeddingCache)).scalar_one()
        assert (row.model, row.text_hash, row.dim) == ("m", text_hash("x"), 3)
        assert row.vector == b"\x00\x00\x00\x3f\x00\x00\x80\xbe\x00\x00\x80\x3f"
        assert row.created_at is not None


def test_saving_rows_already_present_keeps_them(store: Store):
    digest = text_hash("x")
    save_vectors(store, "m", {digest: np.array([1.0, 0.0], dtype=np.float32)})
    # A concurrent writer got there first with the same key: ours is skipped, no error.
    save_vectors(
        store,
        "m",
        {digest: np.array([0.0, 1.0], dtype=np.float32), text_hash("y"): np.ones(2, np.float32)},
    )
    assert _rows(store) == 2
    np.testing.assert_array_equal(load_vectors(store, "m", [digest])[digest], [1.0, 0.0])


def test_new_vectors_are_written_in_one_transaction_and_read_back_in_chunks(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    texts = [f"text {i}" for i in range(LOOKUP_CHUNK * 2 + 7)]
    opened: list[int] = []
    real = store.write_session

    def counting():
        opened.append(1)
        return real()

    monkeypatch.setattr(store, "write_session", counting)
    cached = CachedEmbedder(CountingEmbedder(), store)
    fresh = cached.embed(texts)
    assert opened == [1]
    cached.embed(texts[:10])  # all cached: nothing to write
    assert opened == [1]

    inner = CountingEmbedder()
    reloaded = CachedEmbedder(inner, store).embed(texts)  # three SELECTs of <= 500 hashes
    assert inner.seen == []
    np.testing.assert_array_equal(reloaded, fresh)


def test_a_damaged_row_is_a_config_error(store: Store):
    digest = text_hash("x")
    save_vectors(store, "m", {digest: np.ones(4, dtype=np.float32)})
    with store.session() as session:
        session.execute(update(EmbeddingCache).values(dim=5))
    with pytest.raises(ConfigError, match="has 16 bytes for 5 dimensions"):
        load_vectors(store, "m", [digest])


def test_one_model_id_with_two_sizes_is_a_config_error(store: Store):
    CachedEmbedder(CountingEmbedder("shared-id", dim=4), store).embed(["a"])
    with pytest.raises(ConfigError, match="'shared-id' have different sizes"):
        CachedEmbedder(CountingEmbedder("shared-id", dim=8), store).embed(["a", "b"])


def test_a_model_id_too_long_for_the_table_is_a_config_error(sqlite_store: Store):
    # Checked before any SQL, so one dialect is enough.
    with pytest.raises(ConfigError, match="1 to 200 characters, it has 201"):
        CachedEmbedder(CountingEmbedder("m" * 201), sqlite_store).embed(["a"])


def test_two_writers_embedding_the_same_texts_at_once_both_succeed(store: Store):
    texts = [f"shared {i}" for i in range(50)]
    start = threading.Barrier(2)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        cached = CachedEmbedder(CountingEmbedder(), store)  # its own LRU: both miss
        start.wait()
        try:
            results.append(cached.embed(texts))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    np.testing.assert_array_equal(results[0], results[1])
    assert _rows(store) == 50
