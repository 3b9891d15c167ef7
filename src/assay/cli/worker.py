"""``assay worker``: run the background worker on its own (online scorers, implicit
signals, routing rules), beside or instead of the one in ``assay serve``."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, open_store, settings_of


def worker(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Make one pass (scan new traces and feedback, run the jobs that are due) "
            "and exit, printing what it did.",
        ),
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            min=0.05,
            help="Rest between idle passes. Default: ASSAY_WORKER_INTERVAL_S, else 2.",
            show_default=False,
        ),
    ] = None,
    worker_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            metavar="NAME",
            help="Name kept on the jobs this worker claims. Default: host:pid:random.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Score sampled traces with online scorers, derive implicit signals and route traces
    to review queues, until stopped with Ctrl-C.

    `assay serve` runs one worker in a thread already; run this for more throughput
    (several may share a PostgreSQL store) or with `assay serve --no-worker`.
    """
    from assay.signals import Worker

    settings = settings_of(ctx)
    with open_store(ctx, db) as store:
        runner = Worker(store, settings, worker_id)
        if once:
            report = runner.run_once()
            if as_json:
                output.print_json(report.as_dict())
                return
            counts = ", ".join(
                f"{name.replace('_', ' ')} {n}" for name, n in report.as_dict().items()
            )
            output.done(f"One pass: {counts}")
            return
        stop = threading.Event()
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        # `kill` and container runtimes stop with SIGTERM: finish the batch, then exit.
        signal.signal(signal.SIGTERM, on_term)
        output.stderr().print(
            f"worker {runner.worker_id} running; stop with Ctrl-C", soft_wrap=True, markup=False
        )
        try:
            runner.run(stop, interval)
        except KeyboardInterrupt:
            stop.set()
        finally:
            signal.signal(signal.SIGTERM, previous)


def register(app: typer.Typer) -> None:
    """Add ``worker`` to the root app."""
    app.command("worker")(worker)
