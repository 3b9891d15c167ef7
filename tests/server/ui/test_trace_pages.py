"""Trace pages over HTTP: home, switcher, list states and errors, detail escaping."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from assay.accounts import create_user
from assay.projects import create_api_key, get_project
from assay.server.app import create_app
from assay.settings import Settings
from assay.store import Store
from assay.testing.otlp import export_trace_request, hex_id, trace_with_children

from .live import PASSWORD, PROJECT, USERNAME, form_login

SCRIPT = "<script>alert('pwned')</script>"


def post_trace(
    client: TestClient,
    store: Store,
    *,
    root_name: str = "answer_question",
    root_input: str = "What is the capital of France?",
    release: str | None = None,
) -> str:
    """Send one trace with a root and one LLM child; its id."""
    with store.write_session() as session:
        project = get_project(session, PROJECT)
        secret = create_api_key(session, project.id, "t").secret
    spans = trace_with_children(1, root_name=root_name, root_input=root_input)
    body = export_trace_request(spans, release=release).SerializeToString()
    response = client.post(
        "/v1/traces",
        content=body,
        headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.text
    return hex_id(spans[0].trace_id)


def test_home_without_projects_explains_how_to_start(store: Store) -> None:
    with store.write_session() as session:
        create_user(session, USERNAME, PASSWORD)
    with TestClient(create_app(Settings(), store), follow_redirects=False) as client:
        form_login(client)
        page = client.get("/")
    assert page.status_code == 200
    assert 'id="empty-state"' in page.text
    assert "assay project create" in page.text
    assert "http://testserver/v1/traces" in page.text


def test_home_and_switcher_go_to_a_projects_traces(signed_client: TestClient) -> None:
    assert signed_client.get("/").headers["location"] == "/p/demo/traces"
    assert signed_client.get("/p?project=demo").headers["location"] == "/p/demo/traces"
    assert signed_client.get("/p?project=").headers["location"] == "/"
    assert signed_client.get("/p/demo").headers["location"] == "/p/demo/traces"


def test_project_without_traces_shows_how_to_send_them(signed_client: TestClient) -> None:
    page = signed_client.get("/p/demo/traces")
    assert page.status_code == 200
    assert 'id="empty-state"' in page.text
    assert "assay project key create demo" in page.text
    assert "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://testserver/v1/traces" in page.text
    # Security headers on every page.
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def test_unknown_project_and_trace_are_404_pages(signed_client: TestClient) -> None:
    project = signed_client.get("/p/nope/traces")
    assert project.status_code == 404
    assert "project &#39;nope&#39; does not exist" in project.text
    assert project.headers["content-type"].startswith("text/html")
    trace = signed_client.get("/p/demo/traces/" + "ab" * 16)
    assert trace.status_code == 404
    assert signed_client.get("/p/nope/releases").status_code == 404


def test_malformed_filters_keep_the_form_and_say_what_is_wrong(
    signed_client: TestClient,
) -> None:
    page = signed_client.get("/p/demo/traces?status=broken&q=keep+me")
    assert page.status_code == 400
    assert 'id="filter-error"' in page.text
    assert "status: expected one of ok, error, unset" in page.text
    assert 'value="keep me"' in page.text
    cursor = signed_client.get("/p/demo/traces?cursor=not-a-cursor")
    assert cursor.status_code == 400
    assert "cursor: malformed" in cursor.text


def test_trace_content_is_escaped(signed_client: TestClient, store: Store) -> None:
    trace_id = post_trace(
        signed_client, store, root_name=SCRIPT, root_input=SCRIPT, release="<b>v9</b>"
    )
    listing = signed_client.get("/p/demo/traces")
    detail = signed_client.get(f"/p/demo/traces/{trace_id}")
    for page in (listing, detail):
        assert page.status_code == 200
        assert SCRIPT not in page.text
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page.text
        assert "<b>v9</b>" not in page.text
    assert len(re.findall(r"<script\b", detail.text)) == 1  # only the packaged assay.js


def test_unregistered_release_from_a_link_stays_selected(
    signed_client: TestClient, store: Store
) -> None:
    post_trace(signed_client, store, release="build-77")
    page = signed_client.get("/p/demo/traces?release=build-77")
    assert '<option value="build-77" selected>build-77</option>' in page.text
    assert page.text.count("data-trace-id=") == 1
