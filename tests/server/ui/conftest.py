"""Fixtures for the web UI: a live server with seeded traces, and a headless Chromium.

``live_server`` is one uvicorn server on SQLite for the whole session, seeded once
over OTLP like a real app would; browser tests never change its data (sessions are
cookies, so signing out in one browser context touches no other). ``browser`` is one
Chromium for the session; ``page`` a fresh context (no cookies) per test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assay.accounts import create_user
from assay.projects import create_project
from assay.server.app import create_app
from assay.settings import Settings
from assay.store import Store

from .live import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    PROJECT,
    USERNAME,
    LiveServer,
    form_login,
    running_server,
    seed,
)


# Package scope: the sync Playwright API keeps an event loop running on the main
# thread while it is open, which would break later tests that call asyncio.run().
@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server on SQLite with a user, a project, an API key and seeded traces."""
    folder: Path = tmp_path_factory.mktemp("ui-live")
    with running_server(f"sqlite:///{folder / 'assay.db'}") as server:
        server.seeded = seed(server)
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium (Debian's) for the UI tests."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed: run scripts/setup (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page in a fresh browser context: no cookies, nothing cached."""
    context = browser.new_context()
    context.set_default_timeout(5000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def signed_in(page: Any, live_server: LiveServer) -> Any:
    """A page signed in to the live server, on the project's trace list."""
    page.context.add_cookies([live_server.session_cookie()])
    page.goto(live_server.url("/"))
    assert re.search(rf"/p/{PROJECT}/traces$", page.url), page.url
    return page


@pytest.fixture
def ui_app(store: Store) -> FastAPI:
    """An app on the store (both dialects) with the user and project of ``live.py``."""
    with store.write_session() as session:
        create_user(session, USERNAME, PASSWORD)
        create_project(session, PROJECT)
    return create_app(Settings(), store)


@pytest.fixture
def client(ui_app: FastAPI) -> Iterator[TestClient]:
    """An in-process client of ``ui_app`` that does not follow redirects."""
    with TestClient(ui_app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def signed_client(client: TestClient) -> TestClient:
    """``client``, signed in as the user of ``live.py``."""
    assert form_login(client).status_code == 303
    return client
