"""Review pages over HTTP: roles, queues, labelling, skipping, adjudication, agreement."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from assay.projects import create_project
from assay.review import assign, get_queue, mark_gold, update_queue
from assay.server.app import create_app
from assay.store import Store
from assay.store.models import Annotation, Assignment, QueueItem

from .live import PROJECT, XSS_INPUT, _hermetic_settings
from .review_seed import (
    INSTRUCTIONS,
    QUEUE,
    XSS_OUTPUT,
    ReviewSeed,
    add_rule,
    add_user,
    seed_review,
    sign_in,
)

BASE = f"/p/{PROJECT}/queues"
ANNOTATE = f"{BASE}/{QUEUE}/annotate"


@dataclass
class Env:
    """An app on a seeded store and a client that does not follow redirects."""

    store: Store
    app: FastAPI
    client: TestClient
    seed: ReviewSeed
    project_id: int

    def as_user(self, name: str) -> str:
        """Sign the client in as ``name``; the CSRF token of the session."""
        return sign_in(self.client, self.app, self.seed.users[name])

    def count(self, model: Any, *where: Any) -> int:
        with self.store.session() as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def make_env(store: Store) -> Iterator[Env]:
    """Eight traces in the queue: items 0-1 resolved, 2-3 disputed, 4-7 open (4 is the
    XSS probe); ``alice`` is an admin."""
    with store.write_session() as session:
        project_id = create_project(session, PROJECT).id
    seed = seed_review(store, project_id, traces=8, labelled=4)
    seed.users["alice"] = add_user(store, "alice", "admin")
    app = create_app(_hermetic_settings(), store)
    with TestClient(app, follow_redirects=False) as client:
        yield Env(store, app, client, seed, project_id)


@pytest.fixture(scope="module")
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    """One seeded app for the tests that change nothing they or others look at (they
    may claim an item for ``cat``). On SQLite: the pages are the same on both dialects,
    and the review core they call is tested on both."""
    path = tmp_path_factory.mktemp("review-pages") / "assay.db"
    shutil.copyfile(request.getfixturevalue("_sqlite_head"), path)
    store = Store(f"sqlite:///{path}")
    try:
        yield from make_env(store)
    finally:
        store.dispose()


@pytest.fixture
def env(sqlite_store: Store) -> Iterator[Env]:
    """A fresh seeded app on SQLite, for tests that write."""
    yield from make_env(sqlite_store)


@pytest.fixture
def any_env(store: Store) -> Iterator[Env]:
    """``env`` on SQLite and PostgreSQL, for the pages that write."""
    yield from make_env(store)


def field_value(page: str, name: str) -> str:
    """The value of a hidden input."""
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} field"
    return match.group(1)


def test_annotator_sees_only_queues(shared: Env) -> None:
    env = shared
    env.as_user("cat")
    assert env.client.get("/").headers["location"] == BASE
    assert env.client.get(f"/p/{PROJECT}").headers["location"] == BASE
    page = env.client.get(BASE)
    assert page.status_code == 200
    nav = page.text[page.text.index('class="mainnav"') :]
    nav = nav[: nav.index("</nav>")]
    assert "Queues" in nav
    for hidden in ("Traces", "Releases", "Datasets", "Runs"):
        assert hidden not in nav
    trace = env.seed.traces[0]
    for path in (
        f"/p/{PROJECT}/traces",
        f"/p/{PROJECT}/traces/{trace}",
        f"/p/{PROJECT}/releases",
        f"/p/{PROJECT}/datasets",
        f"/p/{PROJECT}/runs",
        f"/p/{PROJECT}/compare",
        f"{BASE}/{QUEUE}/adjudicate",
        f"{BASE}/{QUEUE}/items/{env.seed.disputed[0]}/adjudicate",
    ):
        response = env.client.get(path)
        assert response.status_code == 403, path
        assert "adjudicators and admins" in response.text
    # Nor can an annotator post a final label.
    response = env.client.post(
        f"{BASE}/{QUEUE}/items/{env.seed.disputed[0]}/adjudicate",
        data={"csrf_token": env.as_user("cat"), "f.verdict": "good", "reason": "mine"},
    )
    assert response.status_code == 403
    assert env.count(QueueItem, QueueItem.status == "disputed") == 2


def test_adjudicator_sees_everything_but_rules(shared: Env) -> None:
    env = shared
    add_rule(env.store, env.project_id, env.seed.queue.id, env.seed.traces[:3])
    env.as_user("ada")
    assert env.client.get("/").headers["location"] == f"/p/{PROJECT}/traces"
    for path in (f"/p/{PROJECT}/traces", f"/p/{PROJECT}/datasets", f"{BASE}/{QUEUE}/adjudicate"):
        assert env.client.get(path).status_code == 200, path
    page = env.client.get(BASE).text
    assert 'id="rules"' not in page
    env.as_user("alice")
    page = env.client.get(BASE).text
    row = page[page.index('data-rule="thumbs-down"') :]
    assert re.search(r'rule-matches">3<', row)
    assert re.search(r'rule-enqueued">2<', row)


def test_queue_list_counts_and_own_progress(shared: Env) -> None:
    env = shared
    env.as_user("ann")
    page = env.client.get(BASE).text
    row = page[page.index(f'data-queue="{QUEUE}"') :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r'<td class="num[^"]*">(?:<a [^>]*>)?(\d+)', row)
    # open, disputed, resolved, gold, labelled by you, overlap
    assert cells == ["4", "2", "2", "0", "4", "2"]
    assert f'href="{ANNOTATE}"' in row


def test_queue_page_for_staff(shared: Env) -> None:
    env = shared
    env.as_user("alice")
    page = env.client.get(f"{BASE}/{QUEUE}")
    assert page.status_code == 200
    text = page.text
    assert str(escape(INSTRUCTIONS.splitlines()[0])) in text
    assert 'id="floor-warning"' in text
    assert re.findall(r'data-item-id="(\d+)"', text) == [str(i) for i in env.seed.items]
    assert f'href="/p/{PROJECT}/traces/{env.seed.traces[0]}"' in text
    assert re.findall(r'data-annotator="(\w+)"', text) == ["ann", "bob"]
    assert f'href="{BASE}/{QUEUE}/adjudicate"' in text
    disputed = env.client.get(f"{BASE}/{QUEUE}?status=disputed").text
    assert re.findall(r'data-item-id="(\d+)"', disputed) == [str(i) for i in env.seed.disputed]
    bad = env.client.get(f"{BASE}/{QUEUE}?status=nonsense")
    assert bad.status_code == 400
    assert "status: must be one of open, disputed, resolved" in bad.text


def test_queue_page_for_annotators_hides_items_and_others(shared: Env) -> None:
    env = shared
    env.as_user("ann")
    text = env.client.get(f"{BASE}/{QUEUE}").text
    assert 'id="items"' not in text
    assert 'data-item-id="' not in text
    assert re.findall(r'data-annotator="(\w+)"', text) == ["ann"]
    assert 'id="adjudicate-link"' not in text
    assert 'id="floor-warning"' in text


def test_annotate_shows_the_claimed_trace_escaped(shared: Env) -> None:
    env = shared
    env.as_user("cat")
    page = env.client.get(ANNOTATE)
    assert page.status_code == 200
    text = page.text
    assert field_value(text, "item_id") == str(env.seed.items[4])
    # Untrusted trace text is escaped everywhere, the prefilled correction included.
    assert XSS_INPUT not in text
    assert "<script>window.__xss" not in text
    assert str(escape(XSS_INPUT)) in text
    assert f">{escape(XSS_OUTPUT)}</textarea>" in text
    for shown in ("Refunds take 5 days.", "kb-7", "lookup_order", "shipped on Monday"):
        assert shown in text
    assert "thumbs down 4" in text
    assert 'id="claim-expiry"' in text
    assert "0 labelled by you · 4 open items" in text
    assert "Ctrl</kbd>+<kbd>Enter" in text
    assert 'id="shortcut-help"' in text
    score = text[text.index('id="field-score"') :]
    score = score[: score.index("</fieldset>")]
    assert re.findall(r"<kbd>(\d)</kbd>", score) == ["1", "2", "3", "4", "5"]
    assert re.findall(r"<span>(\w+)</span>", score) == ["wrong", "perfect"]
    # Annotators get no link to the trace page they may not see.
    assert f"/traces/{env.seed.traces[4]}" not in text
    # A reload shows the same claimed item.
    assert field_value(env.client.get(ANNOTATE).text, "item_id") == str(env.seed.items[4])


def label_form(csrf: str, item_id: str, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"csrf_token": csrf, "item_id": item_id, "action": "submit"}
    data.update({f"f.{k}": v for k, v in values.items()})
    return data


def test_submit_stores_the_label_and_shows_the_next_item(any_env: Env) -> None:
    env = any_env
    csrf = env.as_user("cat")
    item = field_value(env.client.get(ANNOTATE).text, "item_id")
    response = env.client.post(
        ANNOTATE,
        data=label_form(
            csrf,
            item,
            verdict="bad",
            score="2",
            on_topic="false",
            issues=["wrong", "rude"],
            fix="Refunds take 5 days.",
            note="",
        )
        | {"seconds": "12.5", "comment": "see the KB"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{ANNOTATE}?done=saved"
    with env.store.session() as session:
        annotation = session.scalars(
            select(Annotation).where(Annotation.item_id == int(item))
        ).one()
    assert json.loads(annotation.values) == {
        "verdict": "bad",
        "score": 2,
        "on_topic": False,
        "issues": ["rude", "wrong"],
        "fix": "Refunds take 5 days.",
        "note": None,
    }
    assert annotation.seconds == 12.5
    assert annotation.comment == "see the KB"
    following = env.client.get(response.headers["location"]).text
    assert "Label saved" in following
    assert field_value(following, "item_id") == str(env.seed.items[5])
    assert "1 labelled by you" in following


def test_invalid_label_shows_the_error_and_stores_nothing(shared: Env) -> None:
    env = shared
    csrf = env.as_user("cat")
    item = field_value(env.client.get(ANNOTATE).text, "item_id")
    before = env.count(Annotation)
    response = env.client.post(
        ANNOTATE, data=label_form(csrf, item, score="9", on_topic="true", note="kept <b>")
    )
    assert response.status_code == 400
    assert "field &#39;verdict&#39;: is required" in response.text
    assert "field &#39;score&#39;: must be an integer from 1 to 5" in response.text
    # The same item, with what was sent kept (and escaped).
    assert field_value(response.text, "item_id") == item
    assert 'name="f.on_topic" value="true" checked' in response.text
    assert ">kept &lt;b&gt;</textarea>" in response.text
    assert env.count(Annotation) == before
    # An unknown option is refused the same way.
    response = env.client.post(
        ANNOTATE, data=label_form(csrf, item, verdict="great", score="3", on_topic="true")
    )
    assert response.status_code == 400
    assert "&#39;great&#39; is not one of the options" in response.text
    assert env.count(Annotation) == before


def test_forms_without_the_csrf_token_are_refused(shared: Env) -> None:
    env = shared
    env.as_user("cat")
    item = field_value(env.client.get(ANNOTATE).text, "item_id")
    before = env.count(Annotation)
    for token in ("", "forged"):
        response = env.client.post(
            ANNOTATE, data=label_form(token, item, verdict="good", score="3", on_topic="true")
        )
        assert response.status_code == 403
        assert "CSRF" in response.text or "security token" in response.text
        skip = env.client.post(
            ANNOTATE, data={"csrf_token": token, "item_id": item, "action": "skip", "reason": "x"}
        )
        assert skip.status_code == 403
    assert env.count(Annotation) == before
    assert env.count(Assignment, Assignment.status == "skipped") == 0
    env.as_user("ada")
    disputed = env.seed.disputed[0]
    response = env.client.post(
        f"{BASE}/{QUEUE}/items/{disputed}/adjudicate",
        data={"f.verdict": "good", "f.score": "3", "f.on_topic": "true", "reason": "r"},
    )
    assert response.status_code == 403
    assert env.count(QueueItem, QueueItem.id == disputed, QueueItem.status == "disputed") == 1


def test_skip_needs_a_reason(env: Env) -> None:
    csrf = env.as_user("cat")
    item = field_value(env.client.get(ANNOTATE).text, "item_id")
    skip = {"csrf_token": csrf, "item_id": item, "action": "skip"}
    response = env.client.post(ANNOTATE, data=skip | {"reason": "   "})
    assert response.status_code == 400
    assert "reason: say why the item is skipped" in response.text
    assert 'id="skip" open' in response.text
    assert field_value(response.text, "item_id") == item
    assert env.count(Assignment, Assignment.status == "skipped") == 0
    response = env.client.post(ANNOTATE, data=skip | {"reason": "not my language"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{ANNOTATE}?done=skipped"
    with env.store.session() as session:
        skipped = session.scalars(select(Assignment).where(Assignment.status == "skipped")).one()
    assert (skipped.item_id, skipped.skip_reason) == (int(item), "not my language")
    following = env.client.get(response.headers["location"]).text
    assert field_value(following, "item_id") == str(env.seed.items[5])


def test_nothing_left_for_the_annotator(env: Env) -> None:
    csrf = env.as_user("cat")
    for _ in range(4):
        item = field_value(env.client.get(ANNOTATE).text, "item_id")
        data = {"csrf_token": csrf, "item_id": item, "action": "skip", "reason": "unsure"}
        assert env.client.post(ANNOTATE, data=data).status_code == 303
    page = env.client.get(ANNOTATE)
    assert page.status_code == 200
    assert 'id="nothing-left"' in page.text
    assert "Nothing left for you" in page.text
    assert 'id="label-form"' not in page.text


def test_gold_items_look_like_any_other(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    resolved = env.seed.resolved[0]
    with env.store.write_session() as session:
        queue = get_queue(session, env.project_id, QUEUE)
        mark_gold(session, queue, resolved)
        update_queue(session, queue, gold_rate=0.5)
    # Every draw says "hand out a gold item".
    always = SimpleNamespace(random=lambda: 0.0)
    monkeypatch.setattr(assign, "random", SimpleNamespace(Random=lambda: always))
    env.as_user("cat")
    text = env.client.get(ANNOTATE).text
    assert field_value(text, "item_id") == str(resolved)
    assert "gold" not in text.lower()
    # Nothing is prefilled: the known answer stays unknown.
    assert " checked" not in text
    # Labelling it moves no number on the queue page that would say it was gold.
    values = {"f.verdict": "good", "f.score": "3", "f.on_topic": "true", "f.note": "ok"}
    data = {"csrf_token": env.as_user("cat"), "item_id": str(resolved), "action": "submit"}
    assert env.client.post(ANNOTATE, data=data | values).status_code == 303
    page = env.client.get(f"{BASE}/{QUEUE}").text
    assert "Gold seen" not in page
    assert "Gold accuracy" not in page
    row = _annotator_row(page)
    assert "gold-accuracy" not in row
    assert re.findall(r'<td class="num">(\d+)</td>', row)[:2] == ["1", "0"]  # labels, skips
    # Staff still see it.
    env.as_user("alice")
    staff = env.client.get(f"{BASE}/{QUEUE}").text
    assert "Gold accuracy" in staff
    assert re.search(r'<td class="num gold-accuracy">\d+%</td>', _annotator_row(staff, "cat"))


def _annotator_row(page: str, name: str = "") -> str:
    """An annotator's row of the annotators table (the first row by default)."""
    row = page[page.index(f'data-annotator="{name}') :]
    return row[: row.index("</tr>")]


