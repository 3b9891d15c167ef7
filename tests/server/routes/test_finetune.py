"""REST API: /api/v1/finetune/export, through real ingest and feedback routes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assay.datasets import CaseSpec, add_version
from assay.store import Store
from assay.testing.otlp import genai_llm_span

from .conftest import Project, Projects, send


def correct(client: TestClient, project: Project, trace_id: str, answer: str) -> None:
    response = client.post(
        "/api/v1/feedback",
        json={"trace_id": trace_id, "name": "correction", "value": answer},
        headers=project.headers,
    )
    assert response.status_code == 201, response.text


def test_export_excludes_eval_questions_and_stays_in_the_project(
    client: TestClient, store: Store, projects: Projects
) -> None:
    alpha, beta = projects.alpha, projects.beta
    kept = send(client, alpha, [genai_llm_span(prompt="Do you ship to Norway?")])
    leaked = send(client, alpha, [genai_llm_span(prompt="How do I reset my password?")])
    correct(client, alpha, kept, "Yes, in 3-5 days.")
    correct(client, alpha, leaked, "Use the reset link.")
    with store.write_session() as session:
        add_version(
            session, alpha.id, "golden", [CaseSpec(id="g1", input="How do I reset my password?")]
        )
    response = client.get(
        "/api/v1/finetune/export", params={"near_duplicates": False}, headers=alpha.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["corrections"] == 2
    assert body["threshold"] is None
    assert [e["trace_id"] for e in body["excluded"]] == [leaked]
    assert body["excluded"][0]["kind"] == "exact"
    assert body["records"] == [
        {
            "messages": [
                {"role": "user", "content": "Do you ship to Norway?"},
                {"role": "assistant", "content": "Yes, in 3-5 days."},
            ]
        }
    ]
    generic = client.get(
        "/api/v1/finetune/export",
        params={"near_duplicates": False, "format": "generic"},
        headers=alpha.headers,
    ).json()
    assert generic["records"][0]["trace_id"] == kept
    other = client.get(
        "/api/v1/finetune/export", params={"near_duplicates": False}, headers=beta.headers
    ).json()
    assert other["records"] == []
    assert other["corrections"] == 0


def test_bad_parameters_are_422s_naming_the_parameter(client: TestClient, alpha: Project) -> None:
    for name, value in (("format", "csv"), ("threshold", "0.1"), ("feedback", "")):
        response = client.get(
            "/api/v1/finetune/export", params={name: value}, headers=alpha.headers
        )
        assert response.status_code == 422, name
        assert name in response.text
    assert client.get("/api/v1/finetune/export").status_code == 401
