"""Fixtures for REST API tests: the app on a migrated store (both dialects), two
projects with API keys, admin and non-admin accounts, user API keys, and OTLP ingest
through the real ``/v1/traces`` route."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from assay.accounts import create_user, create_user_key
from assay.projects import create_api_key, create_project
from assay.server import create_app
from assay.settings import Settings
from assay.store import Store
from assay.store.models import User
from assay.testing.otlp import IdFactory, export_trace_request, make_span

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


def person(store: Store, username: str, role: str = "annotator") -> dict[str, str]:
    """Headers of a user API key acting as a new user of that role.

    The user is inserted as a row without a usable password: keys never need one,
    and an Argon2 hash costs ~50 ms a user.
    """
    with store.write_session() as session:
        session.add(User(username=username, password_hash="!", role=role))
        session.flush()
        key = create_user_key(session, username)
    return {"Authorization": f"Bearer {key.secret}"}


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


_asked = IdFactory("routes.conftest.ask")


def ask(
    client: TestClient,
    project: Project,
    question: str,
    answer: str = "ok",
    *,
    start_ns: int = T0,
    resource: Mapping[str, Any] | None = None,
) -> str:
    """Send a one-span trace with this input and output; returns its trace id."""
    attributes = {
        "openinference.span.kind": "CHAIN",
        "input.value": question,
        "output.value": answer,
    }
    span = make_span("ask", attributes=attributes, start_ns=start_ns, status="ok", ids=_asked)
    return send(client, project, [span], resource=resource)
