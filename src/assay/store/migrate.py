"""Schema migrations: Alembic revisions shipped inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from assay.store.engine import Store

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(store: Store) -> Config:
    """An Alembic config pointing at the packaged migrations and ``store``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def upgrade(store: Store, revision: str = "head") -> None:
    """Migrate the store up to ``revision`` (default: the latest)."""
    cfg = alembic_config(store)
    with store.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(store: Store, revision: str) -> None:
    """Migrate the store down to ``revision`` (``base`` empties it)."""
    cfg = alembic_config(store)
    with store.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(store: Store) -> str | None:
    """The revision the store is at, or None for an empty store."""
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(store: Store) -> str | None:
    """The newest revision this version of assay knows."""
    return ScriptDirectory.from_config(alembic_config(store)).get_current_head()


def ensure_current(store: Store) -> None:
    """Bring the store to the latest schema (used by `serve`, `demo` and the CLI)."""
    if current_revision(store) != head_revision(store):
        upgrade(store)
