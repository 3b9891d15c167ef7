"""Fixtures for experiment tests: a project with a dataset, and a target module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.datasets import CaseSpec, add_version
from assay.projects import create_project
from assay.store import Store

TARGET_MODULE = """
import asyncio, os

CALLS = os.environ.get("EVAL_CALLS_FILE")

def _log(question):
    if CALLS:
        with open(CALLS, "a") as f:
            f.write(question + "\\n")

def answer(question):
    _log(question)
    return "4" if "2+2" in question else question.upper()

async def answer_async(question):
    _log(question)
    await asyncio.sleep(0)
    return "4" if "2+2" in question else "?"

FAILS = {"n": 0}

def flaky(question):
    FAILS["n"] += 1
    if FAILS["n"] % 2:
        raise TimeoutError("upstream timed out")
    return "4"

def always_busy(question):
    raise TimeoutError("upstream timed out again")

def broken(question):
    raise ValueError("no answer for " + question)

async def paced(question):
    _log(question)
    await asyncio.sleep(0.05)
    return question.upper()

async def slow(question):
    await asyncio.sleep(float(os.environ.get("EVAL_SLEEP", "5")))
    return "late"
"""

CASES = [
    CaseSpec(id="add", input="What is 2+2?", reference="4", slices={"lang": "en"}),
    CaseSpec(id="caps", input="shout", reference="SHOUT", tags=("golden",)),
    CaseSpec(id="miss", input="quiet", reference="whisper"),
]


@pytest.fixture
def target_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder holding ``evaltarget.py``, importable as the working directory."""
    (tmp_path / "evaltarget.py").write_text(TARGET_MODULE)
    yield tmp_path
    sys.modules.pop("evaltarget", None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


@pytest.fixture
def suite(store: Store) -> Store:
    """The store with project ``bot`` and dataset ``suite@1`` (3 cases)."""
    with store.write_session() as session:
        project_id = create_project(session, "bot").id
        add_version(session, project_id, "suite", CASES)
    return store
