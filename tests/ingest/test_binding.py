"""The server listens only where it is told: 127.0.0.1 means loopback and nothing else."""

from __future__ import annotations

import ipaddress
import socket

import psutil
import pytest

from .conftest import StartServer

pytestmark = pytest.mark.slow


def non_loopback_ipv4() -> list[str]:
    """This machine's IPv4 addresses other than loopback."""
    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if (
                address.family == socket.AF_INET
                and not ipaddress.ip_address(address.address).is_loopback
            ):
                found.append(address.address)
    return found


def test_listens_on_loopback_only(sqlite_url: str, start_server: StartServer) -> None:
    server = start_server(sqlite_url)
    listening = [
        conn.laddr
        for conn in psutil.Process(server.pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    ]
    assert listening, "the server listens nowhere"
    assert {addr.ip for addr in listening} == {"127.0.0.1"}, listening
    assert {addr.port for addr in listening} == {server.port}

    for address in non_loopback_ipv4():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            with pytest.raises(ConnectionRefusedError):
                sock.connect((address, server.port))
    assert server.alive()