def test_adjudicate_item_side_by_side_and_resolve(any_env: Env) -> None:
    env = any_env
    csrf = env.as_user("ada")
    disputed = env.seed.disputed[0]
    listing = env.client.get(f"{BASE}/{QUEUE}/adjudicate").text
    assert re.findall(r'data-item-id="(\d+)"', listing) == [str(i) for i in env.seed.disputed]
    url = f"{BASE}/{QUEUE}/items/{disputed}/adjudicate"
    page = env.client.get(url).text
    assert re.findall(r'<tr data-field="(\w+)" class="disagree"', page) == ["verdict"]
    assert re.findall(r'data-copy="(\d)"', page) == ["1", "2"]
    # Digits copy labels here, so the form's choices show no digit keys.
    form = page[page.index('id="label-form"') :]
    assert "<kbd>1</kbd>" not in form[: form.index('id="field-issues"')]
    assert "bob on 2" in page
    assert " checked" not in page
    copied = env.client.get(f"{url}?copy=2").text
    assert 'name="f.verdict" value="good" checked' in copied
    # A digit that is not ASCII ("²" passes str.isdigit) or a huge one copies nothing.
    for odd in ("²", "9" * 30):
        odd_page = env.client.get(url, params={"copy": odd})
        assert odd_page.status_code == 200
        assert " checked" not in odd_page.text
    # Without a reason nothing changes.
    values = {"f.verdict": "bad", "f.score": "3", "f.on_topic": "true"}
    response = env.client.post(url, data={"csrf_token": csrf, "reason": " "} | values)
    assert response.status_code == 400
    assert "reason: say why this label is right" in response.text
    assert 'name="f.verdict" value="bad" checked' in response.text
    assert env.count(QueueItem, QueueItem.status == "disputed") == 2
    response = env.client.post(
        url, data={"csrf_token": csrf, "reason": "the KB says refunds are allowed"} | values
    )
    assert response.status_code == 303
    following = env.seed.disputed[1]
    assert response.headers["location"] == (
        f"{BASE}/{QUEUE}/items/{following}/adjudicate?done={disputed}"
    )
    with env.store.session() as session:
        item = session.get(QueueItem, disputed)
        assert item is not None
        assert (item.status, item.resolution) == ("resolved", "adjudicated")
        assert json.loads(item.label or "{}")["verdict"] == "bad"
        assert item.resolution_reason == "the KB says refunds are allowed"
    # Resolved: no form any more.
    assert 'id="label-form"' not in env.client.get(url).text
    # An item of another queue is not found under this one.
    assert env.client.get(f"{BASE}/{QUEUE}/items/99999/adjudicate").status_code == 404


