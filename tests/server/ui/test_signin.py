"""Signing in and out over HTTP: cookies, CSRF, error messages, redirects."""

from __future__ import annotations

import base64
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from assay.server.app import create_app
from assay.server.ui.sessions import COOKIE_NAME
from assay.server.ui.signin import BAD_CREDENTIALS
from assay.settings import Settings
from assay.store import Store
from assay.store.models import User

from .live import PASSWORD, USERNAME, csrf_token, form_login


def _cookie(response_header: str) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(response_header)
    return cookie


def test_login_page_sets_an_anonymous_session_with_safe_flags(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert csrf_token(response.text)
    morsel = _cookie(response.headers["set-cookie"])[COOKIE_NAME]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "lax"
    assert morsel["path"] == "/"
    assert morsel["max-age"] == str(Settings().session_max_age_s)
    assert not morsel["secure"]


def test_secure_cookies_setting(store: Store) -> None:
    settings = Settings(secure_cookies=True, session_max_age_s=600)
    with TestClient(create_app(settings, store), base_url="https://testserver") as client:
        morsel = _cookie(client.get("/login").headers["set-cookie"])[COOKIE_NAME]
    assert morsel["secure"] is True
    assert morsel["max-age"] == "600"


def test_sign_in_rotates_the_csrf_token_and_redirects_to_next(client: TestClient) -> None:
    before = csrf_token(client.get("/login").text)
    response = form_login(client, next_path="/p/demo/releases?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/p/demo/releases?x=1"
    morsel = _cookie(response.headers["set-cookie"])[COOKIE_NAME]
    assert morsel["httponly"] is True
    page = client.get("/p/demo/releases")
    assert page.status_code == 200
    assert csrf_token(page.text) != before


def test_failed_sign_in_does_not_say_which_part_was_wrong(client: TestClient) -> None:
    wrong_password = form_login(client, password="not-the-password")
    unknown_user = form_login(client, username="mallory")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert BAD_CREDENTIALS in response.text
        assert "mallory" not in response.text.replace('value="mallory"', "")
    # Nobody got signed in.
    assert client.get("/").headers["location"] == "/login"


@pytest.mark.parametrize("token", ["", "forged"], ids=["missing", "wrong"])
def test_sign_in_without_the_right_csrf_token_is_refused(client: TestClient, token: str) -> None:
    client.get("/login")
    data = {"username": USERNAME, "password": PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 403
    assert "CSRF check failed" in response.text
    assert client.get("/").status_code == 303  # still signed out


def test_sign_in_without_a_session_cookie_is_refused(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    client.cookies.clear()
    response = client.post(
        "/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 403
    assert "session has expired" in response.text


def test_logout_needs_the_csrf_token(client: TestClient) -> None:
    form_login(client)
    page = client.get("/p/demo/traces")
    refused = client.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert client.get("/p/demo/traces").status_code == 200  # still signed in
    done = client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert COOKIE_NAME not in client.cookies
    assert client.get("/p/demo/traces").status_code == 303


def test_signed_in_user_visiting_login_goes_on(client: TestClient) -> None:
    form_login(client)
    response = client.get("/login?next=/p/demo/releases")
    assert response.status_code == 303
    assert response.headers["location"] == "/p/demo/releases"


def test_deleted_user_is_signed_out(client: TestClient, store: Store) -> None:
    form_login(client)
    with store.write_session() as session:
        session.execute(delete(User))
    response = client.get("/p/demo/traces")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_tampered_cookie_is_ignored(client: TestClient) -> None:
    form_login(client)
    value = client.cookies[COOKIE_NAME]
    payload, rest = value.split(".", 1)
    # Same signature, payload naming another user: {"u":2,"c":"x"}.
    forged = base64.urlsafe_b64encode(b'{"u":2,"c":"x"}').decode().rstrip("=")
    for tampered in (value[:-4] + "AAAA", f"{forged}.{rest}"):
        client.cookies.clear()
        client.cookies.set(COOKIE_NAME, tampered)
        assert client.get("/p/demo/traces").status_code == 303
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, f"{payload}.{rest}")
    assert client.get("/p/demo/traces").status_code == 200
