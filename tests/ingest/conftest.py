"""Fixtures for ingest tests: the real server as a subprocess, and in-process configs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.ingest.pricing import PriceTable
from assay.projects.service import ProjectConfig
from assay.redaction import RedactionConfig, Redactor

from ._live import LiveServer, provision

StartServer = Callable[..., LiveServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start real servers: ``start_server(database_url, **settings) -> LiveServer``.

    The store is migrated and given one project and API key first. Every server
    started is stopped (SIGKILL if it will not stop) when the test ends.
    """
    started: list[LiveServer] = []

    def start(database_url: str, **settings: Any) -> LiveServer:
        server = LiveServer(
            database_url=database_url,
            api_key=provision(database_url),
            log_path=tmp_path / f"server-{len(started)}.log",
            settings=settings,
        )
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_server(db_url: str, start_server: StartServer) -> LiveServer:
    """A real server process on a fresh store, once per dialect."""
    return start_server(db_url)


@pytest.fixture
def config() -> ProjectConfig:
    """Project 1's ingest config with the default redaction rules."""
    return ProjectConfig(
        project_id=1,
        slice_keys=frozenset({"locale", "tier", "channel"}),
        redactor=Redactor(RedactionConfig()),
    )


@pytest.fixture
def prices() -> PriceTable:
    """The price table shipped with assay."""
    return PriceTable()
