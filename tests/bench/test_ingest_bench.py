"""bench/ingest.py's ``--prefill``: the store it measures into, and what it counts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import func, select

from assay.ingest.compiled import normalize_body
from assay.ingest.otlp import PROTOBUF
from assay.ingest.pricing import PriceTable
from assay.ingest.writer import Writer
from assay.signals.cursors import TRACES, read_cursor
from assay.store import Store
from assay.store.models import Span, Trace

BENCH = Path(__file__).parents[2] / "bench" / "ingest.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ingest", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_prefill_fills_the_bench_project_and_leaves_the_timed_phase_its_own_count(
    bench: ModuleType, store: Store
) -> None:
    project = bench.new_project(store)
    args = bench.parse_args(["--prefill", "600", "--batch", "256", "--text-bytes", "256"])

    base = bench.prefill(store, project.config, args)

    with store.session() as session:
        by_project = dict(
            session.execute(select(Span.project_id, func.count()).group_by(Span.project_id)).all()
        )
        assert by_project == {project.config.project_id: 600}
        assert base == session.scalar(select(func.max(Span.id)))
        assert session.scalar(select(func.count()).select_from(Trace)) == 150
        # The worker starts past the prefilled traces: none is left for it.
        assert read_cursor(session, TRACES) == session.scalar(select(func.max(Trace.id)))
    assert bench.worker_backlog(store) == 0
    assert bench.count_spans(store) == 600
    assert bench.count_spans(store, base) == 0

    (later,) = bench.record_batches(8, 256, 512, seed=3)
    body = bench.encode_spans(later).SerializePartialToString()
    Writer(store, queue_bytes=2**30, batch_bytes=2**30).write_now(
        spans=normalize_body(body, PROTOBUF, project.config, PriceTable())
    )
    assert bench.count_spans(store, base) == 8
    assert bench.wait_queryable(store, 8, base) == 8


def test_a_negative_prefill_is_refused(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--prefill", "-1"])
    assert "--prefill must be 0 or more, not -1" in capsys.readouterr().err
