"""Online scorers over REST: create (spec as text or object, filters in both forms),
read, change, delete, backfill jobs, a trace's scores, errors, project isolation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from assay.signals.online import OnlineVerdict, store_verdicts
from assay.store import Store

from .conftest import MS, T0, Project, Projects, ask

SCORER: dict[str, Any] = {
    "name": "polite",
    "scorer": "regex:pattern=please,flags=i",
    "sample_rate": 0.5,
    "filters": ["model exists", {"field": "status", "op": "ne", "value": "error"}],
}
API = "/api/v1/online-scorers"


def test_scorer_crud(client: TestClient, alpha: Project) -> None:
    h = alpha.headers
    created = client.post(API, json=SCORER, headers=h)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["scorer"] == {"name": "regex", "args": {"flags": "i", "pattern": "please"}}
    assert [f["text"] for f in body["filters"]] == ["model exists", "status != error"]
    assert (body["sample_rate"], body["enabled"]) == (0.5, True)
    assert client.post(API, json=SCORER, headers=h).status_code == 409
    as_object = {"name": "judge.v2", "scorer": {"name": "regex", "args": {"pattern": "x"}}}
    assert client.post(API, json=as_object, headers=h).status_code == 201

    assert [s["name"] for s in client.get(API, headers=h).json()] == ["judge.v2", "polite"]
    assert client.get(f"{API}/{body['id']}", headers=h).json()["name"] == "polite"
    changed = client.patch(
        f"{API}/polite", json={"enabled": False, "filters": "cost > 0.01"}, headers=h
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False
    assert [f["text"] for f in changed.json()["filters"]] == ["cost > 0.01"]
    kept = client.patch(f"{API}/polite", json={"sample_rate": 1}, headers=h).json()
    assert ([f["text"] for f in kept["filters"]], kept["sample_rate"]) == (["cost > 0.01"], 1.0)
    cleared = client.patch(f"{API}/polite", json={"filters": None}, headers=h).json()
    assert cleared["filters"] == []
    assert client.patch(f"{API}/polite", json={"scorer": "exact"}, headers=h).status_code == 422

    assert client.delete(f"{API}/polite", headers=h).status_code == 204
    assert client.get(f"{API}/polite", headers=h).status_code == 404
    assert client.delete(f"{API}/polite", headers=h).status_code == 404


BAD_SCORERS: list[tuple[dict[str, Any], str]] = [
    ({"scorer": "nope"}, "nope"),
    ({"scorer": "regex"}, "pattern"),
    ({"name": "has space"}, "online scorer name"),
    ({"sample_rate": 2}, "sample_rate"),
    ({"filters": ["size > 1"]}, "unknown field 'size'"),
]


def test_bad_scorers_are_refused(client: TestClient, alpha: Project) -> None:
    for changes, message in BAD_SCORERS:
        response = client.post(API, json={**SCORER, **changes}, headers=alpha.headers)
        assert response.status_code == 400, (changes, response.text)
        assert message in response.json()["detail"], changes
    assert client.get(API, headers=alpha.headers).json() == []


def test_backfill_and_scores(client: TestClient, store: Store, projects: Projects) -> None:
    alpha = projects.alpha
    h = alpha.headers
    old = ask(client, alpha, "Could you please help?", start_ns=T0)
    new = ask(client, alpha, "Help now.", start_ns=T0 + 1000 * MS)
    scorer = client.post(API, json={"name": "polite", "scorer": "regex:pattern=please"}, headers=h)
    assert scorer.status_code == 201

    since = {"since": str(T0 + 500 * MS)}
    assert client.post(f"{API}/polite/backfill", json=since, headers=h).json() == {"jobs": 1}
    assert client.post(f"{API}/polite/backfill", json={}, headers=h).json() == {"jobs": 1}
    assert client.post(f"{API}/polite/backfill", json={}, headers=h).json() == {"jobs": 0}
    future = {"since": "2030-01-01T00:00:00Z", "limit": 5}
    assert client.post(f"{API}/polite/backfill", json=future, headers=h).json() == {"jobs": 0}
    bad = client.post(f"{API}/polite/backfill", json={"until": "yesterday"}, headers=h)
    assert bad.status_code == 400
    assert "until" in bad.json()["detail"]
    assert client.post(f"{API}/nope/backfill", json={}, headers=h).status_code == 404

    with store.write_session() as session:
        verdict = OnlineVerdict(value=1.0, passed=True, reason="matched")
        store_verdicts(session, alpha.id, scorer.json()["id"], {old: verdict})
    (score,) = client.get(f"/api/v1/traces/{old}/scores", headers=h).json()
    assert (score["scorer"], score["value"], score["passed"], score["reason"]) == (
        "polite",
        1.0,
        True,
        "matched",
    )
    assert client.get(f"/api/v1/traces/{new}/scores", headers=h).json() == []
    assert client.get(f"/api/v1/traces/{'ab' * 16}/scores", headers=h).status_code == 404
    assert client.get("/api/v1/traces/xyz/scores", headers=h).status_code == 400

    beta = projects.beta.headers
    assert client.get(API, headers=beta).json() == []
    assert client.get(f"{API}/polite", headers=beta).status_code == 404
    assert client.post(f"{API}/polite/backfill", json={}, headers=beta).status_code == 404
    assert client.get(f"/api/v1/traces/{old}/scores", headers=beta).status_code == 404


def test_a_project_key_cannot_make_the_worker_run_code_or_leak_the_judge_key(
    client: TestClient, alpha: Project
) -> None:
    refused = [
        ("python:function=os:system", "cannot be created over the REST API"),
        ("judge:model=m,base_url=https://evil.example/v1", "is not allowed"),
        ({"name": "judge", "args": {"model": "m", "base_url": 7}}, "is not allowed"),
        ("embedding:embedder=openai:text-embedding-3-small@https://evil.example/v1", "embedder"),
        ("embedding:embedder=sentence-transformers:all-mpnet-base-v2", "embedder"),
    ]
    for spec, message in refused:
        response = client.post(API, json={"name": "x", "scorer": spec}, headers=alpha.headers)
        assert response.status_code == 403, (spec, response.text)
        assert message in response.json()["detail"], spec
    assert client.get(API, headers=alpha.headers).json() == []
    allowed = [
        "judge:model=gpt-4o-mini",
        "judge:model=gpt-4o-mini,base_url=https://api.openai.com/v1/",
        "embedding",
    ]
    for i, spec in enumerate(allowed):
        response = client.post(API, json={"name": f"ok{i}", "scorer": spec}, headers=alpha.headers)
        assert response.status_code == 201, (spec, response.text)
