"""Schema migrations: Alembic revisions shipped inside the package.

Alembic (with Mako and Pygments, ~11 MB resident) is imported only to migrate.
Checking that a store is current reads its ``alembic_version`` row and the revision
ids of the shipped files, so `assay serve` on an up-to-date store never loads it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from assay.store.engine import Store

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

_REVISION = re.compile(r'^revision = "(\d{4})"$', re.M)
"""A revision file's id: revisions are numbered 0001, 0002, ... in the order they apply."""


def alembic_config(store: Store) -> Config:
    """An Alembic config pointing at the packaged migrations and ``store``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def upgrade(store: Store, revision: str = "head") -> None:
    """Migrate the store up to ``revision`` (default: the latest)."""
    from alembic import command

    cfg = alembic_config(store)
    with store.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(store: Store, revision: str) -> None:
    """Migrate the store down to ``revision`` (``base`` empties it)."""
    from alembic import command

    cfg = alembic_config(store)
    with store.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(store: Store) -> str | None:
    """The revision the store is at, or None for an empty store."""
    with store.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


@cache
def head_revision() -> str:
    """The newest revision this version of assay ships (the highest-numbered file)."""
    ids = [
        m.group(1)
        for path in (MIGRATIONS / "versions").glob("*.py")
        if (m := _REVISION.search(path.read_text(encoding="utf-8")))
    ]
    return max(ids)


def ensure_current(store: Store) -> None:
    """Bring the store to the latest schema (used by `serve`, `demo` and the CLI)."""
    if current_revision(store) != head_revision():
        upgrade(store)
