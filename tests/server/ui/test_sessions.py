"""Session cookies, the signing key, CSRF checks and the REST API's session hook."""

from __future__ import annotations

import threading

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from assay.server.app import create_app
from assay.server.ui import user_from_session
from assay.server.ui.sessions import (
    COOKIE_NAME,
    CSRF_HEADER,
    KEY_SECRET_NAME,
    CsrfError,
    SessionCodec,
    SessionManager,
    UiSession,
    check_csrf,
    stored_session_key,
)
from assay.settings import Settings
from assay.store import Store
from assay.store.models import ServerSecret

from .live import USERNAME, form_login


def test_codec_round_trip_and_tampering() -> None:
    codec = SessionCodec("k" * 32, max_age_s=60)
    session = UiSession.fresh(7)
    value = codec.dumps(session)
    assert codec.loads(value) == session
    assert codec.loads(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]) is None
    assert SessionCodec("other-key", max_age_s=60).loads(value) is None
    assert codec.loads("") is None
    assert codec.loads(None) is None
    assert codec.loads("garbage") is None


def test_codec_refuses_expired_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = SessionCodec("k" * 32, max_age_s=60)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: 1_000_000.0)
    old = codec.dumps(UiSession.fresh(1))
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: 1_000_000.0 + 61)
    assert codec.loads(old) is None
    assert codec.loads(codec.dumps(UiSession.fresh(1))) is not None


@pytest.mark.parametrize(
    "payload",
    [[1, 2], {"u": 1}, {"u": 1, "c": ""}, {"u": "1", "c": "t"}, {"u": True, "c": "t"}],
    ids=["list", "no-csrf", "empty-csrf", "text-user", "bool-user"],
)
def test_codec_refuses_well_signed_but_malformed_payloads(payload: object) -> None:
    key = "k" * 32
    value = URLSafeTimedSerializer(key, salt="assay.ui.session.v1").dumps(payload)
    assert SessionCodec(key, max_age_s=60).loads(value) is None


def test_fresh_sessions_have_distinct_tokens() -> None:
    tokens = {UiSession.fresh().csrf for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 40 for t in tokens)


def test_check_csrf() -> None:
    session = UiSession.fresh(1)
    check_csrf(session, session.csrf)
    with pytest.raises(CsrfError, match="CSRF"):
        check_csrf(session, session.csrf[:-1])
    with pytest.raises(CsrfError, match="CSRF"):
        check_csrf(session, "")
    with pytest.raises(CsrfError, match="session has expired"):
        check_csrf(None, session.csrf)


def test_generated_key_is_stored_once_and_shared(store: Store) -> None:
    keys: list[str] = []

    def resolve() -> None:
        keys.append(stored_session_key(store))

    # Several server processes starting together on a fresh store agree on one key.
    threads = [threading.Thread(target=resolve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert len(keys[0]) >= 40
    with store.session() as session:
        rows = session.scalar(select(func.count()).select_from(ServerSecret))
        stored = session.get(ServerSecret, KEY_SECRET_NAME)
    assert rows == 1
    assert stored is not None
    assert stored.value == keys[0]


def test_configured_secret_key_is_used_and_nothing_is_stored(store: Store) -> None:
    manager = SessionManager(Settings(secret_key="configured-key-" + "x" * 20), store)
    value = manager.codec().dumps(UiSession.fresh(3))
    assert SessionCodec("configured-key-" + "x" * 20, 60).loads(value) is not None
    with store.session() as session:
        assert session.get(ServerSecret, KEY_SECRET_NAME) is None


def test_sessions_survive_a_restart(ui_app: FastAPI, store: Store) -> None:
    with TestClient(ui_app, follow_redirects=False) as first:
        assert form_login(first).status_code == 303
        cookie = first.cookies[COOKIE_NAME]
    # A new app on the same store: another process, or the same one restarted.
    with TestClient(create_app(Settings(), store), follow_redirects=False) as second:
        second.cookies.set(COOKIE_NAME, cookie)
        response = second.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/p/demo/traces"


def _hook_app(ui_app: FastAPI) -> FastAPI:
    """``ui_app`` plus a route that answers what the session hook returns."""

    @ui_app.api_route("/hook", methods=["GET", "POST"])
    def hook(request: Request) -> dict[str, str | None]:
        user = user_from_session(request)
        return {"user": user.username if user else None}

    return ui_app


def test_user_from_session(ui_app: FastAPI) -> None:
    with TestClient(_hook_app(ui_app), follow_redirects=False) as client:
        assert client.get("/hook").json() == {"user": None}
        client.get("/login")  # an anonymous session is nobody
        assert client.get("/hook").json() == {"user": None}
        form_login(client)
        assert client.get("/hook").json() == {"user": USERNAME}
        # Unsafe methods need the session's CSRF token in a header as well.
        assert client.post("/hook").json() == {"user": None}
        assert client.post("/hook", headers={CSRF_HEADER: "forged"}).json() == {"user": None}
        manager: SessionManager = ui_app.state.assay_ui_sessions
        session = manager.codec().loads(client.cookies[COOKIE_NAME])
        assert session is not None
        ok = client.post("/hook", headers={CSRF_HEADER: session.csrf})
        assert ok.json() == {"user": USERNAME}
