"""serve_app(): an ASGI app on a background thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
import pytest
from fastapi import FastAPI

from assay.server.untraced import _FASTAPI_TELEMETRY
from assay.testing.background import serve_app


def test_serves_and_stops() -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with serve_app(app) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{server.base_url}/ping").json() == {"pong": "yes"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/ping", timeout=1)


def test_untraced_apps_add_no_spans_under_a_global_provider() -> None:
    # A global tracer provider can be set once per process, so this runs apart.
    script = textwrap.dedent(
        """
        import httpx
        from fastapi import FastAPI
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )
        from assay.testing import serve_app, serve_openai, untraced_fastapi

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

        def app(factory):
            built = factory()
            built.get("/ping")(lambda: {"ok": True})
            return built

        for factory in (FastAPI, untraced_fastapi):
            with serve_app(app(factory)) as server:
                httpx.get(f"{server.base_url}/ping")
            print(factory.__name__, len(exporter.get_finished_spans()))
            exporter.clear()
        with serve_openai() as fake:
            httpx.get(f"{fake.base_url}/models")
        print("fake", len(exporter.get_finished_spans()))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    counts = dict(line.split() for line in result.stdout.splitlines())
    assert counts["untraced_fastapi"] == "0"
    assert counts["fake"] == "0"
    if _FASTAPI_TELEMETRY:  # the premise: stock FastAPI traces itself
        assert int(counts["FastAPI"]) > 0
