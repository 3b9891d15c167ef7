"""Signed session cookies and CSRF tokens for the web UI.

A UI session lives entirely in one cookie, signed (not encrypted) with itsdangerous:
the signed-in user's id, or none before sign-in, and a random CSRF token. Nothing is
kept server-side, so any number of server processes sharing a store accept each
other's sessions. The signing key is ``Settings.secret_key`` or, when that is empty,
a random key generated once and kept in the store's ``server_secrets`` table, so
sessions survive restarts.

Every POST form carries the session's CSRF token in a hidden field; the server
compares it in constant time to the token in the cookie (the synchronizer-token
pattern: a cross-site page can make the browser send the cookie but cannot read it
or the page to learn the token). Signing in issues a new token, so a token seen
before sign-in is worthless after it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from assay.accounts import UserView, get_user
from assay.errors import NotFound
from assay.settings import Settings
from assay.store.dialects import insert_for
from assay.store.engine import Store
from assay.store.models import ServerSecret

COOKIE_NAME = "assay_session"
"""Name of the session cookie."""
CSRF_FIELD = "csrf_token"
"""Name of the hidden form field that carries the CSRF token."""
CSRF_HEADER = "X-CSRF-Token"
"""Header that carries the CSRF token on unsafe REST requests authenticated by cookie."""
KEY_SECRET_NAME = "session_key"  # noqa: S105 - the name of a row, not a secret
"""Row of ``server_secrets`` holding the generated signing key."""

# Distinct salt: a value signed with the same key for another purpose can never
# pass as a session.
_SALT = "assay.ui.session.v1"
# 32 random bytes: 256 bits, the key size HMAC-SHA1/SHA-256 gain nothing beyond.
_KEY_BYTES = 32
_CSRF_BYTES = 32
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfError(Exception):
    """A POST form's CSRF token is missing or does not match the session's.

    Not an :class:`~assay.errors.AssayError`: it never leaves the UI package, which
    answers it with an HTML page rather than the REST API's JSON.
    """


@dataclass(frozen=True)
class UiSession:
    """What a session cookie holds.

    Attributes:
        user_id: The signed-in user, or None before sign-in.
        csrf: The token every POST form of this session must carry.
    """

    user_id: int | None
    csrf: str

    @classmethod
    def fresh(cls, user_id: int | None = None) -> UiSession:
        """A new session with a new random CSRF token.

        Args:
            user_id: The signed-in user, or None for an anonymous session.

        Returns:
            The session.
        """
        return cls(user_id=user_id, csrf=secrets.token_urlsafe(_CSRF_BYTES))


class SessionCodec:
    """Signs sessions into cookie values and checks them back.

    Args:
        key: The signing key.
        max_age_s: Oldest signature accepted, in seconds since signing.
    """

    def __init__(self, key: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=_SALT)
        self._max_age_s = max_age_s

    def dumps(self, session: UiSession) -> str:
        """The signed cookie value of ``session``."""
        return self._serializer.dumps({"u": session.user_id, "c": session.csrf})

    def loads(self, value: str | None) -> UiSession | None:
        """The session in a cookie value, or None if absent, tampered with or expired."""
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=self._max_age_s)
        except BadSignature:  # SignatureExpired is a subclass
            return None
        if not isinstance(data, dict):
            return None
        user_id, csrf = data.get("u"), data.get("c")
        if not isinstance(csrf, str) or not csrf:
            return None
        if user_id is not None and (not isinstance(user_id, int) or isinstance(user_id, bool)):
            return None
        return UiSession(user_id=user_id, csrf=csrf)


def stored_session_key(store: Store) -> str:
    """The generated signing key kept in the store, creating it on first use.

    Several server processes may start at once against a fresh store: each tries to
    insert its own key, the first insert wins, and all of them read back the winner.

    Args:
        store: A migrated store.

    Returns:
        The key.
    """
    with store.session() as session:
        value = session.scalar(
            select(ServerSecret.value).where(ServerSecret.name == KEY_SECRET_NAME)
        )
    if value:
        return value
    insert = (
        insert_for(store.dialect, ServerSecret.__table__)  # type: ignore[arg-type]
        .values(name=KEY_SECRET_NAME, value=secrets.token_urlsafe(_KEY_BYTES))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    with store.write_session() as session:
        session.execute(insert)
        value = session.scalar(
            select(ServerSecret.value).where(ServerSecret.name == KEY_SECRET_NAME)
        )
    assert value, "the session key row exists after an insert-or-keep"
    return value


class SessionManager:
    """Reads and writes the UI session cookie of one app.

    The key is resolved on first use rather than at construction: the store is only
    migrated once the app starts.

    Args:
        settings: Server settings (secret key, cookie flags, lifetime).
        store: The store holding the generated key when ``settings.secret_key`` is empty.
    """

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._codec: SessionCodec | None = None
        self._lock = threading.Lock()

    def codec(self) -> SessionCodec:
        """The codec, resolving the signing key once."""
        if self._codec is None:
            with self._lock:
                if self._codec is None:
                    key = self.settings.secret_key or stored_session_key(self.store)
                    self._codec = SessionCodec(key, self.settings.session_max_age_s)
        return self._codec

    def read(self, request: Request) -> UiSession | None:
        """The request's valid session, if any."""
        return self.codec().loads(request.cookies.get(COOKIE_NAME))

    def write(self, response: Response, session: UiSession) -> None:
        """Set the session cookie on ``response``."""
        response.set_cookie(
            COOKIE_NAME,
            self.codec().dumps(session),
            max_age=self.settings.session_max_age_s,
            path="/",
            secure=self.settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        """Delete the session cookie on ``response``."""
        response.delete_cookie(
            COOKIE_NAME,
            path="/",
            secure=self.settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )

    def user(self, session: UiSession | None) -> UserView | None:
        """The signed-in user of ``session``, or None (also when the user was deleted)."""
        if session is None or session.user_id is None:
            return None
        try:
            with self.store.session() as db:
                return get_user(db, session.user_id)
        except NotFound:
            return None


def manager_of(request: Request) -> SessionManager:
    """The session manager that :func:`assay.server.ui.install` put on the app."""
    manager: SessionManager = request.app.state.assay_ui_sessions
    return manager


def check_csrf(session: UiSession | None, token: str | None) -> None:
    """Check a submitted CSRF token against the session's, in constant time.

    Args:
        session: The request's session (None when it has no valid cookie).
        token: The token the form sent.

    Raises:
        CsrfError: no session, no token, or a different token.
    """
    if session is None:
        raise CsrfError(
            "your session has expired or your browser did not send its cookie; "
            "reload the page and submit the form again"
        )
    if not token or not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise CsrfError(
            "the form's security token does not match your session (CSRF check failed): "
            "it was sent from another site or an old page; reload the page and try again"
        )


def user_from_session(request: Request) -> UserView | None:
    """The user signed in to the web UI by the request's session cookie, if any.

    This is the hook the REST API uses so a signed-in browser can call it. A cookie
    is sent by the browser on cross-site requests too, so on unsafe methods (anything
    but GET, HEAD, OPTIONS) the cookie only counts when the request also carries the
    session's CSRF token in the ``X-CSRF-Token`` header, which another site cannot
    read.

    It touches the store (a primary-key lookup): call it from a sync route or
    through ``run_in_threadpool``.

    Args:
        request: The incoming request.

    Returns:
        The user, or None when there is no valid session, nobody is signed in, the
        user no longer exists, or an unsafe request lacks the matching CSRF header.
    """
    manager = manager_of(request)
    session = manager.read(request)
    if session is None or session.user_id is None:
        return None
    if request.method.upper() not in _SAFE_METHODS:
        try:
            check_csrf(session, request.headers.get(CSRF_HEADER))
        except CsrfError:
            return None
    return manager.user(session)
