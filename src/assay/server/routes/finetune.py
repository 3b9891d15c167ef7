"""REST API: fine-tuning examples from corrections, eval cases excluded (under /api/v1)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from assay.finetune import SOURCES, export_corrections
from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state

if TYPE_CHECKING:
    from assay.embeddings import Embedder

router = APIRouter(
    prefix="/api/v1",
    tags=["finetune"],
    responses={401: {"description": "Missing, unknown or revoked project API key."}},
)
State = Annotated[ServerState, Depends(get_state)]


class ExclusionOut(BaseModel):
    """A correction left out because its question is an eval case's."""

    trace_id: str
    kind: Literal["exact", "near"]
    similarity: float
    dataset: str
    case_id: str
    question: str


class SkippedOut(BaseModel):
    """A correction that could not become an example."""

    trace_id: str
    reason: str


class FinetuneExportOut(BaseModel):
    """The examples, and what was left out and why."""

    format: Literal["openai", "generic"]
    records: list[dict[str, Any]] = Field(description="One JSONL line each, as objects.")
    corrections: int = Field(description="Corrections found (the newest per trace).")
    excluded: list[ExclusionOut]
    skipped: list[SkippedOut]
    cases_checked: int = Field(description="Eval cases the questions were compared with.")
    threshold: float | None = Field(description="Cosine counted as near; null: not checked.")


@cache
def _embedder() -> Embedder:
    # Loaded on the first export that asks for it, then kept for the process.
    from assay.embeddings import get_embedder

    return get_embedder("minilm")


@router.get("/finetune/export", response_model=FinetuneExportOut, summary="Export corrections")
def finetune_export(
    project: ApiProject,
    state: State,
    format: Annotated[
        Literal["openai", "generic"], Query(description="`openai` chat lines or `generic`.")
    ] = "openai",
    feedback: Annotated[
        str, Query(min_length=1, max_length=100, description="Feedback holding corrections.")
    ] = "correction",
    near_duplicates: Annotated[
        bool, Query(description="Also exclude near duplicates of eval cases (embeddings).")
    ] = True,
    threshold: Annotated[
        float, Query(ge=0.5, le=1.0, description="Cosine similarity that counts as near.")
    ] = 0.95,
    source: Annotated[
        list[Literal["feedback", "review"]] | None,
        Query(
            description="Where corrections come from (repeat for both; both by default): "
            "`feedback` (text feedback named by `feedback`) or `review` (the correction "
            "field of resolved review-queue items)."
        ),
    ] = None,
) -> FinetuneExportOut:
    """Corrections as fine-tuning examples; questions of the project's eval cases left out.

    The same as `assay finetune export`: each trace's newest correction (feedback whose
    value is text, or the correction field of a resolved review item) becomes the
    trace's input messages plus the corrected answer.
    """
    result = export_corrections(
        state.store,
        project.project_id,
        feedback_name=feedback,
        format=format,
        embedder=_embedder() if near_duplicates else None,
        threshold=threshold,
        sources=tuple(dict.fromkeys(source)) if source else SOURCES,
    )
    return FinetuneExportOut.model_validate(
        {
            "format": result.format,
            "records": result.records,
            "corrections": result.corrections,
            "excluded": [
                ExclusionOut.model_validate(e, from_attributes=True) for e in result.excluded
            ],
            "skipped": [SkippedOut.model_validate(s, from_attributes=True) for s in result.skipped],
            "cases_checked": result.cases_checked,
            "threshold": result.threshold,
        }
    )
