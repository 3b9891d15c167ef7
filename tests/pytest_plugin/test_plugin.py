"""The pytest plugin, in real pytest sessions: one test per case, outputs and
outcomes stored as a run, and the gate at the session's end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from _runs import new_lab
from assay.datasets import CaseSpec
from assay.store import Store, migrate
from assay.store.models import Run

CASES = [
    CaseSpec(id=f"q{i:02d}", input=f"question {i}", reference=f"answer {i}") for i in range(40)
]
TESTS = """
import pytest

BROKEN = {broken}

def answer(question):
    n = int(question.split()[1])
    return "wrong" if n in BROKEN else f"answer {{n}}"

@pytest.mark.assay_dataset("suite", scorers=["exact"])
def test_answers(case, assay_output):
    out = answer(case.input)
    assay_output(out, prompt_tokens=3)
    assert out != "wrong"
"""
POLICY = '[gate]\nresamples = 500\n[[gate.rules]]\nscorer = "exact"\nmax_drop = 0.02\n'


@pytest.fixture
def project(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'assay.db'}"
    store = Store(url)
    migrate.upgrade(store)
    lab = new_lab(store)
    ref = lab.dataset(CASES)
    lab.run("baseline", ref, lambda c: 1.0)
    store.dispose()
    (tmp_path / "assay.toml").write_text(POLICY)
    return url, tmp_path


def pytest_session(
    folder: Path, url: str, broken: set[int], *args: str
) -> subprocess.CompletedProcess[str]:
    (folder / "test_evals.py").write_text(TESTS.format(broken=sorted(broken) or "set()"))
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_evals.py",
        "--assay-project", "bot", "--assay-db", url, *args,
    ]  # fmt: skip
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)


def stored_run(url: str, name: str) -> Run:
    store = Store(url)
    try:
        with store.session() as session:
            return session.scalars(select(Run).where(Run.name == name)).one()
    finally:
        store.dispose()


def test_one_test_per_case_and_a_stored_run(project: tuple[str, Path]) -> None:
    url, folder = project
    done = pytest_session(folder, url, {3}, "--assay-run", "ci-1")
    assert done.returncode == 1, done.stdout  # one case's assertion failed
    assert "1 failed, 39 passed" in done.stdout
    assert "test_answers[q03]" in done.stdout
    assert "assay: stored run 'ci-1' over suite@1 (40 cases)" in done.stdout
    summary = json.loads(stored_run(url, "ci-1").summary)
    assert summary["scorers"]["exact"] == {
        "n": 40,
        "mean": 39 / 40,
        "passed": 39,
        "failed": 1,
        "errors": 0,
    }
    assert summary["scorers"]["pytest"]["failed"] == 1
    assert summary["prompt_tokens"] == 120


def test_the_gate_fails_the_session(project: tuple[str, Path]) -> None:
    url, folder = project
    gate = ("--assay-gate", "assay.toml", "--assay-baseline", "baseline")
    ok = pytest_session(folder, url, set(), "--assay-run", "good", *gate)
    assert ok.returncode == 0, ok.stdout
    assert "assay gate passed" in ok.stdout
    bad = pytest_session(folder, url, set(range(10)), "--assay-run", "bad", *gate)
    assert bad.returncode == 1
    assert "assay gate failed" in bad.stdout
    assert "dropped: delta -25.0 pts" in bad.stdout
    assert json.loads(stored_run(url, "bad").summary)["gate"]["passed"] is False


def test_only_the_cases_that_ran_are_stored(project: tuple[str, Path]) -> None:
    url, folder = project
    done = pytest_session(folder, url, set(), "--assay-run", "some", "-k", "q0")
    assert done.returncode == 0, done.stdout
    assert "assay: stored run 'some' over suite@1 (10 cases)" in done.stdout
    assert json.loads(stored_run(url, "some").summary)["cases"] == 10


def test_usage_errors(project: tuple[str, Path]) -> None:
    url, folder = project
    no_baseline = pytest_session(folder, url, set(), "--assay-gate", "assay.toml")
    assert no_baseline.returncode != 0
    assert "--assay-gate needs --assay-baseline" in no_baseline.stdout + no_baseline.stderr
    (folder / "test_evals.py").write_text(TESTS.format(broken="set()"))
    command = [sys.executable, "-m", "pytest", "-q", "test_evals.py", "--assay-db", url]
    missing = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)
    assert missing.returncode != 0
    assert "needs --assay-project NAME" in missing.stdout + missing.stderr
