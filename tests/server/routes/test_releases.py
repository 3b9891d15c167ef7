"""Releases over REST: register (201/200/409/400), get by any reference, list, diff."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import Project, Projects

V1: dict[str, Any] = {
    "name": "v1",
    "model": {"id": "gpt-4o-mini", "provider": "openai"},
    "generation": {"temperature": 0.2},
    "prompts": {"system": "You are terse.\nAnswer in one line."},
}
V2: dict[str, Any] = {
    "name": "team/v2",
    "model": {"id": "gpt-4o-mini", "provider": "openai"},
    "generation": {"temperature": 0.7},
    "prompts": {"system": "You are terse.\nAnswer in two lines."},
    "tools": [{"name": "search", "parameters": {"type": "object"}}],
}


def register(client: TestClient, project: Project, manifest: dict[str, Any]) -> Any:
    return client.post("/api/v1/releases", json=manifest, headers=project.headers)


def test_register_is_201_then_200(client: TestClient, alpha: Project) -> None:
    first = register(client, alpha, V1)
    assert first.status_code == 201
    body = first.json()
    assert body["name"] == "v1"
    assert len(body["fingerprint"]) == 64
    assert body["created"] is True
    again = register(client, alpha, V1)
    assert again.status_code == 200
    assert again.json() == {**body, "created": False}


@pytest.mark.parametrize(
    ("manifest", "status", "message"),
    [
        ({**V1, "generation": {"temperature": 0.9}}, 409, "different behaviour"),
        ({**V1, "name": "v1-copy"}, 409, "same behaviour"),
        ({**V1, "name": "v3", "model": {"id": 5}}, 400, "model.id"),
        ({**V1, "name": "v3", "promts": {}}, 400, "promts"),
        ({"model": {"id": "x"}}, 400, "name"),
        ({"name": "empty"}, 400, "describes no behaviour"),
    ],
)
def test_register_refusals_store_nothing(
    client: TestClient,
    alpha: Project,
    manifest: dict[str, Any],
    status: int,
    message: str,
) -> None:
    register(client, alpha, V1)
    response = register(client, alpha, manifest)
    assert response.status_code == status
    assert message in response.json()["detail"]
    listed = client.get("/api/v1/releases", headers=alpha.headers).json()
    assert [r["name"] for r in listed] == ["v1"]


def test_register_needs_a_json_object(client: TestClient, alpha: Project) -> None:
    response = client.post("/api/v1/releases", json=[V1], headers=alpha.headers)
    assert response.status_code == 422
    response = client.post(
        "/api/v1/releases",
        content=b"{not json",
        headers={**alpha.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422


def test_get_by_name_fingerprint_or_prefix_and_list(client: TestClient, alpha: Project) -> None:
    v1 = register(client, alpha, V1).json()
    v2 = register(client, alpha, V2).json()
    for ref in ("v1", v1["fingerprint"], v1["fingerprint"][:10].upper()):
        response = client.get(f"/api/v1/releases/{ref}", headers=alpha.headers)
        assert response.status_code == 200, ref
        body = response.json()
        assert (body["name"], body["fingerprint"]) == ("v1", v1["fingerprint"])
        assert body["manifest"]["generation"] == {"temperature": 0.2}
    slashed = client.get("/api/v1/releases/team/v2", headers=alpha.headers)
    assert slashed.json()["fingerprint"] == v2["fingerprint"]

    listed = client.get("/api/v1/releases", headers=alpha.headers).json()
    assert [r["name"] for r in listed] == ["team/v2", "v1"]
    assert "manifest" not in listed[0]

    missing = client.get("/api/v1/releases/v9", headers=alpha.headers)
    assert missing.status_code == 404
    short = client.get(f"/api/v1/releases/{v1['fingerprint'][:4]}", headers=alpha.headers)
    assert short.status_code == 404
    assert "at least 8" in short.json()["detail"]


def test_diff(client: TestClient, alpha: Project) -> None:
    register(client, alpha, V1)
    register(client, alpha, V2)
    response = client.get("/api/v1/releases/v1/diff/team/v2", headers=alpha.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["a"]["name"], body["b"]["name"], body["identical"]) == ("v1", "team/v2", False)
    changes = {c["path"]: c for c in body["changes"]}
    assert set(changes) == {"generation.temperature", "prompts.system", "tools"}
    temperature = changes["generation.temperature"]
    assert (temperature["kind"], temperature["old"], temperature["new"]) == ("changed", 0.2, 0.7)
    assert temperature["summary"] == "~ generation.temperature: 0.2 -> 0.7"
    assert temperature["text_diff"] is None
    assert "+Answer in two lines." in changes["prompts.system"]["text_diff"]
    assert changes["tools"]["kind"] == "added"

    same = client.get("/api/v1/releases/v1/diff/v1", headers=alpha.headers).json()
    assert (same["identical"], same["changes"]) == (True, [])
    unknown = client.get("/api/v1/releases/v1/diff/nope", headers=alpha.headers)
    assert unknown.status_code == 404


def test_releases_are_per_project(client: TestClient, projects: Projects) -> None:
    v1 = register(client, projects.beta, V1).json()
    alpha = projects.alpha
    assert client.get("/api/v1/releases", headers=alpha.headers).json() == []
    for ref in ("v1", v1["fingerprint"]):
        assert client.get(f"/api/v1/releases/{ref}", headers=alpha.headers).status_code == 404
    assert client.get("/api/v1/releases/v1/diff/v1", headers=alpha.headers).status_code == 404
    # Registering the same manifest in alpha is a new release there, not a conflict.
    assert register(client, alpha, V1).status_code == 201


def test_release_routes_need_a_key(client: TestClient, projects: Projects) -> None:
    assert client.get("/api/v1/releases").status_code == 401
    assert client.post("/api/v1/releases", json=V1).status_code == 401
