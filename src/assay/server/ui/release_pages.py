"""Release pages: the list of a project's releases, and the diff between two of them.

JSON twins: ``GET /api/v1/releases`` and ``GET /api/v1/releases/{a}/diff/{b}`` (project key);
both read through :mod:`assay.releases`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from assay.errors import AssayError
from assay.projects import get_project
from assay.releases import FieldChange, ReleaseView, diff_manifests, get_release, list_releases
from assay.server.ui.access import Staff
from assay.server.ui.layout import failure_page, layout_context, store_of
from assay.server.ui.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ChangeRow:
    """One line of the diff table.

    Attributes:
        path: Where in the manifest, e.g. ``generation.temperature``.
        kind: ``added``, ``removed`` or ``changed``.
        old: The old value as display text ("" when added).
        new: The new value as display text ("" when removed).
        text_diff: Unified diff lines when both values are text, else empty.
    """

    path: str
    kind: str
    old: str
    new: str
    text_diff: list[str]


def display_value(value: Any) -> str:
    """A manifest value as text: strings as they are, anything else as indented JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def change_row(change: FieldChange) -> ChangeRow:
    """The table row of one manifest change."""
    unified = change.unified_diff()
    multiline = unified is not None and ("\n" in change.old or "\n" in change.new)
    return ChangeRow(
        path=change.path,
        kind=change.kind,
        old="" if change.kind == "added" else display_value(change.old),
        new="" if change.kind == "removed" else display_value(change.new),
        # Only multi-line text (prompt templates) reads better as a unified diff.
        text_diff=unified.splitlines() if multiline and unified else [],
    )


def model_of(release: ReleaseView) -> str:
    """The model id a release's manifest names, or ""."""
    model = release.manifest.get("model")
    if isinstance(model, dict):
        return str(model.get("id") or "")
    return ""


@router.get("/p/{project}/releases")
def releases_page(request: Request, project: str, viewer: Staff) -> Response:
    """A project's releases, newest first, with a form to diff two of them."""
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            releases = list_releases(db, the_project.id)
            context = layout_context(
                db, viewer, title="Releases", project=the_project, nav="releases"
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    context.update(
        releases=releases,
        models={r.id: model_of(r) for r in releases},
        # Default diff: the previous release against the newest.
        default_a=releases[1].name if len(releases) > 1 else "",
        default_b=releases[0].name if releases else "",
    )
    return render("releases.html", context)


@router.get("/p/{project}/releases/diff")
def release_diff_page(
    request: Request,
    project: str,
    viewer: Staff,
    a: Annotated[str, Query(description="Baseline release: name or fingerprint.")] = "",
    b: Annotated[str, Query(description="Candidate release: name or fingerprint.")] = "",
) -> Response:
    """What changed in behaviour from release ``a`` to release ``b``."""
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            releases = list_releases(db, the_project.id)
            old = get_release(db, the_project.id, a)
            new = get_release(db, the_project.id, b)
            context = layout_context(
                db, viewer, title="Release diff", project=the_project, nav="releases"
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    changes = [change_row(c) for c in diff_manifests(old.manifest, new.manifest)]
    context.update(releases=releases, old=old, new=new, changes=changes)
    return render("release_diff.html", context)
