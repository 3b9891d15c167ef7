"""``assay serve``: run the OTLP receiver, REST API and web UI."""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from sqlalchemy.exc import OperationalError

from assay.cli.context import DbOption, settings_of, unusable_store

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
"""Uvicorn's log levels."""


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help=(
                "Address to listen on. Default: ASSAY_HOST, else 127.0.0.1. A non-loopback "
                "address needs at least one account (assay user create)."
            ),
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            min=1,
            max=65535,
            help="TCP port to listen on. Default: ASSAY_PORT, else 6500.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    log_level: Annotated[LogLevel, typer.Option(help="How much the server logs.")] = "info",
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help=(
                "Run the background worker (online scorers, implicit signals, routing "
                "rules) in the server. Default: ASSAY_SERVE_WORKER, else on. Turn it off "
                "when `assay worker` processes do the work."
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the server: OTLP ingest on /v1/traces, the REST API and the web UI.

    The store is migrated to the latest schema first. Stop with Ctrl-C; spans already
    acknowledged are on disk.
    """
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if db is not None:
        overrides["database_url"] = db
    if worker is not None:
        overrides["serve_worker"] = worker
    settings = settings_of(ctx).model_copy(update=overrides)
    # Imported here: FastAPI, uvicorn and the UI templates take ~0.5 s to import,
    # which every other command would pay for nothing.
    from assay.server.run import serve as run_server

    url = settings.resolved_database_url()
    try:
        run_server(settings, log_level=log_level)
    except KeyboardInterrupt:
        # Uvicorn has shut down gracefully by now, then re-raised the Ctrl-C it caught
        # so callers can tell; stopping the server that way is the normal end.
        return
    except OperationalError as exc:
        raise unusable_store(url, exc) from exc


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root app."""
    app.command("serve")(serve)
