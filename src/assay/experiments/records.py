"""Runs in the store: create or resume, write results in batches, the result cache,
finish with a summary, and read back.

The runner calls these from a worker thread (never the event loop), each in its own
short transaction, so results already written survive a crash or Ctrl-C.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assay.datasets import VersionView
from assay.errors import Conflict, InvalidInput, NotFound
from assay.store.dialects import insert_for
from assay.store.models import Dataset, DatasetVersion, ResultCache, Run, RunResult
from assay.store.reads import load_json, paused_gc

RunStatus = str  # running | completed | interrupted | failed
# Rows per IN (...) lookup, under SQLite's bound-parameter limit.
_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class RunView:
    """A stored run.

    Attributes:
        id: Row id.
        name: Unique in the project.
        dataset: ``NAME@N`` of the dataset version it ran over.
        dataset_version_id: That version's row id.
        target: The target's description (no secrets).
        target_fingerprint: SHA-256 of the target's behaviour.
        release: The release it measured, when given.
        scorers: The scorer specs, as ``{"name", "args"}`` objects.
        repeat: Samples per case.
        status: ``running``, ``completed``, ``interrupted`` or ``failed``.
        summary: Aggregates written when the run ended.
        created_at: When it started.
        finished_at: When it ended, if it did.
    """

    id: int
    name: str
    dataset: str
    dataset_version_id: int
    target: dict[str, Any]
    target_fingerprint: str
    release: str | None
    scorers: list[dict[str, Any]]
    repeat: int
    status: str
    summary: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One sample of one case, as the runner hands it to the store."""

    case_pk: int
    case_id: str
    sample: int
    output: Any
    error: str | None
    latency_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    cached: bool
    scores: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CachedOutput:
    """A target's stored answer for an input."""

    output: Any
    latency_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None


def new_run_name() -> str:
    """A unique default name: ``run-YYYYMMDD-HHMMSS-xxxx``."""
    return f"run-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def start_run(
    session: Session,
    project_id: int,
    *,
    name: str,
    version: VersionView,
    target: dict[str, Any],
    target_fingerprint: str,
    release: str | None,
    scorers: list[dict[str, Any]],
    repeat: int,
) -> tuple[RunView, bool]:
    """Create a run, or reopen the run of that name to resume it.

    Returns:
        The run, and whether it already existed (a resume).

    Raises:
        Conflict: a run of that name exists over another dataset version, target,
            scorers or repeat count.
    """
    if not name or len(name) > 200:
        raise InvalidInput("run name must be 1 to 200 characters")
    row = session.scalars(
        select(Run).where(Run.project_id == project_id, Run.name == name)
    ).one_or_none()
    if row is not None:
        differs = [
            what
            for what, same in (
                ("dataset version", row.dataset_version_id == version.id),
                ("target", row.target_fingerprint == target_fingerprint),
                ("scorers", json.loads(row.scorers) == scorers),
                ("repeat", row.repeat == repeat),
            )
            if not same
        ]
        if differs:
            raise Conflict(
                f"run {name!r} exists with a different {', '.join(differs)}; results of a run "
                "never change: give another --name to start a new run"
            )
        row.status = "running"
        row.finished_at = None
        return _view(session, row), True
    row = Run(
        project_id=project_id,
        name=name,
        dataset_version_id=version.id,
        target=json.dumps(target, sort_keys=True),
        target_fingerprint=target_fingerprint,
        release_ref=release,
        scorers=json.dumps(scorers),
        repeat=repeat,
        status="running",
    )
    session.add(row)
    session.flush()
    return _view(session, row), False


def done_keys(session: Session, run_id: int) -> set[tuple[str, int]]:
    """(case id, sample) pairs the run has results for."""
    rows = session.execute(
        select(RunResult.case_id, RunResult.sample).where(RunResult.run_id == run_id)
    )
    return {(case_id, sample) for case_id, sample in rows}


def write_results(session: Session, run_id: int, results: Sequence[ResultRow]) -> None:
    """Store a batch of results (a result already stored for its key is kept)."""
    if not results:
        return
    dialect = session.get_bind().dialect.name
    statement = insert_for(dialect, RunResult.__table__).on_conflict_do_nothing(  # type: ignore[arg-type]
        index_elements=["run_id", "case_id", "sample"]
    )
    session.execute(
        statement,
        [
            {
                "run_id": run_id,
                "case_pk": r.case_pk,
                "case_id": r.case_id,
                "sample": r.sample,
                "output": None if r.output is None else json.dumps(r.output, ensure_ascii=False),
                "error": r.error,
                "latency_ms": r.latency_ms,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "cost": r.cost,
                "cached": int(r.cached),
                "scores": json.dumps(r.scores, ensure_ascii=False),
                "created_at": datetime.now(UTC),
            }
            for r in results
        ],
    )


