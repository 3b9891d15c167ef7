"""REST API: online scorers of the API key's project, which score sampled live
traffic in the worker, and the scores they gave (under /api/v1).

See :mod:`assay.signals.online`. Filters take the conditions of routing rules, in
either form (see :mod:`assay.server.routes.rules`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import NotFound
from assay.server.auth import ApiProject
from assay.server.routes.rules import (
    CONDITIONS,
    ConditionOut,
    ConditionsIn,
    condition_out,
    conditions_in,
)
from assay.server.state import ServerState, get_state
from assay.signals import (
    OnlineScorerView,
    backfill,
    create_online_scorer,
    delete_online_scorer,
    get_online_scorer,
    list_online_scorers,
    trace_scores,
    update_online_scorer,
)
from assay.signals.remote import check_api_spec, parse_api_spec
from assay.traces import check_trace_id, known_traces, ns_to_datetime, parse_timestamp

router = APIRouter(
    prefix="/api/v1",
    tags=["online-scorers"],
    responses={
        400: {"description": "A malformed value; the message names it. Nothing is changed."},
        401: {"description": "Missing, unknown or revoked project API key."},
        404: {"description": "The key's project has no such online scorer or trace."},
    },
)
State = Annotated[ServerState, Depends(get_state)]

_TIME = "Nanoseconds since the epoch, or an ISO 8601 datetime (UTC when no offset is given)."


class ScorerSpecIO(BaseModel):
    """A scorer: a registered name and its arguments."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="A built-in scorer (`regex`, `judge`, ...) or a plugin's.")
    args: dict[str, Any] = Field(default_factory=dict, description="Its arguments.")


class OnlineScorerOut(BaseModel):
    """An online scorer."""

    id: int = Field(description="The scorer's id (also accepted where a name is).")
    name: str = Field(description="Its name; conditions read `score.<name>`, `passed.<name>`.")
    scorer: ScorerSpecIO = Field(description="The scorer it runs, in canonical form.")
    sample_rate: float = Field(description="Share of new traces scored, in (0, 1].")
    filters: list[ConditionOut] = Field(description="Conditions a trace must meet to be scored.")
    enabled: bool = Field(description="Whether the worker runs it on new traces.")
    created_at: datetime = Field(
        description="When it was created (UTC); traces from before are left to backfill."
    )


class OnlineScorerIn(BaseModel):
    """An online scorer to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1-100 letters, digits, `_`, `.` or `-`; unique in the project.")
    scorer: ScorerSpecIO | str = Field(
        description="`NAME[:ARGS]` text (`regex:pattern=please,flags=i`) or `{name, args}`."
    )
    sample_rate: float = Field(default=1.0, description="Share of new traces to score, (0, 1].")
    filters: ConditionsIn | None = Field(default=None, description=CONDITIONS)
    enabled: bool = Field(default=True, description="Whether the worker runs it.")


class OnlineScorerPatch(BaseModel):
    """Changes to an online scorer; what is left out stays. The scorer itself cannot
    change: stored scores would mean two things under one name."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(default=None, description="Turn it on or off.")
    sample_rate: float | None = Field(default=None, description="A new rate, (0, 1].")
    filters: ConditionsIn | None = Field(
        default=None, description="New filters; `null` or `[]` removes them all."
    )


class BackfillIn(BaseModel):
    """Which stored traces to score."""

    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(default=None, description=f"Traces started at or after. {_TIME}")
    until: str | None = Field(default=None, description=f"Traces started before. {_TIME}")
    limit: int | None = Field(
        default=None, ge=1, description="At most this many traces, newest first; null: all."
    )


class BackfillOut(BaseModel):
    """What a backfill queued."""

    jobs: int = Field(
        description="Score jobs created; the worker runs them. Traces scored already, "
        "or not selected by sampling and filters, make none."
    )


class OnlineScoreOut(BaseModel):
    """An online scorer's verdict on a trace."""

    scorer: str = Field(description="The online scorer's name.")
    value: float | None = Field(description="The score in [0, 1]; null on error.")
    passed: bool | None = Field(description="Pass/fail, where the scorer defines one.")
    confidence: float | None = Field(description="The judge's confidence, if it gave one.")
    reason: str = Field(description="Why, in words.")
    error: str | None = Field(description="What kept the scorer from a verdict.")
    created_at: datetime = Field(description="When it was stored (UTC).")


def _scorer(view: OnlineScorerView) -> OnlineScorerOut:
    return OnlineScorerOut(
        id=view.id,
        name=view.name,
        scorer=ScorerSpecIO.model_validate(view.spec.to_dict()),
        sample_rate=view.sample_rate,
        filters=[condition_out(c) for c in view.filters],
        enabled=view.enabled,
        created_at=view.created_at,
    )


