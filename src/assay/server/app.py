"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assay import __version__
from assay.ingest.pool import NormalizePool
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects.keys import KeyCache
from assay.server import errors, ui
from assay.server.routes import (
    annotate,
    datasets,
    feedback,
    finetune,
    health,
    online_scorers,
    otlp,
    projects,
    queue_items,
    queue_stats,
    queues,
    releases,
    rules,
    runs,
    traces,
    users,
)
from assay.server.state import ServerState
from assay.server.untraced import untraced_fastapi
from assay.settings import Settings
from assay.signals import BackgroundWorker
from assay.store.engine import Store
from assay.store.migrate import ensure_current


def create_app(
    settings: Settings | None = None, store: Store | None = None, *, worker: bool = False
) -> FastAPI:
    """Build the app: OTLP receiver, REST API under ``/api/v1`` and the web UI.

    Args:
        settings: Server settings; read from the environment when omitted.
        store: An open store; made from ``settings`` when omitted. The store is
            migrated to the latest schema at startup.
        worker: Run the background worker (:class:`assay.signals.BackgroundWorker`)
            for the app's lifetime. `assay serve` does unless told not to; an app
            made for tests or embedding runs none unless asked.
    """
    settings = settings or Settings()
    owned = store is None
    the_store = store or Store(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_current(the_store)
        state.writer.start()
        if settings.ingest_workers:
            state.pool = NormalizePool(
                settings.ingest_workers, settings.prices_file, settings.ingest_compiled
            )
        if worker:
            state.worker = BackgroundWorker(the_store, settings, yield_to=state.writer)
            state.worker.start()
        try:
            yield
        finally:
            if state.worker is not None:
                # Before the writer: the worker reads what the writer wrote last.
                state.worker.stop()
                state.worker = None
            if state.pool is not None:
                state.pool.shutdown()
                state.pool = None
            state.writer.stop()
            if owned:
                the_store.dispose()

    state = ServerState(
        settings=settings,
        store=the_store,
        writer=Writer(
            the_store,
            queue_bytes=settings.ingest_queue_bytes,
            batch_bytes=settings.ingest_batch_bytes,
        ),
        keys=KeyCache(),
        prices=PriceTable(settings.prices_file),
    )
    app = untraced_fastapi(
        title="assay",
        version=__version__,
        description=(
            "Self-hosted platform that turns production AI failures into regression "
            "tests. OTLP/HTTP receiver at /v1/traces and /v1/logs; REST API under /api/v1."
        ),
        lifespan=lifespan,
    )
    app.state.assay = state
    errors.install(app)
    app.include_router(health.router)
    app.include_router(otlp.router)
    for module in (projects, users, releases, traces, feedback, datasets, runs, finetune):
        app.include_router(module.router)
    for module in (queues, queue_items, queue_stats, annotate, rules, online_scorers):
        app.include_router(module.router)
    ui.install(app)
    return app
