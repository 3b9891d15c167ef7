"""The `Embedder` interface and the small helpers every embedder shares.

An embedder turns texts into L2-normalised float32 rows, so the cosine similarity
of two texts is the dot product of their rows. ``model_id`` names the vectors: it
goes into caches and release fingerprints, so two embedders share a ``model_id``
only when they give the same vectors for the same text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from assay.errors import InvalidInput

#: A matrix of embeddings: float32, shape ``(n, dim)``, one unit row per text.
Matrix = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Something that embeds texts into unit vectors of a fixed size."""

    @property
    def model_id(self) -> str:
        """A stable id of the vectors this embedder produces (caches, fingerprints)."""
        ...

    @property
    def dim(self) -> int:
        """The length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed ``texts``.

        Args:
            texts: The texts, in order; empty strings are allowed.

        Returns:
            float32 array of shape ``(len(texts), dim)`` with L2-normalised rows.
        """
        ...


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, or :class:`~assay.errors.InvalidInput` naming the bad item.

    A lone string is refused: it is a sequence of characters, and embedding each
    character is never what the caller meant.
    """
    if isinstance(texts, str):
        raise InvalidInput("embed() takes a sequence of texts, not one string")
    result = list(texts)
    for position, text in enumerate(result):
        if not isinstance(text, str):
            raise InvalidInput(
                f"texts to embed must be strings; item {position} is {type(text).__name__}"
            )
    return result


def text_hash(text: str) -> str:
    """SHA-256 of the UTF-8 text, as 64 lowercase hex characters (the cache key)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def empty_matrix(dim: int) -> Matrix:
    """The embedding of no texts: shape ``(0, dim)``."""
    return np.zeros((0, dim), dtype=np.float32)


def normalize_rows(matrix: npt.ArrayLike) -> Matrix:
    """``matrix`` as float32 with every row scaled to unit L2 norm.

    An all-zero row stays zero rather than becoming NaN; the floor on the norm is
    the one ``torch.nn.functional.normalize`` uses (1e-12), as sentence-transformers
    does.
    """
    rows = np.asarray(matrix, dtype=np.float32)
    if rows.ndim != 2:
        raise InvalidInput(f"embeddings must be a 2-D matrix, got shape {rows.shape}")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    result: Matrix = (rows / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return result
