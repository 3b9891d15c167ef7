"""Routing rules over REST: create with conditions in both forms, read, change,
delete, hits after routing, errors that change nothing, project isolation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from assay.signals import route
from assay.store import Store

from .conftest import Project, Projects, ask

RULE: dict[str, Any] = {
    "name": "negative-feedback",
    "queue": "triage",
    "conditions": [
        "feedback.thumbs <= 0",
        {"field": "slice.locale", "op": "in", "value": ["de", "fr"]},
        {"field": "feedback.correction", "op": "missing"},
    ],
    "description": "Thumbs down from German and French users.",
}


@pytest.fixture
def triage(client: TestClient, alpha: Project) -> None:
    """Queue ``triage`` in project alpha."""
    queue = {"name": "triage", "fields": [{"name": "ok", "type": "boolean"}]}
    assert client.post("/api/v1/queues", json=queue, headers=alpha.headers).status_code == 201


def test_rule_crud(client: TestClient, alpha: Project, triage: None) -> None:
    h = alpha.headers
    created = client.post("/api/v1/rules", json=RULE, headers=h)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["queue"] == "triage"
    assert [c["text"] for c in rule["conditions"]] == [
        "feedback.thumbs <= 0",
        "slice.locale in de,fr",
        "feedback.correction missing",
    ]
    assert rule["conditions"][0] == {
        "field": "feedback.thumbs",
        "op": "le",
        "value": 0,
        "text": "feedback.thumbs <= 0",
    }
    assert (rule["sample_rate"], rule["enabled"], rule["matches"]) == (1.0, True, 0)
    assert client.post("/api/v1/rules", json=RULE, headers=h).status_code == 409

    assert [r["name"] for r in client.get("/api/v1/rules", headers=h).json()] == [RULE["name"]]
    assert client.get(f"/api/v1/rules/{rule['id']}", headers=h).json()["name"] == RULE["name"]
    changed = client.patch(
        f"/api/v1/rules/{RULE['name']}",
        json={"conditions": "status == error", "sample_rate": 0.2, "enabled": False},
        headers=h,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert [c["text"] for c in body["conditions"]] == ["status == error"]
    assert (body["sample_rate"], body["enabled"]) == (0.2, False)
    kept = client.patch(f"/api/v1/rules/{RULE['name']}", json={"description": "x"}, headers=h)
    assert [c["text"] for c in kept.json()["conditions"]] == ["status == error"]
    cleared = client.patch(f"/api/v1/rules/{RULE['name']}", json={"conditions": None}, headers=h)
    assert cleared.json()["conditions"] == []

    assert client.delete(f"/api/v1/rules/{RULE['name']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/rules/{RULE['name']}", headers=h).status_code == 404
    assert client.delete(f"/api/v1/rules/{RULE['name']}", headers=h).status_code == 404


BAD_RULES: list[tuple[dict[str, Any], int, str]] = [
    ({"conditions": ["size > 1"]}, 400, "unknown field 'size'"),
    ({"conditions": ["status == broken"]}, 400, "broken"),
    ({"conditions": [{"field": "status", "op": "near", "value": "ok"}]}, 400, "near"),
    ({"conditions": [{"field": "status"}]}, 422, "op"),
    ({"sample_rate": 0}, 400, "sample_rate"),
    ({"queue": "nope"}, 404, "review queue 'nope'"),
    ({"name": ""}, 400, "rule name"),
]


def test_bad_rules_are_refused(client: TestClient, alpha: Project, triage: None) -> None:
    for changes, status, message in BAD_RULES:
        response = client.post("/api/v1/rules", json={**RULE, **changes}, headers=alpha.headers)
        assert response.status_code == status, (changes, response.text)
        assert message in str(response.json()["detail"]), changes
    assert client.get("/api/v1/rules", headers=alpha.headers).json() == []


def test_hits_after_routing(
    client: TestClient, store: Store, projects: Projects, triage: None
) -> None:
    alpha = projects.alpha
    h = alpha.headers
    rule = {**RULE, "conditions": ["feedback.thumbs <= 0"]}
    assert client.post("/api/v1/rules", json=rule, headers=h).status_code == 201
    sad = ask(client, alpha, "Where is my parcel?")
    happy = ask(client, alpha, "Hello?")
    for trace_id, thumbs in ((sad, False), (happy, True)):
        feedback = {"trace_id": trace_id, "name": "thumbs", "value": thumbs}
        assert client.post("/api/v1/feedback", json=feedback, headers=h).status_code == 201
    with store.write_session() as session:
        route(session, alpha.id, [sad, happy])

    (hits,) = client.get("/api/v1/rules/hits", params={"days": 3}, headers=h).json()
    assert (hits["name"], hits["queue"], hits["matches"], hits["enqueued"]) == (
        RULE["name"],
        "triage",
        1,
        1,
    )
    assert hits["last_match_at"] is not None
    assert [d["matches"] for d in hits["per_day"]] == [0, 0, 1]
    (item,) = client.get("/api/v1/queues/triage/items", headers=h).json()["items"]
    assert (item["trace_id"], item["source"]) == (sad, "rule")
    assert client.get("/api/v1/rules/hits", params={"days": 0}, headers=h).status_code == 422

    beta = projects.beta.headers
    assert client.get("/api/v1/rules", headers=beta).json() == []
    assert client.get("/api/v1/rules/hits", headers=beta).json() == []
    assert client.get(f"/api/v1/rules/{RULE['name']}", headers=beta).status_code == 404
    assert client.delete(f"/api/v1/rules/{RULE['name']}", headers=beta).status_code == 404
    # Beta cannot point a rule at alpha's queue.
    assert client.post("/api/v1/rules", json=rule, headers=beta).status_code == 404
