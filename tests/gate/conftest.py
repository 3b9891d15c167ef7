"""The ``lab`` fixture: a project on the parametrized store, with runs of chosen scores."""

from __future__ import annotations

import pytest

from _runs import Lab, new_lab
from assay.store import Store


@pytest.fixture
def lab(store: Store) -> Lab:
    """A lab on the parametrized store (SQLite and PostgreSQL)."""
    return new_lab(store)
