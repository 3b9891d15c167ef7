"""The web UI in a real headless Chromium: sign-in, trace list, trace detail, sign-out."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .live import PROJECT, XSS_INPUT, LiveServer, running_server, seed

pytestmark = pytest.mark.browser

TRACES = f"/p/{PROJECT}/traces"


def row_ids(page: Any) -> list[str]:
    """The trace ids of the rows of the trace table, top to bottom."""
    ids: list[str] = page.eval_on_selector_all(
        "#traces tbody tr", "rows => rows.map(r => r.dataset.traceId)"
    )
    return ids


def session_cookie(page: Any) -> str | None:
    """The value of the session cookie in the page's browser context."""
    values = [c["value"] for c in page.context.cookies() if c["name"] == "assay_session"]
    return values[0] if values else None


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_unauthenticated_visit_redirects_to_login(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url(TRACES + "?status=error"))
    parts = urlsplit(page.url)
    assert parts.path == "/login"
    assert query_of(page.url)["next"] == [TRACES + "?status=error"]
    assert page.locator("h1").inner_text() == "Sign in to assay"


def test_wrong_password_shows_error_without_revealing_the_user(
    page: Any, live_server: LiveServer
) -> None:
    messages = []
    for username in (live_server.username, "nobody-here"):
        page.goto(live_server.url("/login"))
        page.fill("#username", username)
        page.fill("#password", "not-the-password")
        page.click("button[type=submit]")
        messages.append(page.locator("#login-error").inner_text())
        assert urlsplit(page.url).path == "/login"
    assert messages[0] == messages[1] == "Wrong username or password."
    # The name typed is kept, the password is not.
    assert page.input_value("#username") == "nobody-here"
    assert page.input_value("#password") == ""


def test_sign_in_returns_to_the_requested_page(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url(TRACES + "?status=error"))
    page.fill("#username", live_server.username)
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"status=error"))
    assert urlsplit(page.url).path == TRACES
    assert page.locator(".account .username").inner_text() == live_server.username
    cookie = next(c for c in page.context.cookies() if c["name"] == "assay_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"


def test_trace_list_shows_seeded_traces(signed_in: Any, live_server: LiveServer) -> None:
    page = signed_in
    seeded = live_server.seeded
    # Newest first: the XSS probe, the agent run, then the plain traces newest first.
    assert row_ids(page) == [seeded.xss, seeded.nested, *reversed(seeded.plain)]
    nested = page.locator(f'tr[data-trace-id="{seeded.nested}"]')
    assert nested.locator("td").nth(1).inner_text() == "agent_run"
    assert nested.locator("td").nth(2).inner_text() == "v2"
    assert nested.locator("td").nth(3).inner_text() == "gpt-4o"
    assert nested.locator("td").nth(6).inner_text() == "168"  # 123 in + 45 out
    failing = page.locator(f'tr[data-trace-id="{seeded.errors[0]}"] .badge')
    assert failing.inner_text() == "error"
    feedback_row = page.locator(f'tr[data-trace-id="{seeded.with_feedback}"]')
    assert feedback_row.locator("td").last.inner_text() == "1"
    assert "refund" in page.locator(f'tr[data-trace-id="{seeded.refund}"] td.preview').inner_text()


def test_filter_by_status_narrows_the_list_and_the_url_carries_it(
    signed_in: Any, live_server: LiveServer
) -> None:
    page = signed_in
    page.select_option("#f-status", "error")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r"status=error"))
    assert query_of(page.url) == {"status": ["error"]}  # empty fields are left out
    assert sorted(row_ids(page)) == sorted(live_server.seeded.errors)
    assert page.locator("#traces .badge").all_inner_texts() == ["error", "error"]
    # The URL alone reproduces the view: a shared link shows the same rows.
    page.goto(page.url)
    assert page.input_value("#f-status") == "error"
    assert sorted(row_ids(page)) == sorted(live_server.seeded.errors)


def test_search_and_slice_filters(signed_in: Any, live_server: LiveServer) -> None:
    page = signed_in
    page.fill("#f-q", "REFUND")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r"q=REFUND"))
    assert row_ids(page) == [live_server.seeded.refund]
    page.click("#clear-filters")
    page.wait_for_url(re.compile(rf"{TRACES}$"))
    page.fill("#f-slice", "locale=fr")
    page.select_option("#f-release", "v1")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r"slice=locale"))
    assert query_of(page.url) == {"release": ["v1"], "slice": ["locale=fr"]}
    plain = live_server.seeded.plain
    assert row_ids(page) == [plain[0]]  # locale=fr: traces 0 and 3; v1: even ones
    page.fill("#f-q", "nothing matches this")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#no-results")


