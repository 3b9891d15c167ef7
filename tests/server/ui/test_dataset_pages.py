"""Dataset pages over HTTP: list, versions and cases, escaping, and errors."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assay.datasets import CaseSpec, add_version, create_dataset
from assay.projects import create_project, get_project
from assay.server.ui import dataset_pages
from assay.store import Store

from .eval_seed import SOURCE_TRACE, SUITE, add_suite
from .live import PROJECT

SCRIPT = "<script>alert('pwned')</script>"


def test_dataset_pages(
    signed_client: TestClient, ui_app: FastAPI, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.write_session() as session:
        project_id = get_project(session, PROJECT).id
        create_dataset(session, project_id, "drafts", description="not imported yet")
        add_version(session, project_id, "escaped", [CaseSpec(input=SCRIPT, reference=SCRIPT)])
        other = create_project(session, "other")
        add_version(session, other.id, "secret-suite", [CaseSpec(input="hidden question")])
    add_suite(store, project_id)

    listing = signed_client.get("/p/demo/datasets")
    assert listing.status_code == 200
    assert listing.text.count("<tr data-dataset=") == 3
    assert "secret-suite" not in listing.text
    assert 'href="/p/demo/datasets/support-suite?version=2">v2</a>' in listing.text

    page = signed_client.get(f"/p/demo/datasets/{SUITE}?page=2")
    assert page.status_code == 200
    assert page.text.count("<tr data-case-id=") == 10
    assert "cases 51–60 of 60" in page.text
    first = signed_client.get(f"/p/demo/datasets/{SUITE}?version=1&page=not-a-number")
    assert first.text.count("<tr data-case-id=") == 40  # a malformed page is page 1
    assert f'href="/p/demo/traces/{SOURCE_TRACE}"' in first.text
    assert 'id="changes"' not in first.text  # v1 has no previous version
    changed = 'summary>Changes from v1: <span class="change-added">+20 added</span>'
    assert changed in page.text
    monkeypatch.setattr(dataset_pages, "DIFF_MAX_CASES", 50)
    large = signed_client.get(f"/p/demo/datasets/{SUITE}")
    assert "assay dataset diff support-suite@1 support-suite@2 --project demo" in large.text

    escaped = signed_client.get("/p/demo/datasets/escaped")
    assert SCRIPT not in escaped.text
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in escaped.text

    drafts = signed_client.get("/p/demo/datasets/drafts")
    assert drafts.status_code == 200
    assert "No versions yet" in drafts.text
    assert "assay dataset import cases.jsonl --name drafts --project demo" in drafts.text

    missing = {
        f"/p/demo/datasets/{SUITE}?version=7": "has no version 7 (it has 1 to 2)",
        "/p/demo/datasets/secret-suite": "no dataset named &#39;secret-suite&#39;",
        "/p/nope/datasets": "project &#39;nope&#39; does not exist",
    }
    for url, message in missing.items():
        response = signed_client.get(url)
        assert response.status_code == 404, url
        assert message in response.text

    with TestClient(ui_app, follow_redirects=False) as anonymous:
        for url in ("/p/demo/datasets", "/p/demo/runs/x", "/p/demo/compare?candidate=b"):
            response = anonymous.get(url)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")
