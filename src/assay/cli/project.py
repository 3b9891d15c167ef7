"""``assay project``: projects, their API keys, slice attributes and redaction rules."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from assay.cli import output
from assay.cli.context import (
    DbOption,
    JsonOption,
    command_group,
    open_store,
    parse_pairs,
    settings_of,
)
from assay.errors import InvalidInput
from assay.projects import (
    DEFAULT_SLICE_KEYS,
    ApiKeyView,
    ProjectView,
    create_api_key,
    create_project,
    get_project,
    list_api_keys,
    list_projects,
    revoke_api_key,
    update_project_settings,
)
from assay.redaction import BUILTINS, RedactionConfig, RedactionPattern
from assay.settings import Settings

app = command_group(
    "Create projects and manage their API keys, slice attributes and redaction rules."
)
keys_app = command_group(
    "Create, list and revoke a project's API keys (what apps send traces with)."
)
app.add_typer(keys_app, name="key")

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The project's name (or id).")]


def _endpoint(settings: Settings) -> str:
    # A wildcard listen address is not somewhere a client can connect to.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _print_secret(settings: Settings, project: str, secret: str) -> None:
    out = output.stdout()
    out.print()
    out.print("[bold]API key[/] (shown once; store it now, assay keeps only its hash):")
    out.print(f"  {secret}", soft_wrap=True)
    out.print()
    out.print(f"Send traces of {escape(project)} to assay with any OpenTelemetry exporter:")
    out.print(f"  export OTEL_EXPORTER_OTLP_ENDPOINT={_endpoint(settings)}", soft_wrap=True)
    out.print(
        f'  export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer {secret}"', soft_wrap=True
    )


def _slice_text(view: ProjectView) -> str:
    declared = ", ".join(view.slice_keys) or "none"
    return f"{', '.join(DEFAULT_SLICE_KEYS)} (always); declared: {declared}"


def _redaction_text(config: RedactionConfig) -> str:
    parts: list[str] = list(config.builtins)
    parts += [f"{p.name}={p.regex}" for p in config.patterns]
    return ", ".join(parts) or "off"


def _show_project(view: ProjectView, keys: list[ApiKeyView] | None = None) -> None:
    rows: list[tuple[str, object]] = [
        ("id", view.id),
        ("name", view.name),
        ("description", view.description),
        ("owner", view.owner),
        ("created", view.created_at),
        ("slices", _slice_text(view)),
        ("redaction", _redaction_text(view.redaction)),
    ]
    if keys is not None:
        active = sum(1 for k in keys if k.revoked_at is None)
        rows.append(("api keys", f"{active} active, {len(keys) - active} revoked"))
    grid = output.table(("field", "value"), rows)
    grid.show_header = False
    output.show(grid)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="Project name: letters, digits, `.`, `_` or `-`, e.g. `support-bot`.",
        ),
    ],
    description: Annotated[
        str,
        typer.Option(
            metavar="TEXT", help="What the project's AI feature does.", show_default=False
        ),
    ] = "",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create a project and its first API key, and print the key once."""
    with open_store(ctx, db) as store, store.write_session() as session:
        view = create_project(session, name, description=description)
        key = create_api_key(session, view.id)
    if as_json:
        output.print_json({"project": view, "api_key": key.secret})
        return
    output.done(f"Created project [bold]{escape(view.name)}[/] (id {view.id}).")
    _print_secret(settings_of(ctx), view.name, key.secret)


@app.command("ls")
def list_(ctx: typer.Context, as_json: JsonOption = False, db: DbOption = None) -> None:
    """List every project."""
    with open_store(ctx, db) as store, store.session() as session:
        views = list_projects(session)
    output.listing(
        views,
        as_json=as_json,
        empty="No projects yet. Create one with: assay project create NAME",
        columns=("id", "name", "description", "created"),
        row=lambda v: (v.id, v.name, v.description, v.created_at),
    )


@app.command("show")
def show(
    ctx: typer.Context, name: NameArg, as_json: JsonOption = False, db: DbOption = None
) -> None:
    """Show a project's settings: slices, redaction rules and key count."""
    with open_store(ctx, db) as store, store.session() as session:
        view = get_project(session, name)
        keys = list_api_keys(session, view.id)
    if as_json:
        output.print_json(view)
        return
    _show_project(view, keys)


@app.command("slices")
def slices(
    ctx: typer.Context,
    name: NameArg,
    keys: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="KEY",
            help=(
                "Span or resource attribute keys whose values become slices of a trace "
                "(e.g. plan region). Replaces the declared list. Without keys, show it."
            ),
            show_default=False,
        ),
    ] = None,
    none: Annotated[
        bool,
        typer.Option("--none", help="Declare no extra slice attributes (the defaults stay)."),
    ] = False,
    db: DbOption = None,
) -> None:
    """Declare which trace attributes are slices (compared per value in evals and monitors).

    locale, tier and channel are always slices, as is any assay.slice.KEY attribute.
    The change applies to traces ingested from now on.
    """
    if none and keys:
        raise InvalidInput("give slice keys or --none, not both")
    with open_store(ctx, db) as store:
        if keys or none:
            with store.write_session() as session:
                view = update_project_settings(session, name, slice_keys=list(keys or []))
        else:
            with store.session() as session:
                view = get_project(session, name)
    output.show(f"Slices of {escape(view.name)}: {escape(_slice_text(view))}")


