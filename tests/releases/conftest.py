"""Fixtures for release tests: a migrated store (both dialects) with one project."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from assay.store import Store
from assay.store.models import Project


class ReleaseStore(NamedTuple):
    """A migrated store and the id of a project in it."""

    store: Store
    project_id: int


def _add_project(store: Store, name: str) -> int:
    """Create a project and return its id."""
    with store.session() as session:
        project = Project(name=name)
        session.add(project)
        session.flush()
        return project.id


@pytest.fixture
def release_store(store: Store) -> ReleaseStore:
    """The shared ``store`` fixture (sqlite and postgresql) with a project ``p``."""
    return ReleaseStore(store, _add_project(store, "p"))


@pytest.fixture
def other_project(release_store: ReleaseStore) -> int:
    """The id of a second project ``q`` in the same store."""
    return _add_project(release_store.store, "q")
