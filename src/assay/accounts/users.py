"""Users: names, Argon2id password hashes and roles."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.errors import AuthError, Conflict, InvalidInput, NotFound
from assay.store.models import User

ROLES = ("admin", "adjudicator", "annotator")
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
# argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes): ~50 ms a
# sign-in on this 2-core machine, which is the point.
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a missing name costs the same
    time as a wrong password and names cannot be probed by timing. Made on first use:
    hashing costs ~0.4 s, which every CLI command would otherwise pay at import."""
    return _hasher.hash("assay-timing-equaliser")


@dataclass(frozen=True)
class UserView:
    """A user as callers see it (never the hash)."""

    id: int
    username: str
    role: str
    created_at: datetime


def user_view(row: User) -> UserView:
    """The public view of a user row."""
    return UserView(id=row.id, username=row.username, role=row.role, created_at=row.created_at)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters")


def create_user(session: Session, username: str, password: str, role: str = "admin") -> UserView:
    """Create an account.

    Raises:
        InvalidInput: bad name, short password or unknown role.
        Conflict: the name is taken.
    """
    if not _NAME.match(username):
        raise InvalidInput(
            f"username {username!r} is invalid: use 1-100 letters, digits, '.', '_', '@' or '-'"
        )
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is unknown; choose one of {', '.join(ROLES)}")
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    row = User(username=username, password_hash=_hasher.hash(password), role=role)
    session.add(row)
    session.flush()
    return user_view(row)


def set_password(session: Session, username: str, password: str) -> UserView:
    """Replace a user's password."""
    row = session.scalar(select(User).where(User.username == username))
    if row is None:
        raise NotFound(f"user {username!r} does not exist")
    _check_password(password)
    row.password_hash = _hasher.hash(password)
    session.flush()
    return user_view(row)


def set_role(session: Session, username: str, role: str) -> UserView:
    """Change a user's role (an annotator who becomes an adjudicator).

    Takes effect at once: UI pages, API keys and the review functions read the role
    from the store on every request.

    Raises:
        NotFound: no such user.
        InvalidInput: unknown role.
        Conflict: the last admin would lose the role.
    """
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is unknown; choose one of {', '.join(ROLES)}")
    row = session.scalar(select(User).where(User.username == username).with_for_update())
    if row is None:
        raise NotFound(f"user {username!r} does not exist")
    if row.role == "admin" and role != "admin":
        admins = session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.id != row.id)
        )
        if not admins:
            raise Conflict(
                f"{username!r} is the last admin: make another account admin first, "
                "or nobody could manage projects, accounts and keys"
            )
    row.role = role
    session.flush()
    return user_view(row)


def authenticate(session: Session, username: str, password: str) -> UserView:
    """The user with this name and password.

    Raises:
        AuthError: unknown name or wrong password (the same message for both).
    """
    row = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None:
        raise AuthError("wrong username or password")
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
        session.flush()
    return user_view(row)


def get_user(session: Session, user_id: int) -> UserView:
    """A user by id.

    Raises:
        NotFound: no such user.
    """
    row = session.get(User, user_id)
    if row is None:
        raise NotFound(f"user {user_id} does not exist")
    return user_view(row)


def list_users(session: Session) -> list[UserView]:
    """Every user, by name."""
    return [user_view(r) for r in session.scalars(select(User).order_by(User.username))]


def count_users(session: Session) -> int:
    """How many accounts exist."""
    return session.scalar(select(func.count()).select_from(User)) or 0
