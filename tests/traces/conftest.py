"""Fixtures for trace query tests: a project in a migrated store (both dialects) and a
way to ingest OTLP spans into it through the real normalisation and writer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from assay.ingest.logs import normalize_logs
from assay.ingest.normalize import normalize_traces
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects import create_project, project_config
from assay.store import Store
from assay.testing.otlp import export_logs_request, export_trace_request

# 2025-11-20T00:53:20Z: a fixed origin so times and their ISO forms are predictable.
T0 = 1_763_600_000_000_000_000
MS = 1_000_000


class Ingest:
    """Sends spans of one project through ``normalize_traces`` and ``Writer.write_now``."""

    def __init__(self, store: Store, project: str) -> None:
        self.store = store
        with store.session() as session:
            self.project_id = create_project(session, project).id
            self.config = project_config(session, self.project_id)
        self.writer = Writer(store, queue_bytes=1 << 26, batch_bytes=1 << 23)
        self.prices = PriceTable()

    def spans(
        self,
        spans: Sequence[Span],
        *,
        release: str | None = None,
        resource_attributes: Mapping[str, Any] | None = None,
    ) -> str:
        """Store spans (one resource); returns the first span's trace id as hex."""
        request = export_trace_request(
            spans, release=release, resource_attributes=resource_attributes
        )
        batch = normalize_traces(request, self.config, self.prices)
        assert not batch.rejected, batch.errors
        self.writer.write_now(spans=batch)
        return spans[0].trace_id.hex()

    def logs(self, records: Sequence[LogRecord]) -> None:
        """Store GenAI content log records."""
        batch = normalize_logs(export_logs_request(records), self.config)
        self.writer.write_now(logs=batch)


@pytest.fixture
def ingest(store: Store) -> Ingest:
    """Project ``alpha`` in the ``store`` fixture (sqlite and postgresql)."""
    return Ingest(store, "alpha")


@pytest.fixture
def other(ingest: Ingest) -> Ingest:
    """Project ``beta`` in the same store."""
    return Ingest(ingest.store, "beta")
