"""Vectors cached by (model id, SHA-256 of the text): in process, and in the store.

:class:`CachedEmbedder` wraps any embedder. For each call it looks texts up in an
in-process LRU, then in the store's ``embedding_cache`` table, embeds only what
neither holds (each distinct text once), and writes the new vectors in one
transaction with an insert that skips rows another writer added meanwhile. It
works the same on SQLite and PostgreSQL.

Stored vectors are little-endian float32 bytes (``4 * dim`` of them), as
:class:`assay.store.models.EmbeddingCache` documents.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, select

from assay.embeddings.base import Embedder, Matrix, check_texts, empty_matrix, text_hash
from assay.errors import ConfigError
from assay.store import Store
from assay.store.dialects import insert_for
from assay.store.models import EmbeddingCache

Vector = npt.NDArray[np.float32]

#: Vectors the in-process LRU keeps by default: 20,000 x 384 float32 is 30 MB, about
#: the eval cases of a few large datasets.
LRU_SIZE = 20_000
#: Hashes per ``SELECT ... IN (...)``: well under SQLite's 32,766 bound parameters
#: and PostgreSQL's 65,535, and short enough to plan quickly.
LOOKUP_CHUNK = 500
_LITTLE_F32 = np.dtype("<f4")
_TABLE: Table = EmbeddingCache.__table__  # type: ignore[assignment]  # a Table for a mapped class
#: Length of ``embedding_cache.model`` (String(200) in the store's model).
MAX_MODEL_ID_LENGTH = 200


class VectorLRU:
    """A thread-safe least-recently-used map from (model id, text hash) to a vector.

    Args:
        max_entries: Vectors kept; the least recently used go first.
    """

    def __init__(self, max_entries: int = LRU_SIZE) -> None:
        if max_entries < 0:
            raise ConfigError(f"LRU size must be at least 0, got {max_entries}")
        self.max_entries = max_entries
        self._items: OrderedDict[tuple[str, str], Vector] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def get(self, model_id: str, digest: str) -> Vector | None:
        """The cached vector (read-only), or ``None``; a hit becomes most recent."""
        key = (model_id, digest)
        with self._lock:
            vector = self._items.get(key)
            if vector is not None:
                self._items.move_to_end(key)
            return vector

    def put(self, model_id: str, digest: str, vector: Vector) -> None:
        """Keep a read-only copy of ``vector``, evicting the least recent if full."""
        if self.max_entries == 0:
            return
        kept = np.array(vector, dtype=np.float32, copy=True)
        kept.flags.writeable = False
        key = (model_id, digest)
        with self._lock:
            self._items[key] = kept
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every vector."""
        with self._lock:
            self._items.clear()


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_model_id(model_id: str) -> None:
    if not model_id or len(model_id) > MAX_MODEL_ID_LENGTH:
        raise ConfigError(
            f"model id {model_id[:80]!r} cannot key the embedding cache: it must have 1 to "
            f"{MAX_MODEL_ID_LENGTH} characters, it has {len(model_id)}"
        )


def load_vectors(store: Store, model_id: str, digests: Sequence[str]) -> dict[str, Vector]:
    """The stored vectors of ``model_id`` for those of ``digests`` the store holds.

    Raises:
        ConfigError: A stored row's byte length disagrees with its ``dim``.
    """
    _check_model_id(model_id)
    found: dict[str, Vector] = {}
    table = EmbeddingCache
    with store.session() as session:
        for chunk in _chunks(digests, LOOKUP_CHUNK):
            rows = session.execute(
                select(table.text_hash, table.dim, table.vector).where(
                    table.model == model_id, table.text_hash.in_(chunk)
                )
            )
            for digest, dim, blob in rows:
                if len(blob) != dim * _LITTLE_F32.itemsize:
                    raise ConfigError(
                        f"embedding cache row ({model_id!r}, {digest}) has {len(blob)} bytes "
                        f"for {dim} dimensions; delete it to re-embed"
                    )
                found[digest] = np.frombuffer(blob, dtype=_LITTLE_F32).astype(np.float32)
    return found