@app.command("redaction")
def redaction(
    ctx: typer.Context,
    name: NameArg,
    builtin: Annotated[
        list[str] | None,
        typer.Option(
            "--builtin",
            metavar="DETECTOR",
            help=(
                f"A built-in detector to keep on: {', '.join(BUILTINS)}. Repeat for several; "
                "those not named are turned off. Default when only --pattern is given: all."
            ),
            show_default=False,
        ),
    ] = None,
    pattern: Annotated[
        list[str] | None,
        typer.Option(
            "--pattern",
            metavar="NAME=REGEX",
            help="A custom rule: matches of REGEX become [REDACTED:NAME]. Repeatable.",
            show_default=False,
        ),
    ] = None,
    none: Annotated[bool, typer.Option("--none", help="Turn every redaction rule off.")] = False,
    db: DbOption = None,
) -> None:
    """Set the rules that redact personal data and secrets before traces are stored.

    The options replace the project's rules; with no option, the current rules are
    shown. New rules apply to traces ingested from now on.
    """
    if none and (builtin or pattern):
        raise InvalidInput(
            "--none turns every rule off; do not combine it with --builtin or --pattern"
        )
    config: RedactionConfig | None = None
    if none:
        config = RedactionConfig(builtins=[], patterns=[])
    elif builtin or pattern:
        config = _redaction_config(builtin, pattern or [])
    with open_store(ctx, db) as store:
        if config is None:
            with store.session() as session:
                view = get_project(session, name)
        else:
            with store.write_session() as session:
                view = update_project_settings(session, name, redaction=config)
    output.show(f"Redaction of {escape(view.name)}: {escape(_redaction_text(view.redaction))}")


def _redaction_config(builtins: list[str] | None, patterns: list[str]) -> RedactionConfig:
    rules: list[RedactionPattern] = []
    for rule_name, regex in parse_pairs(patterns, option="--pattern"):
        try:
            rules.append(RedactionPattern(name=rule_name, regex=regex))
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            raise InvalidInput(f"--pattern {rule_name}={regex}: {problem}") from exc
    unknown = sorted(set(builtins or []) - set(BUILTINS))
    if unknown:
        raise InvalidInput(
            f"--builtin: unknown detector(s) {', '.join(unknown)}; "
            f"choose from {', '.join(BUILTINS)}"
        )
    chosen = list(BUILTINS) if builtins is None else list(dict.fromkeys(builtins))
    return RedactionConfig.model_validate({"builtins": chosen, "patterns": rules})


@keys_app.command("create")
def key_create(
    ctx: typer.Context,
    name: NameArg,
    key_name: Annotated[
        str,
        typer.Option(
            "--key-name",
            metavar="LABEL",
            help="A label for the key, e.g. the app or environment.",
        ),
    ] = "default",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create another API key for a project and print it once."""
    with open_store(ctx, db) as store, store.write_session() as session:
        view = get_project(session, name)
        key = create_api_key(session, view.id, key_name)
    if as_json:
        output.print_json({"key": key.key, "api_key": key.secret})
        return
    output.done(
        f"Created key {key.key.id} ({escape(key.key.name)}) for project {escape(view.name)}."
    )
    _print_secret(settings_of(ctx), view.name, key.secret)


@keys_app.command("ls")
def key_list(
    ctx: typer.Context, name: NameArg, as_json: JsonOption = False, db: DbOption = None
) -> None:
    """List a project's API keys (their prefixes; the keys themselves are not kept)."""
    with open_store(ctx, db) as store, store.session() as session:
        keys = list_api_keys(session, name)
    if as_json:
        output.print_json(keys)
        return
    if not keys:
        output.show("No keys. Create one with: assay project key create NAME")
        return
    rows = [(k.id, k.name, f"{k.prefix}…", k.created_at, k.revoked_at) for k in keys]
    output.show(output.table(("id", "name", "prefix", "created", "revoked"), rows))


@keys_app.command("revoke")
def key_revoke(
    ctx: typer.Context,
    name: NameArg,
    key_id: Annotated[
        int, typer.Argument(metavar="KEY_ID", help="The key's id, from assay project key ls.")
    ],
    db: DbOption = None,
) -> None:
    """Revoke an API key: requests that use it are refused from then on.

    Running servers notice within their key cache's lifetime (15 seconds).
    """
    with open_store(ctx, db) as store, store.write_session() as session:
        key = revoke_api_key(session, name, key_id)
    output.done(f"Revoked key {key.id} ({escape(key.name)}, {escape(key.prefix)}…).")


def register(root: typer.Typer) -> None:
    """Add ``project`` to the root app."""
    root.add_typer(app, name="project")
