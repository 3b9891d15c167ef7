"""The root command: version, help text everywhere, exit codes and error reporting."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from _imports import loaded_after
from assay import __version__
from assay.cli.docgen import parameters, walk
from assay.cli.main import app

from .conftest import Cli

runner = CliRunner()

COMMANDS = {doc.path for doc in walk(app)}


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"assay {__version__}"


def test_no_arguments_prints_help() -> None:
    result = runner.invoke(app, [])
    assert "Usage" in result.stdout + result.stderr
    assert "project" in result.stdout + result.stderr


def test_every_command_is_there() -> None:
    expected = {
        "assay serve",
        "assay project create",
        "assay project ls",
        "assay project show",
        "assay project slices",
        "assay project redaction",
        "assay project key create",
        "assay project key ls",
        "assay project key revoke",
        "assay user create",
        "assay user ls",
        "assay user passwd",
        "assay release register",
        "assay release list",
        "assay release show",
        "assay release diff",
        "assay traces ls",
        "assay traces show",
        "assay queue create",
        "assay queue add",
        "assay queue label",
        "assay queue adjudicate",
        "assay queue agreement",
        "assay queue promote",
        "assay queue export",
        "assay rule add",
        "assay rule load",
        "assay rule ls",
        "assay online add",
        "assay online backfill",
        "assay online scores",
        "assay db upgrade",
        "assay db current",
        "assay db downgrade",
    }
    assert expected <= COMMANDS


@pytest.mark.parametrize("doc", list(walk(app)), ids=lambda doc: doc.path)
def test_every_command_and_option_has_help(doc) -> None:
    assert (doc.command.help or "").strip(), f"{doc.path} has no help text"
    for declaration, text in parameters(doc):
        # Typer appends "[default: ...]" and "[required]"; those alone are not help.
        assert not text.strip().startswith("["), f"{doc.path} {declaration} has no help text"
        assert text.strip(), f"{doc.path} {declaration} has no help text"
    result = runner.invoke(app, [*doc.path.split()[1:], "--help"])
    assert result.exit_code == 0, result.stderr
    assert "Usage" in result.stdout


def test_store_commands_take_db() -> None:
    # assay agreement reads a labels file, not the store.
    store_free = {"assay", "assay --version", "assay agreement"}
    for doc in walk(app):
        if doc.path in store_free or getattr(doc.command, "commands", None):
            continue
        declarations = [d for d, _ in parameters(doc)]
        assert any(d.startswith("--db") for d in declarations), f"{doc.path} lacks --db"


def test_help_documents_exit_codes() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    text = " ".join(result.stdout.split())
    assert "Exit codes: 0 success; 1 failure" in text
    assert "2 usage or data error" in text


def test_user_error_is_one_red_line_and_exit_2(cli: Cli) -> None:
    result = cli.fails("project", "show", "nope")
    assert result.stderr.strip() == "error: project 'nope' does not exist"
    assert result.stdout == ""


def test_usage_error_exits_2(cli: Cli) -> None:
    result = cli.fails("project", "create")
    assert "Missing argument" in result.stderr


def test_unreachable_store_is_a_user_error() -> None:
    url = "postgresql+psycopg://someone:hunter22@127.0.0.1:1/nothing"
    result = runner.invoke(app, ["project", "ls", "--db", url])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot use the store at ")
    assert "hunter22" not in result.stderr


def test_bad_database_url(cli: Cli) -> None:
    result = runner.invoke(app, ["project", "ls", "--db", "mysql://x/y"])
    assert result.exit_code == 2
    assert "unsupported backend 'mysql'" in result.stderr


def test_default_store_is_dot_assay_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["project", "create", "here"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / ".assay" / "assay.db").is_file()


def test_database_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    result = runner.invoke(app, ["project", "create", "env"], env={"ASSAY_DATABASE_URL": url})
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "elsewhere.db").is_file()
    assert not (tmp_path / ".assay").exists()


def test_bad_environment_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["project", "ls"], env={"ASSAY_PORT": "many"})
    assert result.exit_code == 2
    assert "ASSAY_PORT" in result.stderr


def test_the_cli_starts_without_the_heavy_libraries() -> None:
    # SciPy, statsmodels, NumPy, PyArrow and onnxruntime take seconds to import;
    # commands that need them import them when they run, so `assay --help` is quick.
    heavy = ("scipy", "statsmodels", "numpy", "pyarrow", "onnxruntime", "sklearn")
    assert loaded_after("import assay.cli.main", heavy) == []


def test_cli_bootstrap_defaults_match_the_statistics() -> None:
    from assay.cli import compare
    from assay.stats import DEFAULT_RESAMPLES, DEFAULT_SEED

    assert (compare.DEFAULT_SEED, compare.DEFAULT_RESAMPLES) == (DEFAULT_SEED, DEFAULT_RESAMPLES)
