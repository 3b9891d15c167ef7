"""REST API: the API key's project's traces (under /api/v1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import InvalidInput
from assay.server.auth import ApiProject
from assay.server.routes.feedback import FeedbackOut
from assay.server.state import ServerState, get_state
from assay.traces import (
    MAX_PAGE,
    TraceFilter,
    get_trace,
    list_traces,
    parse_timestamp,
)

router = APIRouter(
    prefix="/api/v1",
    tags=["traces"],
    responses={
        400: {"description": "A malformed parameter; the message names it."},
        401: {"description": "Missing, unknown or revoked project API key."},
    },
)
State = Annotated[ServerState, Depends(get_state)]

Content = str | list[dict[str, Any]] | None
_CONTENT = (
    "Plain text, or a list of chat messages ({role, content[, tool_calls]}); "
    "null when none was recorded."
)
_TIME = "Nanoseconds since the epoch, or an ISO 8601 datetime (UTC when no offset is given)."


class TraceReleaseOut(BaseModel):
    """The release a trace sent, resolved against the registered releases."""

    model_config = ConfigDict(from_attributes=True)

    ref: str = Field(description="What the app sent (assay.release or service.version).")
    name: str | None = Field(description="The registered release's name; null if unregistered.")
    fingerprint: str | None = Field(
        description="The registered release's fingerprint; null if unregistered."
    )


class TraceSummaryOut(BaseModel):
    """A trace as a row of a list."""

    model_config = ConfigDict(from_attributes=True)

    trace_id: str = Field(description="32 lowercase hex digits.")
    name: str | None = Field(description="The root span's name.")
    service_name: str | None = Field(description="The app's service.name.")
    start_ns: int = Field(description="Start, nanoseconds since the epoch.")
    end_ns: int = Field(description="End, nanoseconds since the epoch.")
    start_time: str = Field(description="Start, ISO 8601 UTC (to the microsecond).")
    duration_ms: float = Field(description="Duration in milliseconds.")
    status: Literal["ok", "error", "unset"] = Field(
        description="error if any span failed, else the root span's status."
    )
    model: str | None = Field(description="The first model seen in the trace.")
    input_preview: str | None = Field(description="The input on one line, at most 200 chars.")
    output_preview: str | None = Field(description="The output on one line, at most 200 chars.")
    span_count: int = Field(description="Spans stored.")
    error_count: int = Field(description="Spans with status error.")
    prompt_tokens: int = Field(description="Input tokens over all spans.")
    completion_tokens: int = Field(description="Output tokens over all spans.")
    total_tokens: int = Field(description="Input plus output tokens.")
    cost: float = Field(description="Cost over all spans, USD.")
    release: TraceReleaseOut | None = Field(description="The release sent; null if none.")
    session_id: str | None = Field(description="The conversation or session id.")
    user_id: str | None = Field(description="The end user's id.")
    slices: dict[str, Any] = Field(description="Slice attributes (locale, tier, ...), by key.")
    feedback_count: int = Field(description="How much feedback the trace has.")


class TracePageOut(BaseModel):
    """A page of traces, newest first."""

    model_config = ConfigDict(from_attributes=True)

    items: list[TraceSummaryOut] = Field(description="The traces on this page.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class SpanOut(BaseModel):
    """One span with its children."""

    model_config = ConfigDict(from_attributes=True)

    span_id: str = Field(description="16 lowercase hex digits.")
    parent_span_id: str | None = Field(
        description="The parent span; null for the root. Set on a top-level span whose "
        "parent has not arrived."
    )
    name: str = Field(description="Span name.")
    kind: str = Field(description="llm, retrieval, tool, chain, agent, embedding, ... or span.")
    model: str | None = Field(description="The model that answered.")
    provider: str | None = Field(description="Provider or system (openai, ...).")
    input: Content = Field(description=_CONTENT)
    output: Content = Field(description=_CONTENT)
    prompt_tokens: int | None = Field(description="Input tokens, if reported.")
    completion_tokens: int | None = Field(description="Output tokens, if reported.")
    cost: float | None = Field(description="Cost in USD, reported or priced from tokens.")
    start_ns: int = Field(description="Start, nanoseconds since the epoch.")
    end_ns: int = Field(description="End, nanoseconds since the epoch.")
    start_time: str = Field(description="Start, ISO 8601 UTC.")
    duration_ms: float = Field(description="Duration in milliseconds.")
    status: Literal["ok", "error", "unset"] = Field(description="Span status.")
    status_message: str | None = Field(description="The error description, if any.")
    session_id: str | None = Field(description="Session id attribute.")
    user_id: str | None = Field(description="User id attribute.")
    attributes: dict[str, Any] = Field(description="The remaining span attributes.")
    events: list[dict[str, Any]] = Field(description="Span events: name, time_ns, attributes.")
    children: list[SpanOut] = Field(description="Child spans, by start time.")


class TraceDetailOut(TraceSummaryOut):
    """A whole trace: summary fields, full content, the span tree and feedback."""

    input: Content = Field(description=_CONTENT)
    output: Content = Field(description=_CONTENT)
    resource: dict[str, Any] = Field(description="OTLP resource attributes of the root span.")
    spans: list[SpanOut] = Field(
        description="Top-level spans (the root, and orphans whose parent has not arrived) "
        "by start time, each with its children."
    )
    feedback: list[FeedbackOut] = Field(description="The trace's feedback, oldest first.")


def _slices(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in values:
        key, colon, value = item.partition(":")
        if not colon or not key:
            raise InvalidInput(f"slice: expected key:value, got {item!r}")
        pairs.append((key, value))
    return pairs


@router.get("/traces", response_model=TracePageOut, summary="List traces")
def traces(
    project: ApiProject,
    state: State,
    start_from: Annotated[
        str | None, Query(description=f"Traces starting at or after this time. {_TIME}")
    ] = None,
    start_to: Annotated[
        str | None, Query(description=f"Traces starting before this time. {_TIME}")
    ] = None,
    release: Annotated[
        str | None,
        Query(
            description="A registered release's name, fingerprint or fingerprint prefix "
            "(8+ hex digits), or a raw release ref as the app sent it."
        ),
    ] = None,
    model: Annotated[
        str | None, Query(description="The trace's model or any span's model.")
    ] = None,
    status: Annotated[
        Literal["ok", "error", "unset"] | None, Query(description="Trace status.")
    ] = None,
    kind: Annotated[
        str | None,
        Query(description="Traces with a span of this kind: llm, retrieval, tool, agent, ..."),
    ] = None,
    slices: Annotated[
        list[str] | None,
        Query(
            alias="slice",
            description="key:value, repeatable. Different keys must all match; several "
            'values of one key match any. Compared as text (tier:3 matches 3 and "3").',
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            description="Case-insensitive text in the input or output of the trace or "
            "any span (% and _ are literal)."
        ),
    ] = None,
    session_id: Annotated[str | None, Query(description="Session id.")] = None,
    user_id: Annotated[str | None, Query(description="End user id.")] = None,
    has_feedback: Annotated[
        bool | None, Query(description="true: traces with feedback; false: without.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> TracePageOut:
    """The project's traces, newest first, filtered, a page at a time.

    Pages are keyset-paginated: following `next_cursor` never repeats or skips a
    trace when newer ones arrive in between.
    """
    filters = TraceFilter(
        start_from_ns=parse_timestamp(start_from, field="start_from") if start_from else None,
        start_to_ns=parse_timestamp(start_to, field="start_to") if start_to else None,
        release=release,
        model=model,
        status=status,
        kind=kind,
        slices=_slices(slices or []),
        q=q,
        session_id=session_id,
        user_id=user_id,
        has_feedback=has_feedback,
    )
    with state.store.session() as session:
        page = list_traces(session, project.project_id, filters, limit=limit, cursor=cursor)
    return TracePageOut.model_validate(page)


@router.get(
    "/traces/{trace_id}",
    response_model=TraceDetailOut,
    summary="Get a trace",
    responses={404: {"description": "The key's project has no such trace."}},
)
def trace(trace_id: str, project: ApiProject, state: State) -> TraceDetailOut:
    """One trace with its span tree (content logs folded in) and its feedback."""
    with state.store.session() as session:
        detail = get_trace(session, project.project_id, trace_id)
    return TraceDetailOut.model_validate(detail)
