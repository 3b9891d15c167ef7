"""``assay db``: current revision, upgrade, downgrade with confirmation."""

from __future__ import annotations

from assay.store import Store
from assay.store.migrate import current_revision, head_revision

from .conftest import Cli


def _revision(url: str) -> str | None:
    store = Store(url)
    try:
        return current_revision(store)
    finally:
        store.dispose()


def _head(url: str) -> str | None:
    store = Store(url)
    try:
        return head_revision()
    finally:
        store.dispose()


def test_current_upgrade_downgrade(any_cli: Cli) -> None:
    head = _head(any_cli.url)
    assert "empty store" in any_cli.ok("db", "current").stdout
    assert _revision(any_cli.url) is None  # `current` does not migrate

    out = any_cli.ok("db", "upgrade").stdout
    assert f"to {head}" in out
    assert f"{head} (latest)" in any_cli.ok("db", "current").stdout
    assert "already at the latest revision" in any_cli.ok("db", "upgrade").stdout

    out = any_cli.ok("db", "downgrade", "base", "--yes").stdout
    assert "base (empty)" in out
    assert _revision(any_cli.url) is None


def test_downgrade_asks_first(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    head = _revision(cli.url)
    result = cli("db", "downgrade", "base", input="n\n")
    assert result.exit_code == 1
    assert "Downgrade" in result.stdout
    assert _revision(cli.url) == head
    cli.ok("db", "downgrade", "base", input="y\n")
    assert _revision(cli.url) is None


def test_downgrade_to_unknown_revision_exits_2(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    result = cli.fails("db", "downgrade", "0999", "--yes")
    assert "cannot downgrade to '0999'" in result.stderr


def test_other_commands_migrate_on_their_own(cli: Cli) -> None:
    assert _revision(cli.url) is None
    cli.ok("project", "ls")
    assert _revision(cli.url) == _head(cli.url)
