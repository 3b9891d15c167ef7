"""Projects and keys over REST: the key's own project, and admin-only management."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import ADMIN_PASSWORD, Project, Projects, basic


def test_the_keys_project(client: TestClient, alpha: Project) -> None:
    response = client.get("/api/v1/project", headers=alpha.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"]) == (alpha.id, "alpha")
    assert body["redaction"] == {
        "builtins": ["email", "phone", "card", "api_key", "bearer"],
        "patterns": [],
    }
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer ak_nope"}, {"Authorization": "Token x"}],
)
def test_project_routes_need_a_valid_key(
    client: TestClient, projects: Projects, headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/project", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/projects"),
        ("POST", "/api/v1/projects"),
        ("GET", "/api/v1/projects/alpha/keys"),
        ("POST", "/api/v1/projects/alpha/keys"),
        ("DELETE", "/api/v1/projects/alpha/keys/1"),
    ],
)
def test_admin_routes_without_credentials_are_401(
    client: TestClient, projects: Projects, method: str, path: str
) -> None:
    response = client.request(method, path, json={"name": "x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert "Basic" in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        basic("root", "wrong password"),
        basic("nobody", ADMIN_PASSWORD),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + "bm9jb2xvbg=="},  # "nocolon"
    ],
)
def test_admin_routes_refuse_bad_credentials(
    client: TestClient, admin_headers: dict[str, str], headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/projects", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_a_project_key_is_not_admin(client: TestClient, alpha: Project) -> None:
    response = client.get("/api/v1/projects", headers=alpha.headers)
    assert response.status_code == 401
    assert "does not grant admin" in response.json()["detail"]


def test_non_admin_account_is_403(client: TestClient, annotator_headers: dict[str, str]) -> None:
    response = client.get("/api/v1/projects", headers=annotator_headers)
    assert response.status_code == 403
    assert "not an admin" in response.json()["detail"]


def test_admin_lists_and_creates_projects(
    client: TestClient, projects: Projects, admin_headers: dict[str, str]
) -> None:
    listed = client.get("/api/v1/projects", headers=admin_headers)
    assert listed.status_code == 200
    assert [p["name"] for p in listed.json()] == ["alpha", "beta"]

    created = client.post(
        "/api/v1/projects",
        json={"name": "gamma", "description": "support bot", "owner": "ml-team"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["project"]["name"] == "gamma"
    assert body["project"]["owner"] == "ml-team"
    secret = body["api_key"]["secret"]
    assert secret.startswith(body["api_key"]["key"]["prefix"])
    assert body["api_key"]["key"]["revoked_at"] is None
    # The new key works at once.
    mine = client.get("/api/v1/project", headers={"Authorization": f"Bearer {secret}"})
    assert mine.json()["name"] == "gamma"
    # The secret is never shown again.
    keys = client.get("/api/v1/projects/gamma/keys", headers=admin_headers).json()
    assert len(keys) == 1
    assert "secret" not in keys[0]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "alpha"}, 409, "already exists"),
        ({"name": "bad name!"}, 400, "project name"),
        ({"name": "ok", "colour": "red"}, 422, "colour"),
        ({}, 422, "name"),
    ],
)
def test_create_project_refusals(
    client: TestClient,
    projects: Projects,
    admin_headers: dict[str, str],
    body: dict[str, str],
    status: int,
    field: str,
) -> None:
    response = client.post("/api/v1/projects", json=body, headers=admin_headers)
    assert response.status_code == status
    assert field in str(response.json()["detail"])
    names = [p["name"] for p in client.get("/api/v1/projects", headers=admin_headers).json()]
    assert names == ["alpha", "beta"]


def test_keys_create_and_revoke_takes_effect_at_once(
    client: TestClient, alpha: Project, admin_headers: dict[str, str]
) -> None:
    made = client.post("/api/v1/projects/alpha/keys", json={"name": "ci"}, headers=admin_headers)
    assert made.status_code == 201
    key = made.json()
    ci = {"Authorization": f"Bearer {key['secret']}"}
    # Used once, so the server's key cache holds it.
    assert client.get("/api/v1/project", headers=ci).status_code == 200

    path = f"/api/v1/projects/alpha/keys/{key['key']['id']}"
    revoked = client.delete(path, headers=admin_headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    denied = client.get("/api/v1/project", headers=ci)
    assert denied.status_code == 401
    assert "revoked" in denied.json()["detail"]
    # The other key is untouched.
    assert client.get("/api/v1/project", headers=alpha.headers).status_code == 200
    listed = client.get("/api/v1/projects/alpha/keys", headers=admin_headers).json()
    assert [(k["name"], k["revoked_at"] is None) for k in listed] == [
        ("default", True),
        ("ci", False),
    ]


def test_key_management_of_unknown_things_is_404(
    client: TestClient, projects: Projects, admin_headers: dict[str, str]
) -> None:
    beta_keys = client.get("/api/v1/projects/beta/keys", headers=admin_headers).json()
    beta_key = beta_keys[0]["id"]
    # A key of beta cannot be revoked through alpha.
    wrong = client.delete(f"/api/v1/projects/alpha/keys/{beta_key}", headers=admin_headers)
    assert wrong.status_code == 404
    assert client.get("/api/v1/project", headers=projects.beta.headers).status_code == 200
    assert client.get("/api/v1/projects/nope/keys", headers=admin_headers).status_code == 404
    assert (
        client.post("/api/v1/projects/nope/keys", json={}, headers=admin_headers).status_code == 404
    )
    assert (
        client.delete("/api/v1/projects/alpha/keys/abc", headers=admin_headers).status_code == 422
    )
