"""Project API keys: random, shown once, stored as SHA-256, scoped to one project.

Keys carry 256 bits of entropy, so a fast unsalted hash is enough to make a leaked
table useless while letting ingest find the key by its hash in one indexed lookup
(a slow password hash would cost milliseconds on every OTLP request).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import AuthError, NotFound
from assay.projects.service import ProjectConfig, _row, project_config
from assay.store.models import ApiKey, utcnow

KEY_PREFIX = "ak_"


@dataclass(frozen=True)
class ApiKeyView:
    """A key's public facts; the secret itself is only returned by :func:`create_api_key`."""

    id: int
    project_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key: ``secret`` is shown to the user once and never stored."""

    key: ApiKeyView
    secret: str


def hash_key(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, project: str | int, name: str = "default") -> NewApiKey:
    """Create a key for a project and return its secret once."""
    proj = _row(session, project)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(project_id=proj.id, name=name, prefix=secret[:10], key_hash=hash_key(secret))
    session.add(row)
    session.flush()
    return NewApiKey(key=_view(row), secret=secret)


def _view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def list_api_keys(session: Session, project: str | int) -> list[ApiKeyView]:
    """The keys of a project, oldest first, revoked ones included."""
    proj = _row(session, project)
    rows = session.scalars(select(ApiKey).where(ApiKey.project_id == proj.id).order_by(ApiKey.id))
    return [_view(r) for r in rows]


def revoke_api_key(session: Session, project: str | int, key_id: int) -> ApiKeyView:
    """Revoke a key; requests with it fail from then on (see :class:`KeyCache`)."""
    proj = _row(session, project)
    row = session.get(ApiKey, key_id)
    if row is None or row.project_id != proj.id:
        raise NotFound(f"API key {key_id} does not exist in project {proj.name!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return _view(row)


def resolve_api_key(session: Session, secret: str) -> ProjectConfig:
    """The project a key belongs to.

    Raises:
        AuthError: the key is unknown or revoked.
    """
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
    if row is None:
        raise AuthError("API key is not valid")
    if row.revoked_at is not None:
        raise AuthError("API key has been revoked")
    return project_config(session, row.project_id)


class KeyCache:
    """Remembers resolved keys for ``ttl_s`` so ingest does not query per request.

    A revoked key or changed project settings take effect within ``ttl_s`` seconds
    on every server process.
    """

    def __init__(self, ttl_s: float = 15.0) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, ProjectConfig]] = {}

    def get(self, secret: str) -> ProjectConfig | None:
        """The cached project of a key, or None if unknown or expired."""
        digest = hash_key(secret)
        with self._lock:
            hit = self._entries.get(digest)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, secret: str, config: ProjectConfig) -> None:
        """Remember a resolved key."""
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[hash_key(secret)] = (time.monotonic() + self.ttl_s, config)

    def clear(self) -> None:
        """Forget everything (after a revoke or a settings change in this process)."""
        with self._lock:
            self._entries.clear()
