"""``assay dataset``: import versions, list, show, export round trips, diff, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Cli

LINES = [
    {"id": "greet", "input": "Hello!", "reference": "Hi, how can I help?", "tags": ["golden"]},
    {"id": "refund", "input": "I want a refund", "slices": {"lang": "en"}, "weight": 2},
    {"input": [{"role": "user", "content": "Wo ist mein Paket?"}], "slices": {"lang": "de"}},
]


def jsonl(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def project_cli(cli: Cli) -> Cli:
    cli.ok("project", "create", "bot")
    return cli


def test_import_list_show_export_diff(any_cli: Cli, tmp_path: Path) -> None:
    any_cli.ok("project", "create", "bot")
    v1 = any_cli.json(
        "dataset", "import", str(jsonl(tmp_path / "a.jsonl", LINES)), "-n", "support", "-p", "bot"
    )
    assert v1["created"] is True
    assert v1["dataset_created"] is True
    assert v1["version"]["number"] == 1
    assert v1["version"]["case_count"] == 3
    assert v1["version"]["source"] == "a.jsonl"

    again = any_cli.json(
        "dataset", "import", str(tmp_path / "a.jsonl"), "-n", "support", "-p", "bot"
    )
    assert again["created"] is False

    changed = [*LINES[:1], {**LINES[1], "reference": "Sorry to hear that."}]
    v2 = any_cli.json(
        "dataset", "import", str(jsonl(tmp_path / "b.jsonl", changed)), "-n", "support",
        "-p", "bot", "-m", "dropped the German case",
    )  # fmt: skip
    assert v2["version"]["number"] == 2
    assert (v2["changed"], len(v2["removed"])) == (["refund"], 1)

    listed = any_cli.json("dataset", "ls", "-p", "bot")
    assert [(d["name"], len(d["versions"])) for d in listed] == [("support", 2)]

    shown = any_cli.json("dataset", "show", "support@1", "-p", "bot")
    assert shown["version"]["number"] == 1
    assert [c["id"] for c in shown["cases"]][:2] == ["greet", "refund"]
    assert shown["cases"][2]["input"] == LINES[2]["input"]

    out = tmp_path / "export.csv"
    any_cli.ok("dataset", "export", "support@1", "-p", "bot", "-o", str(out))
    reimported = any_cli.json("dataset", "import", str(out), "-n", "copy", "-p", "bot")
    assert reimported["version"]["digest"] == v1["version"]["digest"]

    diff = any_cli.json("dataset", "diff", "support@1", "support", "-p", "bot")
    assert diff["diff"]["changed"] == [{"id": "refund", "fields": ["reference"]}]
    assert len(diff["diff"]["removed"]) == 1


def test_human_output(project_cli: Cli, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [*LINES, {"id": "dup", "input": "hello!"}])
    result = project_cli.ok("dataset", "import", str(path), "-n", "support", "-p", "bot")
    assert "Created dataset and version support@1: 3 cases (3 added" in result.stdout
    assert "case 'dup' exactly repeats 'greet'" in result.stderr
    assert "with a different reference: skipped" in result.stderr
    shown = project_cli.ok("dataset", "show", "support", "-p", "bot").stdout
    assert "support@1" in shown
    assert "Wo ist mein Paket?" in shown
    listed = project_cli.ok("dataset", "ls", "-p", "bot").stdout
    assert "support" in listed
    exported = project_cli.ok("dataset", "export", "support", "-p", "bot").stdout
    assert [json.loads(line)["id"] for line in exported.splitlines()][:2] == ["greet", "refund"]
    diff = project_cli.ok("dataset", "diff", "support@1", "support@1", "-p", "bot").stdout
    assert "the same 3 cases" in diff


def test_near_duplicates_are_reported(project_cli: Cli, tmp_path: Path) -> None:
    lines = [
        {"id": "a", "input": "How do I reset my password?"},
        {"id": "b", "input": "Where is my parcel?"},
        {"id": "c", "input": "How can I reset my password?"},
    ]
    path = jsonl(tmp_path / "n.jsonl", lines)
    result = project_cli.json("dataset", "import", str(path), "-n", "near", "-p", "bot")
    assert result["version"]["case_count"] == 3  # reported, not dropped
    (near,) = result["duplicates"]
    assert (near["case_id"], near["duplicate_of"], near["kind"]) == ("c", "a", "near")
    assert near["similarity"] > 0.95
    skipped = project_cli.json(
        "dataset", "import", str(path), "-n", "other", "-p", "bot", "--no-near-duplicates"
    )
    assert skipped["duplicates"] == []


def test_append_and_stdin(project_cli: Cli, tmp_path: Path) -> None:
    project_cli.ok(
        "dataset", "import", str(jsonl(tmp_path / "a.jsonl", LINES[:1])), "-n", "s", "-p", "bot"
    )
    more = json.dumps({"id": "new", "input": "Where is my order?"}) + "\n"
    result = project_cli.ok(
        "dataset",
        "import",
        "-",
        "--format",
        "jsonl",
        "--append",
        "-n",
        "s",
        "-p",
        "bot",
        input=more,
    )
    assert "s@2: 2 cases (1 added, 0 changed, 0 removed)" in result.stdout


def test_errors_exit_2_and_store_nothing(project_cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "ok"}\n{"reference": "no input"}\n')
    result = project_cli.fails("dataset", "import", str(bad), "-n", "s", "-p", "bot")
    assert "bad.jsonl line 2: every case needs an input field" in result.stderr
    assert project_cli.json("dataset", "ls", "-p", "bot") == []
    result = project_cli.fails("dataset", "import", str(tmp_path / "x.txt"), "-n", "s", "-p", "bot")
    assert "cannot tell the format" in result.stderr
    result = project_cli.fails(
        "dataset", "import", str(jsonl(tmp_path / "a.jsonl", LINES)), "-n", "s", "-p", "bot",
        "--on-duplicate", "maybe",
    )  # fmt: skip
    assert "--on-duplicate 'maybe'" in result.stderr
    assert (
        "no dataset named 'nope'"
        in project_cli.fails("dataset", "show", "nope", "-p", "bot").stderr
    )
    assert (
        "Parquet is binary"
        in project_cli.fails("dataset", "export", "nope", "-p", "bot", "--format", "parquet").stderr
    )
    project_cli.ok("dataset", "create", "empty", "-p", "bot")
    assert "already exists" in project_cli.fails("dataset", "create", "empty", "-p", "bot").stderr
    assert (
        "has no versions yet" in project_cli.fails("dataset", "export", "empty", "-p", "bot").stderr
    )
