"""A 100,000-span burst from an app with the stock BatchSpanProcessor: all stored, no 503.

The peers this is measured against answer such a burst with hundreds of 503s and the
stock exporter drops what it cannot deliver (design/2026-11-22-ingest.md).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from ._live import StatusLog, count_spans
from .conftest import StartServer

pytestmark = pytest.mark.slow

SPANS = 100_000
SPANS_PER_TRACE = 10
# The SDK's defaults: a 2,048-span queue, exported 512 at a time. Spans that find the
# queue full are dropped by the SDK (the app's loss, not the server's), so the app
# below never has more than this many spans not yet handed to the exporter.
DEFAULT_QUEUE = 2048
IN_FLIGHT_LIMIT = DEFAULT_QUEUE * 3 // 4


class CountingExporter(SpanExporter):
    """Wraps the stock exporter and counts what the processor hands it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.handed = 0
        self.results: Counter[SpanExportResult] = Counter()
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self.handed += len(spans)
        result: SpanExportResult = self.inner.export(spans)
        with self._lock:
            self.results[result] += 1
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))


def test_100k_span_burst_with_default_batch_processor(
    sqlite_url: str, start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MAX_QUEUE_SIZE", "SCHEDULE_DELAY", "MAX_EXPORT_BATCH_SIZE", "EXPORT_TIMEOUT"):
        monkeypatch.delenv(f"OTEL_BSP_{name}", raising=False)
    server = start_server(sqlite_url)
    statuses = StatusLog()
    exporter = CountingExporter(server.exporter(session=statuses.session(), timeout=30))
    provider = TracerProvider(
        resource=Resource.create({"service.name": "burst", "assay.release": "b1"}),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))  # every setting default
    tracer = provider.get_tracer("assay.tests.burst")

    began = time.monotonic()
    created = waits = 0
    for t in range(SPANS // SPANS_PER_TRACE):
        with tracer.start_as_current_span(
            "handle_request", attributes={"http.route": "/chat", "user.id": f"u{t % 50}"}
        ):
            for s in range(SPANS_PER_TRACE - 1):
                # ~200 B of attributes, as a small instrumented step carries.
                with tracer.start_as_current_span(
                    f"step {s}",
                    attributes={
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "gen_ai.usage.input_tokens": 12,
                        "gen_ai.usage.output_tokens": 7,
                        "app.step": f"retrieve-rank-answer step {s} of trace {t}",
                    },
                ):
                    pass
        created += SPANS_PER_TRACE
        # Pace like an app whose requests take time: never outrun the SDK's queue.
        while created - exporter.handed > IN_FLIGHT_LIMIT:
            waits += 1
            time.sleep(0.002)
    assert provider.force_flush(120_000)
    provider.shutdown()
    elapsed = time.monotonic() - began

    assert exporter.handed == SPANS, "the SDK dropped spans: the test outran its queue"
    assert set(exporter.results) == {SpanExportResult.SUCCESS}
    assert statuses.statuses[503] == 0, statuses.statuses
    assert count_spans(sqlite_url) == SPANS
    assert server.alive()
    print(f"{SPANS:,} spans in {elapsed:.1f} s ({SPANS / elapsed:,.0f}/s), paced {waits}x")
