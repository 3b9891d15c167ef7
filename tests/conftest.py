"""Shared fixtures: store URLs and migrated stores on SQLite and PostgreSQL.

``db_url`` and ``store`` are parametrized over both dialects (ids ``sqlite`` and
``postgresql``). The PostgreSQL cluster is started by the test run itself, lazily:
``pytest -k sqlite`` never starts it. See ``tests/_postgres.py``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store migrated to head, once per dialect."""
    yield from _migrated(db_url)


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    """A SQLite store migrated to head, for tests about SQLite alone."""
    yield from _migrated(sqlite_url)
