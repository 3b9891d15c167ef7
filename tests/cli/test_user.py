"""``assay user``: accounts, passwords from stdin or a hidden prompt."""

from __future__ import annotations

import pytest

from assay.accounts import authenticate, resolve_user_key
from assay.cli import user
from assay.errors import AuthError
from assay.store import Store

from .conftest import Cli


def _signs_in(url: str, username: str, password: str) -> bool:
    store = Store(url)
    try:
        with store.session() as session:
            authenticate(session, username, password)
        return True
    except AuthError:
        return False
    finally:
        store.dispose()


def test_create_from_stdin_then_sign_in(any_cli: Cli) -> None:
    result = any_cli.ok("user", "create", "alice", "--password-stdin", input="correct horse\n")
    assert "Created user alice (admin)" in result.stdout
    assert _signs_in(any_cli.url, "alice", "correct horse")
    users = any_cli.json("user", "ls")
    assert [(u["username"], u["role"]) for u in users] == [("alice", "admin")]


def test_create_with_role(cli: Cli) -> None:
    cli.ok("user", "create", "bob", "--role", "annotator", "--password-stdin", input="pw-12345\n")
    assert "annotator" in cli.ok("user", "ls").stdout


def test_unknown_role_is_usage_error(cli: Cli) -> None:
    result = cli.fails("user", "create", "bob", "--role", "boss", "--password-stdin", input="x\n")
    assert "boss" in result.stderr


def test_duplicate_user_exits_2(cli: Cli) -> None:
    cli.ok("user", "create", "alice", "--password-stdin", input="password1\n")
    result = cli.fails("user", "create", "alice", "--password-stdin", input="password2\n")
    assert "user 'alice' already exists" in result.stderr


def test_short_password_exits_2(cli: Cli) -> None:
    result = cli.fails("user", "create", "alice", "--password-stdin", input="short\n")
    assert "at least 8 characters" in result.stderr
    assert cli.json("user", "ls") == []


def test_empty_stdin_exits_2(cli: Cli) -> None:
    result = cli.fails("user", "create", "alice", "--password-stdin", input="")
    assert "stdin is empty" in result.stderr


def test_no_tty_and_no_flag_refuses_to_prompt(cli: Cli) -> None:
    result = cli.fails("user", "create", "alice", input="password1\n")
    assert "--password-stdin" in result.stderr


def test_prompts_twice_on_a_terminal(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user, "stdin_is_tty", lambda: True)
    result = cli.ok("user", "create", "alice", input="s3cret-pass\ns3cret-pass\n")
    assert "s3cret-pass" not in result.stdout  # hidden input
    assert _signs_in(cli.url, "alice", "s3cret-pass")


def test_prompt_asks_again_when_the_two_differ(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user, "stdin_is_tty", lambda: True)
    cli.ok("user", "create", "alice", input="first-pass\nother-pass\ngood-pass\ngood-pass\n")
    assert _signs_in(cli.url, "alice", "good-pass")


def test_passwd(cli: Cli) -> None:
    cli.ok("user", "create", "alice", "--password-stdin", input="old-password\n")
    result = cli.ok("user", "passwd", "alice", "--password-stdin", input="new-password\n")
    assert "Changed the password of alice" in result.stdout
    assert _signs_in(cli.url, "alice", "new-password")
    assert not _signs_in(cli.url, "alice", "old-password")


def test_passwd_unknown_user_exits_2(cli: Cli) -> None:
    result = cli.fails("user", "passwd", "ghost", "--password-stdin", input="new-password\n")
    assert "user 'ghost' does not exist" in result.stderr


def test_ls_empty(cli: Cli) -> None:
    assert "No accounts yet" in cli.ok("user", "ls").stdout


def _key_user(url: str, secret: str) -> str | None:
    store = Store(url)
    try:
        with store.session() as session:
            return resolve_user_key(session, secret).username
    except AuthError:
        return None
    finally:
        store.dispose()


def test_user_key_create_ls_revoke(any_cli: Cli) -> None:
    any_cli.ok(
        "user", "create", "ann", "--role", "annotator", "--password-stdin", input="pw-12345\n"
    )
    created = any_cli.json("user", "key", "create", "ann", "--key-name", "bot")
    secret = created["api_key"]
    assert secret.startswith("uk_")
    assert created["key"]["username"] == "ann"
    assert _key_user(any_cli.url, secret) == "ann"
    printed = any_cli.ok("user", "key", "create", "ann").stdout
    assert "uk_" in printed
    assert "shown once" in printed
    keys = any_cli.json("user", "key", "ls", "ann")
    assert [k["name"] for k in keys] == ["bot", "default"]
    assert all(secret not in str(k) for k in keys)
    any_cli.ok("user", "key", "revoke", "ann", str(created["key"]["id"]))
    assert _key_user(any_cli.url, secret) is None
    assert any_cli.json("user", "key", "ls", "ann")[0]["revoked_at"] is not None


def test_user_key_errors_exit_2(cli: Cli) -> None:
    assert "user 'ghost' does not exist" in cli.fails("user", "key", "create", "ghost").stderr
    cli.ok("user", "create", "ann", "--password-stdin", input="pw-12345\n")
    assert "has no key 7" in cli.fails("user", "key", "revoke", "ann", "7").stderr
    assert _key_user(cli.url, "uk_not-a-key") is None


def test_role_changes_and_refusals(cli: Cli) -> None:
    cli.ok("user", "create", "ann", "--role", "annotator", "--password-stdin", input="pw-12345\n")
    assert "ann is now adjudicator" in cli.ok("user", "role", "ann", "adjudicator").stdout
    assert [u["role"] for u in cli.json("user", "ls")] == ["adjudicator"]
    assert "boss" in cli.fails("user", "role", "ann", "boss").stderr
    assert "user 'ghost' does not exist" in cli.fails("user", "role", "ghost", "admin").stderr
    assert [u["role"] for u in cli.json("user", "ls")] == ["adjudicator"]
