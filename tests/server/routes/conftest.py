"""Fixtures for REST API tests: the app on a migrated store (both dialects), two
projects with API keys, admin and non-admin accounts, and OTLP ingest through the
real ``/v1/traces`` route."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from assay.accounts import create_user
from assay.projects import create_api_key, create_project
from assay.server import create_app
from assay.settings import Settings
from assay.store import Store
from assay.testing.otlp import export_trace_request

# 2025-11-20T00:53:20Z.
T0 = 1_763_600_000_000_000_000
MS = 1_000_000
ADMIN_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Project:
    """A project and the secret of one of its API keys."""

    id: int
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        """Headers that authenticate as this project."""
        return {"Authorization": f"Bearer {self.key}"}


@dataclass(frozen=True)
class Projects:
    """Two projects in one store."""

    alpha: Project
    beta: Project


def basic(username: str, password: str) -> dict[str, str]:
    """An HTTP Basic ``Authorization`` header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    """The app on the ``store`` fixture (sqlite and postgresql), lifespan running."""
    with TestClient(create_app(Settings(), store)) as test_client:
        yield test_client


def _project(store: Store, name: str) -> Project:
    with store.session() as session:
        project = create_project(session, name)
        key = create_api_key(session, project.id)
    return Project(id=project.id, name=name, key=key.secret)


@pytest.fixture
def projects(store: Store) -> Projects:
    """Projects ``alpha`` and ``beta``, each with an API key."""
    return Projects(alpha=_project(store, "alpha"), beta=_project(store, "beta"))


@pytest.fixture
def alpha(projects: Projects) -> Project:
    """Project ``alpha``."""
    return projects.alpha


@pytest.fixture
def admin_headers(store: Store) -> dict[str, str]:
    """Basic auth of an admin account ``root``."""
    with store.session() as session:
        create_user(session, "root", ADMIN_PASSWORD, role="admin")
    return basic("root", ADMIN_PASSWORD)


@pytest.fixture
def annotator_headers(store: Store) -> dict[str, str]:
    """Basic auth of a non-admin account ``ann``."""
    with store.session() as session:
        create_user(session, "ann", ADMIN_PASSWORD, role="annotator")
    return basic("ann", ADMIN_PASSWORD)


def send(
    client: TestClient,
    project: Project,
    spans: Sequence[Span],
    *,
    release: str | None = None,
    resource: Mapping[str, Any] | None = None,
) -> str:
    """POST spans to /v1/traces as protobuf; returns the first span's trace id."""
    body = export_trace_request(
        spans, release=release, resource_attributes=resource
    ).SerializeToString()
    response = client.post(
        "/v1/traces",
        content=body,
        headers={**project.headers, "Content-Type": "application/x-protobuf"},
    )
    assert response.status_code == 200, response.text
    return spans[0].trace_id.hex()
