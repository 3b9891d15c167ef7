"""REST API: feedback on the API key's project's traces (under /api/v1).

Feedback for a trace that has not arrived yet is accepted (apps send feedback
before their span exporter flushes); ``trace_known`` says whether it has. See
:mod:`assay.traces.feedback`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state
from assay.traces import MAX_PAGE, list_feedback, record_feedback

router = APIRouter(
    prefix="/api/v1",
    tags=["feedback"],
    responses={
        400: {"description": "A malformed field; the message names it. Nothing is stored."},
        401: {"description": "Missing, unknown or revoked project API key."},
    },
)
State = Annotated[ServerState, Depends(get_state)]


class FeedbackIn(BaseModel):
    """Feedback on a trace, or on one span of it."""

    model_config = ConfigDict(extra="forbid")

    trace_id: str = Field(description="The trace: 32 hex digits.")
    span_id: str | None = Field(
        default=None, description="The span: 16 hex digits. Omit for the whole trace."
    )
    name: str = Field(description="What is measured, 1-100 characters: thumbs, rating, ...")
    # Order matters: pydantic's smart union keeps true/false as bool, 4 as int.
    value: bool | int | float | str = Field(
        description="true/false (thumbs), a number (a rating or score) or text (a label "
        "or a corrected answer)."
    )
    comment: str | None = Field(default=None, description="Free text from the user.")
    source: str = Field(
        default="api", description="Who sends it, 1-20 characters: api, sdk, ui, ..."
    )


class FeedbackOut(BaseModel):
    """Stored feedback."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Feedback id; newer feedback has a larger id.")
    trace_id: str = Field(description="The trace, 32 lowercase hex digits.")
    span_id: str | None = Field(description="The span, or null for the whole trace.")
    name: str = Field(description="What was measured.")
    value: bool | float | str = Field(description="The value as sent (integers as numbers).")
    value_num: float | None = Field(
        description="The value as a number (1/0 for true/false); null for text."
    )
    value_text: str | None = Field(
        description="The value as text ('true'/'false' for booleans); null for numbers."
    )
    comment: str | None = Field(description="Free text that came with it.")
    source: str = Field(description="Who sent it.")
    created_at: datetime = Field(description="When it was recorded (UTC).")
    trace_known: bool = Field(
        description="Whether the trace has arrived; feedback may come before its spans."
    )


class FeedbackPageOut(BaseModel):
    """A page of feedback, newest first."""

    model_config = ConfigDict(from_attributes=True)

    items: list[FeedbackOut] = Field(description="The feedback on this page.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


@router.post("/feedback", response_model=FeedbackOut, status_code=201, summary="Record feedback")
def post_feedback(body: FeedbackIn, project: ApiProject, state: State) -> FeedbackOut:
    """Record feedback on a trace of the key's project.

    The trace need not have arrived yet; a malformed field is refused with 400 (or
    422 for a wrong type) naming it, and nothing is stored. A text value and the
    comment are redacted by the project's rules before they are stored.
    """
    with state.store.write_session() as session:
        view = record_feedback(
            session,
            project.project_id,
            body.trace_id,
            body.name,
            body.value,
            comment=body.comment,
            span_id=body.span_id,
            source=body.source,
            redactor=project.redactor,
        )
    return FeedbackOut.model_validate(view)


@router.get("/feedback", response_model=FeedbackPageOut, summary="List feedback")
def get_feedback(
    project: ApiProject,
    state: State,
    trace_id: Annotated[str | None, Query(description="Only feedback on this trace.")] = None,
    name: Annotated[str | None, Query(description="Only feedback of this name.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> FeedbackPageOut:
    """The project's feedback, newest first, a page at a time."""
    with state.store.session() as session:
        page = list_feedback(
            session, project.project_id, trace_id=trace_id, name=name, limit=limit, cursor=cursor
        )
    return FeedbackPageOut.model_validate(page)
