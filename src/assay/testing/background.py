"""Run an ASGI app with uvicorn on a background thread, for tests.

The socket is bound before the thread starts, so the port (an ephemeral one by
default) is known and accepting connections when :func:`serve_app` yields.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from assay.server.untraced import untraced_fastapi

__all__ = ["BackgroundServer", "serve_app", "untraced_fastapi"]


@dataclass(frozen=True)
class BackgroundServer:
    """A server started by :func:`serve_app`.

    Attributes:
        host: Address it listens on.
        port: TCP port it listens on.
        base_url: ``http://host:port`` (no trailing slash).
    """

    host: str
    port: int
    base_url: str


@contextmanager
def serve_app(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout_s: float = 10.0,
    log_level: str = "warning",
) -> Iterator[BackgroundServer]:
    """Serve ``app`` on a background thread for the duration of the block.

    Args:
        app: Any ASGI application (FastAPI, Starlette, ...).
        host: Address to listen on; loopback by default.
        port: TCP port; 0 picks a free one.
        startup_timeout_s: Longest wait for the server to come up.
        log_level: uvicorn's log level.

    Yields:
        Where the server listens.

    Raises:
        RuntimeError: The server did not start in time.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        ws="none",  # tests need no websockets; skips importing a websockets library
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{bound_port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {host}:{bound_port}")
            time.sleep(0.005)
        yield BackgroundServer(host, bound_port, f"http://{host}:{bound_port}")
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout_s)
        sock.close()
