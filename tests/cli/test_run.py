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


def test_release_from_target_links_its_runs_and_refuses_another_target(
    project: Cli, tmp_path: Path
) -> None:
    registered = project.json(
        "release", "register", "--target", "cliapp:answer", "--name", "bot-v1", "-p", "bot"
    )
    assert registered["created"] is True
    shown = project.json("release", "show", "bot-v1", "-p", "bot")
    target = shown["manifest"]["extra"]["target"]
    assert target["kind"] == "python"
    assert target["function"] == "cliapp:answer"
    args = ("run", "-p", "bot", "-d", "suite", "-s", "exact", "--release", "bot-v1")
    ran = project.json(*args, "-t", "cliapp:answer", "--name", "linked")
    assert ran["run"]["release"] == "bot-v1"
    assert ran["run"]["target_fingerprint"] == target["fingerprint"]
    # Same target again: already registered, nothing new.
    again = project.json(
        "release", "register", "--target", "cliapp:answer", "--name", "bot-v1", "-p", "bot"
    )
    assert again["created"] is False
    # Edited code: another fingerprint, so the run is refused and nothing is stored.
    (tmp_path / "cliapp2.py").write_text(APP.replace("upper", "lower"))
    refused = project.fails(*args, "-t", "cliapp2:answer", "--name", "mislinked")
    assert "release 'bot-v1' was registered from a target with fingerprint" in refused.stderr
    assert "mislinked" not in [r["name"] for r in project.json("runs", "ls", "-p", "bot")]
    sys.modules.pop("cliapp2", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--target", "cliapp:answer"), "--target needs --name"),
        ((), "give a manifest FILE or --target SPEC"),
        (("m.toml", "--target", "cliapp:answer", "--name", "x"), "one of them"),
        (("--target", "cliapp:missing", "--name", "x"), "cliapp has no 'missing'"),
    ],
)
def test_release_register_from_target_bad_input(
    project: Cli, args: tuple[str, ...], message: str
) -> None:
    result = project.fails("release", "register", *args, "-p", "bot")
    assert message in result.stderr
    assert project.json("release", "list", "-p", "bot") == []
