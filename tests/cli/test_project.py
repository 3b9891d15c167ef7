"""``assay project``: projects, keys, slices and redaction rules."""

from __future__ import annotations

from assay.projects import resolve_api_key
from assay.store import Store

from .conftest import Cli


def test_create_prints_key_once_with_exporter_hint(any_cli: Cli) -> None:
    result = any_cli.ok("project", "create", "support-bot", "--description", "Answers tickets")
    out = result.stdout
    assert "Created project support-bot" in out
    secret = next(w for w in out.split() if w.startswith("ak_"))
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6500" in out
    assert f'OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer {secret}"' in out
    # The printed key is the real one: ingest resolves it to the project.
    store = Store(any_cli.url)
    try:
        with store.session() as session:
            assert resolve_api_key(session, secret).project_id == 1
    finally:
        store.dispose()


def test_create_json_is_exactly_project_and_key(any_cli: Cli) -> None:
    data = any_cli.json("project", "create", "bot", "--description", "d")
    assert set(data) == {"project", "api_key"}
    assert data["project"]["name"] == "bot"
    assert data["project"]["description"] == "d"
    assert data["api_key"].startswith("ak_")
    listed = any_cli.json("project", "ls")
    assert [p["name"] for p in listed] == ["bot"]


def test_duplicate_project_exits_2(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    result = cli.fails("project", "create", "bot")
    assert "project 'bot' already exists" in result.stderr


def test_invalid_name_exits_2(cli: Cli) -> None:
    result = cli.fails("project", "create", "no spaces")
    assert "project name 'no spaces' is invalid" in result.stderr


def test_exporter_hint_follows_port_setting(cli: Cli) -> None:
    result = cli("project", "create", "bot", env={"ASSAY_PORT": "7000", "ASSAY_HOST": "0.0.0.0"})
    assert result.exit_code == 0, result.stderr
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:7000" in result.stdout


def test_ls_and_show(cli: Cli) -> None:
    result = cli.ok("project", "ls")
    assert "No projects yet" in result.stdout
    cli.ok("project", "create", "bot", "--description", "Answers tickets")
    assert "bot" in cli.ok("project", "ls").stdout
    shown = cli.ok("project", "show", "bot").stdout
    assert "Answers tickets" in shown
    assert "1 active, 0 revoked" in shown
    data = cli.json("project", "show", "1")
    assert data["name"] == "bot"
    assert data["redaction"]["builtins"] == ["email", "phone", "card", "api_key", "bearer"]


def test_unknown_project_exits_2(cli: Cli) -> None:
    for args in (
        ("project", "show", "ghost"),
        ("project", "key", "ls", "ghost"),
        ("project", "key", "create", "ghost"),
        ("project", "slices", "ghost", "plan"),
        ("project", "redaction", "ghost", "--none"),
    ):
        result = cli.fails(*args)
        assert "project 'ghost' does not exist" in result.stderr, args


def test_keys_create_list_revoke(any_cli: Cli) -> None:
    any_cli.ok("project", "create", "bot")
    new = any_cli.json("project", "key", "create", "bot", "--key-name", "ci")
    assert new["key"]["name"] == "ci"
    assert new["api_key"].startswith(new["key"]["prefix"])
    keys = any_cli.json("project", "key", "ls", "bot")
    assert [k["name"] for k in keys] == ["default", "ci"]
    assert all(k["revoked_at"] is None for k in keys)
    assert "ci" in any_cli.ok("project", "key", "ls", "bot").stdout

    result = any_cli.ok("project", "key", "revoke", "bot", str(new["key"]["id"]))
    assert "Revoked key" in result.stdout
    keys = any_cli.json("project", "key", "ls", "bot")
    assert keys[1]["revoked_at"] is not None
    assert keys[0]["revoked_at"] is None


def test_key_create_human_output_shows_secret(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    out = cli.ok("project", "key", "create", "bot").stdout
    assert "Created key 2 (default)" in out
    assert "Authorization=Bearer ak_" in out


def test_revoke_unknown_key_exits_2(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    result = cli.fails("project", "key", "revoke", "bot", "99")
    assert "API key 99 does not exist in project 'bot'" in result.stderr


def test_revoke_non_numeric_key_is_usage_error(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    cli.fails("project", "key", "revoke", "bot", "abc")


def test_slices(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    out = cli.ok("project", "slices", "bot", "plan", "region", "plan").stdout
    assert "declared: plan, region" in out
    assert cli.json("project", "show", "bot")["slice_keys"] == ["plan", "region"]
    assert "declared: plan, region" in cli.ok("project", "slices", "bot").stdout
    assert "declared: none" in cli.ok("project", "slices", "bot", "--none").stdout
    assert cli.json("project", "show", "bot")["slice_keys"] == []
    result = cli.fails("project", "slices", "bot", "plan", "--none")
    assert "not both" in result.stderr


def test_redaction_rules(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    out = cli.ok(
        "project", "redaction", "bot", "--builtin", "email", "--pattern", r"order=ORD-\d+"
    ).stdout
    assert r"email, order=ORD-\d+" in out
    rules = cli.json("project", "show", "bot")["redaction"]
    assert rules == {"builtins": ["email"], "patterns": [{"name": "order", "regex": r"ORD-\d+"}]}

    # Only --pattern: every built-in stays on.
    cli.ok("project", "redaction", "bot", "--pattern", "ticket=T[0-9]+")
    rules = cli.json("project", "show", "bot")["redaction"]
    assert rules["builtins"] == ["email", "phone", "card", "api_key", "bearer"]
    assert rules["patterns"] == [{"name": "ticket", "regex": "T[0-9]+"}]

    # No option: show, change nothing.
    assert "ticket=T[0-9]+" in cli.ok("project", "redaction", "bot").stdout

    assert "Redaction of bot: off" in cli.ok("project", "redaction", "bot", "--none").stdout
    assert cli.json("project", "show", "bot")["redaction"] == {"builtins": [], "patterns": []}


def test_redaction_rejects_bad_input_and_changes_nothing(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    before = cli.json("project", "show", "bot")["redaction"]
    result = cli.fails("project", "redaction", "bot", "--builtin", "ssn")
    assert "unknown detector(s) ssn" in result.stderr
    result = cli.fails("project", "redaction", "bot", "--pattern", "broken=(")
    assert "--pattern broken=(" in result.stderr
    assert "invalid regular expression" in result.stderr
    result = cli.fails("project", "redaction", "bot", "--pattern", "no-equals-sign")
    assert "expected KEY=VALUE" in result.stderr
    result = cli.fails("project", "redaction", "bot", "--none", "--builtin", "email")
    assert "--none" in result.stderr
    assert cli.json("project", "show", "bot")["redaction"] == before
