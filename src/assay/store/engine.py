"""Engines and sessions for a store URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from assay.errors import ConfigError
from assay.store.dialects import configure_sqlite, is_sqlite, write_engine


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create an engine for ``url``, creating the SQLite file's folder if needed.

    Raises:
        ConfigError: the URL is not a usable SQLite or PostgreSQL URL.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a non-numeric port
        raise ConfigError(f"database URL {url!r} is not a valid SQLAlchemy URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, pool_size=pool_size, max_overflow=10, pool_use_lifo=True)
        else:
            # An in-memory database lives in one connection: share it across threads.
            engine = create_engine(
                parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)
    raise ConfigError(
        f"database URL {parsed.render_as_string(hide_password=True)!r}: unsupported backend "
        f"{backend!r}; "
        "use sqlite:///PATH or postgresql+psycopg://..."
    )


@contextmanager
def _transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Store:
    """An engine plus a session factory: the handle the rest of assay holds."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.writer = write_engine(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(self.writer, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        """Whether this store is the embedded SQLite file."""
        return is_sqlite(self.engine)

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits on success and rolls back on error."""
        return _transaction(self.sessions)

    def write_session(self) -> AbstractContextManager[Session]:
        """Like :meth:`session`, but takes SQLite's write lock at BEGIN."""
        return _transaction(self.write_sessions)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