def test_agreement_page(shared: Env) -> None:
    env = shared
    env.as_user("cat")
    page = env.client.get(f"{BASE}/{QUEUE}/agreement")
    assert page.status_code == 200
    text = page.text
    assert 'id="floor-warning"' in text
    section = text[text.index('id="agreement-verdict"') :]
    section = section[: section.index("</section>")]
    alpha = re.search(r'<td class="num alpha"[^>]*>(-?[\d.]+)</td>', section)
    assert alpha
    assert float(alpha.group(1)) < 0.667
    assert "nominal" in section
    assert "Fleiss" in section
    assert "ann · bob" in section
    assert 'class="sparkline"' in section
    assert len(re.findall(r"<td class=\"nowrap\">\d{4}-\d{2}-\d{2}</td>", section)) >= 2
    # Fields that never disagree have alpha undefined or 1, and no warning of their own.
    assert 'id="agreement-score"' in text
    assert 'id="agreement-fix"' not in text


def test_unknown_queue_is_a_404_page(shared: Env) -> None:
    env = shared
    env.as_user("cat")
    for path in (f"{BASE}/nope", f"{BASE}/nope/annotate", f"{BASE}/nope/agreement"):
        response = env.client.get(path)
        assert response.status_code == 404, path
        assert "no review queue named" in response.text
