"""The web UI: server-rendered pages behind sign-in.

- :mod:`~assay.server.ui.sessions`: signed session cookies, CSRF tokens, the
  signing key, and :func:`user_from_session` for the REST API.
- :mod:`~assay.server.ui.access`: the sign-in guard every page depends on.
- :mod:`~assay.server.ui.signin`: ``/login`` and ``/logout``.
- :mod:`~assay.server.ui.trace_pages`: the project home, trace list and trace detail.
- :mod:`~assay.server.ui.release_pages`: releases and the diff between two of them.
- :mod:`~assay.server.ui.dataset_pages`: datasets, their versions and cases.
- :mod:`~assay.server.ui.run_pages`: experiment runs and their per-case results.
- :mod:`~assay.server.ui.compare_pages`: the paired comparison of two runs.
- :mod:`~assay.server.ui.queue_pages`: review queues, one queue's items and annotators.
- :mod:`~assay.server.ui.annotate_pages`: labelling the next item, from the keyboard.
- :mod:`~assay.server.ui.adjudicate_pages`: disputed items and their final labels.
- :mod:`~assay.server.ui.agreement_pages`: a queue's agreement, per field and week.
- ``templates/`` (Jinja2) and ``static/`` (CSS, a little JavaScript, the icon) ship
  in the package; nothing is loaded from another origin.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from assay.server.state import ServerState
from assay.server.ui import (
    adjudicate_pages,
    agreement_pages,
    annotate_pages,
    compare_pages,
    dataset_pages,
    queue_pages,
    release_pages,
    run_pages,
    signin,
    trace_pages,
)
from assay.server.ui.access import RoleRequired, install_guard
from assay.server.ui.layout import role_refused
from assay.server.ui.sessions import SessionManager, user_from_session
from assay.server.ui.templating import STATIC_DIR, STATIC_PREFIX

__all__ = ["install", "router", "user_from_session"]

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
router.include_router(trace_pages.router)
router.include_router(release_pages.router)
router.include_router(dataset_pages.router)
router.include_router(run_pages.router)
router.include_router(compare_pages.router)
router.include_router(queue_pages.router)
router.include_router(annotate_pages.router)
router.include_router(adjudicate_pages.router)
router.include_router(agreement_pages.router)


def install(app: FastAPI) -> None:
    """Mount the UI's static assets, session handling and routes on ``app``.

    Args:
        app: The app from :func:`assay.server.app.create_app`; its server state
            (``app.state.assay``) must already be set.
    """
    state: ServerState = app.state.assay
    app.state.assay_ui_sessions = SessionManager(state.settings, state.store)
    install_guard(app)
    app.add_exception_handler(RoleRequired, role_refused)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
