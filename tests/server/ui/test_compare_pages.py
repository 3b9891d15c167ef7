"""The comparison page over HTTP: defaults, errors, options; and its number formats."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assay.projects import get_project
from assay.server.ui.compare_pages import ScoreCell, parse_resamples, score_cell
from assay.stats import pass_rate
from assay.store import Store

from .eval_seed import SUITE, add_suite, right, seed_runs, store_run
from .live import PROJECT


def test_compare_page_options_and_errors(signed_client: TestClient, store: Store) -> None:
    with store.session() as session:
        project_id = get_project(session, PROJECT).id
    add_suite(store, project_id)
    seed_runs(store, project_id)
    store_run(store, project_id, "legacy", f"{SUITE}@1", right)

    # No pair asked for: the newest run against the run before it on its version.
    form = signed_client.get("/p/demo/compare")
    assert form.status_code == 200
    assert '<option value="legacy" selected>' in form.text  # the newest run: candidate
    assert 'id="comparison-title"' not in form.text
    picked = signed_client.get("/p/demo/compare?candidate=candidate")
    assert '<option value="baseline" selected>' in picked.text

    versions = signed_client.get("/p/demo/compare?baseline=legacy&candidate=candidate")
    assert versions.status_code == 400
    assert "paired statistics need the same cases" in versions.text
    assert 'id="compare-form"' in versions.text
    common = signed_client.get("/p/demo/compare?baseline=legacy&candidate=candidate&common=1")
    assert common.status_code == 200
    assert "compared on the 39 cases both hold unchanged" in common.text  # case-02 changed

    # release:NAME finds that release's run; none passed a gate, so the page says so.
    by_release = signed_client.get(
        "/p/demo/compare?baseline=release:v1&candidate=candidate&resamples=500"
    )
    assert by_release.status_code == 200
    assert "candidate vs baseline" in by_release.text
    assert "no run of release &#39;v1&#39; has passed a gate yet" in by_release.text
    assert "from 500 resamples" in by_release.text
    assert '<option value="release:v1" selected>' in by_release.text

    resamples = signed_client.get(
        "/p/demo/compare?baseline=baseline&candidate=candidate&resamples=5"
    )
    assert resamples.status_code == 400
    assert "resamples: expected a whole number from 100 to 10,000" in resamples.text
    unknown = signed_client.get("/p/demo/compare?baseline=baseline&candidate=nope")
    assert unknown.status_code == 404
    assert "no run named &#39;nope&#39;" in unknown.text


def test_score_cells() -> None:
    assert score_cell(0.8123, None) == ScoreCell("0.812", "")
    some = score_cell(0.8, pass_rate(8, 10))
    assert some.value == "80.0%"
    assert some.note.startswith("[4")  # Wilson: [49.0%, 94.3%]
    perfect = score_cell(1.0, pass_rate(60, 60))
    assert perfect == ScoreCell("60/60 passed", "0 failures: failure rate < 5.0% (rule of three)")
    assert parse_resamples("") == 2000
    assert parse_resamples("10000") == 10_000