def test_pagination_moves_through_pages(signed_in: Any, live_server: LiveServer) -> None:
    page = signed_in
    page.goto(live_server.url(TRACES + "?limit=3"))
    assert page.get_attribute("#newest", "aria-disabled") == "true"
    seen = [row_ids(page)]
    while page.get_attribute("#older", "aria-disabled") != "true":
        page.click("#older")
        page.wait_for_load_state()
        assert "cursor" in query_of(page.url)
        assert query_of(page.url)["limit"] == ["3"]
        seen.append(row_ids(page))
    assert [len(ids) for ids in seen] == [3, 3, 2]
    everything = [trace_id for ids in seen for trace_id in ids]
    assert sorted(everything) == sorted(live_server.seeded.all)
    page.click("#newest")
    page.wait_for_url(re.compile(r"\?limit=3$"))
    assert row_ids(page) == seen[0]


def test_open_a_trace_shows_the_nested_span_tree(signed_in: Any, live_server: LiveServer) -> None:
    page = signed_in
    page.click(f'tr[data-trace-id="{live_server.seeded.nested}"] a.trace-link')
    page.wait_for_url(re.compile(live_server.seeded.nested))
    assert page.locator("#trace-name").inner_text() == "agent_run"
    assert page.locator("#trace-release").inner_text().startswith("v2")
    tree = page.locator("#span-tree")
    root = tree.locator(":scope > li > details.span")
    assert root.locator(":scope > summary .span-name").inner_text() == "agent_run"
    agent = root.locator(":scope > ul > li > details.span")
    assert agent.locator(":scope > summary .span-name").inner_text() == "plan"
    children = agent.locator(":scope > ul > li > details.span")
    assert children.count() == 2
    llm = children.nth(0)
    assert llm.locator(":scope > summary .badge").first.inner_text() == "llm"
    assert llm.locator(":scope > summary .span-model").inner_text() == "gpt-4o · openai"
    assert llm.locator(":scope > summary .span-tokens").inner_text() == "123 → 45 tok"
    roles = llm.locator(":scope > .span-body .message .role").all_inner_texts()
    assert [r.lower() for r in roles] == ["system", "user", "assistant"]
    tool = children.nth(1)
    assert tool.locator(":scope > summary .span-name").inner_text() == "lookup_order"
    # Collapsing a span hides its children.
    agent.locator(":scope > summary").click()
    assert not tool.is_visible()
    page.click("[data-tree-toggle=open]")
    assert tool.is_visible()
    tool.locator(".attributes > summary").click()
    assert "cache.miss" in tool.locator(".events").inner_text()
    page.click("#trace-release a")
    page.wait_for_url(re.compile(r"/releases$"))


def test_xss_payload_in_a_trace_is_shown_as_text(signed_in: Any, live_server: LiveServer) -> None:
    page = signed_in
    page.goto(live_server.url(f"{TRACES}/{live_server.seeded.xss}"))
    page.wait_for_selector("#span-tree")
    assert page.evaluate("typeof window.__xss") == "undefined"
    # The payload is on the page as text, and no element came out of it.
    texts = page.locator("pre.text-block").all_inner_texts()
    assert XSS_INPUT in texts
    assert page.locator("main script, main img").count() == 0
    page.goto(live_server.url(TRACES))
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main script, main img").count() == 0


def test_logout(signed_in: Any, live_server: LiveServer) -> None:
    page = signed_in
    before = session_cookie(page)
    page.click("#logout")
    page.wait_for_url(re.compile(r"/login$"))
    # The sign-in page starts a new anonymous session (for its own CSRF token).
    assert session_cookie(page) not in (None, before)
    page.goto(live_server.url(TRACES))
    assert urlsplit(page.url).path == "/login"


def test_release_diff(signed_in: Any, live_server: LiveServer) -> None:
    page = signed_in
    page.click(".mainnav >> text=Releases")
    page.wait_for_url(re.compile(r"/releases$"))
    assert page.locator("#releases tbody tr").count() == 2
    page.click("#diff-form button[type=submit]")
    page.wait_for_url(re.compile(r"/releases/diff\?a=v1&b=v2"))
    changes = page.locator("#changes tbody tr")
    paths = [changes.nth(i).locator("td").nth(1).inner_text() for i in range(changes.count())]
    assert paths == ["generation.temperature", "prompts.system"]
    assert "+Be brief and kind." in page.locator("#changes pre.diff").inner_text()


def test_project_switcher_and_no_external_requests(signed_in: Any, live_server: LiveServer) -> None:
    page = signed_in
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url(f"{TRACES}/{live_server.seeded.nested}"))
    page.wait_for_load_state("networkidle")
    assert requested
    assert all(url.startswith(live_server.base_url) for url in requested), requested
    assert page.input_value("#project-switcher") == PROJECT


def test_smoke_on_each_dialect(page: Any, db_url: str) -> None:
    """List and open traces: the same pages on SQLite and PostgreSQL."""
    with running_server(db_url) as server:
        server.seeded = seed(server)
        page.context.add_cookies([server.session_cookie()])
        page.goto(server.url(TRACES))
        assert len(row_ids(page)) == len(server.seeded.all)
        page.click(f'tr[data-trace-id="{server.seeded.nested}"] a.trace-link')
        page.wait_for_selector("#span-tree")
        assert page.locator("details.span").count() == 4
