"""Dataset, run and comparison pages in a real headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.datasets import CaseSpec, add_version
from assay.projects import create_project
from assay.testing.otlp import hex_id, trace_with_children

from .eval_seed import ERRORED, LONG_TAIL, REGRESSED, SUITE, WRONG, add_suite, right, seed_runs
from .live import PROJECT, LiveServer, running_server

pytestmark = pytest.mark.browser

BASE = f"/p/{PROJECT}"


@pytest.fixture(scope="module")
def eval_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose project holds the suite, its runs, and the trace a case came from;
    another project with a dataset of its own, and one with nothing."""
    # The comparison page imports SciPy on first use, which takes seconds on a busy
    # machine; importing it here keeps that out of a page load's time limit.
    import assay.comparisons  # noqa: F401

    folder: Path = tmp_path_factory.mktemp("ui-eval")
    with running_server(f"sqlite:///{folder / 'assay.db'}") as server:
        spans = trace_with_children(1, root_name="parcel_question", root_input="Where is parcel 1?")
        server.post_spans(spans)
        add_suite(server.store, server.project_id, trace_id=hex_id(spans[0].trace_id))
        seed_runs(server.store, server.project_id)
        with server.store.write_session() as session:
            other = create_project(session, "other")
            add_version(session, other.id, "secret-suite", [CaseSpec(input="hidden question")])
            create_project(session, "empty")
        yield server


@pytest.fixture
def tab(page: Any, eval_server: LiveServer) -> Any:
    """A signed-in page on the evaluation server."""
    page.context.add_cookies([eval_server.session_cookie()])
    return page


def case_ids(page: Any, table: str) -> list[str]:
    """The ``data-case-id`` of each row of a table, top to bottom."""
    ids: list[str] = page.eval_on_selector_all(
        f"{table} tbody tr", "rows => rows.map(r => r.dataset.caseId)"
    )
    return ids


def submit_filters(page: Any, expect: str) -> None:
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(expect))


def test_datasets_and_a_dataset_page(tab: Any, eval_server: LiveServer) -> None:
    tab.goto(eval_server.url(f"{BASE}/traces"))
    tab.click(".mainnav >> text=Datasets")
    tab.wait_for_url(re.compile(r"/datasets$"))
    row = tab.locator(f'#datasets tr[data-dataset="{SUITE}"]')
    cells = row.locator("td").all_inner_texts()
    assert cells[2].startswith("v2")
    assert cells[3:5] == ["60", "2"]
    assert cells[6] == "2"  # runs
    # Another project's dataset is not listed.
    assert tab.locator("#datasets tbody tr").count() == 1
    assert "secret-suite" not in tab.locator("main").inner_text()

    row.locator("a.dataset-link").click()
    tab.wait_for_url(re.compile(rf"/datasets/{SUITE}$"))
    assert tab.locator("#selected-version").inner_text() == "v2"
    versions = tab.locator("#versions tbody tr")
    assert versions.count() == 2
    assert "20 German cases from review" in versions.nth(0).inner_text()
    assert "changed" in tab.locator("#changes summary").inner_text()
    assert "+20 added" in tab.locator("#changes summary").inner_text()
    assert case_ids(tab, "#cases") == [f"case-{i:02d}" for i in range(50)]
    # A long input is cut; its row expands to the full text.
    long_input = tab.locator('tr[data-case-id="case-05"] td.case-input')
    assert LONG_TAIL.strip() not in long_input.inner_text()
    long_input.locator("summary").click()
    assert LONG_TAIL.strip() in long_input.locator("pre").inner_text()
    chat = tab.locator('tr[data-case-id="case-03"] td.case-input')
    assert chat.inner_text().startswith("Be brief. Where is parcel 3?")
    assert "golden" in tab.locator('tr[data-case-id="case-10"]').inner_text()

    tab.click("#next-page")
    tab.wait_for_url(re.compile(r"page=2"))
    assert case_ids(tab, "#cases") == [f"case-{i:02d}" for i in range(50, 60)]
    tab.click('#versions tr[data-version="1"] a')
    tab.wait_for_url(re.compile(r"version=1$"))
    assert tab.locator("#selected-version").inner_text() == "v1"
    assert tab.locator('tr[data-case-id="case-02"] td.case-reference').inner_text() == (
        "Parcel 2 ships soon."
    )
    # The case promoted from a trace links to it.
    tab.click('tr[data-case-id="case-01"] a.trace-link')
    tab.wait_for_selector("#trace-name")
    assert tab.locator("#trace-name").inner_text() == "parcel_question"

    tab.goto(eval_server.url(f"{BASE}/datasets/secret-suite"))
    assert "no dataset named 'secret-suite'" in tab.locator("main").inner_text()


