"""Running the server process (what `assay serve` and `assay demo` call)."""

from __future__ import annotations

import ipaddress
import socket

import uvicorn

from assay.accounts import count_users
from assay.errors import ConfigError
from assay.server.app import create_app
from assay.settings import Settings
from assay.store.engine import Store
from assay.store.migrate import ensure_current


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


def serve(settings: Settings, *, log_level: str = "info") -> None:
    """Migrate the store, check exposure and run the server until interrupted."""
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
