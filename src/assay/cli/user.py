"""``assay user``: accounts that sign in to the web UI."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer
from rich.markup import escape

from assay.accounts import (
    create_user,
    create_user_key,
    list_user_keys,
    list_users,
    revoke_user_key,
    set_password,
    set_role,
)
from assay.cli import output
from assay.cli.context import DbOption, JsonOption, command_group, open_store
from assay.errors import InvalidInput

Role = Literal["admin", "adjudicator", "annotator"]
"""The roles of :data:`assay.accounts.ROLES`, as a type Typer turns into choices."""

app = command_group("Manage the accounts that sign in to the web UI.")

UsernameArg = Annotated[str, typer.Argument(metavar="USERNAME", help="The account's name.")]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of stdin instead of prompting (scripts).",
    ),
]


def stdin_is_tty() -> bool:
    """Whether a person can be prompted on stdin."""
    return sys.stdin.isatty()


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a hidden prompt.

    Raises:
        InvalidInput: stdin is not a terminal and ``--password-stdin`` was not given,
            or stdin was empty.
    """
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("--password-stdin: stdin is empty; write the password to it")
        return line.rstrip("\r\n")
    if not stdin_is_tty():
        raise InvalidInput(
            "cannot prompt for a password: stdin is not a terminal; "
            "pass --password-stdin and write the password to stdin"
        )
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("create")
def create(
    ctx: typer.Context,
    username: UsernameArg,
    role: Annotated[
        Role,
        typer.Option(
            help=(
                "admin manages everything; adjudicator resolves annotation disagreements; "
                "annotator labels traces in review queues."
            ),
        ),
    ] = "admin",
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
) -> None:
    """Create an account. Prompts for the password twice (at least 8 characters)."""
    password = read_password(password_stdin)
    with open_store(ctx, db) as store, store.write_session() as session:
        user = create_user(session, username, password, role=role)
    output.done(f"Created user [bold]{escape(user.username)}[/] ({user.role}).")


@app.command("ls")
def list_(ctx: typer.Context, as_json: JsonOption = False, db: DbOption = None) -> None:
    """List the accounts and their roles."""
    with open_store(ctx, db) as store, store.session() as session:
        users = list_users(session)
    output.listing(
        users,
        as_json=as_json,
        empty="No accounts yet. Create one with: assay user create USERNAME",
        columns=("id", "username", "role", "created"),
        row=lambda u: (u.id, u.username, u.role, u.created_at),
    )


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    username: UsernameArg,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
) -> None:
    """Set a new password for an account."""
    password = read_password(password_stdin)
    with open_store(ctx, db) as store, store.write_session() as session:
        user = set_password(session, username, password)
    output.done(f"Changed the password of [bold]{escape(user.username)}[/].")


@app.command("role")
def role(
    ctx: typer.Context,
    username: UsernameArg,
    new_role: Annotated[
        Role,
        typer.Argument(
            metavar="ROLE",
            help="admin, adjudicator or annotator; takes effect on the user's next request.",
        ),
    ],
    db: DbOption = None,
) -> None:
    """Change an account's role (an annotator who becomes an adjudicator)."""
    with open_store(ctx, db) as store, store.write_session() as session:
        user = set_role(session, username, new_role)
    output.done(f"[bold]{escape(user.username)}[/] is now {user.role}.")


keys_app = command_group(
    "Manage a user's API keys: automation that acts as that person (an annotation bot)."
)
app.add_typer(keys_app, name="key")


@keys_app.command("create")
def key_create(
    ctx: typer.Context,
    username: UsernameArg,
    key_name: Annotated[
        str,
        typer.Option("--key-name", metavar="LABEL", help="A label for the key, e.g. the script."),
    ] = "default",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create an API key that acts as USERNAME, with their role, and print it once.

    Send it as 'Authorization: Bearer <key>' to the annotation endpoints of the REST API.
    """
    with open_store(ctx, db) as store, store.write_session() as session:
        key = create_user_key(session, username, key_name)
    if as_json:
        output.print_json({"key": key.key, "api_key": key.secret})
        return
    output.done(f"Created key {key.key.id} ({escape(key.key.name)}) for {escape(username)}.")
    out = output.stdout()
    out.print("[bold]API key[/] (shown once; store it now, assay keeps only its hash):")
    out.print(f"  {key.secret}", soft_wrap=True)


@keys_app.command("ls")
def key_list(
    ctx: typer.Context, username: UsernameArg, as_json: JsonOption = False, db: DbOption = None
) -> None:
    """List a user's API keys (their prefixes; the keys themselves are not kept)."""
    with open_store(ctx, db) as store, store.session() as session:
        keys = list_user_keys(session, username)
    output.listing(
        keys,
        as_json=as_json,
        empty="No keys. Create one with: assay user key create USERNAME",
        columns=("id", "name", "prefix", "created", "revoked"),
        row=lambda k: (k.id, k.name, f"{k.prefix}…", k.created_at, k.revoked_at),
    )


@keys_app.command("revoke")
def key_revoke(
    ctx: typer.Context,
    username: UsernameArg,
    key_id: Annotated[
        int, typer.Argument(metavar="KEY_ID", help="The key's id, from assay user key ls.")
    ],
    db: DbOption = None,
) -> None:
    """Revoke a user's API key: requests that use it are refused from then on."""
    with open_store(ctx, db) as store, store.write_session() as session:
        key = revoke_user_key(session, username, key_id)
    output.done(f"Revoked key {key.id} ({escape(key.name)}, {escape(key.prefix)}…).")


def register(root: typer.Typer) -> None:
    """Add ``user`` to the root app."""
    root.add_typer(app, name="user")
