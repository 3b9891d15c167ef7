"""A project's API key can neither read nor write another project's data."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assay.testing.otlp import IdFactory, make_span

from .conftest import T0, Projects, send

ids = IdFactory("routes.test_isolation")


def test_traces_of_another_project_do_not_exist(client: TestClient, projects: Projects) -> None:
    alpha, beta = projects.alpha, projects.beta
    theirs = send(client, beta, [make_span("beta-only", start_ns=T0, ids=ids)])
    mine = send(client, alpha, [make_span("alpha-only", start_ns=T0, ids=ids)])

    listed = client.get("/api/v1/traces", headers=alpha.headers).json()["items"]
    assert [t["trace_id"] for t in listed] == [mine]
    # 404, not 403: the answer must not tell that the trace exists elsewhere.
    detail = client.get(f"/api/v1/traces/{theirs}", headers=alpha.headers)
    assert detail.status_code == 404
    unknown = client.get(f"/api/v1/traces/{'ef' * 16}", headers=alpha.headers)
    assert detail.json()["detail"].replace(theirs, "X") == unknown.json()["detail"].replace(
        "ef" * 16, "X"
    )
    assert client.get(f"/api/v1/traces/{theirs}", headers=beta.headers).status_code == 200
    searched = client.get("/api/v1/traces", params={"q": "beta"}, headers=alpha.headers)
    assert searched.json()["items"] == []


def test_same_trace_id_in_two_projects_stays_apart(client: TestClient, projects: Projects) -> None:
    alpha, beta = projects.alpha, projects.beta
    shared = ids.trace_id()
    send(client, alpha, [make_span("alpha-side", trace_id=shared, start_ns=T0, ids=ids)])
    send(client, beta, [make_span("beta-side", trace_id=shared, start_ns=T0, ids=ids)])
    a = client.get(f"/api/v1/traces/{shared.hex()}", headers=alpha.headers).json()
    b = client.get(f"/api/v1/traces/{shared.hex()}", headers=beta.headers).json()
    assert [s["name"] for s in a["spans"]] == ["alpha-side"]
    assert [s["name"] for s in b["spans"]] == ["beta-side"]


def test_feedback_cannot_attach_to_another_projects_trace(
    client: TestClient, projects: Projects
) -> None:
    alpha, beta = projects.alpha, projects.beta
    theirs = send(client, beta, [make_span("beta-only", start_ns=T0, ids=ids)])
    response = client.post(
        "/api/v1/feedback",
        json={"trace_id": theirs, "name": "thumbs", "value": False},
        headers=alpha.headers,
    )
    # Accepted as early feedback on alpha's own (not yet arrived) trace of that id.
    assert response.status_code == 201
    assert response.json()["trace_known"] is False

    beta_trace = client.get(f"/api/v1/traces/{theirs}", headers=beta.headers).json()
    assert beta_trace["feedback"] == []
    assert beta_trace["feedback_count"] == 0
    beta_feedback = client.get("/api/v1/feedback", headers=beta.headers).json()
    assert beta_feedback["items"] == []
    with_feedback = client.get(
        "/api/v1/traces", params={"has_feedback": "true"}, headers=beta.headers
    )
    assert with_feedback.json()["items"] == []
    alpha_feedback = client.get("/api/v1/feedback", headers=alpha.headers).json()["items"]
    assert [f["trace_id"] for f in alpha_feedback] == [theirs]


def test_releases_and_project_are_per_key(client: TestClient, projects: Projects) -> None:
    alpha, beta = projects.alpha, projects.beta
    manifest = {"name": "secret-release", "model": {"id": "m"}}
    assert client.post("/api/v1/releases", json=manifest, headers=beta.headers).status_code == 201
    assert client.get("/api/v1/releases", headers=alpha.headers).json() == []
    assert client.get("/api/v1/releases/secret-release", headers=alpha.headers).status_code == 404
    assert client.get("/api/v1/project", headers=alpha.headers).json()["name"] == "alpha"
    # Filtering alpha's traces by beta's release finds nothing (it is a raw ref here).
    params = {"release": "secret-release"}
    assert client.get("/api/v1/traces", params=params, headers=alpha.headers).json()["items"] == []
