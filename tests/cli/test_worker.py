"""``assay worker``, and the worker that ``assay serve`` runs in a thread."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import assay.server.run as server_run
from assay.cli.main import app
from assay.projects import create_project
from assay.server.app import create_app
from assay.settings import Settings
from assay.signals import create_rule
from assay.store import Store
from assay.store.migrate import ensure_current
from assay.store.models import QueueItem, ReviewQueue, Trace

from .conftest import Cli


def _seed(url: str) -> None:
    store = Store(url)
    try:
        ensure_current(store)
        with store.session() as session:
            project = create_project(session, "bot")
            session.add(ReviewQueue(project_id=project.id, name="triage"))
            session.add(
                Trace(
                    project_id=project.id,
                    trace_id="ab" * 16,
                    start_ns=1_000_000_000,
                    end_ns=2_000_000_000,
                    status="error",
                )
            )
            session.flush()
            create_rule(session, project.id, "errors", "triage", conditions="status == error")
    finally:
        store.dispose()


def _items(url: str) -> list[str]:
    store = Store(url)
    try:
        with store.session() as session:
            return list(session.scalars(select(QueueItem.reason)))
    finally:
        store.dispose()


def test_worker_once_routes_and_reports(cli: Cli) -> None:
    _seed(cli.url)
    report = cli.json("worker", "--once")
    assert report["traces"] == 1
    assert report["enqueued"] == 1
    assert _items(cli.url) == ["errors: status == error (was error)"]
    again = cli.ok("worker", "--once")
    assert "One pass: traces 0," in again.stdout
    assert "enqueued 0" in again.stdout


def test_worker_help_documents_every_option(cli: Cli) -> None:
    result = cli("worker", "--help", db=False)
    assert result.exit_code == 0
    for option in ("--once", "--interval", "--id", "--json", "--db"):
        assert option in result.stdout


@pytest.mark.parametrize(("flag", "expected"), [((), True), (("--no-worker",), False)])
def test_serve_runs_the_worker_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, cli: Cli, flag: tuple[str, ...], expected: bool
) -> None:
    made: list[dict[str, Any]] = []
    real_create_app = server_run.create_app

    def create_app_spy(settings: Settings, store: Store, **kwargs: Any) -> Any:
        made.append(kwargs)
        return real_create_app(settings, store, **kwargs)

    class NoServer:
        def __init__(self, config: Any) -> None:
            self.config = config

        def run(self) -> None:
            pass

    monkeypatch.setattr(server_run, "create_app", create_app_spy)
    monkeypatch.setattr(server_run.uvicorn, "Server", NoServer)
    result = cli.runner.invoke(app, ["serve", "--db", cli.url, *flag])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert made == [{"worker": expected}]


def test_the_app_starts_and_stops_its_worker(sqlite_store: Store) -> None:
    application = create_app(Settings(worker_interval_s=0.05), sqlite_store, worker=True)
    with TestClient(application) as client:
        assert client.get("/healthz").status_code == 200
        background = application.state.assay.worker
        assert background is not None
        assert background.alive
    assert not background.alive
    assert application.state.assay.worker is None
    plain = create_app(Settings(), sqlite_store)
    with TestClient(plain):
        assert plain.state.assay.worker is None


def test_worker_once_json_is_plain_counts(cli: Cli) -> None:
    _seed(cli.url)
    data = json.loads(cli.ok("worker", "--once", "--json").stdout)
    assert set(data) == {
        "traces",
        "feedback",
        "jobs_added",
        "jobs_run",
        "jobs_failed",
        "scores",
        "signals",
        "matches",
        "enqueued",
        "jobs_pruned",
    }
