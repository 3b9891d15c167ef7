"""Duplicate cases: the same input twice (exactly), or nearly the same (embeddings).

A duplicate makes a comparison count one question twice; two copies with different
references are contradictory labels. Exact duplicates (same input once case and
whitespace are ignored) are found on every add; near duplicates when an embedder is
given (cosine similarity at or above a threshold).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from assay.datasets.cases import CaseSpec, canonical, duplicate_key

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
