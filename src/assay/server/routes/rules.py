"""REST API: routing rules of the API key's project, which send traces to review
queues (under /api/v1).

Conditions come in either form :func:`assay.signals.parse_conditions` reads: objects
``{"field", "op", "value"}`` or the compact text ``"feedback.thumbs <= 0"``; they are
answered in both. See :mod:`assay.signals.rules`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state
from assay.signals import (
    Condition,
    RuleHits,
    RuleView,
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    rule_hits,
    update_rule,
)

router = APIRouter(
    prefix="/api/v1",
    tags=["rules"],
    responses={
        400: {"description": "A malformed value; the message names it. Nothing is changed."},
        401: {"description": "Missing, unknown or revoked project API key."},
        404: {"description": "The key's project has no such rule or queue."},
    },
)
State = Annotated[ServerState, Depends(get_state)]

CONDITIONS = (
    "A list of conditions (or one alone); all must hold. Each is text `FIELD OP VALUE` "
    "(`feedback.thumbs <= 0`, `status == error`, `slice.locale in de,fr`, "
    "`passed.faithfulness == false`) or an object `{field, op, value}` with op one of eq "
    "ne lt le gt ge in not_in exists missing contains. Fields: status, model, release, "
    "service, name, latency_ms, cost, tokens, input, output, feedback.<name>, "
    "signal.<name>, score.<scorer>, passed.<scorer>, confidence.<scorer>, slice.<key>."
)


class ConditionIn(BaseModel):
    """One condition as an object."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="What is tested: `status`, `feedback.thumbs`, ...")
    op: str = Field(description="eq ne lt le gt ge in not_in exists missing contains.")
    value: Any = Field(default=None, description="Compared with; a list for in and not_in.")


ConditionsIn = list[ConditionIn | str] | ConditionIn | str
"""Conditions as a request gives them: a list, or one condition alone."""


class ConditionOut(BaseModel):
    """One condition, stored form."""

    field: str = Field(description="What is tested.")
    op: str = Field(description="The operator name.")
    value: Any = Field(description="What the fact is compared with; null for exists/missing.")
    text: str = Field(description="The compact text form, e.g. `feedback.thumbs <= 0`.")


class RuleOut(BaseModel):
    """A routing rule."""

    id: int = Field(description="The rule's id (also accepted where a name is).")
    name: str = Field(description="Unique in the project.")
    queue: str = Field(description="The review queue it sends traces to.")
    conditions: list[ConditionOut] = Field(description="All must hold; none: every trace.")
    sample_rate: float = Field(description="Share of matching traces enqueued, in (0, 1].")
    enabled: bool = Field(description="Whether it routes new traces.")
    description: str = Field(description="What it is for.")
    matches: int = Field(description="Traces it matched (each once), enqueued or not.")
    created_at: datetime = Field(description="When it was created (UTC).")


class RuleIn(BaseModel):
    """A routing rule to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique in the project, 1-100 characters.")
    queue: str = Field(description="The review queue (name) it sends traces to.")
    conditions: ConditionsIn | None = Field(
        default=None, description=f"{CONDITIONS} None: a calibration sample of every trace."
    )
    sample_rate: float = Field(default=1.0, description="Share of matches to enqueue, (0, 1].")
    enabled: bool = Field(default=True, description="Whether it routes.")
    description: str = Field(default="", description="What it is for.")


class RulePatch(BaseModel):
    """Changes to a rule; what is left out stays. `conditions: null` removes them all."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="A new name.")
    queue: str | None = Field(default=None, description="Another queue.")
    conditions: ConditionsIn | None = Field(default=None, description=CONDITIONS)
    sample_rate: float | None = Field(default=None, description="A new rate, (0, 1].")
    enabled: bool | None = Field(default=None, description="Turn it on or off.")
    description: str | None = Field(default=None, description="A new description.")


class DayCountOut(BaseModel):
    """Matches on one UTC day."""

    day: date = Field(description="The day (UTC).")
    matches: int = Field(description="Traces matched that day.")


class RuleHitsOut(BaseModel):
    """How much a rule routes."""

    name: str = Field(description="The rule.")
    queue: str = Field(description="Its queue.")
    enabled: bool = Field(description="Whether it routes.")
    matches: int = Field(description="Traces it matched, all time.")
    enqueued: int = Field(description="Of those, traces it put in its queue (after sampling).")
    last_match_at: datetime | None = Field(description="When it last matched; null: never.")
    per_day: list[DayCountOut] = Field(description="Matches per UTC day, oldest first.")


