"""Acknowledged means durable: the real server, real HTTP, the stock OTLP exporter.

Each test starts ``assay.server.run.serve`` in a child process on a fresh store
(SQLite and PostgreSQL) and sends it spans recorded with the OpenTelemetry SDK
through ``OTLPSpanExporter``, from several threads at once.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from assay.store import Store

from ._live import LiveServer, Senders, batches, sdk_spans, stored_keys, trace_count_mismatches

pytestmark = pytest.mark.slow


def test_concurrent_senders_store_exactly_what_was_acknowledged(live_server: LiveServer) -> None:
    # 6 senders x 2,000 spans (500 traces of a root and 3 chat calls), 250 per request.
    work = [batches(sdk_spans(500, text="x" * 200, seed=str(s)), 250) for s in range(6)]
    senders = Senders(live_server, work)
    senders.start()
    senders.join()

    assert senders.failed_batches == 0
    assert len(senders.acked) == 12_000
    assert stored_keys(live_server.database_url) == senders.acked
    assert trace_count_mismatches(live_server.database_url) == []
    assert set(senders.statuses.statuses) == {200}
    assert live_server.alive()


def test_kill_9_mid_load_loses_no_acknowledged_span(live_server: LiveServer) -> None:
    # 4 senders x 20 requests of 100 spans; the kill comes after a quarter is acknowledged.
    work = [batches(sdk_spans(500, text="y" * 200, seed=str(s)), 100) for s in range(4)]
    total_batches = sum(len(w) for w in work)
    senders = Senders(live_server, work)
    senders.start()
    deadline = time.monotonic() + 60
    while senders.acked_batches < total_batches // 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert senders.acked_batches < total_batches, "load ended before the kill"
    acked_before_kill = senders.acked_batches
    live_server.kill()
    # The exporters retry (connection refused, then backoff) until the restart.
    live_server.start()
    senders.join()

    assert acked_before_kill > 0
    assert senders.acked_batches > acked_before_kill, "nothing was acknowledged after the restart"
    missing = senders.acked - stored_keys(live_server.database_url)
    assert not missing, f"{len(missing)} acknowledged spans lost, e.g. {sorted(missing)[:3]}"
    assert trace_count_mismatches(live_server.database_url) == []
    if live_server.database_url.startswith("sqlite"):
        store = Store(live_server.database_url)
        try:
            with store.engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        finally:
            store.dispose()
    assert live_server.alive()
