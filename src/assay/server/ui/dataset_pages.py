"""Dataset pages: a project's datasets, and one dataset's versions and cases.

JSON twins: ``GET /api/v1/datasets``, ``/api/v1/datasets/{name}`` and
``/api/v1/datasets/{name}/versions/{version}``; all read through
:mod:`assay.datasets`.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from assay.datasets import DatasetDiff, diff_cases, get_dataset, get_version, list_datasets
from assay.datasets import version_cases as read_cases
from assay.errors import AssayError
from assay.experiments import list_runs
from assay.projects import get_project
from assay.server.ui.access import Staff
from assay.server.ui.eval_links import EvalLinks
from assay.server.ui.layout import failure_page, layout_context, store_of
from assay.server.ui.paging import Pager, page_number
from assay.server.ui.result_view import TEMPLATE_HELPERS
from assay.server.ui.templating import render

router = APIRouter(include_in_schema=False)

# Case ids listed per kind of change from the previous version; the counts are complete.
MAX_LISTED_CHANGES = 50
DIFF_MAX_CASES = 5_000
"""Largest version (either side) whose changes the page works out: the diff reads every
case of both versions, about 0.9 s per 10,000 on a busy 2-core machine; beyond this the
page points to ``assay dataset diff``."""


@router.get("/p/{project}/datasets")
def datasets_page(request: Request, project: str, viewer: Staff) -> Response:
    """A project's datasets with their latest version, case count and runs."""
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            datasets = list_datasets(db, the_project.id)
            runs = list_runs(db, the_project.id)
            context = layout_context(
                db, viewer, title="Datasets", project=the_project, nav="datasets"
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    runs_per_dataset = Counter(run.dataset.rpartition("@")[0] for run in runs)
    context.update(
        datasets=datasets, runs_per_dataset=runs_per_dataset, links=EvalLinks(the_project.name)
    )
    return render("datasets.html", context)


@router.get("/p/{project}/datasets/{name}")
def dataset_page(
    request: Request,
    project: str,
    name: str,
    viewer: Staff,
    version: Annotated[
        str, Query(description="Version: N, vN, latest or a digest prefix (default: latest).")
    ] = "",
    page: Annotated[str, Query(description="Page of cases, from 1.")] = "",
) -> Response:
    """A dataset's versions, and a page of the cases of one of them."""
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            dataset = get_dataset(db, the_project.id, name)
            context = layout_context(db, viewer, title=name, project=the_project, nav="datasets")
            selected = (
                get_version(db, the_project.id, f"{name}@{version or 'latest'}")
                if dataset.versions
                else None
            )
            pager = Pager.of(page_number(page), selected.case_count if selected else 0)
            cases = (
                read_cases(db, selected.id, offset=pager.offset, limit=pager.size)
                if selected
                else []
            )
            changes: DatasetDiff | None = None
            previous = next(
                (v for v in dataset.versions if selected and v.number < selected.number), None
            )
            if (
                selected is not None
                and previous is not None
                and max(selected.case_count, previous.case_count) <= DIFF_MAX_CASES
            ):
                changes = diff_cases(read_cases(db, previous.id), read_cases(db, selected.id))
            runs = [
                r
                for r in list_runs(db, the_project.id)
                if selected is not None and r.dataset_version_id == selected.id
            ]
    except AssayError as exc:
        return failure_page(exc, viewer)
    context.update(
        dataset=dataset,
        selected=selected,
        previous=previous,
        cases=cases,
        pager=pager,
        changes=changes,
        max_changes=MAX_LISTED_CHANGES,
        runs=runs,
        links=EvalLinks(the_project.name),
        **TEMPLATE_HELPERS,
    )
    return render("dataset.html", context)