def save_vectors(store: Store, model_id: str, vectors: Mapping[str, Vector]) -> None:
    """Store ``vectors`` (text hash to vector) for ``model_id`` in one transaction.

    Rows already present are left as they are: the same (model, text) always has
    the same vector, so a concurrent writer's row is as good as ours.
    """
    _check_model_id(model_id)
    if not vectors:
        return
    rows = [
        {
            "model": model_id,
            "text_hash": digest,
            "dim": int(vector.shape[0]),
            "vector": np.ascontiguousarray(vector, dtype=_LITTLE_F32).tobytes(),
        }
        for digest, vector in vectors.items()
    ]
    statement = insert_for(store.dialect, _TABLE).on_conflict_do_nothing(
        index_elements=["model", "text_hash"]
    )
    with store.write_session() as session:
        session.execute(statement, rows)


@dataclass(frozen=True)
class CacheStats:
    """How a :class:`CachedEmbedder` answered so far, counted per distinct text per call.

    Attributes:
        memory_hits: Texts found in the in-process LRU.
        store_hits: Texts found in the store.
        embedded: Texts the inner embedder had to embed.
    """

    memory_hits: int = 0
    store_hits: int = 0
    embedded: int = 0


class CachedEmbedder:
    """An embedder that embeds each (model, text) once: LRU first, then the store.

    It is an :class:`~assay.embeddings.Embedder` itself, with the inner embedder's
    ``model_id`` and ``dim``.

    Args:
        inner: The embedder that computes missing vectors.
        store: Where vectors persist across processes; in-process only when ``None``.
        lru: An LRU to share between embedders (keys carry the model id); a new one
            of ``lru_size`` entries when ``None``.
        lru_size: Size of the new LRU.
    """

    def __init__(
        self,
        inner: Embedder,
        store: Store | None = None,
        *,
        lru: VectorLRU | None = None,
        lru_size: int = LRU_SIZE,
    ) -> None:
        self.inner = inner
        self.store = store
        self.lru = lru if lru is not None else VectorLRU(lru_size)
        self._stats = CacheStats()
        self._stats_lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """The inner embedder's model id."""
        return self.inner.model_id

    @property
    def dim(self) -> int:
        """The inner embedder's vector size."""
        return self.inner.dim

    @property
    def stats(self) -> CacheStats:
        """Counts since this embedder was made."""
        with self._stats_lock:
            return self._stats

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed ``texts``, computing only vectors neither cache holds.

        Raises:
            ConfigError: Cached vectors of this model id differ in size (two
                different models share the id) or a stored row is damaged.
        """
        texts = check_texts(texts)
        if not texts:
            return empty_matrix(self.dim)
        model_id = self.model_id
        digests = [text_hash(t) for t in texts]
        first_text = dict(zip(digests, texts, strict=True))

        vectors: dict[str, Vector] = {}
        for digest in first_text:
            cached = self.lru.get(model_id, digest)
            if cached is not None:
                vectors[digest] = cached
        memory_hits = len(vectors)

        missing = [d for d in first_text if d not in vectors]
        stored: dict[str, Vector] = {}
        if missing and self.store is not None:
            stored = load_vectors(self.store, model_id, missing)
            vectors.update(stored)
            missing = [d for d in missing if d not in stored]

        fresh: dict[str, Vector] = {}
        if missing:
            matrix = self.inner.embed([first_text[d] for d in missing])
            fresh = dict(zip(missing, matrix, strict=True))
            if self.store is not None:
                save_vectors(self.store, model_id, fresh)
            vectors.update(fresh)

        for digest, vector in (*stored.items(), *fresh.items()):
            self.lru.put(model_id, digest, vector)
        with self._stats_lock:
            self._stats = CacheStats(
                self._stats.memory_hits + memory_hits,
                self._stats.store_hits + len(stored),
                self._stats.embedded + len(fresh),
            )
        return _assemble(model_id, digests, vectors)


def _assemble(model_id: str, digests: Sequence[str], vectors: Mapping[str, Vector]) -> Matrix:
    sizes = {vectors[d].shape[0] for d in digests}
    if len(sizes) != 1:
        raise ConfigError(
            f"cached vectors of model {model_id!r} have different sizes {sorted(sizes)}: "
            "two different models share this model id"
        )
    result: Matrix = np.stack([vectors[d] for d in digests]).astype(np.float32, copy=False)
    return result
