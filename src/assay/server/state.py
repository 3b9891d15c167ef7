"""What the running server holds: store, writer, caches. One per app."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from assay.ingest.pool import NormalizePool
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.projects.keys import KeyCache
from assay.settings import Settings
from assay.signals import BackgroundWorker
from assay.store.engine import Store


@dataclass
class ServerState:
    """Long-lived objects shared by every request."""

    settings: Settings
    store: Store
    writer: Writer
    keys: KeyCache
    prices: PriceTable
    pool: NormalizePool | None = None
    worker: BackgroundWorker | None = None


def get_state(request: Request) -> ServerState:
    """FastAPI dependency: the server state."""
    state: ServerState = request.app.state.assay
    return state
