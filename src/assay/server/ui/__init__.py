"""The web UI: server-rendered pages behind sign-in."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Mount the UI's static assets, session handling and routes on ``app``."""
    app.include_router(router)
