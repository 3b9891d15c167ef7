"""Datasets over REST: create, add versions (201/200), import files, read pages,
export round trips, diff, errors and project isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import Project, Projects

CASES: list[dict[str, Any]] = [
    {"id": "greet", "input": "Hello!", "reference": "Hi!", "tags": ["golden"]},
    {"id": "refund", "input": "Refund please", "slices": {"lang": "en"}, "cluster": "c1"},
    {"input": [{"role": "user", "content": "Paket?"}], "slices": {"lang": "de"}},
]


def add(client: TestClient, project: Project, cases: list[dict[str, Any]], **kw: Any) -> Any:
    return client.post(
        "/api/v1/datasets/suite/versions", json={"cases": cases, **kw}, headers=project.headers
    )


def test_add_versions_then_read_them(client: TestClient, alpha: Project) -> None:
    first = add(client, alpha, CASES, message="seed")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["version"]["ref"] == "suite@1"
    assert body["dataset_created"] is True
    assert add(client, alpha, CASES).status_code == 200  # same content: no new version

    second = add(client, alpha, [{**CASES[0], "reference": "Hello there!"}], mode="append")
    assert second.status_code == 201
    assert second.json()["changed"] == ["greet"]

    listed = client.get("/api/v1/datasets", headers=alpha.headers).json()
    assert [(d["name"], [v["number"] for v in d["versions"]]) for d in listed] == [
        ("suite", [2, 1])
    ]
    page = client.get(
        "/api/v1/datasets/suite/versions/1", params={"offset": 1, "limit": 1}, headers=alpha.headers
    ).json()
    assert page["version"]["message"] == "seed"
    assert [c["id"] for c in page["cases"]] == ["refund"]
    assert page["cases"][0]["cluster"] == "c1"

    diff = client.get(
        "/api/v1/datasets/suite/diff", params={"a": "1"}, headers=alpha.headers
    ).json()
    assert (diff["a"]["number"], diff["b"]["number"]) == (1, 2)
    assert diff["changed"] == [{"id": "greet", "fields": ["reference"]}]
    assert diff["unchanged"] == 2


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_imports_back_as_the_same_version(
    client: TestClient, alpha: Project, fmt: str
) -> None:
    digest = add(client, alpha, CASES).json()["version"]["digest"]
    exported = client.get(
        "/api/v1/datasets/suite/versions/latest/export",
        params={"format": fmt},
        headers=alpha.headers,
    )
    assert exported.status_code == 200
    assert f'filename="suite-v1.{fmt}"' in exported.headers["content-disposition"]
    imported = client.post(
        "/api/v1/datasets/copy/import",
        params={"format": fmt, "filename": f"copy.{fmt}"},
        content=exported.content,
        headers=alpha.headers,
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["version"]["digest"] == digest
    assert imported.json()["version"]["source"] == f"copy.{fmt}"


def test_import_errors_name_the_line_and_store_nothing(client: TestClient, alpha: Project) -> None:
    body = '{"input": "ok"}\n{"id": 3}\n'
    response = client.post("/api/v1/datasets/suite/import", content=body, headers=alpha.headers)
    assert response.status_code == 400
    assert "body.jsonl line 2: every case needs an input field" in response.json()["detail"]
    assert client.get("/api/v1/datasets", headers=alpha.headers).json() == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"cases": [{"input": ""}]}, 422, "input is empty"),
        ({"cases": [{"input": "q", "extra": 1}]}, 422, "extra"),
        ({"cases": []}, 400, "no cases to add"),
        ({"cases": [{"id": "a", "input": "x"}, {"id": "a", "input": "y"}]}, 400, "unique"),
        ({"cases": [{"input": "x"}, {"input": "X"}], "on_duplicate": "error"}, 400, "repeats"),
        ({"cases": [{"input": "x"}], "mode": "merge"}, 422, "mode"),
    ],
)
def test_bad_versions_are_refused(
    client: TestClient, alpha: Project, body: dict[str, Any], status: int, message: str
) -> None:
    response = client.post("/api/v1/datasets/suite/versions", json=body, headers=alpha.headers)
    assert response.status_code == status
    assert message in json.dumps(response.json())


def test_create_get_and_not_found(client: TestClient, alpha: Project) -> None:
    created = client.post(
        "/api/v1/datasets", json={"name": "empty", "description": "later"}, headers=alpha.headers
    )
    assert created.status_code == 201
    assert created.json()["versions"] == []
    again = client.post("/api/v1/datasets", json={"name": "empty"}, headers=alpha.headers)
    assert again.status_code == 409
    bad = client.post("/api/v1/datasets", json={"name": "a@b"}, headers=alpha.headers)
    assert bad.status_code == 400
    assert client.get("/api/v1/datasets/empty", headers=alpha.headers).json()["description"] == (
        "later"
    )
    missing = client.get("/api/v1/datasets/empty/versions/1", headers=alpha.headers)
    assert missing.status_code == 404
    assert "no versions yet" in missing.json()["detail"]
    assert client.get("/api/v1/datasets/nope", headers=alpha.headers).status_code == 404


def test_datasets_are_per_project(client: TestClient, projects: Projects) -> None:
    assert add(client, projects.alpha, CASES).status_code == 201
    beta = projects.beta.headers
    assert client.get("/api/v1/datasets", headers=beta).json() == []
    assert client.get("/api/v1/datasets/suite", headers=beta).status_code == 404
    assert client.get("/api/v1/datasets/suite/versions/1/export", headers=beta).status_code == 404
    assert client.get("/api/v1/datasets").status_code == 401
