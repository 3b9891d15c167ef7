"""Running the server process (what `assay serve` and `assay demo` call)."""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import logging
import os
import platform
import socket

import uvicorn

from assay.accounts import count_users
from assay.errors import ConfigError
from assay.server.app import create_app
from assay.settings import Settings
from assay.store.engine import Store
from assay.store.migrate import ensure_current

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except (socket.gaierror, ValueError):
            return False


def check_exposure(settings: Settings, store: Store) -> None:
    """Refuse to listen beyond loopback while no account can sign in to the UI.

    Traces hold user data: on a reachable address the UI must ask for sign-in, and
    with no account nobody could sign in, so the server would be either useless or
    (worse) tempting to open up.

    Raises:
        ConfigError: non-loopback host and no user account exists.
    """
    if is_loopback(settings.host):
        return
    with store.session() as session:
        users = count_users(session)
    if users == 0:
        raise ConfigError(
            f"refusing to listen on {settings.host}: it is reachable from other machines "
            "and no account exists to sign in to the UI. Create one with "
            "`assay user create NAME`, or listen on 127.0.0.1."
        )


MALLOC_ARENAS = 2
"""glibc malloc arenas the server may use, unless ``MALLOC_ARENA_MAX`` says otherwise."""

_M_ARENA_MAX = -8
"""``mallopt``'s parameter number for the arena limit (glibc's malloc.h)."""


def limit_malloc_arenas() -> bool:
    """Cap glibc's malloc arenas for this process (call before threads start).

    glibc gives busy threads arenas of their own, up to eight per core, and memory
    freed in one stays there. The server's threads (HTTP, the writer, the worker)
    each allocate and free megabytes of span text a second; with two arenas the
    process peaked ~10 MB lower under bench/ingest.py (bench/README.md). A user's
    own ``MALLOC_ARENA_MAX`` wins; other C libraries are left alone.

    Returns:
        Whether the cap was set.
    """
    if "MALLOC_ARENA_MAX" in os.environ or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        if libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS):
            return True
        log.debug("mallopt(M_ARENA_MAX) refused; keeping glibc's default arenas")
    except (OSError, AttributeError):
        log.debug("no mallopt in this C library; keeping its default arenas")
    return False


def serve(settings: Settings, *, log_level: str = "info") -> None:
    """Migrate the store, check exposure and run the server until interrupted."""
    limit_malloc_arenas()
    store = Store(settings.resolved_database_url())
    ensure_current(store)
    check_exposure(settings, store)
    app = create_app(settings, store, worker=settings.serve_worker)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        store.dispose()
