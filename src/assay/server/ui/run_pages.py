"""Run pages: a project's experiment runs, and one run's summary and per-case results.

JSON twins: ``GET /api/v1/runs`` and ``GET /api/v1/runs/{name}`` (project key); both
read through :func:`assay.experiments.get_run` / :func:`~assay.experiments.run_results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from assay.datasets import CaseView, version_cases
from assay.errors import AssayError, InvalidInput
from assay.experiments import RunView, StoredResult, get_run, list_runs, run_results
from assay.projects import get_project
from assay.server.ui.access import Staff
from assay.server.ui.eval_links import EvalLinks
from assay.server.ui.layout import failure_page, layout_context, store_of
from assay.server.ui.paging import Pager, page_number
from assay.server.ui.result_view import (
    TEMPLATE_HELPERS,
    VERDICTS,
    Verdict,
    scorer_labels,
    scorer_summaries,
    target_text,
    verdict_of,
)
from assay.server.ui.run_filters import ResultFilter
from assay.server.ui.templating import render

router = APIRouter(include_in_schema=False)

STATUS_BADGES = {"completed": "ok", "failed": "error", "interrupted": "error"}
"""Run status to the badge colour of a trace status (running: neutral)."""


@dataclass(frozen=True)
class ResultLine:
    """One row of a run's result table.

    Attributes:
        result: The stored result (one sample of one case).
        case: The dataset case it answered, when the version still holds it.
        verdicts: Each scorer's verdict, in the run's scorer order.
    """

    result: StoredResult
    case: CaseView | None
    verdicts: list[Verdict]


def previous_runs(runs: list[RunView]) -> dict[int, RunView]:
    """For each run (newest first), the next older run on the same dataset version:
    the natural baseline to compare it with."""
    out: dict[int, RunView] = {}
    for i, run in enumerate(runs):
        for older in runs[i + 1 :]:
            if older.dataset_version_id == run.dataset_version_id:
                out[run.id] = older
                break
    return out


def dataset_matches(run: RunView, wanted: str) -> bool:
    """Whether a run is on dataset ``wanted`` (``NAME``: any version; ``NAME@N``: that one)."""
    if "@" in wanted:
        return run.dataset == wanted
    return run.dataset.rpartition("@")[0] == wanted


@router.get("/p/{project}/runs")
def runs_page(
    request: Request,
    project: str,
    viewer: Staff,
    dataset: Annotated[str, Query(description="Only runs on NAME or NAME@N.")] = "",
) -> Response:
    """A project's runs, newest first, with per-scorer results and comparison links."""
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            runs = list_runs(db, the_project.id)
            context = layout_context(db, viewer, title="Runs", project=the_project, nav="runs")
        wanted = dataset.strip()
        shown = [r for r in runs if dataset_matches(r, wanted)] if wanted else runs
        summaries = {r.id: scorer_summaries(r) for r in shown}
    except AssayError as exc:
        return failure_page(exc, viewer)
    context.update(
        runs=shown,
        any_runs=bool(runs),
        dataset_filter=wanted,
        previous=previous_runs(runs),
        summaries=summaries,
        status_badges=STATUS_BADGES,
        target_text=target_text,
        links=EvalLinks(the_project.name),
    )
    return render("runs.html", context)


@router.get("/p/{project}/runs/{name:path}")
def run_page(request: Request, project: str, name: str, viewer: Staff) -> Response:
    """One run: its summary per scorer, and its results case by case, filtered and paged."""
    form = ResultFilter.from_query(request.query_params)
    error = ""
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            run = get_run(db, the_project.id, name)
            results = run_results(db, run.id)
            cases = {c.id: c for c in version_cases(db, run.dataset_version_id)}
            same_version = [
                r
                for r in list_runs(db, the_project.id)
                if r.dataset_version_id == run.dataset_version_id
            ]
            context = layout_context(db, viewer, title=run.name, project=the_project, nav="runs")
        labels = scorer_labels(run.scorers)
        summaries = scorer_summaries(run)
    except AssayError as exc:
        return failure_page(exc, viewer)
    try:
        form.check(labels)
    except InvalidInput as exc:
        # A bad filter keeps the form on screen so it can be corrected.
        error = str(exc)
    # Dataset order, samples in order; a case the version no longer holds goes last.
    order = {case_id: c.position for case_id, c in cases.items()}
    ordered = sorted(results, key=lambda r: (order.get(r.case_id, len(order)), r.sample))
    matching = [] if error else [r for r in ordered if form.matches(r, labels)]
    pager = Pager.of(page_number(request.query_params.get("page")), len(matching))
    lines = [
        ResultLine(result=r, case=cases.get(r.case_id), verdicts=[verdict_of(r, x) for x in labels])
        for r in matching[pager.offset : pager.offset + pager.size]
    ]
    links = EvalLinks(the_project.name)
    siblings = [r for r in same_version if r.id != run.id]
    previous = previous_runs(same_version).get(run.id)
    context.update(
        run=run,
        labels=labels,
        summaries=summaries,
        lines=lines,
        total=len(results),
        pager=pager,
        form=form,
        error=error,
        verdicts=VERDICTS,
        siblings=siblings,
        default_baseline=previous.name if previous else (siblings[0].name if siblings else ""),
        status_badges=STATUS_BADGES,
        target_text=target_text,
        run_url=links.run(run.name),
        links=links,
        **TEMPLATE_HELPERS,
    )
    return render("run.html", context, status=400 if error else 200)