def _time(text: str | None, field: str) -> datetime | None:
    return ns_to_datetime(parse_timestamp(text, field=field)) if text else None


@router.get("/online-scorers", response_model=list[OnlineScorerOut], summary="List online scorers")
def scorers(project: ApiProject, state: State) -> list[OnlineScorerOut]:
    """The project's online scorers, by name."""
    with state.store.session() as session:
        return [_scorer(v) for v in list_online_scorers(session, project.project_id)]


@router.post(
    "/online-scorers",
    response_model=OnlineScorerOut,
    status_code=201,
    summary="Create an online scorer",
    responses={
        403: {"description": "A scorer kind or URL a project key may not use."},
        409: {"description": "The project already has an online scorer of that name."},
    },
)
def create(body: OnlineScorerIn, project: ApiProject, state: State) -> OnlineScorerOut:
    """Create an online scorer: the worker scores each new trace it selects (sampled
    at `sample_rate` and meeting every filter). An unknown scorer or bad arguments are
    refused with 400. A project key may create only scorers that run no code on the
    server and call only allowed URLs (`ASSAY_API_SCORER_BASE_URLS`): `exact`,
    `contains`, `regex`, `numeric`, `json`, `embedding`, `judge`; others get 403."""
    spec = body.scorer if isinstance(body.scorer, str) else body.scorer.model_dump()
    check_api_spec(parse_api_spec(spec), state.settings.api_scorer_base_urls)
    with state.store.write_session() as session:
        view = create_online_scorer(
            session,
            project.project_id,
            body.name,
            spec,
            sample_rate=body.sample_rate,
            filters=conditions_in(body.filters),
            enabled=body.enabled,
        )
        return _scorer(view)


@router.get(
    "/online-scorers/{name}", response_model=OnlineScorerOut, summary="Get an online scorer"
)
def scorer(name: str, project: ApiProject, state: State) -> OnlineScorerOut:
    """One online scorer, by name (or id)."""
    with state.store.session() as session:
        return _scorer(get_online_scorer(session, project.project_id, name))


@router.patch(
    "/online-scorers/{name}", response_model=OnlineScorerOut, summary="Change an online scorer"
)
def change(
    name: str, body: OnlineScorerPatch, project: ApiProject, state: State
) -> OnlineScorerOut:
    """Enable or disable a scorer, or change its rate or filters; traces the worker
    takes up afterwards see the change, and stored scores stay."""
    filters = None
    if "filters" in body.model_fields_set:
        filters = conditions_in(body.filters) or []
    with state.store.write_session() as session:
        view = update_online_scorer(
            session,
            project.project_id,
            name,
            enabled=body.enabled,
            sample_rate=body.sample_rate,
            filters=filters,
        )
        return _scorer(view)


@router.delete(
    "/online-scorers/{name}",
    status_code=204,
    response_class=Response,
    summary="Delete an online scorer",
)
def delete(name: str, project: ApiProject, state: State) -> Response:
    """Delete an online scorer with its scores and pending jobs."""
    with state.store.write_session() as session:
        delete_online_scorer(session, project.project_id, name)
    return Response(status_code=204)


@router.post(
    "/online-scorers/{name}/backfill",
    response_model=BackfillOut,
    summary="Score stored traces",
)
def backfill_history(name: str, body: BackfillIn, project: ApiProject, state: State) -> BackfillOut:
    """Queue score jobs for stored traces (those that started in `[since, until)`, at
    most `limit`, newest first) so the worker scores history. Sampling and filters
    apply as for new traces; a trace scored already is not scored again."""
    since = _time(body.since, "since")
    until = _time(body.until, "until")
    with state.store.write_session() as session:
        view = get_online_scorer(session, project.project_id, name)
        return BackfillOut(jobs=backfill(session, view, since=since, until=until, limit=body.limit))


@router.get(
    "/traces/{trace_id}/scores",
    response_model=list[OnlineScoreOut],
    summary="Get a trace's online scores",
)
def scores(trace_id: str, project: ApiProject, state: State) -> list[OnlineScoreOut]:
    """The online scorers' verdicts on one trace, by scorer name."""
    tid = check_trace_id(trace_id)
    with state.store.session() as session:
        if not known_traces(session, project.project_id, {tid}):
            raise NotFound(f"trace {tid} not found")
        found = trace_scores(session, project.project_id, [tid])
    return [
        OnlineScoreOut(
            scorer=s.scorer,
            value=s.value,
            passed=s.passed,
            confidence=s.confidence,
            reason=s.reason,
            error=s.error,
            created_at=s.created_at,
        )
        for s in found
    ]
