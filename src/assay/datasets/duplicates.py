"""Duplicate cases: the same input twice (exactly), or nearly the same (embeddings).

A duplicate makes a comparison count one question twice; two copies with different
references are contradictory labels. Exact duplicates (same input once case and
whitespace are ignored) are found on every add; near duplicates when an embedder is
given (cosine similarity at or above a threshold).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from assay.datasets.cases import CaseSpec, canonical, duplicate_key

if TYPE_CHECKING:
    from assay.embeddings import Embedder
    from assay.store import Store

NEAR_DUPLICATE_COSINE = 0.95
"""Default threshold; see assay.embeddings.NEAR_DUPLICATE_COSINE for where it comes from."""

DuplicateKind = Literal["exact", "near"]


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A case that repeats another one.

    Attributes:
        case_id: The later case.
        duplicate_of: The case it repeats (kept).
        kind: ``exact`` (same input) or ``near`` (similar by embedding).
        similarity: Cosine similarity for near duplicates, 1.0 for exact ones.
        same_reference: Whether both carry the same reference; False means two
            labels for one question.
        dropped: Whether the case was left out of the version.
    """

    case_id: str
    duplicate_of: str
    kind: DuplicateKind
    similarity: float
    same_reference: bool
    dropped: bool


NearDuplicateFinder = Callable[[Sequence[str]], list[tuple[int, float] | None]]
"""Given texts in order, for each one the index of the most similar earlier text and
their similarity, or None when no earlier text is similar enough."""


def exact_duplicates(
    cases: Sequence[tuple[str, CaseSpec]], *, drop: bool
) -> tuple[list[tuple[str, CaseSpec]], list[Duplicate]]:
    """Find cases whose input repeats an earlier case's input.

    Args:
        cases: ``(id, case)`` pairs in order; the first of equal inputs is kept.
        drop: Leave the repeats out of the returned cases.

    Returns:
        The cases to keep, and the duplicates found.
    """
    first: dict[str, tuple[str, CaseSpec]] = {}
    kept: list[tuple[str, CaseSpec]] = []
    found: list[Duplicate] = []
    for case_id, case in cases:
        key = duplicate_key(case.input)
        seen = first.get(key)
        if seen is None:
            first[key] = (case_id, case)
            kept.append((case_id, case))
            continue
        found.append(
            Duplicate(
                case_id=case_id,
                duplicate_of=seen[0],
                kind="exact",
                similarity=1.0,
                same_reference=canonical(seen[1].reference) == canonical(case.reference),
                dropped=drop,
            )
        )
        if not drop:
            kept.append((case_id, case))
    return kept, found


class EmbeddingFinder:
    """A :data:`NearDuplicateFinder` by cosine similarity of an embedder's vectors.

    Each near pair is reported once, on its later text. Inputs that are exact
    duplicates are caught before this runs, so similarity 1.0 here means texts that
    differ only in what the embedder ignores.

    With a store, vectors already cached there are read, and new ones are kept in
    :attr:`pending` until :meth:`save`: the finder runs inside the caller's write
    transaction, and on SQLite a second writer would wait on that transaction's lock.

    Args:
        embedder: Makes the vectors.
        store: Where vectors are cached (read now, written by :meth:`save`).
        threshold: Cosine similarity that counts as near.
    """

    def __init__(
        self,
        embedder: Embedder,
        store: Store | None = None,
        threshold: float = NEAR_DUPLICATE_COSINE,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.threshold = threshold
        self.pending: dict[str, Any] = {}

    def __call__(self, texts: Sequence[str]) -> list[tuple[int, float] | None]:
        """For each text, its most similar earlier text at or above the threshold."""
        out: list[tuple[int, float] | None] = [None] * len(texts)
        if len(texts) < 2:
            return out
        # NumPy comes with the embeddings: imported here, not with datasets.
        import numpy as np

        from assay.embeddings import best_matches, load_vectors, text_hash

        model = self.embedder.model_id
        digests = [text_hash(t) for t in texts]
        known = dict(self.pending)
        if self.store is not None:
            known.update(load_vectors(self.store, model, sorted(set(digests) - set(known))))
        missing = {d: t for d, t in zip(digests, texts, strict=True) if d not in known}
        if missing:
            fresh = self.embedder.embed(list(missing.values()))
            new = dict(zip(missing, fresh, strict=True))
            known.update(new)
            self.pending.update(new)
        vectors = np.vstack([known[d] for d in digests])
        best = best_matches(vectors, vectors, exclude_self=True)
        for i in best.above(self.threshold):
            j = int(best.match[i])
            later, earlier = (int(i), j) if j < i else (j, int(i))
            similarity = float(best.similarity[i])
            current = out[later]
            if current is None or similarity > current[1]:
                out[later] = (earlier, similarity)
        return out

    def save(self) -> None:
        """Cache the vectors made since the last save in the store (after the commit)."""
        if self.store is not None and self.pending:
            from assay.embeddings import save_vectors

            save_vectors(self.store, self.embedder.model_id, self.pending)
        self.pending = {}
