"""``assay db``: the store's schema revision, upgrades and downgrades."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.context import DbOption, command_group, open_store, safe_url
from assay.errors import InvalidInput
from assay.store.migrate import current_revision, downgrade, head_revision, upgrade

app = command_group("Inspect and migrate the store's schema.")


@app.command("upgrade")
def upgrade_(ctx: typer.Context, db: DbOption = None) -> None:
    """Migrate the store to the latest schema (other commands do this on their own)."""
    with open_store(ctx, db, migrate=False) as store:
        before = current_revision(store)
        upgrade(store)
        after = current_revision(store)
        where = safe_url(store.url)
    if before == after:
        output.done(f"{escape(where)} is already at the latest revision {after}.")
    else:
        output.done(f"Upgraded {escape(where)} from {before or 'an empty store'} to {after}.")


@app.command("current")
def current(ctx: typer.Context, db: DbOption = None) -> None:
    """Print the store's schema revision and whether it is the latest."""
    with open_store(ctx, db, migrate=False) as store:
        now = current_revision(store)
        head = head_revision()
    if now is None:
        output.show(f"empty store (latest revision: {head}); run: assay db upgrade")
    elif now == head:
        output.show(f"{now} (latest)")
    else:
        output.show(f"{now} (latest: {head}; run: assay db upgrade)")


@app.command("downgrade")
def downgrade_(
    ctx: typer.Context,
    revision: Annotated[
        str,
        typer.Argument(
            metavar="REV",
            help="The revision to go back to, e.g. 0001; base removes every table.",
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Migrate the store back to an older revision. Data in dropped tables is lost."""
    with open_store(ctx, db, migrate=False) as store:
        where = safe_url(store.url)
        if not yes:
            typer.confirm(
                f"Downgrade {where} to {revision}? Tables and columns added since are dropped "
                "with their data",
                abort=True,
            )
        from alembic.util.exc import CommandError

        try:
            downgrade(store, revision)
        except CommandError as exc:
            raise InvalidInput(f"cannot downgrade to {revision!r}: {exc}") from exc
        now = current_revision(store)
    output.done(f"Downgraded {escape(where)} to {now or 'base (empty)'}.")


def register(root: typer.Typer) -> None:
    """Add ``db`` to the root app."""
    root.add_typer(app, name="db")
