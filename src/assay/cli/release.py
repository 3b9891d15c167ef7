"""``assay release``: register release manifests, list, show and diff them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, command_group, open_store
from assay.errors import InvalidInput
from assay.projects import get_project
from assay.releases import (
    FieldChange,
    ReleaseView,
    canonical_manifest,
    diff_manifests,
    get_release,
    list_releases,
    load_manifest,
    parse_manifest,
    register_release,
)

app = command_group("Register releases (the behaviour version of an app) and compare them.")

RefArg = Annotated[
    str,
    typer.Argument(metavar="REF", help="A release name, fingerprint, or fingerprint prefix."),
]

# Table cells longer than this are cut; text longer than this (or on several lines)
# is shown as a unified diff under the table instead, as a prompt change reads best.
_CELL_CHARS = 60


@app.command("register")
def register_(
    ctx: typer.Context,
    project: ProjectOption,
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE]",
            help="The release manifest: .json, .toml, .yaml or .yml.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            metavar="SPEC",
            help=(
                "Register the release a target measures instead of a manifest file: "
                "module:function, an http(s) URL, openai:MODEL@BASE_URL or a target "
                "config file, as for assay run. Needs --name."
            ),
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Release name, instead of the manifest's name field.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Register a release from its manifest; registering the same one again is a no-op.

    The fingerprint covers behaviour (model, prompts, tools, parameters, retrieval,
    adapter, serving, code), not the name. A name already taken by other behaviour,
    or behaviour already registered under another name, is refused.

    With --target, the manifest is the target's: an OpenAI-compatible target's
    model, parameters and prompt templates, and any target's description and
    fingerprint under extra.target. Runs of another target cannot then be filed
    under this release.
    """
    if (file is None) == (target is None):
        raise InvalidInput("give a manifest FILE or --target SPEC (one of them)")
    if file is not None:
        manifest = load_manifest(file)
        if name is not None:
            manifest = parse_manifest(
                canonical_manifest(manifest) | {"name": name}, source=str(file)
            )
    else:
        if name is None:
            raise InvalidInput("--target needs --name: the release name to register")
        manifest = parse_manifest(_target_manifest(str(target), name), source=f"target {target}")
    with open_store(ctx, db) as store, store.write_session() as session:
        project_id = get_project(session, project).id
        result = register_release(session, project_id, manifest)
    if as_json:
        output.print_json(result)
        return
    what = "Registered release" if result.created else "Release already registered:"
    output.done(f"{what} [bold]{escape(result.name)}[/]")
    output.show(f"fingerprint {result.fingerprint}")


def _target_manifest(spec: str, name: str) -> dict[str, Any]:
    # Loaded only here: a Python target imports the user's module.
    from assay.targets import load_target, release_manifest

    return release_manifest(load_target(spec), name)


@app.command("list")
def list_(
    ctx: typer.Context, project: ProjectOption, as_json: JsonOption = False, db: DbOption = None
) -> None:
    """List a project's releases, newest first."""
    with open_store(ctx, db) as store, store.session() as session:
        project_id = get_project(session, project).id
        releases = list_releases(session, project_id)
    if as_json:
        output.print_json([_summary(r) for r in releases])
        return
    if not releases:
        output.show(
            "No releases yet. Register one with: assay release register FILE --project NAME"
        )
        return
    rows = [(r.name, r.fingerprint[:12], _model(r), r.created_at) for r in releases]
    output.show(output.table(("name", "fingerprint", "model", "registered"), rows))


@app.command("show")
def show(
    ctx: typer.Context,
    ref: RefArg,
    project: ProjectOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show a release: its fingerprint and canonical manifest."""
    with open_store(ctx, db) as store, store.session() as session:
        release = get_release(session, get_project(session, project).id, ref)
    if as_json:
        output.print_json(release)
        return
    output.show(
        f"[bold]{escape(release.name)}[/]  registered {output.format_time(release.created_at)}"
    )
    output.show(f"fingerprint {release.fingerprint}")
    text = json.dumps(release.manifest, indent=2, ensure_ascii=False)
    output.show(Syntax(text, "json", theme="ansi_dark", word_wrap=True))


@app.command("diff")
def diff(
    ctx: typer.Context,
    old: Annotated[
        str, typer.Argument(metavar="A", help="The baseline release (name or fingerprint).")
    ],
    new: Annotated[
        str, typer.Argument(metavar="B", help="The candidate release (name or fingerprint).")
    ],
    project: ProjectOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show what changed in behaviour from release A to release B, field by field."""
    with open_store(ctx, db) as store, store.session() as session:
        project_id = get_project(session, project).id
        a = get_release(session, project_id, old)
        b = get_release(session, project_id, new)
    changes = diff_manifests(a.manifest, b.manifest)
    if as_json:
        output.print_json({"old": _summary(a), "new": _summary(b), "changes": changes})
        return
    header = f"{escape(a.name)} ({a.fingerprint[:12]}) → {escape(b.name)} ({b.fingerprint[:12]})"
    if not changes:
        output.show(f"{header}: same behaviour, no changes.")
        return
    long_text = [c for c in changes if _is_long_text(c)]
    rows = [
        (c.path, c.kind, *(("(text, see below)",) * 2 if c in long_text else _cells(c)))
        for c in changes
    ]
    count = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    output.show(output.table(("path", "change", "old", "new"), rows, title=f"{header}: {count}"))
    for change in long_text:
        text = change.unified_diff() or ""
        output.show(
            Panel(
                Syntax(text, "diff", theme="ansi_dark", word_wrap=True), title=escape(change.path)
            )
        )


def _summary(release: ReleaseView) -> dict[str, Any]:
    return {
        "id": release.id,
        "name": release.name,
        "fingerprint": release.fingerprint,
        "created_at": output.jsonable(release.created_at),
    }


def _model(release: ReleaseView) -> str:
    model = release.manifest.get("model") or {}
    return str(model.get("id") or "") if isinstance(model, dict) else ""


def _is_long_text(change: FieldChange) -> bool:
    if not (isinstance(change.old, str) and isinstance(change.new, str)):
        return False
    return any("\n" in v or len(v) > _CELL_CHARS for v in (change.old, change.new))


def _cells(change: FieldChange) -> tuple[str, str]:
    def cell(value: Any, present: bool) -> str:
        if not present:
            return ""
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…"

    return cell(change.old, change.kind != "added"), cell(change.new, change.kind != "removed")


def register(root: typer.Typer) -> None:
    """Add ``release`` to the root app."""
    root.add_typer(app, name="release")
