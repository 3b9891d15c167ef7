"""The real server in a child process, and real OpenTelemetry SDK spans to send it.

Used by the reliability tests (``test_reliability.py``, ``test_overload.py``, ...)
through the fixtures in ``conftest.py``: the server runs ``assay.server.run.serve``
exactly as ``assay serve`` does, on a store prepared beforehand with one project and
one API key, and is spoken to over a socket by the stock ``OTLPSpanExporter``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import requests
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select

from assay.projects import create_api_key, create_project
from assay.store import Store, migrate
from assay.store.models import Span, Trace

SERVER_CODE = (
    "import json, sys\n"
    "from assay.server.run import serve\n"
    "from assay.settings import Settings\n"
    "serve(Settings(**json.loads(sys.argv[1])), log_level='warning')\n"
)
# A cold start (imports, migrations check) takes ~2 s idle and ~10 s on a loaded
# 2-core CI box.
START_TIMEOUT_S = 60.0
SpanKey = tuple[str, str]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def provision(database_url: str) -> str:
    """Migrate the store, create project ``live`` and return an API key for it."""
    store = Store(database_url)
    try:
        migrate.upgrade(store)
        with store.session() as session:
            project = create_project(session, "live")
            return create_api_key(session, project.id, "live").secret
    finally:
        store.dispose()


@dataclass
class LiveServer:
    """``assay.server.run.serve`` in a child process.

    Attributes:
        database_url: The store it serves.
        api_key: A key of the store's only project.
        log_path: Where the child's stdout and stderr go.
        settings: ``Settings`` fields besides the URL, host and port.
        host: Address it listens on.
        port: Port it listens on; kept across restarts.
    """

    database_url: str
    api_key: str
    log_path: Path
    settings: dict[str, Any] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        """The OTLP/HTTP traces endpoint."""
        return f"{self.base_url}/v1/traces"

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self.process is not None, "server not started"
        return self.process.pid

    def start(self) -> None:
        """Start the child and wait until ``/healthz`` answers.

        Raises:
            RuntimeError: it exited or did not answer in time (with its log).
        """
        settings = {
            **self.settings,
            "database_url": self.database_url,
            "host": self.host,
            "port": self.port,
        }
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ASSAY_")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVER_CODE, json.dumps(settings)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not answer /healthz in {START_TIMEOUT_S} s:\n{self.log()}")

    def alive(self) -> bool:
        """Whether the child runs and answers ``/healthz`` with 200."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=10).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        """Stop gracefully (SIGINT, like Ctrl-C); SIGKILL after 30 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the child (no cleanup, no flush) and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the child so far (``VmHWM``), in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")

    def log(self) -> str:
        """The tail of the child's output."""
        return self.log_path.read_text(errors="replace")[-4000:]

    def exporter(self, session: requests.Session | None = None, timeout: float = 30) -> Any:
        """A stock ``OTLPSpanExporter`` for this server, authenticated with the key."""
        return OTLPSpanExporter(
            endpoint=self.endpoint,
            headers={"Authorization": f"Bearer {self.api_key}"},
            session=session,
            timeout=timeout,
        )


@dataclass
class StatusLog:
    """HTTP statuses a ``requests`` session received, with their Retry-After headers."""

    statuses: Counter[int] = field(default_factory=Counter)
    retry_after: list[str | None] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self) -> requests.Session:
        """A new session whose every response is recorded here."""
        session = requests.Session()
        session.hooks["response"].append(self._record)
        return session

    def _record(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        with self._lock:
            self.statuses[response.status_code] += 1
            if response.status_code in (429, 503):
                self.retry_after.append(response.headers.get("Retry-After"))


class Senders:
    """Threads that each export their own batches and note which were acknowledged."""

    def __init__(self, server: LiveServer, work: Sequence[Sequence[Sequence[Any]]]) -> None:
        self.server = server
        self.work = work
        self.statuses = StatusLog()
        self.acked: set[SpanKey] = set()
        self.acked_batches = 0
        self.failed_batches = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, args=(w,)) for w in work]

    def start(self) -> None:
        """Start every thread."""
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        """Wait for every thread (at most 2 minutes each)."""
        for thread in self._threads:
            thread.join(120)
            assert not thread.is_alive(), "a sender hung"

    def _send(self, mine: Sequence[Sequence[Any]]) -> None:
        exporter = self.server.exporter(session=self.statuses.session(), timeout=30)
        try:
            for batch in mine:
                ok = exporter.export(batch) is SpanExportResult.SUCCESS
                with self._lock:
                    if ok:
                        self.acked |= span_keys(batch)
                        self.acked_batches += 1
                    else:
                        self.failed_batches += 1
        finally:
            exporter.shutdown()


def sdk_spans(n_traces: int, *, children: int = 3, text: str = "", seed: str = "") -> list[Any]:
    """Finished SDK spans (``ReadableSpan``): traces of a root and ``children`` chat calls.

    Args:
        n_traces: Number of traces.
        children: Chat spans under each root.
        text: Appended to each prompt and answer, to make spans bigger.
        seed: Makes span names differ between calls (ids always differ).
    """
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "live-test", "assay.release": "r1"}),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("assay.tests.live")
    for i in range(n_traces):
        with tracer.start_as_current_span(
            f"turn{seed} {i}",
            attributes={"input.value": f"question {i} {text}", "output.value": f"answer {text}"},
        ):
            for c in range(children):
                with tracer.start_as_current_span(
                    "chat gpt-4o-mini",
                    kind=trace.SpanKind.CLIENT,
                    attributes={
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "gen_ai.usage.input_tokens": 10 + c,
                        "gen_ai.usage.output_tokens": 5,
                        "gen_ai.input.messages": json.dumps(
                            [{"role": "user", "parts": [{"type": "text", "content": text}]}]
                        ),
                    },
                ):
                    pass
    spans = list(memory.get_finished_spans())
    provider.shutdown()
    return spans


def span_keys(spans: Sequence[ReadableSpan]) -> set[SpanKey]:
    """(trace id, span id) in hex, as the store keeps them, of SDK spans."""
    keys = set()
    for span in spans:
        ctx = span.get_span_context()
        assert ctx is not None
        keys.add((f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"))
    return keys


def batches(spans: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``spans`` cut into consecutive batches of ``size``."""
    return [spans[i : i + size] for i in range(0, len(spans), size)]


def stored_keys(database_url: str) -> set[SpanKey]:
    """(trace id, span id) of every stored span."""
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            return {(t, s) for t, s in conn.execute(select(Span.trace_id, Span.span_id))}
    finally:
        store.dispose()


def count_spans(database_url: str) -> int:
    """Number of stored spans."""
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Span)).scalar_one())
    finally:
        store.dispose()


class Mismatch(NamedTuple):
    """A trace whose kept ``span_count`` is not the number of its stored spans."""

    trace_id: str
    kept: int
    counted: int


def trace_count_mismatches(database_url: str) -> list[Mismatch]:
    """Traces whose ``span_count`` differs from their stored spans.

    A trace row without spans, or spans without a trace row, count as mismatches too.
    """
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            kept = {t: n for t, n in conn.execute(select(Trace.trace_id, Trace.span_count))}
            counted = {
                t: n
                for t, n in conn.execute(
                    select(Span.trace_id, func.count()).group_by(Span.trace_id)
                )
            }
    finally:
        store.dispose()
    return [
        Mismatch(t, kept.get(t, 0), counted.get(t, 0))
        for t in sorted(kept.keys() | counted.keys())
        if kept.get(t, 0) != counted.get(t, 0)
    ]
