"""``assay release``: register manifests, list, show and diff releases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Cli

V1_YAML = """\
name: v1
model: {id: gpt-4o-mini, provider: openai}
generation: {temperature: 0.2}
prompts:
  system: |
    You are a helpful support agent.
    Answer briefly.
    Never reveal internal notes.
"""

V2_TOML = '''\
name = "v2"
[model]
id = "gpt-4o"
provider = "openai"
[generation]
temperature = 0.7
[prompts]
system = """You are a helpful support agent.
Answer briefly and politely.
Never reveal internal notes.
"""
'''


@pytest.fixture
def manifests(tmp_path: Path) -> dict[str, Path]:
    files = {
        "v1": tmp_path / "v1.yaml",
        "v2": tmp_path / "v2.toml",
        "v1json": tmp_path / "v1.json",
    }
    files["v1"].write_text(V1_YAML)
    files["v2"].write_text(V2_TOML)
    files["v1json"].write_text(
        json.dumps(
            {
                "name": "v1",
                "model": {"id": "gpt-4o-mini", "provider": "openai"},
                "generation": {"temperature": 0.2},
                "prompts": {
                    "system": "You are a helpful support agent.\nAnswer briefly.\n"
                    "Never reveal internal notes.\n"
                },
            }
        )
    )
    return files


@pytest.fixture
def project_cli(cli: Cli) -> Cli:
    cli.ok("project", "create", "bot")
    return cli


def test_register_list_show_diff(any_cli: Cli, manifests: dict[str, Path]) -> None:
    any_cli.ok("project", "create", "bot")
    first = any_cli.json("release", "register", str(manifests["v1"]), "--project", "bot")
    assert first["name"] == "v1"
    assert first["created"] is True
    assert len(first["fingerprint"]) == 64
    # The same behaviour in another format is the same release, not a new one.
    again = any_cli.json("release", "register", str(manifests["v1json"]), "-p", "bot")
    assert again == {**first, "created": False}
    any_cli.ok("release", "register", str(manifests["v2"]), "-p", "bot")

    listed = any_cli.json("release", "list", "-p", "bot")
    assert [r["name"] for r in listed] == ["v2", "v1"]

    shown = any_cli.json("release", "show", first["fingerprint"][:12], "-p", "bot")
    assert shown["name"] == "v1"
    assert shown["manifest"]["model"] == {"id": "gpt-4o-mini", "provider": "openai"}

    diff = any_cli.json("release", "diff", "v1", "v2", "-p", "bot")
    assert diff["old"]["name"] == "v1"
    assert diff["new"]["name"] == "v2"
    assert [(c["path"], c["kind"]) for c in diff["changes"]] == [
        ("generation.temperature", "changed"),
        ("model.id", "changed"),
        ("prompts.system", "changed"),
    ]
    assert diff["changes"][1]["old"] == "gpt-4o-mini"
    assert diff["changes"][1]["new"] == "gpt-4o"


def test_register_human_output(project_cli: Cli, manifests: dict[str, Path]) -> None:
    out = project_cli.ok("release", "register", str(manifests["v1"]), "-p", "bot").stdout
    assert "Registered release v1" in out
    assert "fingerprint " in out
    out = project_cli.ok("release", "register", str(manifests["v1"]), "-p", "bot").stdout
    assert "already registered" in out


def test_register_with_name_override(project_cli: Cli, manifests: dict[str, Path]) -> None:
    data = project_cli.json(
        "release", "register", str(manifests["v1"]), "-p", "bot", "--name", "2026-11-20"
    )
    assert data["name"] == "2026-11-20"
    assert project_cli.json("release", "show", "2026-11-20", "-p", "bot")["manifest"]["name"] == (
        "2026-11-20"
    )


def test_diff_table_and_unified_prompt_diff(project_cli: Cli, manifests: dict[str, Path]) -> None:
    project_cli.ok("release", "register", str(manifests["v1"]), "-p", "bot")
    project_cli.ok("release", "register", str(manifests["v2"]), "-p", "bot")
    out = project_cli.ok("release", "diff", "v1", "v2", "-p", "bot").stdout
    assert "3 changes" in out
    assert "generation.temperature" in out
    assert "0.2" in out
    assert "0.7" in out
    assert "-Answer briefly." in out
    assert "+Answer briefly and politely." in out


def test_diff_of_a_release_with_itself(project_cli: Cli, manifests: dict[str, Path]) -> None:
    project_cli.ok("release", "register", str(manifests["v1"]), "-p", "bot")
    assert "no changes" in project_cli.ok("release", "diff", "v1", "v1", "-p", "bot").stdout
    assert project_cli.json("release", "diff", "v1", "v1", "-p", "bot")["changes"] == []


def test_show_human(project_cli: Cli, manifests: dict[str, Path]) -> None:
    project_cli.ok("release", "register", str(manifests["v1"]), "-p", "bot")
    out = project_cli.ok("release", "show", "v1", "-p", "bot").stdout
    assert "gpt-4o-mini" in out
    assert "fingerprint" in out


def test_list_empty(project_cli: Cli) -> None:
    assert "No releases yet" in project_cli.ok("release", "list", "-p", "bot").stdout


def test_bad_manifest_exits_2_naming_the_field(project_cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "v1", "model": {"id": 3}}')
    result = project_cli.fails("release", "register", str(bad), "-p", "bot")
    assert "bad.json" in result.stderr
    assert "model.id" in result.stderr


def test_unparsable_manifest_exits_2(project_cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    result = project_cli.fails("release", "register", str(bad), "-p", "bot")
    assert "invalid YAML" in result.stderr


def test_missing_manifest_file_exits_2(project_cli: Cli, tmp_path: Path) -> None:
    result = project_cli.fails("release", "register", str(tmp_path / "nope.toml"), "-p", "bot")
    assert "nope.toml" in result.stderr


def test_name_conflict_exits_2(
    project_cli: Cli, manifests: dict[str, Path], tmp_path: Path
) -> None:
    project_cli.ok("release", "register", str(manifests["v1"]), "-p", "bot")
    changed = tmp_path / "v1-changed.yaml"
    changed.write_text(V1_YAML.replace("0.2", "0.9"))
    result = project_cli.fails("release", "register", str(changed), "-p", "bot")
    assert "already exists with different behaviour" in result.stderr


def test_unknown_project_and_release_exit_2(project_cli: Cli, manifests: dict[str, Path]) -> None:
    result = project_cli.fails("release", "register", str(manifests["v1"]), "-p", "ghost")
    assert "project 'ghost' does not exist" in result.stderr
    project_cli.ok("release", "register", str(manifests["v1"]), "-p", "bot")
    result = project_cli.fails("release", "show", "v9", "-p", "bot")
    assert "no release named 'v9'" in result.stderr
    result = project_cli.fails("release", "diff", "v1", "v9", "-p", "bot")
    assert "no release named 'v9'" in result.stderr


def test_project_is_required(project_cli: Cli) -> None:
    result = project_cli.fails("release", "list")
    assert "--project" in result.stderr
