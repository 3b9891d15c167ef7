"""Creating, finding and configuring projects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import Conflict, InvalidInput, NotFound
from assay.redaction import RedactionConfig, Redactor
from assay.store.models import Project

# Attribute keys that are slices in every project; `assay.slice.<key>` attributes
# are slices too. Projects declare more with `slice_keys`.
DEFAULT_SLICE_KEYS = ("locale", "tier", "channel")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class ProjectView:
    """A project as callers see it."""

    id: int
    name: str
    description: str
    owner: str
    slice_keys: list[str]
    redaction: RedactionConfig
    created_at: datetime


@dataclass(frozen=True)
class ProjectConfig:
    """What ingest needs of a project, compiled once and cached with its key."""

    project_id: int
    slice_keys: frozenset[str]
    redactor: Redactor = field(compare=False)


def _view(row: Project) -> ProjectView:
    return ProjectView(
        id=row.id,
        name=row.name,
        description=row.description,
        owner=row.owner,
        slice_keys=list(orjson.loads(row.slice_keys or "[]")),
        redaction=RedactionConfig.model_validate_json(row.redaction or "{}"),
        created_at=row.created_at,
    )


def create_project(
    session: Session, name: str, *, description: str = "", owner: str = ""
) -> ProjectView:
    """Create a project.

    Raises:
        InvalidInput: the name is empty or has characters other than letters, digits,
            ``.``, ``_`` and ``-``.
        Conflict: a project of that name exists.
    """
    if not _NAME.match(name):
        raise InvalidInput(
            f"project name {name!r} is invalid: use 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(f"project {name!r} already exists")
    row = Project(
        name=name,
        description=description,
        owner=owner,
        slice_keys="[]",
        redaction=RedactionConfig().model_dump_json(),
    )
    session.add(row)
    session.flush()
    return _view(row)


def get_project(session: Session, ref: str | int) -> ProjectView:
    """A project by id or name.

    Raises:
        NotFound: no such project.
    """
    row = _row(session, ref)
    return _view(row)


def _row(session: Session, ref: str | int) -> Project:
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        row = session.get(Project, int(ref))
        if row is None and isinstance(ref, str):
            row = session.scalar(select(Project).where(Project.name == ref))
    else:
        row = session.scalar(select(Project).where(Project.name == ref))
    if row is None:
        raise NotFound(f"project {ref!r} does not exist")
    return row


def list_projects(session: Session) -> list[ProjectView]:
    """Every project, by name."""
    return [_view(r) for r in session.scalars(select(Project).order_by(Project.name))]


def update_project_settings(
    session: Session,
    ref: str | int,
    *,
    slice_keys: list[str] | None = None,
    redaction: RedactionConfig | None = None,
    description: str | None = None,
) -> ProjectView:
    """Change a project's declared slices, redaction rules or description.

    New rules apply to data ingested afterwards (within the key cache's lifetime).
    """
    row = _row(session, ref)
    if slice_keys is not None:
        bad = [k for k in slice_keys if not k or len(k) > 200]
        if bad:
            raise InvalidInput(f"slice_keys: invalid key(s) {bad!r}")
        row.slice_keys = orjson.dumps(sorted(set(slice_keys))).decode()
    if redaction is not None:
        Redactor(redaction)  # compiles every pattern: a bad regex fails here, not at ingest
        row.redaction = redaction.model_dump_json()
    if description is not None:
        row.description = description
    session.flush()
    return _view(row)


def project_config(session: Session, project_id: int) -> ProjectConfig:
    """The compiled ingest configuration of a project."""
    view = get_project(session, project_id)
    return ProjectConfig(
        project_id=view.id,
        slice_keys=frozenset(DEFAULT_SLICE_KEYS) | frozenset(view.slice_keys),
        redactor=Redactor(view.redaction),
    )