def condition_out(c: Condition) -> ConditionOut:
    """The API shape of a condition."""
    stored = c.to_dict()
    return ConditionOut(field=c.field, op=c.op, value=stored.get("value"), text=str(c))


def conditions_in(conditions: ConditionsIn | None) -> list[Any] | None:
    """Conditions as :func:`assay.signals.parse_conditions` reads them."""
    if conditions is None:
        return None
    items = conditions if isinstance(conditions, list) else [conditions]
    return [c.model_dump(exclude_unset=True) if isinstance(c, ConditionIn) else c for c in items]


def _rule(view: RuleView) -> RuleOut:
    return RuleOut(
        id=view.id,
        name=view.name,
        queue=view.queue,
        conditions=[condition_out(c) for c in view.conditions],
        sample_rate=view.sample_rate,
        enabled=view.enabled,
        description=view.description,
        matches=view.matches,
        created_at=view.created_at,
    )


def _hits(h: RuleHits) -> RuleHitsOut:
    return RuleHitsOut(
        name=h.name,
        queue=h.queue,
        enabled=h.enabled,
        matches=h.matches,
        enqueued=h.enqueued,
        last_match_at=h.last_match_at,
        per_day=[DayCountOut(day=d.day, matches=d.matches) for d in h.per_day],
    )


@router.get("/rules", response_model=list[RuleOut], summary="List routing rules")
def rules(project: ApiProject, state: State) -> list[RuleOut]:
    """The project's routing rules, by name."""
    with state.store.session() as session:
        return [_rule(v) for v in list_rules(session, project.project_id)]


@router.post(
    "/rules",
    response_model=RuleOut,
    status_code=201,
    summary="Create a routing rule",
    responses={409: {"description": "The project already has a rule of that name."}},
)
def create(body: RuleIn, project: ApiProject, state: State) -> RuleOut:
    """Create a rule: traces meeting every condition are sampled at `sample_rate` and
    put in the queue by the worker, each at most once."""
    with state.store.write_session() as session:
        view = create_rule(
            session,
            project.project_id,
            body.name,
            body.queue,
            conditions=conditions_in(body.conditions),
            sample_rate=body.sample_rate,
            enabled=body.enabled,
            description=body.description,
        )
        return _rule(view)


# Declared before /rules/{name}, which would otherwise take `hits` for a rule's name.
@router.get("/rules/hits", response_model=list[RuleHitsOut], summary="Routing rule hits")
def hits(
    project: ApiProject,
    state: State,
    days: Annotated[int, Query(ge=1, le=366, description="Days `per_day` covers.")] = 14,
) -> list[RuleHitsOut]:
    """Per rule: traces matched, traces enqueued, the last match and matches per UTC
    day over the last `days` days (today included)."""
    with state.store.session() as session:
        return [_hits(h) for h in rule_hits(session, project.project_id, days=days)]


@router.get("/rules/{name}", response_model=RuleOut, summary="Get a routing rule")
def rule(name: str, project: ApiProject, state: State) -> RuleOut:
    """One rule, by name (or id)."""
    with state.store.session() as session:
        return _rule(get_rule(session, project.project_id, name))


@router.patch(
    "/rules/{name}",
    response_model=RuleOut,
    summary="Change a routing rule",
    responses={409: {"description": "The new name is taken."}},
)
def change(name: str, body: RulePatch, project: ApiProject, state: State) -> RuleOut:
    """Change a rule; what is left out stays. Matches recorded under the old
    conditions stay recorded."""
    changes: dict[str, Any] = {}
    if "conditions" in body.model_fields_set:
        changes["conditions"] = conditions_in(body.conditions)
    with state.store.write_session() as session:
        view = update_rule(
            session,
            project.project_id,
            name,
            name=body.name,
            queue=body.queue,
            sample_rate=body.sample_rate,
            enabled=body.enabled,
            description=body.description,
            **changes,
        )
        return _rule(view)


@router.delete(
    "/rules/{name}",
    status_code=204,
    response_class=Response,
    summary="Delete a routing rule",
)
def delete(name: str, project: ApiProject, state: State) -> Response:
    """Delete a rule and its recorded matches; queue items it made stay."""
    with state.store.write_session() as session:
        delete_rule(session, project.project_id, name)
    return Response(status_code=204)
