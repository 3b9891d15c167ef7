"""``assay run`` and ``assay runs``: JSON and human output, and bad input that stores
nothing."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Cli

LINES = [
    {"id": "add", "input": "What is 2+2?", "reference": "4"},
    {"id": "caps", "input": "shout", "reference": "SHOUT"},
    {"id": "miss", "input": "quiet", "reference": "whisper"},
]
APP = 'def answer(q):\n    return "4" if "2+2" in q else q.upper()\n'


@pytest.fixture
def project(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    (tmp_path / "cliapp.py").write_text(APP)
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    monkeypatch.chdir(tmp_path)
    cli.ok("project", "create", "bot")
    cli.ok("dataset", "import", str(cases), "-n", "suite", "-p", "bot", "--no-near-duplicates")
    yield cli
    sys.modules.pop("cliapp", None)


def test_run_json_then_runs(project: Cli) -> None:
    args = ("run", "-p", "bot", "-d", "suite", "-t", "cliapp:answer", "-s", "exact")
    first = project.json(*args, "--name", "first")
    assert first["run"]["name"] == "first"
    assert first["summary"]["scorers"]["exact"] == {
        "n": 3, "mean": 2 / 3, "passed": 2, "failed": 1, "errors": 0,
    }  # fmt: skip
    assert first["stats"]["called"] == 3
    again = project.json(*args, "--name", "second")
    assert (again["stats"]["called"], again["stats"]["cached"]) == (0, 3)
    human = project.ok(*args, "--name", "third").stdout
    assert "Ran third on suite@1: 3 results, 0 calls, 3 cached, 0 errors" in human
    listed = project.json("runs", "ls", "-p", "bot")
    assert [r["name"] for r in listed] == ["third", "second", "first"]
    shown = project.ok("runs", "show", "first", "-p", "bot", "--failed").stdout
    assert "miss" in shown
    assert "exact: FAIL" in shown
    assert "caps" not in shown


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("-t", "cliapp:nothing", "-s", "exact"), "cliapp has no 'nothing'"),
        (("-t", "cliapp:answer", "-s", "exakt"), "exakt"),
        (("-t", "cliapp:answer", "-s", "regex:flags=q"), "regex"),
        (("-t", "cliapp:answer", "--release", "v9"), "no release named 'v9'"),
        (("-t", "cliapp:answer", "-d", "nope"), "no dataset named 'nope'"),
    ],
)
def test_bad_input_exits_2_and_stores_no_run(
    project: Cli, extra: tuple[str, ...], message: str
) -> None:
    result = project.fails("run", "-p", "bot", "-d", "suite", *extra)
    assert message in result.stderr
    assert project.json("runs", "ls", "-p", "bot") == []
