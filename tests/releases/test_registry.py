"""Registering, finding and listing releases in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from assay.errors import Conflict, InvalidInput, NotFound
from assay.releases import (
    RegisteredRelease,
    ReleaseView,
    canonical_manifest,
    fingerprint,
    get_release,
    list_releases,
    parse_manifest,
    register_release,
)
from assay.releases import registry as registry_module
from assay.store.models import Release

if TYPE_CHECKING:
    # Annotation only: importing `conftest` at run time would pick whichever of
    # the suite's conftest modules was imported under that name first.
    from conftest import ReleaseStore

V1: dict[str, Any] = {
    "name": "v1",
    "model": {"id": "gpt-4o", "provider": "openai"},
    "generation": {"temperature": 0.2},
    "prompts": {"system": "Be brief."},
}


def manifest(name: str, **changes: Any) -> dict[str, Any]:
    return {**V1, "name": name, **changes}


def register(rs: ReleaseStore, data: dict[str, Any]) -> RegisteredRelease:
    with rs.store.write_session() as session:
        return register_release(session, rs.project_id, data)


def count_releases(rs: ReleaseStore) -> int:
    with rs.store.session() as session:
        return session.scalar(select(func.count()).select_from(Release)) or 0


def test_register_stores_the_canonical_manifest(release_store: ReleaseStore) -> None:
    result = register(release_store, V1)
    assert result.created
    assert result.name == "v1"
    assert result.fingerprint == fingerprint(parse_manifest(V1))
    with release_store.store.session() as session:
        row = session.get(Release, result.id)
        assert row is not None
        assert json.loads(row.manifest) == canonical_manifest(V1)


def test_registering_again_is_idempotent(release_store: ReleaseStore) -> None:
    first = register(release_store, V1)
    # Key order and float spelling do not matter: the behaviour is the same.
    again = register(release_store, dict(reversed(list(V1.items()))))
    assert again == RegisteredRelease(first.id, "v1", first.fingerprint, created=False)
    assert count_releases(release_store) == 1


def test_same_name_with_new_behaviour_is_a_conflict(release_store: ReleaseStore) -> None:
    register(release_store, V1)
    with pytest.raises(Conflict) as err:
        register(release_store, manifest("v1", generation={"temperature": 0.7}))
    message = str(err.value)
    assert "release 'v1' already exists with different behaviour" in message
    assert "generation.temperature" in message
    assert "immutable" in message
    assert "new name" in message
    assert count_releases(release_store) == 1


def test_same_behaviour_under_another_name_is_a_conflict(release_store: ReleaseStore) -> None:
    first = register(release_store, V1)
    with pytest.raises(Conflict) as err:
        register(release_store, manifest("v1-again"))
    message = str(err.value)
    assert "same behaviour as the existing release 'v1'" in message
    assert first.fingerprint[:12] in message
    assert count_releases(release_store) == 1


def test_a_manifest_with_no_behaviour_is_refused(release_store: ReleaseStore) -> None:
    with pytest.raises(InvalidInput, match="describes no behaviour"):
        register(release_store, {"name": "empty", "model": {}})


def test_an_unknown_project_is_not_found(release_store: ReleaseStore) -> None:
    with (
        release_store.store.write_session() as session,
        pytest.raises(NotFound, match="project 9999"),
    ):
        register_release(session, 9999, V1)


def test_an_invalid_manifest_stores_nothing(release_store: ReleaseStore) -> None:
    with pytest.raises(InvalidInput, match=r"model\.id: expected a string"):
        register(release_store, manifest("v2", model={"id": 4}))
    assert count_releases(release_store) == 0


def test_projects_do_not_share_names_or_fingerprints(
    release_store: ReleaseStore, other_project: int
) -> None:
    register(release_store, V1)
    with release_store.store.write_session() as session:
        other = register_release(session, other_project, V1)
    assert other.created
    with release_store.store.session() as session:
        assert [r.name for r in list_releases(session, other_project)] == ["v1"]


def test_losing_a_race_to_a_concurrent_writer_is_idempotent(
    release_store: ReleaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = register(release_store, V1)
    real_find = registry_module._find_existing
    calls: list[str] = []

    def miss_once(*args: Any) -> Release | None:
        # The first look happens "before" the other writer's commit.
        calls.append("find")
        return None if len(calls) == 1 else real_find(*args)

    monkeypatch.setattr(registry_module, "_find_existing", miss_once)
    with release_store.store.write_session() as session:
        again = register_release(session, release_store.project_id, V1)
        # The savepoint kept the caller's transaction usable.
        assert len(list_releases(session, release_store.project_id)) == 1
    assert again == RegisteredRelease(first.id, "v1", first.fingerprint, created=False)
    assert calls == ["find", "find"]


# --- lookup --------------------------------------------------------------------------


def test_get_release_by_name_fingerprint_and_prefix(release_store: ReleaseStore) -> None:
    registered = register(release_store, V1)
    fp = registered.fingerprint
    with release_store.store.session() as session:
        for ref in ("v1", fp, fp[:8], fp[:20], fp[:8].upper(), f"  {fp[:10]} "):
            view = get_release(session, release_store.project_id, ref)
            assert view.id == registered.id, ref


def test_release_view_fields(release_store: ReleaseStore) -> None:
    registered = register(release_store, V1)
    with release_store.store.session() as session:
        view = get_release(session, release_store.project_id, "v1")
    assert isinstance(view, ReleaseView)
    assert view.name == "v1"
    assert view.fingerprint == registered.fingerprint
    assert view.manifest == canonical_manifest(V1)
    assert view.manifest["generation"] == {"temperature": 0.2}
    assert view.created_at.tzinfo is not None
    assert abs(view.created_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_unknown_ref_is_not_found_naming_it(release_store: ReleaseStore) -> None:
    register(release_store, V1)
    with release_store.store.session() as session:
        with pytest.raises(NotFound, match="'v9'"):
            get_release(session, release_store.project_id, "v9")
        with pytest.raises(NotFound, match="'deadbeef00'"):
            get_release(session, release_store.project_id, "deadbeef00")


def test_short_prefix_is_not_a_fingerprint(release_store: ReleaseStore) -> None:
    fp = register(release_store, V1).fingerprint
    with (
        release_store.store.session() as session,
        pytest.raises(NotFound, match="at least 8 hex characters"),
    ):
        get_release(session, release_store.project_id, fp[:7])


def test_empty_ref_is_invalid(release_store: ReleaseStore) -> None:
    with release_store.store.session() as session, pytest.raises(InvalidInput):
        get_release(session, release_store.project_id, "  ")


def test_ambiguous_prefix_lists_the_candidates(release_store: ReleaseStore) -> None:
    # Two fingerprints sharing 8 hex characters are too rare to find by hashing.
    with release_store.store.session() as session:
        for name, tail in (("a", "1"), ("b", "2")):
            session.add(
                Release(
                    project_id=release_store.project_id,
                    name=name,
                    fingerprint="abcdef01" + tail * 56,
                    manifest=json.dumps(manifest(name)),
                )
            )
    with release_store.store.session() as session:
        with pytest.raises(InvalidInput) as err:
            get_release(session, release_store.project_id, "abcdef01")
        assert "ambiguous" in str(err.value)
        assert "a (abcdef011111)" in str(err.value)
        assert "b (abcdef012222)" in str(err.value)
        assert get_release(session, release_store.project_id, "abcdef012").name == "b"


def test_a_name_wins_over_a_fingerprint_prefix(release_store: ReleaseStore) -> None:
    other = register(release_store, manifest("v2", prompts={"system": "Be kind."}))
    name = other.fingerprint[:8]
    register(release_store, manifest(name, prompts={"system": "Be warm."}))
    with release_store.store.session() as session:
        assert get_release(session, release_store.project_id, name).name == name
        assert get_release(session, release_store.project_id, other.fingerprint[:9]).name == "v2"


def test_list_releases_newest_first(release_store: ReleaseStore) -> None:
    for i in range(3):
        register(release_store, manifest(f"v{i}", generation={"temperature": i / 10}))
    with release_store.store.session() as session:
        views = list_releases(session, release_store.project_id)
        assert [v.name for v in views] == ["v2", "v1", "v0"]
        assert [v.name for v in list_releases(session, release_store.project_id, limit=2)] == [
            "v2",
            "v1",
        ]


def test_list_releases_of_an_empty_project(release_store: ReleaseStore) -> None:
    with release_store.store.session() as session:
        assert list_releases(session, release_store.project_id) == []
