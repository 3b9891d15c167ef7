"""Normalising in worker processes (ASSAY_INGEST_WORKERS) behaves as in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assay.projects import create_api_key, create_project
from assay.server import create_app
from assay.settings import Settings
from assay.store import Store
from assay.store.models import Span, Trace
from assay.testing.otlp import IdFactory, export_trace_request, genai_llm_span

PROTOBUF = "application/x-protobuf"


@pytest.fixture
def pooled(sqlite_store: Store) -> Iterator[tuple[TestClient, str, Store]]:
    with sqlite_store.session() as session:
        create_project(session, "p")
        key = create_api_key(session, "p").secret
    app = create_app(Settings(ingest_workers=1), sqlite_store)
    with TestClient(app) as client:
        assert app.state.assay.pool is not None
        yield client, key, sqlite_store
    assert app.state.assay.pool is None  # shut down with the app


def test_spans_are_normalised_and_redacted_in_a_worker(pooled) -> None:
    client, key, store = pooled
    span = genai_llm_span(
        prompt="write to jane.doe@example.com", completion="done", ids=IdFactory("pool")
    )
    body = export_trace_request([span], release="r1").SerializeToString()
    response = client.post(
        "/v1/traces",
        content=body,
        headers={"Content-Type": PROTOBUF, "Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200
    with store.session() as session:
        stored = session.scalars(select(Span)).one()
        trace = session.scalars(select(Trace)).one()
    assert stored.kind == "llm"
    assert stored.cost is not None
    assert "jane.doe@example.com" not in (stored.input or "")
    assert "[REDACTED:email]" in (stored.input or "")
    assert trace.release_ref == "r1"


def test_malformed_body_is_a_400_from_the_worker(pooled) -> None:
    client, key, store = pooled
    response = client.post(
        "/v1/traces",
        content=b"\x0a\xff\xff\xff",
        headers={"Content-Type": PROTOBUF, "Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 400
    with store.session() as session:
        assert session.scalars(select(Span)).first() is None
