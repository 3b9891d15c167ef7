"""Ingest benchmark: the real server process, real HTTP, the real OpenTelemetry exporter.

What it measures, in order:

1. Spans are recorded with the OpenTelemetry SDK into memory (untimed): traces of one
   root and three children, GenAI attributes, ~``--text-bytes`` of chat text each
   drawn from the chatterbot-corpus English conversations.
2. The server (``assay serve``) starts as a subprocess on a fresh store.
3. Timed: ``--senders`` threads each own an ``OTLPSpanExporter`` and export
   pre-chunked batches of ``--batch`` spans; each ``export()`` call is timed (the
   acknowledge latency, retries included). With ``--pre-encode`` the batches are
   protobuf-encoded beforehand and only sent in the timed phase.
4. After the last acknowledgement the store is polled (SQLAlchemy, directly) until
   every acknowledged span is queryable; the sustained rate is spans over that time.
5. Untimed by HTTP: the same requests are normalised and written with
   ``Writer.write_now`` into a fresh store of the same dialect (the server's path
   minus HTTP), and their rows inserted with a plain executemany (the floor).

Prints one JSON line. Usage and results: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import chatterbot_corpus
import httpx
import psutil
import requests
import yaml
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import and_, func, insert, inspect, or_, select

from assay.ingest.compiled import normalize_body
from assay.ingest.normalize import normalize_traces
from assay.ingest.otlp import PROTOBUF
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects import ProjectConfig, create_api_key, create_project, project_config
from assay.settings import Settings
from assay.signals.cursors import TRACES, advance_cursor, lock_cursor, read_cursor
from assay.signals.jobs import PENDING, RUNNING
from assay.store import Store, migrate
from assay.store.models import Job, Span, Trace

QUICK_SPANS = 10_000
CHILDREN = 3
# Distinct chat texts generated; spans draw from the pool so 100k spans of ~2 KB
# hold ~10 MB of text in the client instead of ~200 MB (the server stores every copy).
TEXT_POOL = 2048
MODELS = ("gpt-4o-mini", "gpt-4.1-mini", "claude-sonnet-4-5", "gemini-2.5-flash")
SYSTEM_PROMPT = (
    "You are a friendly support assistant. Answer briefly, stay on topic, and say so "
    "when you do not know."
)
HEALTH_TIMEOUT_S = 60.0
QUERYABLE_TIMEOUT_S = 120.0
WORKER_TIMEOUT_S = 600.0
SERVER_CODE = "from assay.cli.main import main; main()"
"""``assay`` itself (the CLI's entry point), so the bench measures what users run."""


# -- text and spans (untimed) -------------------------------------------------------


def load_corpus() -> list[tuple[str, str]]:
    """(question, answer) pairs from chatterbot-corpus's English conversations."""
    folder = Path(chatterbot_corpus.__file__).parent / "data" / "english"
    pairs: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for convo in data.get("conversations") or []:
            turns = [str(t).strip() for t in convo if t is not None and str(t).strip()]
            pairs.extend(zip(turns[0::2], turns[1::2], strict=False))
    if not pairs:
        raise SystemExit(f"no conversations found under {folder}")
    return pairs


def _parts(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


class Texts(NamedTuple):
    """A span's input and output text."""

    input: str
    output: str


def chat_text(rng: random.Random, pairs: list[tuple[str, str]], size: int) -> Texts:
    """GenAI ``input.messages``/``output.messages`` JSON of ~``size`` bytes together.

    The prompt carries earlier turns of a conversation (as chat apps resend history);
    the answer is a quarter of the budget.
    """
    history: list[dict[str, Any]] = [_parts("system", SYSTEM_PROMPT)]
    used = len(SYSTEM_PROMPT)
    while used < size * 0.7:
        question, answer = rng.choice(pairs)
        history += [_parts("user", question), _parts("assistant", answer)]
        used += len(question) + len(answer) + 120
    history.append(_parts("user", rng.choice(pairs)[0]))
    reply = rng.choice(pairs)[1]
    while len(reply) < size * 0.2:
        reply += " " + rng.choice(pairs)[1]
    output = [{**_parts("assistant", reply), "finish_reason": "stop"}]
    return Texts(json.dumps(history), json.dumps(output))


def plain_text(rng: random.Random, pairs: list[tuple[str, str]], size: int) -> Texts:
    """A root span's ``input.value``/``output.value``: a question and an answer."""
    question, answer = rng.choice(pairs)
    while len(question) < size * 0.3:
        question += " " + rng.choice(pairs)[0]
    while len(answer) < size * 0.7:
        answer += " " + rng.choice(pairs)[1]
    return Texts(question, answer)


def record_batches(
    n_spans: int, text_bytes: int, batch: int, seed: int = 7
) -> Iterator[list[ReadableSpan]]:
    """``n_spans`` finished SDK spans in batches of ``batch``, in the order they ended.

    Traces are one root and ``CHILDREN`` chat calls; a batch may split a trace, as a
    ``BatchSpanProcessor`` does. Generated lazily, so a caller that encodes each batch
    right away never holds every span.
    """
    rng = random.Random(seed)
    pairs = load_corpus()
    chats = [chat_text(rng, pairs, text_bytes) for _ in range(TEXT_POOL)]
    roots = [plain_text(rng, pairs, text_bytes) for _ in range(TEXT_POOL)]
    resource = Resource.create(
        {"service.name": "support-bot", "service.version": "bench-1", "deployment.env": "bench"}
    )
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("assay.bench")
    n_traces = -(-n_spans // (CHILDREN + 1))
    step = 1_000_000  # 1 ms between spans, so the whole run spans minutes, not days
    t0 = time.time_ns() - n_spans * step
    pending: list[ReadableSpan] = []
    emitted = 0
    for i in range(n_traces):
        model = MODELS[i % len(MODELS)]
        start = t0 + i * (CHILDREN + 1) * step
        question, answer = roots[rng.randrange(TEXT_POOL)]
        root = tracer.start_span(
            "support_turn",
            start_time=start,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": len(question) // 4,
                "gen_ai.usage.output_tokens": len(answer) // 4,
                "input.value": question,
                "output.value": answer,
                "session.id": f"session-{i // 5}",
                "user.id": f"user-{i % 997}",
                "locale": ("en-US", "en-GB", "de-DE")[i % 3],
                "tier": ("free", "pro")[i % 2],
            },
        )
        context = trace.set_span_in_context(root)
        for c in range(CHILDREN):
            prompt, completion = chats[rng.randrange(TEXT_POOL)]
            child = tracer.start_span(
                f"chat {model}",
                context=context,
                kind=trace.SpanKind.CLIENT,
                start_time=start + (c + 1) * step // 4,
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": model,
                    "gen_ai.response.model": model,
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.response.finish_reasons": ("stop",),
                    "gen_ai.usage.input_tokens": len(prompt) // 4,
                    "gen_ai.usage.output_tokens": len(completion) // 4,
                    "gen_ai.input.messages": prompt,
                    "gen_ai.output.messages": completion,
                },
            )
            child.end(end_time=start + (c + 2) * step // 4)
        root.end(end_time=start + step)
        pending += memory.get_finished_spans()
        memory.clear()
        if len(pending) >= batch or i == n_traces - 1:
            # The last trace may overshoot n_spans by up to CHILDREN spans.
            pending = pending[: n_spans - emitted]
            while pending:
                if len(pending) < batch and i < n_traces - 1:
                    break
                yield pending[:batch]
                emitted += len(pending[:batch])
                del pending[:batch]
    provider.shutdown()


# -- the server process ---------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr (stdout carries only the JSON line)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def fresh_store(url: str, *, wipe: bool) -> Iterator[Store]:
    """A migrated, empty store at ``url``.

    Raises:
        SystemExit: the database holds tables and ``wipe`` is off.
    """
    store = Store(url)
    try:
        if inspect(store.engine).get_table_names():
            if not wipe:
                raise SystemExit(
                    f"{url} is not empty; pass --wipe to drop assay's tables in it first"
                )
            migrate.downgrade(store, "base")
        migrate.upgrade(store)
        yield store
    finally:
        store.dispose()


class BenchProject(NamedTuple):
    """The bench's project: its ingest config and an API key."""

    config: ProjectConfig
    api_key: str


def new_project(store: Store) -> BenchProject:
    """Create the bench project in ``store``."""
    with store.session() as session:
        project = create_project(session, "bench", description="bench/ingest.py")
        key = create_api_key(session, project.id, "bench").secret
        return BenchProject(project_config(session, project.id), key)


@dataclass
class ServerProcess:
    """The assay server running in a child process."""

    proc: subprocess.Popen[bytes]
    port: int

    @classmethod
    def start(cls, settings: Settings, log: Path) -> ServerProcess:
        """Start ``assay serve`` with ``settings`` and wait until /healthz answers."""
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ASSAY_")}
        for name, value in settings.model_dump(exclude_unset=True).items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            env[f"ASSAY_{name.upper()}"] = text
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-c", SERVER_CODE, "serve", "--log-level", "warning"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        server = cls(proc, settings.port)
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise SystemExit(f"server exited with {proc.returncode}:\n{tail}")
            try:
                if httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=1).is_success:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        server.stop()
        raise SystemExit(f"server did not answer /healthz within {HEALTH_TIMEOUT_S} s")

    def peak_rss_mb(self) -> float:
        """Peak resident memory (Linux's VmHWM) of the server and its ingest workers, MiB.

        The workers' peaks are added to the server's: an upper bound on the peak of
        the whole, since they need not peak at the same moment. Elsewhere the current
        RSS, which after the load is close to but below the peak.
        """
        total = 0.0
        server = psutil.Process(self.proc.pid)
        for proc in [server, *server.children(recursive=True)]:
            status = Path(f"/proc/{proc.pid}/status")
            try:
                lines = status.read_text().splitlines() if status.exists() else []
                peak = [int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM:")]
                total += peak[0] if peak else proc.memory_info().rss / 2**20
            except (OSError, psutil.Error):
                continue
        return total

    def cpu_s(self) -> dict[int, float]:
        """CPU seconds (user and system) used so far by the server and each ingest worker."""
        out: dict[int, float] = {}
        server = psutil.Process(self.proc.pid)
        for proc in [server, *server.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            out[proc.pid] = times.user + times.system
        return out

    def stop(self) -> None:
        """Stop gracefully (SIGINT, as Ctrl-C), killing after 30 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- the timed phase ------------------------------------------------------------------


@dataclass
class SendResult:
    """What the senders saw."""

    acked_spans: int = 0
    failed_batches: int = 0
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def send_all(
    endpoint: str,
    api_key: str,
    batches: Sequence[Sequence[ReadableSpan]] | Sequence[bytes],
    sizes: Sequence[int],
    senders: int,
) -> SendResult:
    """Export every batch from ``senders`` threads; each thread owns one exporter."""
    result = SendResult()
    lock = threading.Lock()

    def count_status(response: Any, *_args: Any, **_kwargs: Any) -> None:
        with lock:
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1

    def sender(index: int) -> None:
        session = requests.Session()
        session.hooks["response"].append(count_status)
        exporter = OTLPSpanExporter(
            endpoint=endpoint,
            headers={"Authorization": f"Bearer {api_key}"},
            session=session,
            timeout=60,
        )
        latencies: list[float] = []
        acked = failed = 0
        for i in range(index, len(batches), senders):
            batch = batches[i]
            began = time.perf_counter()
            if isinstance(batch, bytes):
                # Exactly what export() does after encoding: the exporter's own HTTP
                # client (retries, Retry-After) on its own session.
                ok = exporter._client.export(batch).success
            else:
                ok = exporter.export(batch) is SpanExportResult.SUCCESS
            latencies.append(time.perf_counter() - began)
            if ok:
                acked += sizes[i]
            else:
                failed += 1
        exporter.shutdown()  # type: ignore[no-untyped-call]
        with lock:
            result.latencies_s += latencies
            result.acked_spans += acked
            result.failed_batches += failed

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result


def count_spans(store: Store, after_id: int = 0) -> int:
    """Spans in the store with a row id above ``after_id`` (those written after it)."""
    query = select(func.count()).select_from(Span)
    if after_id:
        query = query.where(Span.id > after_id)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def wait_queryable(store: Store, expected: int, after_id: int = 0) -> int:
    """Poll until ``expected`` spans above ``after_id`` are stored (or the timeout);
    the last count."""
    deadline = time.monotonic() + QUERYABLE_TIMEOUT_S
    stored = count_spans(store, after_id)
    while stored < expected and time.monotonic() < deadline:
        time.sleep(0.05)
        stored = count_spans(store, after_id)
    return stored


def prefill(store: Store, config: ProjectConfig, args: argparse.Namespace) -> int:
    """Store ``args.prefill`` spans of the bench's shape in the bench's project before the
    timed phase (untimed), as the server would, and move the worker past their traces.

    A store's indexes grow with it, and the keys of spans and traces are random
    (OpenTelemetry ids), so each commit into a big store touches pages all over its
    unique indexes; this measures ingest into a store that has been running a while.

    Returns:
        The spans table's largest row id after, so the timed phase counts its own.
    """
    prices = PriceTable()
    writer = Writer(store, queue_bytes=2**30, batch_bytes=2**30)
    written = 0
    # Another seed than the timed phase's: other texts; the ids are random anyway.
    for chunk in record_batches(args.prefill, args.text_bytes, args.batch, seed=11):
        body = encode_spans(chunk).SerializePartialToString()
        writer.write_now(spans=normalize_body(body, PROTOBUF, config, prices))
        written += len(chunk)
        if written % 100_000 < len(chunk):
            log(f"prefilled {written:,} spans")
    with store.session() as session:
        last_trace = session.scalar(select(func.max(Trace.id))) or 0
        lock_cursor(session, TRACES)
        advance_cursor(session, TRACES, last_trace)
        return int(session.scalar(select(func.max(Span.id))) or 0)


def worker_backlog(store: Store) -> int:
    """Traces the server's background worker has not taken up, plus its jobs that are
    due or running (session jobs waiting for their session to go quiet are not)."""
    now = datetime.now(UTC)
    with store.session() as session:
        position = read_cursor(session, TRACES)
        untaken = session.scalar(select(func.count()).select_from(Trace).where(Trace.id > position))
        due = session.scalar(
            select(func.count())
            .select_from(Job)
            .where(or_(Job.status == RUNNING, and_(Job.status == PENDING, Job.available_at <= now)))
        )
    return int(untaken or 0) + int(due or 0)


def wait_worker(store: Store) -> float | None:
    """Seconds until the worker has caught up (None: not within the timeout)."""
    began = time.perf_counter()
    deadline = began + WORKER_TIMEOUT_S
    while worker_backlog(store):
        if time.perf_counter() > deadline:
            return None
        time.sleep(0.1)
    return time.perf_counter() - began


# -- the floor: the same rows without HTTP --------------------------------------------


@dataclass
class RawRates:
    """Spans per second of the server's write path without HTTP, and of bare inserts."""

    normalize_write_now: float
    write_now: float
    executemany: float


def raw_rates(
    url: Callable[[str], str], requests_of: Callable[[], Iterator[ExportTraceServiceRequest]]
) -> RawRates:
    """Write every request twice into fresh stores: via the Writer and by executemany.

    Both write one transaction per request, as many rows as the server's group commit
    takes from one export call, with the same engine settings (SQLite WAL,
    ``synchronous=FULL``).
    """
    prices = PriceTable()
    normalize_s = write_s = insert_s = 0.0
    spans = 0
    with fresh_store(url("writer"), wipe=True) as store:
        config = new_project(store).config
        writer = Writer(store, queue_bytes=2**30, batch_bytes=2**30)
        for request in requests_of():
            began = time.perf_counter()
            batch = normalize_traces(request, config, prices)
            normalize_s += time.perf_counter() - began
            began = time.perf_counter()
            writer.write_now(spans=batch)
            write_s += time.perf_counter() - began
            spans += len(batch.rows)
    with fresh_store(url("executemany"), wipe=True) as store:
        config = new_project(store).config
        for request in requests_of():
            rows = normalize_traces(request, config, prices).rows
            began = time.perf_counter()
            with store.writer.begin() as conn:
                conn.execute(insert(Span), rows)
            insert_s += time.perf_counter() - began
    return RawRates(
        normalize_write_now=spans / (normalize_s + write_s),
        write_now=spans / write_s,
        executemany=spans / insert_s,
    )


# -- main -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=100_000, help="Spans to send.")
    parser.add_argument("--senders", type=int, default=8, help="Concurrent exporter threads.")
    parser.add_argument(
        "--db",
        default=None,
        help="Store URL (sqlite:///... or postgresql+psycopg://...). Default: a fresh "
        "SQLite file in a temporary folder. A non-empty database needs --wipe.",
    )
    parser.add_argument("--batch", type=int, default=512, help="Spans per export call.")
    parser.add_argument(
        "--text-bytes", type=int, default=2048, help="Chat text per span, in bytes."
    )
    parser.add_argument("--quick", action="store_true", help=f"Smoke run: {QUICK_SPANS:,} spans.")
    parser.add_argument(
        "--pre-encode",
        action="store_true",
        help="Encode batches to protobuf before the timed phase (client CPU left out).",
    )
    parser.add_argument(
        "--wipe",
        action="store_true",
        help="Allow dropping assay's tables in a non-empty --db (its data is lost).",
    )
    parser.add_argument("--no-raw", action="store_true", help="Skip the without-HTTP comparison.")
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="Spans stored in the bench's project before the timed phase (untimed): "
        "ingest into a store that already holds them. The comparison without HTTP "
        "still writes into fresh stores.",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="Run the server without its background worker (`assay serve --no-worker`).",
    )
    parser.add_argument(
        "--ingest-workers",
        type=int,
        default=0,
        help="The server's ASSAY_INGEST_WORKERS: processes that normalise spans (0: none).",
    )
    args = parser.parse_args(argv)
    if args.prefill < 0:
        parser.error(f"--prefill must be 0 or more, not {args.prefill}")
    if args.quick:
        args.spans = QUICK_SPANS
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print one JSON line."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="assay-bench-"))

    def url_for(phase: str) -> str:
        return args.db or f"sqlite:///{tmp / phase}.db"

    with fresh_store(url_for("server"), wipe=args.wipe) as store:
        project = new_project(store)
        api_key = project.api_key
        dialect = store.dialect
        base_id = prefill(store, project.config, args) if args.prefill else 0
        chunks: list[list[ReadableSpan]] = []
        payloads: list[bytes] = []
        sizes: list[int] = []
        for chunk in record_batches(args.spans, args.text_bytes, args.batch):
            sizes.append(len(chunk))
            if args.pre_encode:
                payloads.append(encode_spans(chunk).SerializePartialToString())
            else:
                chunks.append(chunk)
        log(f"recorded {sum(sizes):,} spans in {len(sizes)} batches")
        settings = Settings(
            database_url=url_for("server"),
            host="127.0.0.1",
            port=free_port(),
            ingest_workers=args.ingest_workers,
            serve_worker=not args.no_worker,
        )
        server = ServerProcess.start(settings, tmp / "server.log")
        try:
            server_cpu = server.cpu_s()
            client_cpu = time.process_time()
            began = time.perf_counter()
            sent = send_all(
                f"http://127.0.0.1:{server.port}/v1/traces",
                api_key,
                payloads or chunks,
                sizes,
                args.senders,
            )
            stored = wait_queryable(store, sent.acked_spans, base_id)
            elapsed = time.perf_counter() - began
            client_cpu = time.process_time() - client_cpu
            cpu_after = server.cpu_s()
            per_process = {
                pid: (cpu - server_cpu.get(pid, 0.0)) / max(stored, 1) * 1e6
                for pid, cpu in cpu_after.items()
            }
            log(
                "server CPU us/span by process: "
                + ", ".join(f"{pid}: {us:.1f}" for pid, us in per_process.items())
            )
            server_cpu_total = sum(cpu_after.values()) - sum(server_cpu.values())
            peak_mb = server.peak_rss_mb()
            log(f"sent and stored {stored:,} spans in {elapsed:.1f} s")
            caught_up_s = None if args.no_worker else wait_worker(store)
            if caught_up_s is not None:
                log(f"the server's worker caught up {caught_up_s:.1f} s later")
                peak_mb = server.peak_rss_mb()
        finally:
            server.stop()

    def requests_of() -> Iterator[ExportTraceServiceRequest]:
        if payloads:
            yield from (ExportTraceServiceRequest.FromString(p) for p in payloads)
        else:
            yield from (encode_spans(c) for c in chunks)

    raw = None if args.no_raw else raw_rates(url_for, requests_of)
    if raw:
        log("measured the same rows without HTTP")
    spans_per_s = stored / elapsed
    quantiles = statistics.quantiles(sent.latencies_s, n=100, method="inclusive")
    out = {
        "spans": args.spans,
        "senders": args.senders,
        "dialect": dialect,
        "mode": "pre-encode" if args.pre_encode else "exporter",
        "batch": args.batch,
        "text_bytes": args.text_bytes,
        "prefill": args.prefill,
        "elapsed_s": round(elapsed, 2),
        "spans_per_s": round(spans_per_s),
        "ack_p50_ms": round(quantiles[49] * 1000, 1),
        "ack_p99_ms": round(quantiles[98] * 1000, 1),
        "server_peak_rss_mb": round(peak_mb, 1),
        "server_cpu_us_per_span": round(server_cpu_total / stored * 1e6, 1),
        "client_cpu_us_per_span": round(client_cpu / stored * 1e6, 1),
        "ingest_workers": args.ingest_workers,
        "worker": not args.no_worker,
        "worker_caught_up_s": round(caught_up_s, 1) if caught_up_s is not None else None,
        "acked": sent.acked_spans,
        "stored": stored,
        "stored_equals_sent": stored == args.spans and sent.acked_spans == args.spans,
        "failed_batches": sent.failed_batches,
        "rejected_503": sent.statuses.get(503, 0),
        "writer_path_spans_per_s": round(raw.normalize_write_now) if raw else None,
        "write_now_spans_per_s": round(raw.write_now) if raw else None,
        "raw_bulk_insert_spans_per_s": round(raw.executemany) if raw else None,
        "fraction_of_raw": round(spans_per_s / raw.executemany, 3) if raw else None,
    }
    print(json.dumps(out))
    sys.stdout.flush()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
