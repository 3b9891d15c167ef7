"""``assay serve`` as a real process: it answers /healthz, and refuses unsafe exposure."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

# Cold start on a busy 2-core machine (imports, migrations) takes a few seconds;
# this leaves room without hiding a hang.
STARTUP_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _assay(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "assay.cli.main", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_healthy(proc: subprocess.Popen[str], url: str) -> dict[str, object]:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"assay serve exited with {proc.returncode}: {err}")
        try:
            response = httpx.get(url, timeout=2.0)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code == 200:
            data: dict[str, object] = response.json()
            return data
        time.sleep(0.2)
    pytest.fail(f"assay serve did not answer {url} within {STARTUP_S} s")


def test_serve_answers_healthz_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    url = f"sqlite:///{tmp_path / 'store.db'}"
    proc = _assay(tmp_path, "serve", "--port", str(port), "--db", url, "--log-level", "warning")
    try:
        health = _wait_healthy(proc, f"http://127.0.0.1:{port}/healthz")
        assert health["status"] == "ok"
        assert health["database"] == "sqlite"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert proc.returncode == 0, proc.communicate()[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.communicate()


def test_serve_refuses_a_public_address_without_accounts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    proc = _assay(tmp_path, "serve", "--host", "0.0.0.0", "--port", str(_free_port()), "--db", url)
    try:
        out, err = proc.communicate(timeout=STARTUP_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, (out, err)
    assert err.startswith("error: refusing to listen on 0.0.0.0")
    assert "no account exists" in err
    assert "assay user create" in err
    assert "Traceback" not in err
