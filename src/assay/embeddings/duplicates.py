"""Best cosine match of each new embedding among existing ones, in bounded memory.

Dataset near-duplicate detection embeds the new cases (matrix ``A``) and the
existing ones (``B``) and flags every new case whose best match reaches
:data:`NEAR_DUPLICATE_COSINE`. The similarity matrix is never held whole: rows of
``A`` go through in chunks sized so a chunk's similarities stay under
:data:`MAX_CHUNK_CELLS` float32 cells (64 MB), whatever ``len(B)`` is.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from assay.embeddings.base import normalize_rows
from assay.errors import InvalidInput

#: Cosine similarity at or above which two texts count as near-duplicates under the
#: default embedder. Measured with all-MiniLM-L6-v2 (int8) on the 1,901 distinct
#: chatterbot-corpus English turns: every one of the 21 pairs at >= 0.95 is the same
#: text up to case, punctuation, an article or a synonym ("What type of computer" /
#: "What kind of computer", 0.97), while the 0.90-0.95 band already holds pairs that
#: mean the opposite ("is hal alive" / "is hal dead", 0.917; "You are not immortal" /
#: "You are immortal", 0.920), which must stay separate eval cases. Light edits of
#: 400 sentences reach it less often than one would hope (removed punctuation: median
#: 0.965, 65% >= 0.95; one swapped-letter typo: median 0.884), so it flags clear
#: rewordings, not every edit.
NEAR_DUPLICATE_COSINE = 0.95
#: Similarity cells computed at once: 16M float32 cells are 64 MB, a 1,600-row
#: chunk against 10,000 existing vectors.
MAX_CHUNK_CELLS = 16_000_000


class BestMatches(NamedTuple):
    """For each row of ``A``, its most similar row of ``B``.

    Attributes:
        match: int64 array, ``len(A)``: the row of ``B`` (the first one on ties);
            -1 when ``B`` is empty (or holds only the row itself, with
            ``exclude_self``).
        similarity: float32 array, ``len(A)``: the cosine similarity of that pair;
            -inf where ``match`` is -1, so no threshold is ever met there.
    """

    match: npt.NDArray[np.int64]
    similarity: npt.NDArray[np.float32]

    def above(self, threshold: float = NEAR_DUPLICATE_COSINE) -> npt.NDArray[np.int64]:
        """Rows of ``A`` whose best match reaches ``threshold`` (inclusive)."""
        return np.flatnonzero(self.similarity >= threshold).astype(np.int64)


def best_matches(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    exclude_self: bool = False,
    max_chunk_cells: int = MAX_CHUNK_CELLS,
) -> BestMatches:
    """The most cosine-similar row of ``b`` for every row of ``a``.

    Rows are L2-normalised here (a no-op for an :class:`~assay.embeddings.Embedder`'s
    output), so the result is the cosine similarity whatever the input scale; an
    all-zero row has similarity 0 with everything.

    Args:
        a: ``(n, dim)`` embeddings of the new texts.
        b: ``(m, dim)`` embeddings of the existing texts.
        exclude_self: ``a`` and ``b`` are the same texts in the same order (near
            duplicates within one set): row i is not matched with itself.
        max_chunk_cells: Bound on the similarity cells held at once.

    Raises:
        InvalidInput: The shapes do not fit together.
    """
    left = _as_matrix(a, "A")
    right = _as_matrix(b, "B")
    if left.shape[1] != right.shape[1] and len(left) and len(right):
        raise InvalidInput(
            f"embeddings to compare have {left.shape[1]} and {right.shape[1]} dimensions"
        )
    if exclude_self and left.shape != right.shape:
        raise InvalidInput(
            f"exclude_self needs A and B to be the same texts; shapes {left.shape} and "
            f"{right.shape} differ"
        )
    match = np.full(len(left), -1, dtype=np.int64)
    similarity = np.full(len(left), -np.inf, dtype=np.float32)
    if not len(left) or not len(right):
        return BestMatches(match, similarity)
    left = normalize_rows(left)
    right = normalize_rows(right)
    rows_per_chunk = max(1, max_chunk_cells // len(right))
    for start in range(0, len(left), rows_per_chunk):
        stop = min(start + rows_per_chunk, len(left))
        sims = left[start:stop] @ right.T
        if exclude_self:
            own = np.arange(start, stop)
            sims[own - start, own] = -np.inf
        best = np.argmax(sims, axis=1)
        score = sims[np.arange(stop - start), best]
        found = np.isfinite(score)
        match[start:stop] = np.where(found, best, -1)
        similarity[start:stop] = score
    return BestMatches(match, similarity)


def _as_matrix(value: npt.ArrayLike, name: str) -> npt.NDArray[np.float32]:
    matrix = np.asarray(value, dtype=np.float32)
    if matrix.ndim == 1 and matrix.size == 0:
        return matrix.reshape(0, 0)
    if matrix.ndim != 2:
        raise InvalidInput(f"embeddings {name} must be a 2-D matrix, got shape {matrix.shape}")
    return matrix
