"""Review queues over REST: the whole loop (create, enqueue, label with user keys,
adjudicate, agreement, promote, export), bad input that changes nothing, and project
isolation."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assay.store import Store

from .conftest import MS, T0, Project, Projects, ask, person

QUEUE: dict[str, Any] = {
    "name": "answers",
    "instructions": "Is the answer right? Correct it when it is not.",
    "overlap": 3,
    "fields": [
        {"name": "verdict", "type": "categorical", "options": ["good", "bad"]},
        {"name": "fix", "type": "correction", "required": False},
    ],
}
QUESTIONS = [
    ("What is the capital of France?", "Paris."),
    ("What is the capital of Spain?", "Barcelona."),
    ("What is the capital of Italy?", "Rome."),
]
API = "/api/v1/queues/answers"


def traces(client: TestClient, project: Project) -> list[str]:
    return [
        ask(client, project, question, answer, start_ns=T0 + n * MS)
        for n, (question, answer) in enumerate(QUESTIONS)
    ]


def make_queue(client: TestClient, project: Project, **changes: Any) -> Any:
    response = client.post("/api/v1/queues", json={**QUEUE, **changes}, headers=project.headers)
    assert response.status_code == 201, response.text
    return response.json()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_the_review_loop(client: TestClient, store: Store, alpha: Project) -> None:
    t = traces(client, alpha)
    h = alpha.headers
    created = make_queue(client, alpha)
    assert [f["name"] for f in created["fields"]] == ["verdict", "fix"]
    assert created["fields"][1]["reference"] is True
    assert (created["overlap"], created["items"]) == (3, 0)

    # By id, then by filter: a trace enters a queue once.
    body = {"trace_ids": t[:2], "reason": "checked by hand"}
    assert ok(client.post(f"{API}/items", json=body, headers=h)) == {"added": 2, "already": 0}
    body = {"trace_ids": [t[0].upper()], "filter": {"q": "Italy"}, "limit": 5}
    assert ok(client.post(f"{API}/items", json=body, headers=h)) == {"added": 1, "already": 1}

    # Three annotators label the first two items through their user keys.
    people = {name: person(store, name) for name in ("ana", "bo", "cy")}
    adjudicator = person(store, "dee", "adjudicator")
    mine = f"/api/v1/projects/{alpha.name}/queues/answers"
    items: dict[str, int] = {}
    for name, headers in people.items():
        for n in range(2):
            claim = ok(client.post(f"{mine}/claim", headers=headers))
            assert claim["trace_id"] == t[n]
            assert claim["context"]["input"] == QUESTIONS[n][0]
            assert claim["context"]["output"] == QUESTIONS[n][1]
            assert [f["name"] for f in claim["fields"]] == ["verdict", "fix"]
            assert claim["instructions"].startswith("Is the answer right?")
            items[t[n]] = claim["item_id"]
            values: dict[str, Any] = {"verdict": "good"}
            if n == 1 and name == "cy":
                values = {"verdict": "bad", "fix": "Madrid."}
            label = {"values": values, "comment": f"{name} was here", "seconds": 12.5}
            stored = ok(
                client.post(
                    f"{mine}/items/{claim['item_id']}/annotation", json=label, headers=headers
                ),
                201,
            )
            assert (stored["item_id"], stored["replaced"]) == (claim["item_id"], False)
    queue = ok(client.get(API, headers=h))
    assert (queue["open"], queue["disputed"], queue["resolved"]) == (1, 1, 1)
    assert queue["annotations"] == 6

    # The disagreement goes to an adjudicator; an annotator may not settle it.
    disputed = items[t[1]]
    verdict = {"values": {"verdict": "bad", "fix": "Madrid."}, "reason": "Madrid is the capital"}
    refused = client.post(
        f"{mine}/items/{disputed}/adjudication", json=verdict, headers=people["ana"]
    )
    assert refused.status_code == 403
    assert "only adjudicators and admins" in refused.json()["detail"]
    assert client.get(f"{mine}/disputed", headers=people["ana"]).status_code == 403
    (pending,) = ok(client.get(f"{mine}/disputed", headers=adjudicator))
    assert pending["item"]["id"] == disputed
    assert [a["annotator"] for a in pending["annotations"]] == ["ana", "bo", "cy"]
    assert [a["values"]["verdict"] for a in pending["annotations"]] == ["good", "good", "bad"]
    settled = ok(
        client.post(f"{mine}/items/{disputed}/adjudication", json=verdict, headers=adjudicator)
    )
    assert (settled["status"], settled["resolution"]) == ("resolved", "adjudicated")
    assert settled["resolved_by"] == "dee"
    assert ok(client.get(f"{mine}/disputed", headers=adjudicator)) == []

    detail = ok(client.get(f"{API}/items/{disputed}", headers=h))
    assert detail["item"]["label"] == {"verdict": "bad", "fix": "Madrid."}
    assert detail["item"]["resolution_reason"] == "Madrid is the capital"
    assert [a["comment"] for a in detail["annotations"]] == [
        "ana was here",
        "bo was here",
        "cy was here",
    ]
    assert detail["context"]["trace_id"] == t[1]
    resolved = ok(client.get(f"{API}/items", params={"status": "resolved"}, headers=h))
    assert [i["trace_id"] for i in resolved["items"]] == t[:2]

    # Agreement: alpha with its interval, under the floor (one item of two disputed).
    report = ok(client.get(f"{API}/agreement", params={"resamples": 200, "seed": 1}, headers=h))
    assert (report["items"], report["annotations"], report["annotators"]) == (2, 6, 3)
    (field,) = report["fields"]
    assert field["field"] == "verdict"
    assert field["alpha"]["value"] == pytest.approx(0.0)
    assert field["pairable"] == 2
    assert len(field["pairs"]) == 3
    assert field["below_floor"] is True
    assert report["below_floor"] is True
    assert any("under the floor" in w for w in field["warnings"])
    trend = ok(
        client.get(
            f"{API}/agreement/over-time", params={"field": "verdict", "bucket": "day"}, headers=h
        )
    )
    assert [p["items"] for p in trend["periods"]] == [2]
    stats = ok(client.get(f"{API}/annotators", headers=h))
    assert [(s["annotator"], s["annotations"], s["agreement_with_final"]) for s in stats] == [
        ("ana", 2, 0.5),
        ("bo", 2, 0.5),
        ("cy", 2, 1.0),
    ]
    assert stats[0]["median_seconds"] == 12.5

    # The schema is fixed once labels exist.
    changed = client.patch(API, json={"fields": [QUEUE["fields"][0]]}, headers=h)
    assert changed.status_code == 409
    gold = ok(client.post(f"{API}/items/{items[t[0]]}/gold", headers=h))
    assert gold["gold"] == {"verdict": "good", "fix": None}

    # Promote: a dataset version whose cases name their traces.
    promoted = ok(
        client.post(f"{API}/promote", json={"dataset": "regressions", "message": "m"}, headers=h),
        201,
    )
    assert promoted["version"]["ref"] == "regressions@1"
    assert promoted["dataset_created"] is True
    assert sorted(promoted["added"]) == sorted(f"trace-{x}" for x in t[:2])
    version = ok(client.get("/api/v1/datasets/regressions/versions/1", headers=h))
    cases = {c["id"]: c for c in version["cases"]}
    spain = cases[f"trace-{t[1]}"]
    assert spain["input"] == QUESTIONS[1][0]
    assert spain["reference"] == "Madrid."
    assert spain["provenance"]["trace_id"] == t[1]
    assert spain["provenance"]["adjudicator"] == "dee"
    assert spain["provenance"]["annotators"] == ["ana", "bo", "cy"]
    again = ok(client.post(f"{API}/promote", json={"dataset": "regressions"}, headers=h))
    assert again["created"] is False
    assert sorted(again["unchanged"]) == sorted(promoted["added"])

    # Export: one JSON object per item; one CSV row per label.
    jsonl = client.get(f"{API}/export", params={"format": "jsonl"}, headers=h)
    assert jsonl.status_code == 200
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="answers.jsonl"' in jsonl.headers["content-disposition"]
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [r["trace_id"] for r in records] == t
    assert records[1]["agreement"] == "disputed"
    assert records[1]["adjudicator"] == "dee"
    exported = client.get(f"{API}/export", params={"format": "csv"}, headers=h)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 7  # six labels and the unlabelled item
    assert {r["value.verdict"] for r in rows if r["annotator"] == "cy"} == {"good", "bad"}


BAD_QUEUES: list[tuple[dict[str, Any], str]] = [
    ({"fields": [{"name": "v", "type": "stars"}]}, "stars"),
    ({"fields": [{"name": "v", "type": "categorical"}]}, "options"),
    ({"overlap": 0}, "overlap"),
    ({"name": "a/b"}, "queue name"),
]


def test_bad_queues_are_refused(client: TestClient, alpha: Project) -> None:
    for changes, message in BAD_QUEUES:
        response = client.post("/api/v1/queues", json={**QUEUE, **changes}, headers=alpha.headers)
        assert response.status_code == 400, (changes, response.text)
        assert message in response.json()["detail"], changes
    assert client.get("/api/v1/queues", headers=alpha.headers).json() == []


def test_bad_changes_change_nothing(client: TestClient, alpha: Project) -> None:
    t = traces(client, alpha)
    make_queue(client, alpha)
    h = alpha.headers
    assert client.post("/api/v1/queues", json=QUEUE, headers=h).status_code == 409
    changed = ok(client.patch(API, json={"overlap": 2, "instructions": "New."}, headers=h))
    assert (changed["overlap"], changed["instructions"]) == (2, "New.")
    bad = client.patch(API, json={"overlap": 1, "gold_rate": 1.5}, headers=h)
    assert bad.status_code == 400
    assert "gold_rate" in bad.json()["detail"]
    assert ok(client.get(API, headers=h))["overlap"] == 2

    unknown = client.post(f"{API}/items", json={"trace_ids": [t[0], "ab" * 16]}, headers=h)
    assert unknown.status_code == 400
    assert "ab" * 16 in unknown.json()["detail"]
    malformed = client.post(f"{API}/items", json={"trace_ids": ["xyz"]}, headers=h)
    assert malformed.status_code == 400
    assert "32 hex digits" in malformed.json()["detail"]
    empty = client.post(f"{API}/items", json={}, headers=h)
    assert empty.status_code == 400
    assert ok(client.get(API, headers=h))["items"] == 0

    ok(client.post(f"{API}/items", json={"trace_ids": [t[0]]}, headers=h))
    (item,) = ok(client.get(f"{API}/items", headers=h))["items"]
    assert client.post(f"{API}/items/{item['id']}/gold", headers=h).status_code == 409
    assert client.get(f"{API}/items/{item['id'] + 100}", headers=h).status_code == 404
    missing = client.get(f"{API}/agreement/over-time", params={"field": "nope"}, headers=h)
    assert missing.status_code == 400
    assert "unknown field 'nope'" in missing.json()["detail"]
    assert client.get(f"{API}/items", params={"status": "done"}, headers=h).status_code == 422


def test_queues_are_per_project(client: TestClient, projects: Projects) -> None:
    t = traces(client, projects.alpha)
    make_queue(client, projects.alpha)
    beta = projects.beta.headers
    assert client.get("/api/v1/queues", headers=beta).json() == []
    for path in ("", "/items", "/agreement", "/annotators", "/export"):
        response = client.get(API + path, headers=beta)
        assert response.status_code == 404, path
        assert "no review queue named 'answers'" in response.json()["detail"]
    response = client.post(f"{API}/items", json={"trace_ids": t[:1]}, headers=beta)
    assert response.status_code == 404
    # Beta's own queue cannot take alpha's traces either.
    make_queue(client, projects.beta)
    response = client.post(f"{API}/items", json={"trace_ids": t[:1]}, headers=beta)
    assert response.status_code == 400
    assert client.get("/api/v1/queues").status_code == 401
    assert client.get(API, headers=projects.alpha.headers).json()["items"] == 0
