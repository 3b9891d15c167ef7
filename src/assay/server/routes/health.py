"""Liveness and readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from assay import __version__
from assay.server.state import ServerState, get_state

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Server status."""

    status: str
    version: str
    database: str
    ingest_queue_bytes: int


@router.get("/healthz", response_model=Health, summary="Server status")
def healthz(state: Annotated[ServerState, Depends(get_state)]) -> Health:
    """Liveness probe: the dialect in use and how full the ingest queue is."""
    return Health(
        status="ok",
        version=__version__,
        database=state.store.dialect,
        ingest_queue_bytes=state.writer.queued_bytes,
    )
