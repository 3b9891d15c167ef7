"""Labelling over REST with user keys: claims (resumed, 204 when nothing is left),
labels checked against the schema, skips, roles, and the credentials refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from assay.store import Store

from .conftest import MS, T0, Project, ask, person

QUEUE: dict[str, Any] = {
    "name": "triage",
    "overlap": 1,
    "fields": [
        {"name": "verdict", "type": "categorical", "options": ["good", "bad"]},
        {"name": "score", "type": "ordinal", "scale": 5, "required": False},
    ],
}


@pytest.fixture
def triage(client: TestClient, alpha: Project) -> list[str]:
    """Queue ``triage`` (overlap 1) holding two traces of project alpha."""
    created = client.post("/api/v1/queues", json=QUEUE, headers=alpha.headers)
    assert created.status_code == 201, created.text
    traces = [ask(client, alpha, f"Question {n}?", start_ns=T0 + n * MS) for n in range(2)]
    added = client.post(
        "/api/v1/queues/triage/items", json={"trace_ids": traces}, headers=alpha.headers
    )
    assert added.json() == {"added": 2, "already": 0}
    return traces


def path(project: Project, rest: str = "") -> str:
    return f"/api/v1/projects/{project.name}/queues/triage{rest}"


def annotations(client: TestClient, project: Project) -> int:
    queue = client.get("/api/v1/queues/triage", headers=project.headers).json()
    return int(queue["annotations"])


def test_claim_label_skip_until_nothing_is_left(
    client: TestClient, store: Store, alpha: Project, triage: list[str]
) -> None:
    ana = person(store, "ana")
    first = client.post(path(alpha, "/claim"), headers=ana)
    assert first.status_code == 200, first.text
    claim = first.json()
    assert (claim["trace_id"], claim["resumed"], claim["source"]) == (triage[0], False, "manual")
    assert claim["progress"] == {"done": 0, "remaining": 2}
    assert "gold" not in claim
    again = client.post(path(alpha, "/claim"), headers=ana).json()
    assert (again["item_id"], again["resumed"]) == (claim["item_id"], True)

    item = path(alpha, f"/items/{claim['item_id']}")
    for values, message in [
        ({"verdict": "fine"}, "'fine'"),
        ({"verdict": "good", "stars": 5}, "stars"),
        ({"score": 3}, "verdict"),
        ({"verdict": "good", "score": 9}, "score"),
    ]:
        refused = client.post(f"{item}/annotation", json={"values": values}, headers=ana)
        assert refused.status_code == 400, (values, refused.text)
        assert message in refused.json()["detail"]
    assert annotations(client, alpha) == 0

    label = {"values": {"verdict": "good", "score": 4}, "seconds": 3}
    stored = client.post(f"{item}/annotation", json=label, headers=ana)
    assert stored.status_code == 201, stored.text
    assert stored.json()["progress"] == {"done": 1, "remaining": 1}
    # Overlap 1: the label resolved the item, so it can no longer change.
    assert client.post(f"{item}/annotation", json=label, headers=ana).status_code == 409

    second = client.post(path(alpha, "/claim"), headers=ana).json()
    skip = path(alpha, f"/items/{second['item_id']}/skip")
    assert client.post(skip, json={}, headers=ana).status_code == 422
    blank = client.post(skip, json={"reason": "  "}, headers=ana)
    assert blank.status_code == 400
    assert "reason" in blank.json()["detail"]
    skipped = client.post(skip, json={"reason": "not my language"}, headers=ana)
    assert skipped.status_code == 200, skipped.text
    assert client.post(path(alpha, "/claim"), headers=ana).status_code == 204

    # Someone else still gets the skipped item; labelling without a claim is refused.
    bo = person(store, "bo")
    unclaimed = client.post(
        path(alpha, f"/items/{second['item_id']}/annotation"),
        json={"values": {"verdict": "bad"}},
        headers=bo,
    )
    assert unclaimed.status_code == 409
    assert "claim it first" in unclaimed.json()["detail"]
    assert client.post(path(alpha, "/claim"), headers=bo).json()["item_id"] == second["item_id"]


def test_credentials_roles_and_not_found(
    client: TestClient, store: Store, alpha: Project, triage: list[str]
) -> None:
    claim = path(alpha, "/claim")
    for headers in ({}, alpha.headers, {"Authorization": "Bearer uk_not-a-key"}):
        refused = client.post(claim, headers=headers)
        assert refused.status_code == 401
    message = client.post(claim, headers=alpha.headers).json()["detail"]
    assert "this endpoint acts as a person" in message
    assert "assay user key create USERNAME" in message
    # A user key is not a project key either.
    ana = person(store, "ana")
    assert client.get("/api/v1/queues", headers=ana).status_code == 401

    assert client.post("/api/v1/projects/nope/queues/triage/claim", headers=ana).status_code == 404
    missing = client.post(f"/api/v1/projects/{alpha.name}/queues/nope/claim", headers=ana)
    assert missing.status_code == 404
    assert "no review queue named 'nope'" in missing.json()["detail"]
    by_id = client.post(f"/api/v1/projects/{alpha.id}/queues/triage/claim", headers=ana)
    assert by_id.status_code == 200
    gone = client.post(path(alpha, "/items/999/skip"), json={"reason": "x"}, headers=ana)
    assert gone.status_code == 404

    item = by_id.json()["item_id"]
    verdict = {"values": {"verdict": "bad"}, "reason": "wrong"}
    assert client.get(path(alpha, "/disputed"), headers=ana).status_code == 403
    forbidden = client.post(path(alpha, f"/items/{item}/adjudication"), json=verdict, headers=ana)
    assert forbidden.status_code == 403
    admin = person(store, "root", "admin")
    assert client.get(path(alpha, "/disputed"), headers=admin).json() == []
    # Adjudication settles labels that exist; a reason is required.
    early = client.post(path(alpha, f"/items/{item}/adjudication"), json=verdict, headers=admin)
    assert early.status_code == 409
    no_reason = client.post(
        path(alpha, f"/items/{item}/adjudication"),
        json={"values": {"verdict": "bad"}, "reason": ""},
        headers=admin,
    )
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["detail"]
    assert annotations(client, alpha) == 0
