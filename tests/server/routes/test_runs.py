"""Runs and comparisons over REST: the JSON twins of the runs and comparison pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from _runs import Lab
from assay.datasets import CaseSpec
from assay.store import Store

from .conftest import Project, Projects

CASES = [
    CaseSpec(id=f"c{i:02d}", input=f"q{i}", slices={"lang": "en" if i % 2 else "de"})
    for i in range(40)
]


@pytest.fixture
def runs(store: Store, projects: Projects) -> Lab:
    lab = Lab(store, projects.alpha.id)
    ref = lab.dataset(CASES)
    lab.run("base", ref, lambda c: 1.0)
    lab.run("cand", ref, lambda c: 0.0 if int((c.id or "c0")[1:]) < 10 else 1.0)
    return lab


def test_runs_and_results(client: TestClient, alpha: Project, runs: Lab) -> None:
    listed = client.get("/api/v1/runs", headers=alpha.headers).json()
    assert [r["name"] for r in listed] == ["cand", "base"]
    assert listed[0]["summary"]["scorers"]["exact"]["failed"] == 10
    page = client.get(
        "/api/v1/runs/cand", params={"offset": 5, "limit": 3}, headers=alpha.headers
    ).json()
    assert (page["total"], page["offset"]) == (40, 5)
    assert [r["case_id"] for r in page["results"]] == ["c05", "c06", "c07"]
    assert page["results"][0]["scores"]["exact"]["passed"] is False
    assert client.get("/api/v1/runs/nope", headers=alpha.headers).status_code == 404


def test_compare(client: TestClient, alpha: Project, runs: Lab) -> None:
    response = client.get(
        "/api/v1/compare",
        params={"baseline": "base", "candidate": "cand", "resamples": 500},
        headers=alpha.headers,
    )
    assert response.status_code == 200, response.text
    exact = response.json()["scorers"][0]
    assert exact["overall"]["delta"] == pytest.approx(-0.25)
    assert exact["regressed_count"] == 10
    assert {s["value"] for s in exact["slices"]} == {"de", "en"}


def test_runs_are_per_project(client: TestClient, projects: Projects, runs: Lab) -> None:
    beta = projects.beta.headers
    assert client.get("/api/v1/runs", headers=beta).json() == []
    assert client.get("/api/v1/runs/base", headers=beta).status_code == 404
    compared = client.get(
        "/api/v1/compare", params={"baseline": "base", "candidate": "cand"}, headers=beta
    )
    assert compared.status_code == 404
