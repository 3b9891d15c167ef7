"""Every Alembic revision walks up and down on both dialects and ends at the models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import inspect

from assay.store import Store, migrate
from assay.store.models import Base


@pytest.fixture
def empty_store(db_url: str):
    store = Store(db_url)
    yield store
    store.dispose()


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(migrate.MIGRATIONS))


def _revisions_base_to_head() -> list[Script]:
    return list(reversed(list(_scripts().walk_revisions("base", "heads"))))


def _down_target(script: Script) -> str:
    assert not isinstance(script.down_revision, tuple), "merge revisions are not expected"
    return script.down_revision or "base"


def _schema_diff(store: Store) -> list[object]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_history_is_one_line_of_sequential_ids():
    scripts = _scripts()
    assert len(scripts.get_heads()) == 1, f"several heads: {scripts.get_heads()}"
    revisions = _revisions_base_to_head()
    assert [s.revision for s in revisions] == [f"{i:04d}" for i in range(1, len(revisions) + 1)]
    for script in revisions:
        assert re.fullmatch(rf"{script.revision}_[a-z0-9_]+\.py", Path(script.path).name)


def test_head_revision_is_alembics_head():
    # ensure_current reads the head off the files without Alembic; it must agree.
    assert migrate.head_revision() == _scripts().get_current_head()


def test_each_revision_steps_up_down_and_up_again(empty_store: Store):
    for script in _revisions_base_to_head():
        migrate.upgrade(empty_store, script.revision)
        assert migrate.current_revision(empty_store) == script.revision
        # Down and up again: a downgrade that leaves anything behind breaks the re-upgrade.
        migrate.downgrade(empty_store, _down_target(script))
        assert migrate.current_revision(empty_store) == script.down_revision
        migrate.upgrade(empty_store, script.revision)
        assert migrate.current_revision(empty_store) == script.revision
    assert migrate.current_revision(empty_store) == migrate.head_revision()


def test_head_schema_matches_the_models(empty_store: Store):
    migrate.upgrade(empty_store)
    assert _schema_diff(empty_store) == []


def test_stepping_down_to_base_leaves_nothing(empty_store: Store):
    migrate.upgrade(empty_store)
    for script in reversed(_revisions_base_to_head()):
        assert migrate.current_revision(empty_store) == script.revision
        migrate.downgrade(empty_store, _down_target(script))
    assert migrate.current_revision(empty_store) is None
    inspector = inspect(empty_store.engine)
    assert set(inspector.get_table_names()) <= {"alembic_version"}
    if empty_store.dialect == "postgresql":
        assert inspector.get_enums() == []  # type: ignore[attr-defined]
        assert inspector.get_sequence_names() == []


def test_ensure_current_brings_an_empty_store_to_head(empty_store: Store):
    migrate.ensure_current(empty_store)
    assert migrate.current_revision(empty_store) == migrate.head_revision()
    migrate.ensure_current(empty_store)  # a second call is a no-op
    assert _schema_diff(empty_store) == []
