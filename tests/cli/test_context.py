"""Shared command plumbing: settings, --db into a store, KEY=VALUE options."""

from __future__ import annotations

import pytest
import typer

from assay.cli.context import load_settings, open_store, parse_pairs, safe_url, settings_of
from assay.errors import ConfigError, InvalidInput
from assay.store.migrate import current_revision, head_revision


def _ctx() -> typer.Context:
    from typer.main import get_command

    from assay.cli.main import app

    command = get_command(app)
    return typer.Context(command)


def test_parse_pairs() -> None:
    assert parse_pairs(["a=1", "b==2", " c =x=y", "d="], option="--x") == [
        ("a", "1"),
        ("b", "=2"),
        ("c", "x=y"),
        ("d", ""),
    ]
    with pytest.raises(InvalidInput, match="--slice 'nokey': expected KEY=VALUE"):
        parse_pairs(["nokey"], option="--slice")
    with pytest.raises(InvalidInput):
        parse_pairs(["=value"], option="--slice")


def test_safe_url_masks_password() -> None:
    assert safe_url("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"
    assert safe_url("sqlite:///x.db") == "sqlite:///x.db"


def test_load_settings_reports_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_PORT", "lots")
    with pytest.raises(ConfigError, match="ASSAY_PORT"):
        load_settings()


def test_settings_are_read_once_per_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _ctx()
    first = settings_of(ctx)
    monkeypatch.setenv("ASSAY_PORT", "7001")
    assert settings_of(ctx) is first


def test_open_store_migrates_unless_told_not_to(sqlite_url: str) -> None:
    ctx = _ctx()
    with open_store(ctx, sqlite_url, migrate=False) as store:
        assert current_revision(store) is None
    with open_store(ctx, sqlite_url) as store:
        assert current_revision(store) == head_revision()


def test_open_store_names_an_unreachable_database() -> None:
    url = "postgresql+psycopg://me:secret@127.0.0.1:1/db"
    with (
        pytest.raises(ConfigError, match=r"cannot use the store at .*me:\*\*\*@") as info,
        open_store(_ctx(), url),
    ):
        pass
    assert "secret" not in str(info.value)
