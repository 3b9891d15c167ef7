"""Overload: a full ingest queue answers 503 + Retry-After, loses nothing, bounds memory."""

from __future__ import annotations

import gzip
import threading

import httpx
import pytest

from assay.testing.otlp import export_trace_request, genai_llm_span

from ._live import Senders, batches, sdk_spans, stored_keys, trace_count_mismatches
from .conftest import StartServer

pytestmark = pytest.mark.slow

# Far above the ~130 MiB an idle server takes and the ~170 MiB it peaks at here: a
# bound on memory (the queue holds 1 MiB), not on time.
RSS_BOUND_MB = 400


def test_full_queue_answers_503_with_retry_after_and_loses_nothing(
    sqlite_url: str, start_server: StartServer
) -> None:
    server = start_server(sqlite_url, ingest_queue_bytes=1024 * 1024)
    # 8 senders x 4 requests of 100 spans carrying ~4 KB each: every body (~450 KB)
    # reserves ~0.9 MB, so only one request fits the queue at a time.
    work = [batches(sdk_spans(100, text="z" * 4000, seed=str(s)), 100) for s in range(8)]
    senders = Senders(server, work)
    senders.start()
    senders.join()

    statuses = senders.statuses
    assert statuses.statuses[503] > 0, statuses.statuses
    assert set(statuses.statuses) <= {200, 503}
    assert statuses.retry_after
    assert all(value is not None and value.isdigit() for value in statuses.retry_after)
    # The stock exporter backs off as told and retries: most batches get through.
    assert senders.acked_batches > 0
    missing = senders.acked - stored_keys(sqlite_url)
    assert not missing, f"{len(missing)} acknowledged spans lost"
    assert trace_count_mismatches(sqlite_url) == []
    assert server.peak_rss_mb() < RSS_BOUND_MB
    assert server.alive()


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_memory_is_bounded_by_the_queue_under_big_concurrent_bodies(
    sqlite_url: str, start_server: StartServer, compressed: bool
) -> None:
    server = start_server(sqlite_url, ingest_queue_bytes=1024 * 1024)
    idle_mb = server.peak_rss_mb()
    # 16 spans of ~520 KB: an 8 MiB body; repetitive, so gzip takes it to ~30 KB.
    text = "the quick brown fox jumps over the lazy dog " * 12_000
    body = export_trace_request([genai_llm_span(prompt=text) for _ in range(16)])
    payload = body.SerializeToString()
    headers = {
        "Authorization": f"Bearer {server.api_key}",
        "Content-Type": "application/x-protobuf",
    }
    if compressed:
        payload = gzip.compress(payload)
        headers["Content-Encoding"] = "gzip"
    codes: list[int] = []

    def post() -> None:
        with httpx.Client(timeout=120) as client:
            codes.append(client.post(server.endpoint, content=payload, headers=headers).status_code)

    threads = [threading.Thread(target=post) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(codes) <= {200, 503}
    # One admitted request decodes ~8 MiB into ~25 MiB of objects; 24 at once is ~10x.
    assert server.peak_rss_mb() - idle_mb < 100
