"""Review pages in a real headless Chromium: labelling, skipping and adjudicating from
the keyboard, the agreement page, and a promoted case followed back to its trace."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assay.accounts import get_user
from assay.review import get_queue, promote
from assay.server.ui.sessions import COOKIE_NAME
from assay.store.models import Annotation, Assignment, QueueItem

from .live import PROJECT, LiveServer, running_server
from .review_seed import QUEUE, XSS_OUTPUT, ReviewSeed, bob_label, seed_review, session_cookie

pytestmark = pytest.mark.browser

BASE = f"/p/{PROJECT}/queues"
DATASET = "support-regressions"


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, ReviewSeed]]:
    """A live server holding the seeded queue (items 0-9 labelled, 10-15 open), with
    annotators ``cat`` and ``dan`` who labelled nothing, and the resolved items
    promoted to a dataset."""
    # Agreement imports SciPy and krippendorff on first use, which takes seconds on a
    # busy machine; importing them here keeps that out of a page load's time limit.
    import krippendorff  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import statsmodels.stats.inter_rater  # noqa: F401

    folder: Path = tmp_path_factory.mktemp("ui-review")
    with running_server(f"sqlite:///{folder / 'assay.db'}") as server:
        seed = seed_review(server.store, server.project_id, annotators=("cat", "dan"))
        with server.store.write_session() as session:
            queue = get_queue(session, server.project_id, QUEUE)
            promote(session, server.project_id, queue, DATASET, created_by="alice")
            seed.users["alice"] = get_user(session, server.user_id)
        yield server, seed


def open_as(page: Any, review: tuple[LiveServer, ReviewSeed], name: str, path: str) -> Any:
    """Sign ``page`` in as ``name`` (by cookie) and go to ``path``; the response."""
    server, seed = review
    value, _ = session_cookie(server.sessions, seed.users[name])
    page.context.add_cookies(
        [{"name": COOKIE_NAME, "value": value, "url": server.base_url, "httpOnly": True}]
    )
    return page.goto(server.url(path))


def item_id(page: Any) -> int:
    return int(page.input_value("#label-form input[name=item_id]"))


def test_annotator_labels_an_item_from_the_keyboard(
    page: Any, review: tuple[LiveServer, ReviewSeed]
) -> None:
    server, seed = review
    open_as(page, review, "cat", "/")
    assert page.url.endswith(BASE)
    assert page.locator(".mainnav a").all_inner_texts() == ["Queues"]
    page.click(f'tr[data-queue="{QUEUE}"] .start-labelling')
    page.wait_for_url(re.compile(r"/annotate$"))
    first = item_id(page)
    assert first == seed.items[seed.first_open]
    # The XSS probe's text is shown as text, and ran nothing.
    assert page.evaluate("window.__xss") is None
    assert "<script>window.__xss = 1</script>" in page.locator("#trace-input").inner_text()
    assert page.input_value("#input-fix") == XSS_OUTPUT
    assert "Refunds take 5 days." in page.locator("#retrievals").inner_text()
    assert "shipped on Monday" in page.locator("#tool-calls").inner_text()
    # ? shows the help; Esc closes it.
    page.keyboard.press("?")
    assert page.locator("#shortcut-help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#shortcut-help").is_visible()
    # verdict = good (1), score = 4, on_topic = yes, then the correction: typing digits
    # and letters in it fires no shortcut.
    page.keyboard.press("1")
    page.keyboard.press("4")
    page.keyboard.press("y")
    assert page.locator("#field-issues").evaluate("el => el.classList.contains('is-current')")
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.id") == "input-fix"
    page.keyboard.press("Control+a")
    page.keyboard.type("Refunds take 5 days, say so.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"done=saved"))
    assert page.locator("#notice").is_visible()
    assert item_id(page) != first
    assert "1 labelled by you" in page.locator("#progress").inner_text()
    with server.store.session() as session:
        annotation = session.scalars(
            select(Annotation).where(
                Annotation.item_id == first, Annotation.user_id == seed.users["cat"].id
            )
        ).one()
    assert json.loads(annotation.values) == {
        "verdict": "good",
        "score": 4,
        "on_topic": True,
        "issues": [],
        "fix": "Refunds take 5 days, say so.",
        "note": None,
    }
    assert annotation.seconds is not None
    assert annotation.seconds > 0


def test_annotator_skips_with_s_and_a_reason(
    page: Any, review: tuple[LiveServer, ReviewSeed]
) -> None:
    server, seed = review
    open_as(page, review, "dan", f"{BASE}/{QUEUE}/annotate")
    first = item_id(page)
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.id") == "skip-reason"
    # Letters typed into the reason are text, not shortcuts ("s" again, "y", "e").
    page.keyboard.type("unsure: needs an expert")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"done=skipped"))
    assert page.locator("#notice").inner_text() == "Skipped."
    assert item_id(page) != first
    with server.store.session() as session:
        assignment = session.scalars(
            select(Assignment).where(
                Assignment.item_id == first, Assignment.user_id == seed.users["dan"].id
            )
        ).one()
    assert (assignment.status, assignment.skip_reason) == ("skipped", "unsure: needs an expert")


def test_adjudicator_resolves_a_disputed_item_from_the_keyboard(
    page: Any, review: tuple[LiveServer, ReviewSeed]
) -> None:
    server, seed = review
    open_as(page, review, "ada", f"{BASE}/{QUEUE}")
    page.click("#adjudicate-link")
    page.click("#disputed tbody tr:first-child a.button")
    disputed = seed.disputed[0]
    page.wait_for_url(re.compile(rf"/items/{disputed}/adjudicate$"))
    assert page.locator("tr.disagree").evaluate_all("rows => rows.map(r => r.dataset.field)") == [
        "verdict"
    ]
    # 2 copies bob's label into the form; r goes to the reason.
    page.keyboard.press("2")
    bob = bob_label(seed.items.index(disputed))
    assert page.is_checked(f'#field-verdict input[value="{bob["verdict"]}"]')
    assert page.is_checked('#field-on_topic input[value="true"]')
    assert page.input_value("#input-note") == bob["note"]
    page.keyboard.press("r")
    page.keyboard.type("bob read the help centre right")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(rf"done={disputed}"))
    assert f"Item {disputed} adjudicated" in page.locator("#notice").inner_text()
    with server.store.session() as session:
        item = session.get(QueueItem, disputed)
        assert item is not None
        assert (item.status, item.resolution) == ("resolved", "adjudicated")
        assert json.loads(item.label or "{}")["verdict"] == bob["verdict"]
        assert item.resolution_reason == "bob read the help centre right"


def test_agreement_page_shows_alpha_and_the_floor_warning(
    page: Any, review: tuple[LiveServer, ReviewSeed]
) -> None:
    open_as(page, review, "cat", f"{BASE}/{QUEUE}")
    assert page.locator("#floor-warning").is_visible()
    page.click("#agreement-link")
    page.wait_for_url(re.compile(r"/agreement$"))
    warning = page.locator("#floor-warning")
    assert warning.is_visible()
    assert "verdict" in warning.inner_text()
    verdict = page.locator("#agreement-verdict")
    alpha = float(verdict.locator("td.alpha").inner_text())
    assert alpha < 0.667
    assert verdict.locator(".level").inner_text() == "nominal"
    assert verdict.locator("svg.sparkline polyline").count() >= 1
    assert verdict.locator("table.weekly tbody tr").count() >= 2


def test_promoted_case_links_back_to_its_trace(
    page: Any, review: tuple[LiveServer, ReviewSeed]
) -> None:
    _, seed = review
    trace = seed.traces[0]
    open_as(page, review, "alice", f"/p/{PROJECT}/datasets/{DATASET}")
    link = page.locator(f'tr[data-case-id="trace-{trace}"] a.trace-link')
    link.click()
    page.wait_for_url(re.compile(rf"/traces/{trace}$"))
    assert page.locator("#trace-name").inner_text() == "support_turn"


def test_annotators_are_refused_project_pages(
    page: Any, review: tuple[LiveServer, ReviewSeed]
) -> None:
    response = open_as(page, review, "cat", f"/p/{PROJECT}/traces")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
