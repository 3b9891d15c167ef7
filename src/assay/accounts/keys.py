"""User API keys: automation that acts as a person (an annotation bot, an adjudication
script). Random, shown once, stored as SHA-256, and bound to one user and that user's
role.

Project keys (``ak_...``, :mod:`assay.projects.keys`) act for a project; user keys
(``uk_...``) act for a person, so an annotation sent with one is that person's
annotation, and a role that may not adjudicate cannot adjudicate through a script.
Like project keys they carry 256 bits of entropy, so a fast unsalted hash suffices.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.accounts.users import UserView, user_view
from assay.errors import AuthError, NotFound
from assay.store.models import User, UserKey, utcnow

USER_KEY_PREFIX = "uk_"


@dataclass(frozen=True)
class UserKeyView:
    """A user key's public facts; the secret is only returned by :func:`create_user_key`."""

    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewUserKey:
    """A freshly created key: ``secret`` is shown once and never stored."""

    key: UserKeyView
    secret: str


def is_user_key(secret: str) -> bool:
    """Whether a bearer token is a user key (rather than a project key)."""
    return secret.startswith(USER_KEY_PREFIX)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user_row(session: Session, username: str) -> User:
    row = session.scalar(select(User).where(User.username == username))
    if row is None:
        raise NotFound(f"user {username!r} does not exist")
    return row


def _view(row: UserKey, username: str) -> UserKeyView:
    return UserKeyView(
        id=row.id,
        username=username,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def create_user_key(session: Session, username: str, name: str = "default") -> NewUserKey:
    """Create a key acting as ``username`` and return its secret once.

    Raises:
        NotFound: no such user.
    """
    user = _user_row(session, username)
    secret = USER_KEY_PREFIX + secrets.token_urlsafe(32)
    row = UserKey(user_id=user.id, name=name, prefix=secret[:10], key_hash=_hash(secret))
    session.add(row)
    session.flush()
    return NewUserKey(key=_view(row, user.username), secret=secret)


def list_user_keys(session: Session, username: str) -> list[UserKeyView]:
    """A user's keys, oldest first, revoked ones included."""
    user = _user_row(session, username)
    rows = session.scalars(select(UserKey).where(UserKey.user_id == user.id).order_by(UserKey.id))
    return [_view(r, user.username) for r in rows]


def revoke_user_key(session: Session, username: str, key_id: int) -> UserKeyView:
    """Revoke a user's key; requests with it fail from then on.

    Raises:
        NotFound: the user has no key with this id.
    """
    user = _user_row(session, username)
    row = session.get(UserKey, key_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"user {username!r} has no key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return _view(row, user.username)


def resolve_user_key(session: Session, secret: str) -> UserView:
    """The user a key acts for.

    Raises:
        AuthError: the key is unknown or revoked.
    """
    found = session.execute(
        select(UserKey, User)
        .join(User, User.id == UserKey.user_id)
        .where(UserKey.key_hash == _hash(secret))
    ).first()
    if found is None:
        raise AuthError("user API key is not valid")
    key, user = found
    if key.revoked_at is not None:
        raise AuthError("user API key has been revoked")
    return user_view(user)
