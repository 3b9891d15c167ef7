"""What the server process loads: memory it holds for its whole life."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _imports import loaded_after
from assay.server import run
from assay.store import Store, migrate


def test_the_server_loads_no_statistics_libraries() -> None:
    # SciPy and statsmodels cost the server ~170 MB of resident memory, more than
    # everything else it imports together, for pages that compare runs; NumPy ~15 MB
    # of it, for queue agreement; Alembic ~11 MB, for migrations. They load when such
    # a page (or the gate, or a migration) needs them, not at startup.
    heavy = ("numpy", "scipy", "statsmodels", "sklearn", "pandas", "onnxruntime", "openai")
    statement = (
        "import assay.cli.main, assay.server.run, assay.server.app, assay.signals.worker, "
        "assay.ingest.writer"
    )
    assert loaded_after(statement, (*heavy, "alembic")) == []


def test_a_current_store_is_checked_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'assay.db'}"
    check = f"from assay.store import Store, migrate; migrate.ensure_current(Store({url!r}))"
    # An empty store is migrated, which needs Alembic ...
    assert loaded_after(check, ["alembic"]) == ["alembic"]
    # ... and once it is current, `assay serve` starting on it does not load it.
    assert loaded_after(check, ["alembic"]) == []
    store = Store(url)
    assert migrate.current_revision(store) == migrate.head_revision()
    store.dispose()


def test_statistics_are_loaded_on_first_use() -> None:
    # The function, not the submodule of the same name; and holm's statsmodels.
    statement = (
        "import assay.stats.agreement; from assay.stats import agreement, holm; "
        "assert callable(agreement) and agreement.__module__ == 'assay.stats.agreement'"
    )
    assert loaded_after(statement, ["statsmodels"]) == ["statsmodels"]


class _Libc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


def test_the_server_caps_malloc_arenas_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = _Libc()
    monkeypatch.setattr(run.ctypes, "CDLL", lambda _name: libc)
    monkeypatch.setattr(run.platform, "libc_ver", lambda: ("glibc", "2.36"))
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert run.limit_malloc_arenas()
    assert libc.calls == [(-8, run.MALLOC_ARENAS)]  # M_ARENA_MAX in glibc's malloc.h

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # the user's setting wins
    assert not run.limit_malloc_arenas()
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setattr(run.platform, "libc_ver", lambda: ("", ""))  # musl: left alone
    assert not run.limit_malloc_arenas()
    assert len(libc.calls) == 1


def test_this_machines_libc_takes_the_cap() -> None:
    # The real mallopt, in a fresh process without the variable (the bench's figures
    # were measured with it set this way).
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    code = "from assay.server.run import limit_malloc_arenas; assert limit_malloc_arenas()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
