"""What every command shares: the settings read once in ``main``, and ``--db`` into a Store.

Commands open the store directly rather than talking to a server, so they work
whether or not ``assay serve`` is running (SQLite in WAL mode lets both write).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from typer.core import MarkupMode

from assay.errors import ConfigError, InvalidInput
from assay.settings import Settings
from assay.store import Store

MARKUP: MarkupMode = "markdown"
"""How help text is rendered: Markdown reflows wrapped docstring paragraphs, and is
what the generated reference (docs/reference/cli.md) is written in."""


def command_group(help_text: str) -> typer.Typer:
    """A Typer app for one command group, with the conventions every group shares.

    Args:
        help_text: The group's help, shown in ``assay --help`` and its own ``--help``.
    """
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=MARKUP)


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help=(
            "Store URL: sqlite:///PATH or postgresql+psycopg://USER:PASS@HOST/DB. "
            "Default: ASSAY_DATABASE_URL, else .assay/assay.db in the working directory."
        ),
        show_default=False,
    ),
]
"""The ``--db`` option of every command that touches the store."""

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON instead of a table, for scripts.")
]
"""The ``--json`` option of commands whose output scripts read."""

NearThresholdOption = Annotated[
    float, typer.Option(min=0.5, max=1.0, help="Cosine similarity that counts as near.")
]
"""``--near-threshold`` of commands that find near-duplicate texts by embedding; its
default is ``assay.datasets.duplicates.NEAR_DUPLICATE_COSINE`` (0.95)."""

ProjectOption = Annotated[
    str,
    typer.Option(
        "--project", "-p", metavar="NAME", help="The project (name or id).", show_default=False
    ),
]
"""The ``--project`` option of commands scoped to one project."""


@dataclass
class CliState:
    """Per-invocation state kept on the root Typer context.

    Attributes:
        settings: The settings, read from the environment once by the root callback.
    """

    settings: Settings


def load_settings() -> Settings:
    """Read the settings from the environment.

    Raises:
        ConfigError: an ``ASSAY_*`` variable has a value of the wrong type.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ASSAY_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise ConfigError(f"invalid environment setting: {problems}") from exc


def settings_of(ctx: typer.Context) -> Settings:
    """The settings of this invocation (read on first use when no root callback ran)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState(settings=load_settings())
    return root.obj.settings


def safe_url(url: str) -> str:
    """``url`` with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def unusable_store(url: str, exc: OperationalError) -> ConfigError:
    """The error to report when the database behind ``url`` fails to open or answer."""
    # Unreachable server, bad credentials, a locked or unwritable file: the driver's
    # first line names the cause; the rest is the SQL statement and a docs link.
    lines = str(exc.orig or exc).strip().splitlines() or ["unknown database error"]
    return ConfigError(f"cannot use the store at {safe_url(url)}: {lines[0]}")


@contextmanager
def open_store(ctx: typer.Context, db: str | None, *, migrate: bool = True) -> Iterator[Store]:
    """Open the store named by ``--db`` (or the settings) for the length of a command.

    Args:
        ctx: The command's context, for the settings.
        db: The ``--db`` option; None falls back to the settings.
        migrate: Bring the schema to the latest revision first (every command but
            ``db current`` and ``db downgrade``).

    Yields:
        The open store; it is disposed of on exit.

    Raises:
        ConfigError: the URL is unusable, the database cannot be reached, or its
            schema is newer than this version of assay.
    """
    # Alembic takes ~0.5 s to import; `--help` and `--version` never open a store.
    from alembic.util.exc import CommandError

    from assay.store.migrate import ensure_current

    url = db or settings_of(ctx).resolved_database_url()
    store = Store(url)
    try:
        if migrate:
            ensure_current(store)
        yield store
    except OperationalError as exc:
        raise unusable_store(url, exc) from exc
    except CommandError as exc:
        raise ConfigError(
            f"store at {safe_url(url)}: {exc} (is it from a newer version of assay?)"
        ) from exc
    finally:
        store.dispose()


def parse_pairs(values: list[str], *, option: str) -> list[tuple[str, str]]:
    """Split ``key=value`` option values at the first ``=``.

    Raises:
        InvalidInput: a value has no ``=`` or an empty key.
    """
    pairs: list[tuple[str, str]] = []
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"{option} {raw!r}: expected KEY=VALUE")
        pairs.append((key.strip(), value))
    return pairs
