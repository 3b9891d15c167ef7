"""Fixtures for signals tests: a project in a store, traces and feedback written as rows,
review queues inserted directly, and a test scorer that reports a confidence."""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from assay.errors import Conflict
from assay.projects import create_project
from assay.scorers import Score, ScoreInput, ScorerArgs, register_scorer, spec_of
from assay.settings import Settings
from assay.signals.facts import IMPLICIT_SOURCE
from assay.signals.online import OnlineScorerView, create_online_scorer
from assay.store import Store
from assay.store.models import Feedback, OnlineScorer, ReviewQueue, Trace
from assay.traces import datetime_to_ns, record_feedback

NS = 10**9
BASE = datetime.now(UTC) - timedelta(hours=3)
"""Traces start three hours ago: settled, and their sessions quiet."""


def tid(n: int) -> str:
    """Trace id number ``n`` (32 hex digits)."""
    return f"{n + 1:032x}"


class ConfidentArgs(ScorerArgs):
    """Arguments of the test scorer ``confident``."""

    confidence: float = 0.3


class ConfidentScorer:
    """Passes outputs that say 'yes', with a fixed confidence."""

    def __init__(self, args: ConfidentArgs) -> None:
        self.args = args
        self.spec = spec_of("confident", args)

    async def score(self, case: ScoreInput) -> Score:
        ok = "yes" in str(case.output).lower()
        return Score(
            1.0 if ok else 0.0,
            ok,
            "said yes" if ok else "did not say yes",
            {"confidence": self.args.confidence},
        )


SCORED: Counter[str] = Counter()
"""How often the ``counting`` scorer scored each trace id."""
_SCORED_LOCK = threading.Lock()


class CountingScorer:
    """Passes outputs that contain 'please'; counts the traces it scores."""

    def __init__(self, args: ScorerArgs) -> None:
        self.args = args
        self.spec = spec_of("counting", args)

    async def score(self, case: ScoreInput) -> Score:
        with _SCORED_LOCK:
            SCORED[case.metadata["trace_id"]] += 1
        ok = "please" in str(case.output)
        return Score(1.0 if ok else 0.0, ok, "polite" if ok else "rude")


# Guarded: the module may be imported twice (pytest's rootdir-relative import).
with contextlib.suppress(Conflict):
    register_scorer("confident", args=ConfidentArgs)(ConfidentScorer)
with contextlib.suppress(Conflict):
    register_scorer("counting", args=ScorerArgs)(CountingScorer)


@dataclass
class Project:
    """A project in a store, with helpers that write its traces and feedback."""

    store: Store
    id: int

    def trace(self, n: int, **fields: Any) -> str:
        """Insert trace ``n`` (see :meth:`row` for the fields); its id."""
        with self.store.session() as session:
            session.add(self.row(n, **fields))
        return tid(n)

    def traces(self, numbers: Iterable[int], **fields: Any) -> list[str]:
        """Insert many traces in one transaction; their ids."""
        rows = [self.row(n, **fields) for n in numbers]
        with self.store.session() as session:
            session.add_all(rows)
        return [row.trace_id for row in rows]

    def row(
        self,
        n: int,
        *,
        start_s: float | None = None,
        duration_s: float = 1.0,
        status: str = "ok",
        input: str | None = "question",
        output: str | None = "answer",
        session_id: str | None = None,
        model: str | None = "gpt-x",
        slices: dict[str, Any] | None = None,
        end_ns: int | None = None,
        has_root: bool = True,
    ) -> Trace:
        """Trace ``n``, starting ``start_s`` seconds after :data:`BASE` (default: ``n``
        minutes)."""
        start = datetime_to_ns(BASE) + int((n * 60 if start_s is None else start_s) * NS)
        return Trace(
            project_id=self.id,
            trace_id=tid(n),
            start_ns=start,
            end_ns=end_ns if end_ns is not None else start + int(duration_s * NS),
            status=status,
            input=input,
            output=output,
            session_id=session_id,
            model=model,
            service_name="svc",
            name="answer",
            release_ref="v1",
            prompt_tokens=10,
            completion_tokens=5,
            cost=0.01,
            slices=json.dumps(slices or {}),
            has_root=int(has_root),
            span_count=1,
        )

    def feedback(self, n: int, name: str, value: Any, *, source: str = "api") -> None:
        """Record feedback on trace ``n``; ``source="implicit"`` writes a derived
        signal as the worker does (the API refuses that source)."""
        with self.store.session() as session:
            if source != IMPLICIT_SOURCE:
                record_feedback(session, self.id, tid(n), name, value, source=source)
                return
            session.add(
                Feedback(
                    project_id=self.id,
                    trace_id=tid(n),
                    name=name,
                    value_num=float(value),
                    source=IMPLICIT_SOURCE,
                )
            )

    def scorer(self, name: str, spec: str, **kwargs: Any) -> OnlineScorerView:
        """Create an online scorer dated before the traces, so the worker scores them
        as new traffic."""
        with self.store.session() as session:
            view = create_online_scorer(session, self.id, name, spec, **kwargs)
            session.execute(
                update(OnlineScorer)
                .where(OnlineScorer.id == view.id)
                .values(created_at=BASE - timedelta(hours=1))
            )
        return view

    def queue(self, name: str = "triage") -> int:
        """Insert a review queue; its id."""
        with self.store.session() as session:
            row = ReviewQueue(project_id=self.id, name=name)
            session.add(row)
            session.flush()
            return row.id


@pytest.fixture
def project(store: Store) -> Project:
    """A project named ``bot`` in a fresh store (once per dialect)."""
    with store.session() as session:
        view = create_project(session, "bot")
    return Project(store, view.id)


@pytest.fixture
def settings() -> Settings:
    """Settings for a worker in tests: nothing settles late, no commit lag."""
    return Settings(worker_settle_s=5.0, worker_commit_lag_s=0.0)
