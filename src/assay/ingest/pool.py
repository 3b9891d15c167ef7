"""Decoding and normalising OTLP traces in worker processes.

Without the compiled decoder (:mod:`assay.ingest.compiled`), normalising is pure
Python (~50 us a 2 KB chat span, measured with bench/ingest.py) and holds the GIL,
so one server process tops out at one core's worth of spans whatever the machine
has; with it, most of the work runs without the GIL and one process uses the cores
it has. With ``ASSAY_INGEST_WORKERS=N`` the receiver hands each
request's (inflated) body to one of N worker processes and gets the normalised rows
back; the server process keeps HTTP and the single group-commit writer, which is
what SQLite wants. Rows cross the process boundary pickled (~10 us a span).

Workers are spawned, not forked: the server has threads (the writer, the
threadpool) by the time the pool starts, and forking a threaded process is unsafe.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

from assay.ingest.compiled import normalize_body
from assay.ingest.normalize import SpanBatch
from assay.ingest.pricing import PriceTable
from assay.projects.service import ProjectConfig
from assay.redaction import RedactionConfig, Redactor

_prices: PriceTable | None = None
_compiled = True


def _init(prices_file: Path | None, compiled: bool) -> None:
    global _prices, _compiled
    _prices = PriceTable(prices_file)
    _compiled = compiled


@lru_cache(maxsize=256)
def _redactor(config_json: str) -> Redactor:
    return Redactor(RedactionConfig.model_validate_json(config_json))


def _normalize(
    body: bytes,
    content_type: str | None,
    project_id: int,
    slice_keys: frozenset[str],
    redaction_json: str,
) -> SpanBatch:
    assert _prices is not None, "worker initialiser did not run"
    config = ProjectConfig(project_id, slice_keys, _redactor(redaction_json))
    return normalize_body(body, content_type, config, _prices, compiled=_compiled)


class NormalizePool:
    """N worker processes that turn OTLP trace bodies into span rows.

    Args:
        workers: How many processes (at least 1).
        prices_file: The user's price table, loaded once per worker.
        compiled: Use the compiled decoder when it is built.
    """

    def __init__(self, workers: int, prices_file: Path | None, compiled: bool = True) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(prices_file, compiled),
        )

    async def normalize(
        self, body: bytes, content_type: str | None, config: ProjectConfig
    ) -> SpanBatch:
        """Decode and normalise one request's body in a worker.

        Errors raised there (malformed input) are raised here as they were.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor,
            _normalize,
            body,
            content_type,
            config.project_id,
            config.slice_keys,
            config.redactor.config.model_dump_json(),
        )

    def shutdown(self) -> None:
        """Stop the workers (pending requests finish first)."""
        self._executor.shutdown(wait=True, cancel_futures=False)
