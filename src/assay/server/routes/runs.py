"""REST API: experiment runs and comparisons of the API key's project (under /api/v1).

The JSON twins of the runs and comparison pages; runs themselves start from the CLI
(`assay run`), pytest, or ``assay.run_experiment``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from assay.experiments import RunView, StoredResult, get_run, list_runs, run_results
from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state

router = APIRouter(
    prefix="/api/v1",
    tags=["runs"],
    responses={
        400: {"description": "Runs that cannot be compared; the message says why."},
        401: {"description": "Missing, unknown or revoked project API key."},
        404: {"description": "The key's project has no such run."},
    },
)
State = Annotated[ServerState, Depends(get_state)]
_PAGE = 100
_MAX_PAGE = 1000


class RunOut(BaseModel):
    """An experiment run and its summary."""

    id: int
    name: str
    dataset: str = Field(description="`NAME@N` of the dataset version it ran over.")
    target: dict[str, Any] = Field(description="The target, secrets left out.")
    target_fingerprint: str
    release: str | None
    scorers: list[dict[str, Any]] = Field(description="Scorer specs: `{name, args}`.")
    repeat: int
    status: str = Field(description="`running`, `completed`, `interrupted` or `failed`.")
    summary: dict[str, Any] = Field(description="Per-scorer aggregates, latency, cost.")
    created_at: datetime
    finished_at: datetime | None


class ResultOut(BaseModel):
    """One sample of one case."""

    case_id: str
    sample: int
    output: Any
    error: str | None
    latency_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    cached: bool
    scores: dict[str, Any] = Field(description="By scorer label: value, passed, reason.")


class RunResultsOut(BaseModel):
    """A run and a page of its results."""

    run: RunOut
    offset: int
    total: int
    results: list[ResultOut]


def _run(view: RunView) -> RunOut:
    return RunOut(**asdict(view))


@router.get("/runs", response_model=list[RunOut], summary="List runs")
def runs(
    project: ApiProject,
    state: State,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> list[RunOut]:
    """The project's runs, newest first."""
    with state.store.session() as session:
        return [_run(v) for v in list_runs(session, project.project_id, limit=limit)]


@router.get("/runs/{name}", response_model=RunResultsOut, summary="Get a run's results")
def run(
    name: str,
    project: ApiProject,
    state: State,
    offset: Annotated[int, Query(ge=0, description="Skip this many results.")] = 0,
    limit: Annotated[int, Query(ge=1, le=_MAX_PAGE, description="At most this many.")] = _PAGE,
) -> RunResultsOut:
    """A run (by name or id) and a page of its results, by case id and sample."""
    with state.store.session() as session:
        view = get_run(session, project.project_id, name)
        results = run_results(session, view.id)
    page = results[offset : offset + limit]
    return RunResultsOut(
        run=_run(view),
        offset=offset,
        total=len(results),
        results=[_result(r) for r in page],
    )


def _result(r: StoredResult) -> ResultOut:
    return ResultOut(**r._asdict())


@router.get("/compare", summary="Compare two runs")
def compare(
    project: ApiProject,
    state: State,
    baseline: Annotated[str, Query(description="Run name, id or `release:NAME`.")],
    candidate: Annotated[str, Query(description="Run name, id or `release:NAME`.")],
    on_common_cases: Annotated[
        bool, Query(description="Compare runs on different versions on their common cases.")
    ] = False,
    alpha: Annotated[float, Query(gt=0, lt=0.5, description="Significance level.")] = 0.05,
    seed: Annotated[int, Query(ge=0, description="Bootstrap seed.")] = 0,
    resamples: Annotated[int, Query(ge=100, le=100_000, description="Bootstrap resamples.")] = (
        10_000
    ),
) -> dict[str, Any]:
    """The paired comparison of two runs, as `assay compare --json` prints it."""
    # SciPy and statsmodels load with the first comparison, not with the server.
    from assay.comparisons import comparison_json
    from assay.gate import compare_refs

    with state.store.session() as session:
        result = compare_refs(
            session,
            project.project_id,
            baseline,
            candidate,
            on_common_cases=on_common_cases,
            alpha=alpha,
            seed=seed,
            resamples=resamples,
        )
    return {**comparison_json(result.comparison), "notes": result.notes}
