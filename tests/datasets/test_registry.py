"""Datasets in the store (SQLite and PostgreSQL): versions, content addressing,
duplicates, references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from assay.datasets import (
    AddResult,
    CaseSpec,
    EmbeddingFinder,
    add_version,
    create_dataset,
    diff_cases,
    get_dataset,
    get_version,
    list_datasets,
    version_cases,
)
from assay.errors import Conflict, InvalidInput, NotFound
from assay.store import Store
from assay.store.models import Case, EmbeddingCache

Q = [CaseSpec(id=f"q{i}", input=f"question {i}", reference=f"answer {i}") for i in range(5)]


def add(store: Store, project_id: int, cases: Sequence[CaseSpec], **kw: Any) -> AddResult:
    with store.write_session() as session:
        return add_version(session, project_id, "suite", cases, **kw)


def test_first_add_creates_dataset_and_version_1(store: Store, project_id: int) -> None:
    result = add(store, project_id, Q[:3], message="seed", source="seed.jsonl")
    assert result.created
    assert result.dataset_created
    assert (result.version.number, result.version.case_count) == (1, 3)
    assert result.added == ["q0", "q1", "q2"]
    with store.session() as session:
        version = get_version(session, project_id, "suite")
        assert version.ref == "suite@1"
        assert (version.message, version.source) == ("seed", "seed.jsonl")
        cases = version_cases(session, version.id)
    assert [c.id for c in cases] == ["q0", "q1", "q2"]
    assert cases[1].case.reference == "answer 1"


def test_same_content_makes_no_new_version_even_reordered(store: Store, project_id: int) -> None:
    first = add(store, project_id, Q[:3])
    again = add(store, project_id, list(reversed(Q[:3])))
    assert not again.created
    assert again.version.number == 1
    assert again.version.digest == first.version.digest


def test_versions_share_unchanged_case_rows(store: Store, project_id: int) -> None:
    add(store, project_id, Q[:3])
    changed = Q[1].model_copy(update={"reference": "better answer"})
    result = add(store, project_id, [Q[0], changed, Q[3]])
    assert result.version.number == 2
    assert (result.added, result.removed, result.changed) == (["q3"], ["q2"], ["q1"])
    with store.session() as session:
        rows = session.scalar(select(func.count()).select_from(Case))
        v1 = version_cases(session, get_version(session, project_id, "suite@1").id)
        v2 = version_cases(session, get_version(session, project_id, "suite@v2").id)
    assert rows == 5  # q0, q1, q2, q1 changed, q3: q0 is stored once
    diff = diff_cases(v1, v2)
    assert (diff.added, diff.removed, diff.unchanged) == (["q3"], ["q2"], 1)
    assert [(c.id, c.fields) for c in diff.changed] == [("q1", ["reference"])]
    assert [c.case.reference for c in v1] == ["answer 0", "answer 1", "answer 2"]


def test_append_keeps_the_latest_cases(store: Store, project_id: int) -> None:
    add(store, project_id, Q[:2])
    newer_q1 = Q[1].model_copy(update={"tags": ("golden",)})
    result = add(store, project_id, [newer_q1, Q[2]], mode="append")
    assert (result.added, result.changed, result.removed) == (["q2"], ["q1"], [])
    with store.session() as session:
        cases = version_cases(session, result.version.id)
    assert [c.id for c in cases] == ["q0", "q1", "q2"]
    assert cases[1].case.tags == ("golden",)


def test_exact_duplicates_are_skipped_and_reported(store: Store, project_id: int) -> None:
    dup = CaseSpec(id="again", input="  QUESTION 1 ", reference="other answer")
    result = add(store, project_id, [*Q[:2], dup])
    assert result.version.case_count == 2
    (found,) = result.duplicates
    assert (found.case_id, found.duplicate_of, found.kind, found.dropped) == (
        "again",
        "q1",
        "exact",
        True,
    )
    assert not found.same_reference


def test_duplicates_kept_or_refused_on_request(store: Store, project_id: int) -> None:
    dup = CaseSpec(id="again", input="question 1", reference="answer 1")
    kept = add(store, project_id, [*Q[:2], dup], on_duplicate="keep")
    assert kept.version.case_count == 3
    assert kept.duplicates[0].same_reference
    assert not kept.duplicates[0].dropped
    with pytest.raises(InvalidInput, match="repeats the input of case 'q4' \\(1 duplicate"):
        add(store, project_id, [Q[3], Q[4], CaseSpec(input="Question 4")], on_duplicate="error")


def test_cases_without_ids_get_stable_derived_ids(store: Store, project_id: int) -> None:
    first = add(store, project_id, [CaseSpec(input="alpha"), CaseSpec(input="beta")])
    second = add(store, project_id, [CaseSpec(input="alpha"), CaseSpec(input="gamma")])
    alpha, beta = first.added
    assert alpha.startswith("c")
    assert alpha not in second.added  # the same input keeps its id: unchanged
    assert second.removed == [beta]
    assert len(second.added) == 1


def test_repeated_ids_are_refused(store: Store, project_id: int) -> None:
    with pytest.raises(InvalidInput, match="case ids must be unique; repeated: 'q1'"):
        add(store, project_id, [Q[1], Q[1].model_copy(update={"input": "other"})])
    with store.session() as session:
        assert list_datasets(session, project_id) == []


def test_near_duplicates_are_reported_never_dropped(store: Store, project_id: int) -> None:
    def finder(texts: Sequence[str]) -> list[tuple[int, float] | None]:
        # "question 3" is near "question 1"; nothing else is near anything.
        return [(1, 0.97) if t == "question 3" else None for t in texts]

    result = add(store, project_id, [Q[0], Q[1], Q[3]], near_duplicates=finder)
    assert result.version.case_count == 3
    (near,) = result.duplicates
    assert (near.case_id, near.duplicate_of, near.kind, near.similarity) == (
        "q3",
        "q1",
        "near",
        0.97,
    )


class FakeEmbedder:
    """Vectors by the first word: texts starting alike are near duplicates."""

    model_id = "fake-first-word"
    dim = 3

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        self.embedded += texts
        axis = {"question": 0, "other": 1}
        rows = np.zeros((len(texts), 3), dtype=np.float32)
        for i, text in enumerate(texts):
            rows[i, axis.get(text.split()[0], 2)] = 1.0
        return rows


def test_embedding_finder_caches_vectors_after_the_commit(store: Store, project_id: int) -> None:
    embedder = FakeEmbedder()
    finder = EmbeddingFinder(embedder, store)  # type: ignore[arg-type]
    with store.write_session() as session:
        result = add_version(
            session, project_id, "suite", [Q[0], Q[1], CaseSpec(input="other")],
            near_duplicates=finder,
        )  # fmt: skip
    finder.save()
    assert [(d.case_id, d.duplicate_of, d.kind) for d in result.duplicates] == [
        ("q1", "q0", "near")
    ]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(EmbeddingCache)) == 3
    again = EmbeddingFinder(FakeEmbedder(), store)  # type: ignore[arg-type]
    with store.write_session() as session:
        add_version(session, project_id, "suite", [*Q[:2], Q[2]], near_duplicates=again)
    assert again.embedder.embedded == ["question 2"]  # type: ignore[attr-defined]


def test_references_and_errors(store: Store, project_id: int) -> None:
    add(store, project_id, Q[:1])
    add(store, project_id, Q[:2])
    with store.session() as session:
        latest = get_version(session, project_id, "suite@latest")
        assert latest.number == 2
        by_digest = get_version(session, project_id, f"suite@{latest.digest[:10]}")
        assert by_digest.number == 2
        with pytest.raises(NotFound, match="has no version 7 \\(it has 1 to 2\\)"):
            get_version(session, project_id, "suite@7")
        with pytest.raises(NotFound, match="no dataset named 'nope'"):
            get_version(session, project_id, "nope@1")
        with pytest.raises(InvalidInput, match="after '@' give a version number"):
            get_version(session, project_id, "suite@x!")
        with pytest.raises(NotFound, match="no version with digest"):
            get_version(session, project_id, "suite@deadbeef")


def test_create_and_conflicts(store: Store, project_id: int) -> None:
    with store.write_session() as session:
        view = create_dataset(session, project_id, "empty", "for later")
    assert view.versions == []
    with store.write_session() as session, pytest.raises(Conflict, match="already exists"):
        create_dataset(session, project_id, "empty")
    with store.session() as session:
        with pytest.raises(NotFound, match="has no versions yet"):
            get_version(session, project_id, "empty")
        assert get_dataset(session, project_id, "empty").description == "for later"
    with store.write_session() as session, pytest.raises(NotFound):
        add_version(session, project_id, "missing", Q[:1], create=False)


@pytest.mark.parametrize("name", ["", " padded", "a@b", "a/b", "tab\there", "x" * 201])
def test_bad_names_are_refused(store: Store, project_id: int, name: str) -> None:
    with store.write_session() as session, pytest.raises(InvalidInput, match="dataset name"):
        create_dataset(session, project_id, name)


def test_datasets_are_per_project(store: Store, project_id: int) -> None:
    from assay.projects import create_project

    add(store, project_id, Q[:1])
    with store.write_session() as session:
        other = create_project(session, "other").id
    with store.session() as session:
        assert list_datasets(session, other) == []
        with pytest.raises(NotFound):
            get_version(session, other, "suite")
