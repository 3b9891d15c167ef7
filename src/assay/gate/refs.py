"""Run references for the gate: a run name, a run id, or ``release:NAME``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assay.comparisons import Comparison, compare_runs
from assay.errors import NotFound
from assay.experiments import RunView, get_run
from assay.stats import DEFAULT_RESAMPLES, DEFAULT_SEED
from assay.store.models import Run

RELEASE_PREFIX = "release:"


def resolve_run(session: Session, project_id: int, ref: str) -> tuple[RunView, str | None]:
    """The run ``ref`` names, and a note when ``release:NAME`` fell back.

    ``release:NAME`` is the latest run of that release that passed a gate; when none
    of its runs was gated yet, the latest completed one (the note says so).

    Raises:
        NotFound: no such run, or no completed run of the release.
    """
    if not ref.startswith(RELEASE_PREFIX):
        return get_run(session, project_id, ref), None
    release = ref[len(RELEASE_PREFIX) :]
    rows = session.scalars(
        select(Run)
        .where(Run.project_id == project_id, Run.release_ref == release, Run.status == "completed")
        .order_by(Run.created_at.desc(), Run.id.desc())
    ).all()
    if not rows:
        raise NotFound(f"no completed run of release {release!r}: run one with --release {release}")
    for row in rows:
        gate = json.loads(row.summary).get("gate") or {}
        if gate.get("passed") is True:
            return get_run(session, project_id, str(row.id)), None
    note = (
        f"no run of release {release!r} has passed a gate yet: using its latest completed "
        f"run {rows[0].name!r}"
    )
    return get_run(session, project_id, str(rows[0].id)), note


def record_gate(session: Session, run_id: int, *, passed: bool, baseline: str, policy: str) -> None:
    """Remember a gate verdict on the candidate run (what ``release:NAME`` looks for)."""
    row = session.get(Run, run_id)
    if row is None:
        return
    summary: dict[str, Any] = json.loads(row.summary)
    summary["gate"] = {
        "passed": passed,
        "baseline": baseline,
        "policy": policy,
        "at": datetime.now(UTC).isoformat(),
    }
    session.execute(update(Run).where(Run.id == run_id).values(summary=json.dumps(summary)))


class ResolvedComparison(NamedTuple):
    """Two run references resolved and compared, with any fallback notes."""

    comparison: Comparison
    notes: list[str]


def compare_refs(
    session: Session,
    project_id: int,
    baseline: str,
    candidate: str,
    *,
    on_common_cases: bool = False,
    alpha: float = 0.05,
    seed: int = DEFAULT_SEED,
    resamples: int = DEFAULT_RESAMPLES,
) -> ResolvedComparison:
    """Resolve two references (name, id or ``release:NAME``) and compare the runs.

    Raises:
        NotFound: a reference names no run.
        InvalidInput: the runs cannot be compared (see
            :func:`assay.comparisons.compare_runs`).
    """
    base, base_note = resolve_run(session, project_id, baseline)
    cand, cand_note = resolve_run(session, project_id, candidate)
    comparison = compare_runs(
        session,
        project_id,
        str(base.id),
        str(cand.id),
        on_common_cases=on_common_cases,
        alpha=alpha,
        seed=seed,
        resamples=resamples,
    )
    return ResolvedComparison(comparison, [n for n in (base_note, cand_note) if n])
