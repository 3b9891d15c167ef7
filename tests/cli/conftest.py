"""Fixtures for CLI tests: a runner bound to one store, and traces seeded through ingest."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from assay.cli.main import app
from assay.ingest.normalize import normalize_traces
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects import get_project, project_config
from assay.store import Store
from assay.testing.otlp import export_trace_request


@dataclass
class Cli:
    """Runs ``assay`` in-process against one store (``--db`` is added to each call)."""

    url: str
    runner: CliRunner

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        db: bool = True,
        env: dict[str, str] | None = None,
    ) -> Result:
        argv = [*args, "--db", self.url] if db else list(args)
        return self.runner.invoke(app, argv, input=input, env=env)

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run and assert exit code 0."""
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str) -> Any:
        """Run with ``--json`` and parse stdout."""
        return json.loads(self.ok(*args, "--json").stdout)

    def fails(self, *args: str, input: str | None = None, code: int = 2) -> Result:
        """Run and assert it fails with ``code`` and no traceback."""
        result = self(*args, input=input)
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        assert "Traceback" not in result.stdout + result.stderr
        return result


@functools.cache
def _click_command(app: typer.Typer) -> Any:
    return typer.main.get_command(app)


@pytest.fixture(autouse=True)
def _build_the_command_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the click command tree of ``assay`` once, not on every ``invoke``.

    ``CliRunner.invoke`` rebuilds it from the Typer app each time, reading every
    command's signature: ~0.35 s of a ~0.45 s call on this 2-core machine with the
    ~80 commands of the loop. The real ``assay`` builds it once per process too.
    """
    monkeypatch.setattr(typer.testing, "_get_command", _click_command)


@pytest.fixture
def cli(sqlite_url: str) -> Cli:
    """``assay`` on a fresh SQLite store."""
    return Cli(sqlite_url, CliRunner())


@pytest.fixture
def any_cli(db_url: str) -> Cli:
    """``assay`` on a fresh store, once per dialect (sqlite, postgresql)."""
    return Cli(db_url, CliRunner())


def seed_spans(url: str, project: str, spans: Sequence[Any], **resource: Any) -> None:
    """Ingest OTLP spans into ``project`` the way the server does (normalise, write)."""
    store = Store(url)
    try:
        with store.session() as session:
            config = project_config(session, get_project(session, project).id)
        batch = normalize_traces(export_trace_request(spans, **resource), config, PriceTable())
        Writer(store, queue_bytes=1 << 20, batch_bytes=1 << 20).write_now(spans=batch)
    finally:
        store.dispose()


def run_worker(url: str) -> None:
    """One pass of the background worker over the store (scores, signals, routing)."""
    from assay.settings import Settings
    from assay.signals import Worker

    store = Store(url)
    try:
        Worker(store, Settings(worker_settle_s=5.0, worker_commit_lag_s=0.0)).run_once()
    finally:
        store.dispose()
