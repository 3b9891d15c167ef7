"""Killing ``assay run`` with SIGKILL mid-run, then running it again under the same
name: it completes, and no case whose result was stored is computed again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from assay.datasets import CaseSpec, add_version
from assay.projects import create_project
from assay.store import Store, migrate
from assay.store.models import RunResult

CLI = "from assay.cli.main import main; main()"
N = 60


def assay_run(url: str, cwd: Path, calls: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EVAL_CALLS_FILE": str(calls)}
    args = [
        "run", "-p", "bot", "-d", "suite", "-t", "evaltarget:paced", "-s", "exact",
        "--name", "nightly", "--concurrency", "2", "--db", url,
    ]  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stored(store: Store) -> set[str]:
    with store.session() as session:
        return set(session.scalars(select(RunResult.case_id)))


def test_kill_9_then_resume(sqlite_url: str, target_dir: Path) -> None:
    store = Store(sqlite_url)
    migrate.upgrade(store)
    with store.write_session() as session:
        project_id = create_project(session, "bot").id
        cases = [CaseSpec(id=f"q{i:02d}", input=f"question {i}", reference="x") for i in range(N)]
        add_version(session, project_id, "suite", cases)
    calls = target_dir / "calls.log"
    first = assay_run(sqlite_url, target_dir, calls)
    deadline = time.monotonic() + 60
    while len(stored(store)) < 10:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "no results were stored"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    before = stored(store)
    assert 10 <= len(before) < N
    calls.write_text("")  # count only the second attempt's calls

    second = assay_run(sqlite_url, target_dir, calls)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    called_again = set(calls.read_text().split("\n")) - {""}
    assert not called_again & {f"question {c[1:].lstrip('0') or '0'}" for c in before}
    with store.session() as session:
        count = session.scalar(select(func.count()).select_from(RunResult))
    assert count == N
    assert stored(store) == {f"q{i:02d}" for i in range(N)}
    assert b"Resumed" in out
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    store.dispose()
