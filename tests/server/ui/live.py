"""A live assay server for UI tests: user, project, API key, and traces sent over OTLP."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assay.accounts import create_user
from assay.projects import create_api_key, create_project
from assay.releases import register_release
from assay.server.app import create_app
from assay.server.ui.sessions import COOKIE_NAME, SessionManager, UiSession
from assay.settings import Settings
from assay.store import Store, migrate
from assay.testing import serve_app
from assay.testing.otlp import (
    IdFactory,
    export_trace_request,
    genai_llm_span,
    hex_id,
    make_span,
    trace_with_children,
)
from assay.traces.feedback import record_feedback

USERNAME = "alice"
PASSWORD = "correct-horse-battery"
PROJECT = "demo"
XSS_INPUT = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

RELEASE_V1 = {
    "name": "v1",
    "model": {"id": "gpt-4o-mini", "provider": "openai"},
    "generation": {"temperature": 0.2},
    "prompts": {"system": "You are a helpful support agent.\nBe brief."},
}
RELEASE_V2 = {
    "name": "v2",
    "model": {"id": "gpt-4o-mini", "provider": "openai"},
    "generation": {"temperature": 0.7},
    "prompts": {"system": "You are a helpful support agent.\nBe brief and kind."},
}


@dataclass
class Seeded:
    """What the seeded project holds.

    Attributes:
        plain: Ids of the plain support traces, oldest first.
        errors: Ids of the plain traces that have a failed span.
        refund: Id of the one trace whose input mentions a refund.
        nested: Id of the agent trace (root > agent > llm, tool).
        xss: Id of the trace whose input is an XSS payload.
        with_feedback: Id of the trace that has feedback.
    """

    plain: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    refund: str = ""
    nested: str = ""
    xss: str = ""
    with_feedback: str = ""

    @property
    def all(self) -> list[str]:
        """Every seeded trace id."""
        return [*self.plain, self.nested, self.xss]


@dataclass
class LiveServer:
    """A running server with a user, a project and an API key.

    Attributes:
        base_url: ``http://127.0.0.1:PORT``.
        store: The server's store.
        username: The user's name.
        password: The user's password.
        project: The project's name.
        project_id: The project's id.
        api_key: An API key of the project.
        user_id: The user's id.
        sessions: The app's session manager (it runs in this process).
        seeded: The traces posted to it.
    """

    base_url: str
    store: Store
    username: str
    password: str
    project: str
    project_id: int
    api_key: str
    user_id: int
    sessions: SessionManager
    seeded: Seeded = field(default_factory=Seeded)

    def session_cookie(self) -> dict[str, Any]:
        """A signed-in session cookie for a Playwright context.

        Signing in through the form costs an Argon2 verification (~0.1 s, ~1 s on a
        busy 2-core box); tests about something else start signed in with this.
        """
        value = self.sessions.codec().dumps(UiSession.fresh(self.user_id))
        return {"name": COOKIE_NAME, "value": value, "url": self.base_url, "httpOnly": True}

    def url(self, path: str) -> str:
        """An absolute URL on this server."""
        return self.base_url + path

    def post_spans(self, spans: list[Any], *, release: str | None = None) -> None:
        """Send spans over OTLP/HTTP protobuf, as an app's exporter would."""
        body = export_trace_request(spans, service_name="support-bot", release=release)
        response = httpx.post(
            self.url("/v1/traces"),
            content=body.SerializeToString(),
            headers={
                "Content-Type": "application/x-protobuf",
                "Authorization": f"Bearer {self.api_key}",
            },
        )
        assert response.status_code == 200, response.text