def test_runs_and_a_run_page_with_filters(tab: Any, eval_server: LiveServer) -> None:
    tab.goto(eval_server.url(f"{BASE}/runs"))
    assert tab.locator("#runs tbody tr").count() == 2
    candidate = tab.locator('#runs tr[data-run="candidate"]')
    scores = candidate.locator("td.scores").inner_text()
    assert "exact 83.1% pass (49/59)" in scores  # 10 failed; the errored case is unscored
    assert "embedding mean 0.842" in scores
    assert "exact 60/60 passed" in tab.locator('#runs tr[data-run="baseline"]').inner_text()
    candidate.locator("a.run-link").click()
    tab.wait_for_url(re.compile(r"/runs/candidate$"))
    assert tab.locator("#run-release").inner_text() == "v2"
    assert tab.locator("#run-dataset").inner_text() == f"{SUITE}@2"
    assert tab.locator("#result-count").inner_text().startswith("1–50 of 60")

    tab.check("#f-failed")
    submit_filters(tab, r"failed=1")
    assert case_ids(tab, "#results") == sorted([*REGRESSED, ERRORED])
    errored = tab.locator(f'#results tr[data-case-id="{ERRORED}"]')
    assert "timeout after 60 s" in errored.locator("td.error-cell").inner_text()
    assert errored.locator("td.verdict").all_inner_texts() == ["error", "error"]

    tab.uncheck("#f-failed")
    tab.select_option("#f-scorer", "exact")
    tab.select_option("#f-verdict", "fail")
    tab.fill("#f-q", "case-1")
    submit_filters(tab, r"verdict=fail")
    assert case_ids(tab, "#results") == ["case-12", "case-18"]
    row = tab.locator('#results tr[data-case-id="case-12"]')
    verdict = row.locator("td.verdict .badge").first
    assert verdict.inner_text() == "fail"
    assert verdict.get_attribute("title") == "exact: differs from the reference"
    # The output expands to the full answer, the case's input and each scorer's reason.
    row.locator("td.output summary").click()
    details = row.locator("td.output details")
    assert WRONG in details.inner_text()
    assert "Where is parcel 12?" in details.inner_text()
    assert "cosine 0.31" in details.locator(".reasons").inner_text()

    tab.fill("#f-q", "nothing like this")
    submit_filters(tab, r"q=nothing")
    tab.wait_for_selector("#no-results")
    tab.click("#clear-filters")
    tab.wait_for_url(re.compile(r"/runs/candidate$"))
    tab.click("#next-page")
    tab.wait_for_url(re.compile(r"page=2"))
    assert len(case_ids(tab, "#results")) == 10


def test_comparison_page(tab: Any, eval_server: LiveServer) -> None:
    tab.goto(eval_server.url(f"{BASE}/runs"))
    tab.click('#runs tr[data-run="candidate"] a.compare-link')
    tab.wait_for_url(re.compile(r"baseline=baseline&candidate=candidate"))
    assert tab.locator("#comparison-title").inner_text() == "candidate vs baseline"
    assert "2,000 resamples" in tab.locator("#method").inner_text()
    exact = tab.locator('#scorers tr[data-scorer="exact"]').locator("td").all_inner_texts()
    assert exact[1].startswith("59/59 passed")  # zero failures: the rule of three, not 100%
    assert exact[2].startswith("83.1%")
    assert exact[3].startswith("-16.9 pts [")
    assert "significant" in exact[4]
    assert exact[5] == "mcnemar-exact"
    assert exact[7:9] == ["10", "0"]
    embedding = tab.locator('#scorers tr[data-scorer="embedding"] td').all_inner_texts()
    assert embedding[5] == "wilcoxon"
    assert "exact: 1 case(s) left out" in tab.locator("#warnings").inner_text()

    slices = tab.locator('table.slices[data-scorer="exact"]')
    de = slices.locator('tr[data-slice="lang=de"] td').all_inner_texts()
    en = slices.locator('tr[data-slice="lang=en"] td').all_inner_texts()
    assert de[1] == "30"
    assert de[6] == "0.004 significant"  # Holm over two slices doubles McNemar's 0.002
    assert en[1] == "29 small"
    assert en[6] == "1.000"

    regressed = tab.locator('article.regressed[data-scorer="exact"]')
    assert regressed.count() == len(REGRESSED)
    first = tab.locator('article.regressed[data-scorer="exact"][data-case-id="case-00"]')
    assert "golden" in first.locator(".regressed-head").inner_text()
    assert first.locator(".io").first.inner_text().count("Where is parcel 0?") == 1
    baseline, candidate = first.locator(".side-baseline"), first.locator(".side-candidate")
    assert right(0) in baseline.inner_text()
    assert WRONG in candidate.inner_text()
    assert baseline.locator(".badge").inner_text() == "pass"
    assert candidate.locator(".badge").inner_text() == "fail"
    # The two outputs sit side by side.
    box_b, box_c = baseline.bounding_box(), candidate.bounding_box()
    assert box_b["x"] < box_c["x"]
    assert box_b["y"] == box_c["y"]

    # Swapping the runs in the form compares the other way round.
    tab.select_option("#cmp-baseline", "candidate")
    tab.select_option("#cmp-candidate", "baseline")
    tab.click("#compare-form button[type=submit]")
    tab.wait_for_url(re.compile(r"baseline=candidate"))
    assert tab.locator('article.regressed[data-scorer="exact"]').count() == 0
    assert "10" in tab.locator('#scorers tr[data-scorer="exact"] td').nth(8).inner_text()


def test_empty_project_pages_say_which_command_fills_them(
    tab: Any, eval_server: LiveServer
) -> None:
    expected = {
        "datasets": "assay dataset import cases.jsonl --name support-suite --project empty",
        "runs": "assay run --project empty --dataset support-suite",
        "compare": "assay compare baseline candidate --project empty",
    }
    for page_name, command in expected.items():
        tab.goto(eval_server.url(f"/p/empty/{page_name}"))
        assert command in tab.locator("#empty-state").inner_text()
    assert tab.locator(".mainnav a[aria-current=page]").inner_text() == "Runs"
