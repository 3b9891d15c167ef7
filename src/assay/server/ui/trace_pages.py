"""Trace pages: the home redirect, the filtered trace list and one trace's detail.

JSON twins: ``GET /api/v1/traces`` and ``GET /api/v1/traces/{trace_id}`` (project key);
both read through :func:`assay.traces.query.list_traces` and
:func:`~assay.traces.query.get_trace`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from assay.errors import AssayError, InvalidInput
from assay.ingest.conventions import KINDS
from assay.projects import ProjectView, get_project, list_projects
from assay.releases import list_releases
from assay.server.ui.access import SignedIn, Staff, Viewer, is_staff
from assay.server.ui.layout import failure_page, layout_context, store_of
from assay.server.ui.templating import render
from assay.server.ui.trace_filters import RANGE_LABELS, STATUSES, FilterForm
from assay.server.ui.trace_view import display_value, message_body, timeline, waterfall_bar
from assay.traces.query import get_trace, list_traces
from assay.traces.views import TracePage

router = APIRouter(include_in_schema=False)


def traces_url(project: ProjectView | str) -> str:
    """The trace list of a project."""
    name = project if isinstance(project, str) else project.name
    return f"/p/{quote(name, safe='')}/traces"


def landing_url(project: ProjectView | str, viewer: SignedIn) -> str:
    """Where a project opens for this user: the trace list, or for an annotator (who
    sees nothing else) the review queues."""
    if is_staff(viewer.user):
        return traces_url(project)
    name = project if isinstance(project, str) else project.name
    return f"/p/{quote(name, safe='')}/queues"


@router.get("/")
def home(request: Request, viewer: Viewer) -> Response:
    """The first project's landing page, or how to create a project when there is none."""
    with store_of(request).session() as db:
        projects = list_projects(db)
        context = layout_context(db, viewer, title="Welcome")
    if projects:
        return RedirectResponse(landing_url(projects[0], viewer), status_code=303)
    context.update(endpoint=str(request.base_url).rstrip("/"))
    return render("home.html", context)


@router.get("/p")
def switch_project(
    viewer: Viewer, project: Annotated[str, Query(description="Project name.")] = ""
) -> Response:
    """The project switcher's target (for browsers without JavaScript too)."""
    return RedirectResponse(landing_url(project, viewer) if project else "/", status_code=303)


@router.get("/p/{project}")
def project_home(project: str, viewer: Viewer) -> Response:
    """A project's landing page: its trace list (its queues for an annotator)."""
    return RedirectResponse(landing_url(project, viewer), status_code=303)


@router.get("/p/{project}/traces")
def traces_page(request: Request, project: str, viewer: Staff) -> Response:
    """A project's traces, newest first, filtered by the query string, a page at a time."""
    form = FilterForm.from_query(request.query_params)
    cursor = request.query_params.get("cursor") or None
    error = ""
    page = TracePage(items=[], next_cursor=None)
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            releases = list_releases(db, the_project.id)
            context = layout_context(db, viewer, title="Traces", project=the_project, nav="traces")
            try:
                page = list_traces(
                    db, the_project.id, form.to_filter(), limit=form.page_size(), cursor=cursor
                )
            except InvalidInput as exc:
                # A bad filter keeps the form on screen so it can be corrected.
                error = str(exc)
    except AssayError as exc:
        return failure_page(exc, viewer)
    release_names = [r.name for r in releases]
    context.update(
        form=form,
        page=page,
        error=error,
        first_page=cursor is None,
        newest_url=traces_url(the_project) + form.query(),
        older_url=(
            traces_url(the_project) + form.query(cursor=page.next_cursor)
            if page.next_cursor
            else ""
        ),
        releases=releases,
        # A raw ref from a shared link stays selectable even when it is not registered.
        extra_release=form.release if form.release and form.release not in release_names else "",
        range_labels=RANGE_LABELS,
        statuses=STATUSES,
        kinds=sorted(KINDS),
        endpoint=str(request.base_url).rstrip("/"),
    )
    return render("traces.html", context, status=400 if error else 200)


@router.get("/p/{project}/traces/{trace_id}")
def trace_page(request: Request, project: str, trace_id: str, viewer: Staff) -> Response:
    """One trace: summary, span tree with content and attributes, and feedback."""
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            trace = get_trace(db, the_project.id, trace_id)
            context = layout_context(
                db, viewer, title=trace.name or trace.trace_id, project=the_project, nav="traces"
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    extent = timeline(trace)
    context.update(
        trace=trace,
        extent=extent,
        bar=lambda span: waterfall_bar(span, extent.start_ns, extent.end_ns),
        show_value=display_value,
        message_body=message_body,
        back_url=traces_url(the_project),
    )
    return render("trace.html", context)
