"""Releases in the store: register once, look up by name or fingerprint, list.

Every function takes the caller's SQLAlchemy :class:`~sqlalchemy.orm.Session` and
leaves committing to it (``with store.write_session() as session: ...``; on SQLite
the write session avoids a lock upgrade failing under concurrent writers).

Releases are immutable. Registering is idempotent for the same name and behaviour;
any other reuse of a name or a behaviour is a :class:`~assay.errors.Conflict`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.errors import Conflict, InvalidInput, NotFound
from assay.releases.diff import diff_manifests
from assay.releases.fingerprint import behaviour, canonical_json, canonical_manifest, fingerprint
from assay.releases.manifest import ManifestLike, as_manifest, parse_manifest
from assay.store.models import Project, Release

MIN_PREFIX_LENGTH = 8
"""Shortest fingerprint prefix accepted as a reference, as for abbreviated git
commits: 8 hex characters make a collision among a project's releases unlikely
(about 1 in 4 billion per pair)."""

# How many candidates an ambiguous prefix error lists, and changed paths a name
# conflict names: enough to recognise, short enough for one terminal line.
_MAX_LISTED = 5

_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True, slots=True)
class RegisteredRelease:
    """The outcome of :func:`register_release`.

    Attributes:
        id: The release's row id.
        name: The release name.
        fingerprint: The behaviour fingerprint (64 hex characters).
        created: True if this call stored the release, False if it already was.
    """

    id: int
    name: str
    fingerprint: str
    created: bool


@dataclass(frozen=True, slots=True)
class ReleaseView:
    """A stored release, for callers (REST API, CLI, UI).

    Attributes:
        id: The release's row id.
        name: The release name.
        fingerprint: The behaviour fingerprint (64 hex characters).
        manifest: The canonical manifest, upgraded to the current schema version.
        created_at: When it was registered (timezone-aware UTC).
    """

    id: int
    name: str
    fingerprint: str
    manifest: dict[str, Any]
    created_at: datetime

    @classmethod
    def from_row(cls, row: Release) -> ReleaseView:
        """Build the view of a ``releases`` row."""
        created_at = row.created_at  # timezone-aware on both dialects (UTCDateTime)
        stored = parse_manifest(json.loads(row.manifest), source=f"release {row.name!r}")
        return cls(
            id=row.id,
            name=row.name,
            fingerprint=row.fingerprint,
            manifest=canonical_manifest(stored),
            created_at=created_at,
        )


def register_release(
    session: Session, project_id: int, manifest: ManifestLike
) -> RegisteredRelease:
    """Store a release, or confirm it is already stored.

    Args:
        session: The session to write with; the caller commits.
        project_id: The project the release belongs to.
        manifest: The manifest, parsed or as plain data.

    Returns:
        The release, with ``created`` False when the same name and fingerprint were
        already registered.

    Raises:
        InvalidInput: The manifest is invalid, or describes no behaviour at all.
        NotFound: The project does not exist.
        Conflict: The name is taken by a release with different behaviour, or the
            same behaviour is already registered under another name.
    """
    parsed = as_manifest(manifest)
    if not behaviour(parsed):
        # Every such manifest has the same fingerprint, so the second one would be
        # refused as "same behaviour as ..." with no hint why.
        raise InvalidInput(
            f"release {parsed.name!r}: the manifest describes no behaviour; give at least "
            "one of model, generation, prompts, tools, retrieval, adapter, serving, code "
            "or extra"
        )
    digest = fingerprint(parsed)
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    existing = _find_existing(session, project_id, parsed.name, digest)
    if existing is not None:
        return _reconcile(existing, parsed.name, digest, manifest=parsed)
    row = Release(
        project_id=project_id,
        name=parsed.name,
        fingerprint=digest,
        manifest=canonical_json(parsed),
    )
    try:
        # A savepoint, so losing a race to a concurrent writer leaves the caller's
        # transaction usable (PostgreSQL aborts the whole transaction otherwise).
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = _find_existing(session, project_id, parsed.name, digest)
        if existing is None:
            raise
        return _reconcile(existing, parsed.name, digest, manifest=parsed)
    return RegisteredRelease(id=row.id, name=row.name, fingerprint=digest, created=True)


def get_release(session: Session, project_id: int, ref: str) -> ReleaseView:
    """Find a release by name, full fingerprint, or fingerprint prefix.

    A name wins over a fingerprint prefix that happens to match it (a release named
    ``20261120`` is found by that name).

    Args:
        session: The session to read with.
        project_id: The project to look in.
        ref: A release name, a 64-hex fingerprint, or a prefix of at least
            :data:`MIN_PREFIX_LENGTH` hex characters (any case).

    Returns:
        The release.

    Raises:
        InvalidInput: ``ref`` is empty, or a prefix that matches several releases
            (the message lists them).
        NotFound: No release matches ``ref``.
    """
    ref = ref.strip()
    if not ref:
        raise InvalidInput("release reference is empty: give a name or a fingerprint")
    in_project = Release.project_id == project_id
    row = session.scalars(select(Release).where(in_project, Release.name == ref)).one_or_none()
    if row is not None:
        return ReleaseView.from_row(row)
    hex_ref = ref.lower()
    if not _HEX.fullmatch(hex_ref) or len(hex_ref) > 64:
        raise NotFound(f"no release named {ref!r} in this project")
    if len(hex_ref) < MIN_PREFIX_LENGTH:
        raise NotFound(
            f"no release named {ref!r} in this project (fingerprint prefixes need at "
            f"least {MIN_PREFIX_LENGTH} hex characters)"
        )
    rows = session.scalars(
        select(Release)
        .where(in_project, Release.fingerprint.startswith(hex_ref, autoescape=True))
        .order_by(Release.created_at.desc(), Release.id.desc())
        .limit(_MAX_LISTED + 1)
    ).all()
    if not rows:
        raise NotFound(f"no release named {ref!r} or with that fingerprint in this project")
    if len(rows) > 1:
        listed = ", ".join(f"{r.name} ({r.fingerprint[:12]})" for r in rows[:_MAX_LISTED])
        more = ", ..." if len(rows) > _MAX_LISTED else ""
        raise InvalidInput(
            f"fingerprint prefix {ref!r} is ambiguous: it matches {listed}{more}; "
            "give more characters or the release name"
        )
    return ReleaseView.from_row(rows[0])


def list_releases(
    session: Session, project_id: int, *, limit: int | None = None
) -> list[ReleaseView]:
    """A project's releases, newest first.

    Args:
        session: The session to read with.
        project_id: The project.
        limit: At most this many (all when None).

    Returns:
        The releases, newest first (by registration time, then id).
    """
    query = (
        select(Release)
        .where(Release.project_id == project_id)
        .order_by(Release.created_at.desc(), Release.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [ReleaseView.from_row(row) for row in session.scalars(query)]


def _find_existing(session: Session, project_id: int, name: str, digest: str) -> Release | None:
    """The release holding ``name``, else the one holding ``digest``, else None."""
    rows = session.scalars(
        select(Release).where(
            Release.project_id == project_id,
            or_(Release.name == name, Release.fingerprint == digest),
        )
    ).all()
    for row in rows:
        if row.name == name:
            return row
    return rows[0] if rows else None


def _reconcile(
    row: Release, name: str, digest: str, *, manifest: ManifestLike
) -> RegisteredRelease:
    """Resolve a registration that meets an existing release with its name or behaviour."""
    if row.name == name and row.fingerprint == digest:
        return RegisteredRelease(id=row.id, name=row.name, fingerprint=digest, created=False)
    if row.name == name:
        changes = diff_manifests(json.loads(row.manifest), manifest)
        listed = ", ".join(c.path for c in changes[:_MAX_LISTED])
        if len(changes) > _MAX_LISTED:
            listed += f" and {len(changes) - _MAX_LISTED} more"
        # No listed change would mean the stored fingerprint predates today's rules.
        changed = f"; changed: {listed}" if listed else ""
        raise Conflict(
            f"release {name!r} already exists with different behaviour (stored fingerprint "
            f"{row.fingerprint[:12]}, this manifest {digest[:12]}{changed}). "
            "Releases are immutable: register the new behaviour under a new name."
        )
    raise Conflict(
        f"release {name!r} has the same behaviour as the existing release {row.name!r} "
        f"(fingerprint {digest[:12]}); the fingerprint covers behaviour, not the name. "
        f"Use {row.name!r}, or change the manifest if the behaviour differs."
    )
