"""Shared fixtures: store URLs and migrated stores on SQLite and PostgreSQL.

``db_url`` and ``store`` are parametrized over both dialects (ids ``sqlite`` and
``postgresql``). The PostgreSQL cluster is started by the test run itself, lazily:
``pytest -k sqlite`` never starts it. See ``tests/_postgres.py``.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from _postgres import PostgresCluster, PostgresUnavailable
from assay.store import Store, migrate

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def _no_assay_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide a developer's own ``ASSAY_*`` variables (and ``OPENAI_API_KEY`` and
    ``GITHUB_STEP_SUMMARY``, which settings fall back to) so settings start from
    defaults."""
    for name in list(os.environ):
        if name.upper().startswith("ASSAY_") or name.upper() in (
            "OPENAI_API_KEY",
            "GITHUB_STEP_SUMMARY",
        ):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole session, removed at its end."""
    previous = _sigterm_unwinds_like_ctrl_c()
    try:
        cluster = _start_cluster_or_fail()
        yield cluster
        cluster.stop()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _start_cluster_or_fail() -> PostgresCluster:
    try:
        return PostgresCluster.start_new()
    except PostgresUnavailable as exc:
        error = str(exc)
    # Outside the except block, so the message is shown once, without a chained copy.
    pytest.fail(error, pytrace=False)


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"received signal {signum}")


def _sigterm_unwinds_like_ctrl_c() -> signal.Handlers | None:
    """Make SIGTERM (``timeout``, CI cancel) tear down like Ctrl-C, so no cluster leaks.

    Returns the handler to restore, or None when another one was installed already.
    """
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    signal.signal(signal.SIGTERM, _raise_interrupt)
    return signal.SIG_DFL


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name = pg_cluster.create_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'assay.db'}"


@pytest.fixture(params=DIALECTS, ids=DIALECTS)
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, empty database, once per dialect."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


def _migrated(url: str) -> Iterator[Store]:
    store = Store(url)
    try:
        migrate.upgrade(store)
        yield store
    finally:
        store.dispose()


def _opened(url: str) -> Iterator[Store]:
    store = Store(url)
    try:
        yield store
    finally:
        store.dispose()


# Migrating a fresh database costs ~0.3 s on SQLite and ~0.5 s on PostgreSQL, and
# hundreds of tests need one: each dialect is migrated once per session, and every
# `store` is a copy of that (a file copy; CREATE DATABASE ... TEMPLATE).
@pytest.fixture(scope="session")
def _sqlite_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("head") / "head.db"
    for _ in _migrated(f"sqlite:///{path}"):
        pass
    return path


@pytest.fixture(scope="session")
def _pg_head(pg_cluster: PostgresCluster) -> str:
    name = pg_cluster.create_database()
    for _ in _migrated(pg_cluster.url(name)):
        pass
    return name


@pytest.fixture
def store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    """A store migrated to head, once per dialect."""
    if db_url.startswith("sqlite"):
        yield from _sqlite_copy(request, db_url)
        return
    # The same database as `db_url` (a test may use both), recreated from the template;
    # `pg_url` drops it afterwards.
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    name = make_url(db_url).database
    assert name is not None
    cluster.drop_database(name)
    cluster.create_database(template=request.getfixturevalue("_pg_head"), name=name)
    yield from _opened(db_url)


def _sqlite_copy(request: pytest.FixtureRequest, url: str) -> Iterator[Store]:
    head: Path = request.getfixturevalue("_sqlite_head")
    shutil.copyfile(head, url.removeprefix("sqlite:///"))
    yield from _opened(url)


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Store]:
    """A SQLite store migrated to head, for tests about SQLite alone."""
    yield from _sqlite_copy(request, sqlite_url)