def cached_outputs(
    session: Session, fingerprint: str, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], CachedOutput]:
    """Cached answers of the target for (input hash, sample) keys."""
    # A target never run before has nothing cached: one indexed probe saves reading
    # the keys in chunks (~0.2 s at 10,000 cases).
    probe = select(ResultCache.sample).where(ResultCache.target_fingerprint == fingerprint)
    if session.execute(probe.limit(1)).first() is None:
        return {}
    wanted = sorted(set(keys))
    hashes = sorted({h for h, _ in wanted})
    found: dict[tuple[str, int], CachedOutput] = {}
    for start in range(0, len(hashes), _CHUNK):
        rows = session.scalars(
            select(ResultCache).where(
                ResultCache.target_fingerprint == fingerprint,
                ResultCache.input_hash.in_(hashes[start : start + _CHUNK]),
            )
        )
        for row in rows:
            found[(row.input_hash, row.sample)] = CachedOutput(
                output=json.loads(row.output),
                latency_ms=row.latency_ms,
                prompt_tokens=row.prompt_tokens,
                completion_tokens=row.completion_tokens,
                cost=row.cost,
            )
    return {k: v for k, v in found.items() if k in set(wanted)}


def cache_outputs(
    session: Session, fingerprint: str, entries: Sequence[tuple[str, int, ResultRow]]
) -> None:
    """Remember successful answers: (input hash, sample, result)."""
    rows = [
        {
            "target_fingerprint": fingerprint,
            "input_hash": input_hash,
            "sample": sample,
            "output": json.dumps(r.output, ensure_ascii=False),
            "latency_ms": r.latency_ms,
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "cost": r.cost,
            "created_at": datetime.now(UTC),
        }
        for input_hash, sample, r in entries
        if r.error is None and not r.cached
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    statement = insert_for(dialect, ResultCache.__table__).on_conflict_do_nothing(  # type: ignore[arg-type]
        index_elements=["target_fingerprint", "input_hash", "sample"]
    )
    session.execute(statement, rows)


def finish_run(session: Session, run_id: int, status: RunStatus, summary: dict[str, Any]) -> None:
    """Mark a run ended with its summary."""
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=status, summary=json.dumps(summary), finished_at=datetime.now(UTC))
    )


def get_run(session: Session, project_id: int, ref: str) -> RunView:
    """A run by name or id.

    Raises:
        NotFound: no such run in the project.
    """
    query = select(Run).where(Run.project_id == project_id)
    row = session.scalars(query.where(Run.name == ref)).one_or_none()
    if row is None and ref.isdigit():
        row = session.scalars(query.where(Run.id == int(ref))).one_or_none()
    if row is None:
        raise NotFound(f"no run named {ref!r} in this project")
    return _view(session, row)


def list_runs(session: Session, project_id: int, *, limit: int = 100) -> list[RunView]:
    """A project's runs, newest first."""
    rows = session.scalars(
        select(Run)
        .where(Run.project_id == project_id)
        .order_by(Run.created_at.desc(), Run.id.desc())
        .limit(limit)
    )
    return [_view(session, row) for row in rows]


class StoredResult(NamedTuple):
    """A result read back from the store.

    A NamedTuple rather than a frozen dataclass: runs are read 10,000 results at a
    time, and a tuple is built several times faster.
    """

    case_id: str
    sample: int
    output: Any
    error: str | None
    latency_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    cached: bool
    scores: dict[str, Any]


def run_results(session: Session, run_id: int, *, outputs: bool = True) -> list[StoredResult]:
    """Every result of a run, by case id and sample.

    Args:
        session: The session to read with.
        run_id: The run.
        outputs: Read the outputs too; comparisons leave them out (``output`` is then
            None), which at 10,000 results saves most of the time.
    """
    r = RunResult
    columns: list[Any] = [
        r.case_id,
        r.sample,
        r.error,
        r.latency_ms,
        r.prompt_tokens,
        r.completion_tokens,
        r.cost,
        r.cached,
        r.scores,
    ]
    if outputs:
        columns.append(r.output)
    query = select(*columns).where(r.run_id == run_id).order_by(r.case_id, r.sample)
    # Core rows, not ORM rows: plain columns need none of the ORM's loading.
    rows = session.connection().execute(query)
    with paused_gc():
        # ``rest`` holds the output column when it was selected.
        return [
            StoredResult(
                case_id,
                sample,
                _output(rest[0]) if rest else None,
                error,
                latency,
                prompt,
                completion,
                cost,
                bool(cached),
                load_json(scores),
            )
            for (
                case_id,
                sample,
                error,
                latency,
                prompt,
                completion,
                cost,
                cached,
                scores,
                *rest,
            ) in rows
        ]


def _output(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _view(session: Session, row: Run) -> RunView:
    version = session.get(DatasetVersion, row.dataset_version_id)
    dataset = session.get(Dataset, version.dataset_id) if version is not None else None
    ref = f"{dataset.name}@{version.number}" if dataset is not None and version else "?"
    return RunView(
        id=row.id,
        name=row.name,
        dataset=ref,
        dataset_version_id=row.dataset_version_id,
        target=json.loads(row.target),
        target_fingerprint=row.target_fingerprint,
        release=row.release_ref,
        scorers=json.loads(row.scorers),
        repeat=row.repeat,
        status=row.status,
        summary=json.loads(row.summary),
        created_at=row.created_at,
        finished_at=row.finished_at,
    )
