"""The sign-in guard and the ``next`` redirect target."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from assay.server.ui.access import login_url, safe_next

from .live import form_login


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/p/demo/traces?status=error", "/p/demo/traces?status=error"),
        ("/p/demo/traces/abc#spans", "/p/demo/traces/abc#spans"),
        ("", "/"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("p/demo", "/"),
        ("/login", "/"),
        ("/login?next=/x", "/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_login_url_round_trips_the_path_and_query() -> None:
    url = login_url("/p/demo/traces?status=error&q=a b")
    assert urlsplit(url).path == "/login"
    assert parse_qs(urlsplit(url).query) == {"next": ["/p/demo/traces?status=error&q=a b"]}
    assert login_url("https://evil.example") == "/login"


PAGES = [
    "/",
    "/p?project=demo",
    "/p/demo",
    "/p/demo/traces",
    "/p/demo/traces?status=error",
    "/p/demo/traces/0123456789abcdef0123456789abcdef",
    "/p/demo/releases",
    "/p/demo/releases/diff?a=v1&b=v2",
    "/p/no-such-project/traces",
]


def test_every_page_needs_sign_in(client: TestClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 303, path
        location = response.headers["location"]
        assert urlsplit(location).path == "/login"
        if path != "/":
            assert parse_qs(urlsplit(location).query)["next"] == [path]


def test_login_page_and_static_assets_need_no_sign_in(client: TestClient) -> None:
    assert client.get("/login").status_code == 200
    css = client.get("/static/assay.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert client.get("/static/assay.js").status_code == 200


def test_open_redirect_through_sign_in_is_refused(client: TestClient) -> None:
    response = form_login(client, next_path="//evil.example/phish")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
