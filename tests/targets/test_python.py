"""Python targets: import from the working directory, sync and async, fingerprints
that follow the code, errors that name the function."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.errors import InvalidInput
from assay.targets import PythonTarget, TargetError, TargetOutput

APP = """
import asyncio
from assay.targets import TargetOutput

def answer(question):
    return f"echo: {question}"

async def answer_async(question):
    await asyncio.sleep(0)
    return {"text": question.upper()}

def with_usage(question):
    return TargetOutput(output="ok", prompt_tokens=3, completion_tokens=1, cost=0.5)

def broken(question):
    raise ValueError("bad question")

def slow(question):
    raise TimeoutError("upstream timed out")

class Upstream(Exception):
    status_code = 503

def unavailable(question):
    raise Upstream("try later")

not_callable = 42
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "evalapp.py").write_text(APP)
    yield tmp_path
    sys.modules.pop("evalapp", None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def call(target: PythonTarget, value: object) -> TargetOutput:
    async def go() -> TargetOutput:
        try:
            return await target(value)
        finally:
            await target.aclose()

    return asyncio.run(go())


def test_sync_and_async_functions(app_dir: Path) -> None:
    assert call(PythonTarget("evalapp:answer", cwd=app_dir), "hi").output == "echo: hi"
    assert call(PythonTarget("evalapp:answer_async", cwd=app_dir), "hi").output == {"text": "HI"}
    out = call(PythonTarget("evalapp:with_usage", cwd=app_dir), "hi")
    assert (out.prompt_tokens, out.completion_tokens, out.cost) == (3, 1, 0.5)


def test_errors_say_whether_to_retry(app_dir: Path) -> None:
    with pytest.raises(TargetError, match="evalapp:broken raised ValueError: bad question") as info:
        call(PythonTarget("evalapp:broken", cwd=app_dir), "x")
    assert not info.value.retryable
    with pytest.raises(TargetError) as info:
        call(PythonTarget("evalapp:slow", cwd=app_dir), "x")
    assert info.value.retryable
    with pytest.raises(TargetError) as info:
        call(PythonTarget("evalapp:unavailable", cwd=app_dir), "x")
    assert info.value.retryable


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("evalapp", "expected module:function"),
        ("evalapp:missing", "evalapp has no 'missing'"),
        ("evalapp:not_callable", "'not_callable' is not callable"),
        ("no_such_module_here:f", "cannot import 'no_such_module_here'"),
    ],
)
def test_bad_references(app_dir: Path, ref: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        PythonTarget(ref, cwd=app_dir)


def test_fingerprint_follows_the_source(app_dir: Path) -> None:
    before = PythonTarget("evalapp:answer", cwd=app_dir).fingerprint
    assert PythonTarget("evalapp:answer", cwd=app_dir).fingerprint == before
    assert PythonTarget("evalapp:answer_async", cwd=app_dir).fingerprint != before
    (app_dir / "evalapp.py").write_text(APP.replace("echo:", "said:"))
    sys.modules.pop("evalapp")
    assert PythonTarget("evalapp:answer", cwd=app_dir).fingerprint != before


def test_a_function_object_in_process() -> None:
    def local(question: str) -> str:
        return question[::-1]

    target = PythonTarget(func=local)
    assert target.describe()["function"].endswith("local")
    assert call(target, "abc").output == "cba"
