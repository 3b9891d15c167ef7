"""Run pages over HTTP: the list, its dataset filter, odd names, and bad filters."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assay.projects import get_project
from assay.store import Store

from .eval_seed import SUITE, add_suite, right, seed_runs, store_run
from .live import PROJECT


def seeded(store: Store) -> int:
    with store.session() as session:
        project_id = get_project(session, PROJECT).id
    add_suite(store, project_id)
    seed_runs(store, project_id)
    store_run(store, project_id, "nightly/42", f"{SUITE}@1", right)
    return project_id


def test_run_pages(signed_client: TestClient, store: Store) -> None:
    seeded(store)
    listing = signed_client.get("/p/demo/runs")
    assert listing.text.count("<tr data-run=") == 3
    # Each run offers the run before it on the same version as its baseline.
    assert 'href="/p/demo/compare?baseline=baseline&amp;candidate=candidate"' in listing.text
    assert 'href="/p/demo/compare?candidate=nightly%2F42"' in listing.text
    on_v1 = signed_client.get(f"/p/demo/runs?dataset={SUITE}@1")
    assert on_v1.text.count("<tr data-run=") == 1
    assert signed_client.get(f"/p/demo/runs?dataset={SUITE}").text.count("<tr data-run=") == 3
    none = signed_client.get("/p/demo/runs?dataset=other@1")
    assert 'id="no-results"' in none.text

    slashed = signed_client.get("/p/demo/runs/nightly%2F42")
    assert slashed.status_code == 200
    assert slashed.text.count("<tr data-case-id=") == 40
    assert 'id="no-siblings"' in slashed.text  # the only run on v1
    candidate = signed_client.get("/p/demo/runs/candidate")
    assert '<option value="baseline" selected>baseline (v1)</option>' in candidate.text

    bad = signed_client.get("/p/demo/runs/candidate?verdict=maybe&q=keep+me")
    assert bad.status_code == 400
    assert "verdict: expected one of pass, fail, error" in bad.text
    assert 'value="keep me"' in bad.text
    scorer = signed_client.get("/p/demo/runs/candidate?scorer=regex&verdict=fail")
    assert scorer.status_code == 400
    assert "this run has no scorer &#39;regex&#39; (it has: exact, embedding)" in scorer.text
    assert signed_client.get("/p/demo/runs/nope").status_code == 404
