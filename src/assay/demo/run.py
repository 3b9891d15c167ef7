"""Orchestrating `assay demo`: store, project, releases, account, server, traffic, the
evaluation loop (dataset, runs, gate) and the review loop (rules, queue, annotators,
adjudication, promotion)."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from assay.accounts import create_user, set_password
from assay.demo.corpus import load_exchanges
from assay.demo.evaluation import POLICY_TOML, DemoEvaluation, run_evaluation
from assay.demo.review import DemoReview, run_review
from assay.demo.traffic import SYSTEM_PROMPTS, ReleaseTraffic, SentTrace, send_traffic
from assay.errors import ConfigError, Conflict, NotFound
from assay.projects import create_api_key, create_project, get_project
from assay.releases import register_release
from assay.server.app import create_app
from assay.settings import DEFAULT_DB_DIR, Settings
from assay.signals import BackgroundWorker
from assay.store.engine import Store
from assay.store.migrate import ensure_current

PROJECT = "support-bot"
DEMO_USER = "demo"

RELEASES: tuple[tuple[ReleaseTraffic, dict[str, Any]], ...] = (
    (
        ReleaseTraffic("support-bot-v1", "gpt-4o-mini", 0.3, error_rate=0.03),
        {
            "name": "support-bot-v1",
            "model": {"id": "gpt-4o-mini", "provider": "openai", "snapshot": "2024-07-18"},
            "generation": {"temperature": 0.3, "max_tokens": 512},
            "prompts": {"system": SYSTEM_PROMPTS["support-bot-v1"]},
            "tools": [
                {
                    "name": "create_ticket",
                    "description": "Open a support ticket",
                    "parameters": {"type": "object", "properties": {"summary": {"type": "string"}}},
                }
            ],
            "retrieval": {
                "embedding_model": "all-MiniLM-L6-v2",
                "index_version": "kb-2026-10-01",
                "top_k": 3,
            },
            "code": {"version": "1.4.0", "commit": "3f2a9c1"},
        },
    ),
    (
        ReleaseTraffic(
            "support-bot-v2",
            "gpt-4.1-mini",
            0.7,
            error_rate=0.03,
            snapshot="2025-04-14",
            locale_error=("it", 0.25),
        ),
        {
            "name": "support-bot-v2",
            "model": {"id": "gpt-4.1-mini", "provider": "openai", "snapshot": "2025-04-14"},
            "generation": {"temperature": 0.7, "max_tokens": 512},
            "prompts": {"system": SYSTEM_PROMPTS["support-bot-v2"]},
            "tools": [
                {
                    "name": "create_ticket",
                    "description": "Open a support ticket for the user",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "summary": {"type": "string"},
                            "priority": {"type": "string", "enum": ["low", "high"]},
                        },
                    },
                }
            ],
            "retrieval": {
                "embedding_model": "all-MiniLM-L6-v2",
                "index_version": "kb-2026-11-15",
                "top_k": 3,
            },
            "code": {"version": "1.5.0", "commit": "9be41d0"},
        },
    ),
)


@dataclass(frozen=True)
class DemoResult:
    """What the demo set up, for the printed next steps."""

    url: str
    database_url: str
    project: str
    api_key: str
    username: str
    password: str
    traces: list[SentTrace]
    feedback: int
    evaluation: DemoEvaluation
    review: DemoReview
    policy_file: Path
    server: BackgroundServer | None


def free_port(host: str, preferred: int) -> int:
    """``preferred`` if it is free on ``host``, else any free port."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            chosen: int = sock.getsockname()[1]
            return chosen
    raise ConfigError(f"no free TCP port on {host}")


class BackgroundServer:
    """The assay server on a thread of this process (what the demo serves)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        config = uvicorn.Config(
            create_app(settings, store),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="assay-server", daemon=True)
        self.url = f"http://{settings.host}:{settings.port}"
        self.worker = BackgroundWorker(store, settings)

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until the server answers."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.started:
                return
            if not self.thread.is_alive():
                break
            time.sleep(0.05)
        raise ConfigError(f"the demo server did not start on {self.url}")

    def start_worker(self) -> None:
        """Run the background worker beside the server, as `assay serve` does, so
        traffic sent to the demo server from now on is scored and routed."""
        self.worker.start()

    def stop(self) -> None:
        """Ask the worker and the server to finish and wait for them."""
        if self.worker.alive:
            self.worker.stop()
        self.server.should_exit = True
        self.thread.join(30)


def setup_store(store: Store) -> tuple[str, str, str]:
    """Project, releases, API key and demo account; safe to run again.

    Returns:
        (API key secret, demo username, demo password).
    """
    ensure_current(store)
    password = secrets.token_urlsafe(9)
    with store.session() as session:
        try:
            project = get_project(session, PROJECT)
        except NotFound:
            project = create_project(
                session,
                PROJECT,
                description="Demo: a customer-support assistant answering from a knowledge base.",
                owner="demo",
            )
        key = create_api_key(session, PROJECT, name=f"demo-{int(time.time())}")
        for _, manifest in RELEASES:
            register_release(session, project.id, manifest)
        try:
            create_user(session, DEMO_USER, password, role="admin")
        except Conflict:
            set_password(session, DEMO_USER, password)
    return key.secret, DEMO_USER, password


def send_feedback(url: str, api_key: str, sent: list[SentTrace]) -> int:
    """Thumbs from some users: down on failures, mostly up otherwise."""
    count = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}) as client:
        for i, trace in enumerate(sent):
            if trace.failed or i % 7 == 0:
                value = not trace.failed and i % 21 != 0
                comment = None if value else "The answer did not help."
                response = client.post(
                    "/api/v1/feedback",
                    json={
                        "trace_id": trace.trace_id,
                        "name": "thumbs",
                        "value": value,
                        "comment": comment,
                    },
                )
                response.raise_for_status()
                count += 1
    return count


def run_demo(settings: Settings, *, traces: int = 240, serve: bool = True) -> DemoResult:
    """Set everything up and send the traffic; the caller prints and waits."""
    store = Store(settings.resolved_database_url())
    api_key, username, password = setup_store(store)
    settings = settings.model_copy(update={"port": free_port(settings.host, settings.port)})
    server = BackgroundServer(settings, store)
    server.start()
    try:
        sent = send_traffic(
            server.url,
            api_key,
            load_exchanges(),
            [rel for rel, _ in RELEASES],
            traces=traces,
            now_ns=time.time_ns(),
        )
        feedback = send_feedback(server.url, api_key, sent)
        evaluation = run_evaluation(store, PROJECT)
        # After the evaluation, so the gate keeps judging the traffic's own dataset;
        # the review loop promotes into a dataset of its own.
        review = run_review(store, PROJECT, password)
        policy_file = Path(DEFAULT_DB_DIR) / "demo-gate.toml"
        policy_file.parent.mkdir(parents=True, exist_ok=True)
        policy_file.write_text(POLICY_TOML)
    except BaseException:
        server.stop()
        raise
    result = DemoResult(
        url=server.url,
        database_url=store.url,
        project=PROJECT,
        api_key=api_key,
        username=username,
        password=password,
        traces=sent,
        feedback=feedback,
        evaluation=evaluation,
        review=review,
        policy_file=policy_file,
        server=server if serve else None,
    )
    if serve:
        server.start_worker()
    else:
        server.stop()
        store.dispose()
    return result


def wait_forever(server: BackgroundServer) -> None:
    """Keep the demo server up until Ctrl-C (or until it stops by itself)."""
    try:
        while server.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