def _hermetic_settings(**values: Any) -> Settings:
    """Settings from defaults only: a developer's ASSAY_* variables must not leak in."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.upper().startswith("ASSAY_"):
                patch.delenv(name)
        return Settings(**values)


@contextmanager
def running_server(url: str) -> Iterator[LiveServer]:
    """Migrate a store at ``url``, create the user, project and key, and serve it."""
    store = Store(url)
    migrate.upgrade(store)
    with store.write_session() as session:
        user = create_user(session, USERNAME, PASSWORD)
        project = create_project(session, PROJECT, description="Customer support assistant")
        secret = create_api_key(session, project.id, "tests").secret
    app = create_app(_hermetic_settings(database_url=url), store)
    try:
        with serve_app(app) as server:
            yield LiveServer(
                base_url=server.base_url,
                store=store,
                username=USERNAME,
                password=PASSWORD,
                project=PROJECT,
                project_id=project.id,
                api_key=secret,
                user_id=user.id,
                sessions=app.state.assay_ui_sessions,
            )
    finally:
        store.dispose()


def seed(server: LiveServer) -> Seeded:
    """Register two releases and post eight traces (and feedback on one)."""
    with server.store.write_session() as session:
        register_release(session, server.project_id, RELEASE_V1)
        register_release(session, server.project_id, RELEASE_V2)
    ids = IdFactory(seed="ui-tests")
    seeded = Seeded()
    base = time.time_ns() - 3600 * 10**9
    second = 10**9
    for i in range(6):
        failing = i in (1, 4)
        question = "Can I get a refund for order 1234?" if i == 2 else f"Where is parcel {i}?"

        def child(
            index: int, trace: bytes, parent: bytes, begin: int, *, failing: bool = failing
        ) -> Any:
            return genai_llm_span(
                prompt=f"question {index}",
                completion=f"answer {index}",
                trace_id=trace,
                parent_span_id=parent,
                start_ns=begin,
                duration_ms=40,
                status="error" if failing and index == 1 else "unset",
                status_message="upstream rate limit" if failing and index == 1 else "",
                ids=ids,
            )

        spans = trace_with_children(
            2,
            root_name="support_turn",
            root_input=question,
            root_output="It is on its way.",
            root_attributes={"locale": "fr" if i % 3 == 0 else "en"},
            child=child,
            start_ns=base + i * 10 * second,
            child_duration_ms=40,
            ids=ids,
        )
        trace_id = hex_id(spans[0].trace_id)
        server.post_spans(spans, release="v1" if i % 2 == 0 else "v2")
        seeded.plain.append(trace_id)
        if failing:
            seeded.errors.append(trace_id)
        if i == 2:
            seeded.refund = trace_id
    seeded.nested = _post_agent_trace(server, ids, base + 70 * second)
    seeded.xss = _post_xss_trace(server, ids, base + 80 * second)
    seeded.with_feedback = seeded.plain[0]
    with server.store.write_session() as session:
        record_feedback(
            session,
            server.project_id,
            seeded.with_feedback,
            "thumbs",
            False,
            comment="tracking link is wrong",
        )
    return seeded


def _post_agent_trace(server: LiveServer, ids: IdFactory, start: int) -> str:
    """root (chain) > plan (agent) > [chat gpt-4o (llm), lookup_order (tool)]."""
    trace = ids.trace_id()
    root, agent, llm, tool = (ids.span_id() for _ in range(4))
    ms = 10**6
    spans = [
        make_span(
            "agent_run",
            trace_id=trace,
            span_id=root,
            start_ns=start,
            duration_ms=900,
            attributes={"openinference.span.kind": "CHAIN", "input.value": "Track order 42"},
        ),
        make_span(
            "plan",
            trace_id=trace,
            span_id=agent,
            parent_span_id=root,
            start_ns=start + 10 * ms,
            duration_ms=850,
            attributes={"openinference.span.kind": "AGENT"},
        ),
        genai_llm_span(
            model="gpt-4o",
            prompt="Which tool finds order 42?",
            completion="Call lookup_order.",
            system="You are an agent.",
            input_tokens=123,
            output_tokens=45,
            trace_id=trace,
            span_id=llm,
            parent_span_id=agent,
            start_ns=start + 20 * ms,
            duration_ms=300,
        ),
        make_span(
            "lookup_order",
            trace_id=trace,
            span_id=tool,
            parent_span_id=agent,
            start_ns=start + 400 * ms,
            duration_ms=200,
            attributes={
                "openinference.span.kind": "TOOL",
                "input.value": '{"order": 42}',
                "output.value": "shipped",
            },
            events=[("cache.miss", {"key": "order:42"})],
        ),
    ]
    server.post_spans(spans, release="v2")
    return hex_id(trace)


def _post_xss_trace(server: LiveServer, ids: IdFactory, start: int) -> str:
    """A trace whose root input and LLM prompt are an XSS payload."""

    def child(index: int, trace: bytes, parent: bytes, begin: int) -> Any:
        return genai_llm_span(
            prompt=XSS_INPUT,
            completion="</pre><script>window.__xss = 3</script>",
            trace_id=trace,
            parent_span_id=parent,
            start_ns=begin,
            ids=ids,
        )

    spans = trace_with_children(
        1,
        root_name="xss_probe",
        root_input=XSS_INPUT,
        root_output="ok",
        child=child,
        start_ns=start,
        ids=ids,
    )
    server.post_spans(spans, release="v1")
    return hex_id(spans[0].trace_id)


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def form_login(
    client: TestClient, username: str = USERNAME, password: str = PASSWORD, next_path: str = ""
) -> Any:
    """Load the sign-in page and submit it, as a browser would; the response."""
    page = client.get("/login")
    data = {"username": username, "password": password, "csrf_token": csrf_token(page.text)}
    if next_path:
        data["next"] = next_path
    return client.post("/login", data=data)
