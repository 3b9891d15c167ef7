"""Accounts and user keys over REST: admin-only, secrets shown once, roles that bite."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import ADMIN_PASSWORD, Project, basic


def test_admin_manages_accounts_roles_and_user_keys(
    client: TestClient, admin_headers: dict[str, str], alpha: Project
) -> None:
    queue = {"name": "q", "fields": [{"name": "ok", "type": "boolean"}]}
    assert client.post("/api/v1/queues", json=queue, headers=alpha.headers).status_code == 201
    created = client.post(
        "/api/v1/users",
        json={"username": "ana", "password": "pw-123456"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "annotator"
    assert "password" not in created.text
    names = [u["username"] for u in client.get("/api/v1/users", headers=admin_headers).json()]
    assert names == ["ana", "root"]

    key = client.post("/api/v1/users/ana/keys", json={"name": "bot"}, headers=admin_headers)
    assert key.status_code == 201
    secret = key.json()["secret"]
    assert secret.startswith("uk_")
    as_ana = {"Authorization": f"Bearer {secret}"}
    disputed = "/api/v1/projects/alpha/queues/q/disputed"
    # The key acts as ana, an annotator: disputed items (everyone's labels) are not hers.
    assert client.get(disputed, headers=as_ana).status_code == 403

    promoted = client.patch(
        "/api/v1/users/ana", json={"role": "adjudicator"}, headers=admin_headers
    )
    assert promoted.json()["role"] == "adjudicator"
    assert client.get(disputed, headers=as_ana).status_code == 200  # the same key, at once
    listed = client.get("/api/v1/users/ana/keys", headers=admin_headers).json()
    assert [k["name"] for k in listed] == ["bot"]
    assert secret not in str(listed)

    key_id = key.json()["key"]["id"]
    revoked = client.delete(f"/api/v1/users/ana/keys/{key_id}", headers=admin_headers)
    assert revoked.json()["revoked_at"] is not None
    refused = client.get(disputed, headers=as_ana)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    short = client.post(
        "/api/v1/users", json={"username": "bo", "password": "short"}, headers=admin_headers
    )
    assert short.status_code == 400
    assert "at least 8 characters" in short.json()["detail"]
    role = client.post(
        "/api/v1/users",
        json={"username": "bo", "password": "pw-123456", "role": "boss"},
        headers=admin_headers,
    )
    assert role.status_code == 422
    taken = client.post(
        "/api/v1/users", json={"username": "root", "password": "pw-123456"}, headers=admin_headers
    )
    assert taken.status_code == 409
    ghost = client.patch("/api/v1/users/ghost", json={"role": "admin"}, headers=admin_headers)
    assert ghost.status_code == 404
    assert (
        client.post("/api/v1/users/ghost/keys", json={}, headers=admin_headers).status_code == 404
    )
    assert [u["username"] for u in client.get("/api/v1/users", headers=admin_headers).json()] == [
        "root"
    ]


def test_only_admins_manage_accounts(client: TestClient, annotator_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/users").status_code == 401
    assert client.get("/api/v1/users", headers=annotator_headers).status_code == 403
    assert client.get("/api/v1/users", headers=basic("ann", "wrong-pass")).status_code == 401
    made = client.post(
        "/api/v1/users",
        json={"username": "eve", "password": ADMIN_PASSWORD, "role": "admin"},
        headers=annotator_headers,
    )
    assert made.status_code == 403


def test_the_last_admin_cannot_step_down(client: TestClient, admin_headers: dict[str, str]) -> None:
    alone = client.patch("/api/v1/users/root", json={"role": "annotator"}, headers=admin_headers)
    assert alone.status_code == 409
    assert "last admin" in alone.json()["detail"]
    client.post(
        "/api/v1/users",
        json={"username": "ada", "password": "pw-123456", "role": "admin"},
        headers=admin_headers,
    )
    moved = client.patch("/api/v1/users/root", json={"role": "annotator"}, headers=admin_headers)
    assert moved.json()["role"] == "annotator"


def test_numbers_too_large_for_the_database_are_bad_input(
    client: TestClient, admin_headers: dict[str, str], alpha: Project
) -> None:
    huge = "9" * 25
    queue = {"name": "q", "fields": [{"name": "ok", "type": "boolean"}]}
    client.post("/api/v1/queues", json=queue, headers=alpha.headers)
    for method, path in [
        ("GET", f"/api/v1/queues/q/items/{huge}"),
        ("DELETE", f"/api/v1/users/root/keys/{huge}"),
        ("GET", f"/api/v1/rules/{huge}"),
    ]:
        headers = admin_headers if "users" in path else alpha.headers
        response = client.request(method, path, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert "out of range" in response.json()["detail"]
