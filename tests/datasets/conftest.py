"""Fixtures for dataset tests: a store with one project."""

from __future__ import annotations

import pytest

from assay.projects import create_project
from assay.store import Store


@pytest.fixture
def project_id(store: Store) -> int:
    """The id of a fresh project in the parametrized store."""
    with store.write_session() as session:
        return create_project(session, "bot").id
