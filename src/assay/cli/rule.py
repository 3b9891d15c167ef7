"""``assay rule``: routing rules that send traces to review queues.

The worker (in ``assay serve``, or ``assay worker``) evaluates a project's enabled
rules on every new trace and on new feedback; a rule's match on a trace is counted
once and, sampled at its rate, puts the trace in its queue.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, command_group, open_store
from assay.projects import get_project

if TYPE_CHECKING:
    from assay.signals import RuleHits, RuleView

app = command_group(
    "Routing rules: conditions on a trace's feedback, signals, scores and attributes "
    "that put it in a review queue."
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The rule's name.")]

WHEN_HELP = (
    "A condition, FIELD OP VALUE (repeat: all must hold), e.g. 'feedback.thumbs <= 0', "
    "'status == error', 'score.faithfulness < 0.5', 'slice.locale in de,fr', "
    "'feedback.correction exists'. Fields: status, model, release, service, name, "
    "latency_ms, cost, tokens, input, output, feedback.NAME, signal.NAME (retried, "
    "abandoned, edit_distance), score.NAME, passed.NAME, confidence.NAME, slice.KEY."
)
"""Help of ``--when``, shared with ``assay online add``."""


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    project: ProjectOption,
    queue: Annotated[
        str, typer.Option("--queue", "-q", metavar="QUEUE", help="The review queue it feeds.")
    ],
    when: Annotated[
        list[str] | None,
        typer.Option(
            "--when",
            metavar="COND",
            help=WHEN_HELP + " Without any, the rule samples every trace (a calibration sample).",
            show_default=False,
        ),
    ] = None,
    sample_rate: Annotated[
        float,
        typer.Option(metavar="R", help="Share of matching traces put in the queue, in (0, 1]."),
    ] = 1.0,
    description: Annotated[str, typer.Option(metavar="TEXT", help="What the rule is for.")] = "",
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Create it switched off (see assay rule enable).")
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create a routing rule. It applies to traces that arrive (or get feedback) from
    now on."""
    from assay.signals import create_rule

    with open_store(ctx, db) as store, store.write_session() as session:
        view = create_rule(
            session,
            get_project(session, project).id,
            name,
            queue,
            conditions=when or [],
            sample_rate=sample_rate,
            enabled=not disabled,
            description=description,
        )
    if as_json:
        output.print_json(rule_json(view))
        return
    output.done(
        f"Created rule [bold]{escape(view.name)}[/] → queue {escape(view.queue)}: "
        f"{escape(_when(view))}, {view.sample_rate:.0%} sampled"
        + (" (disabled)" if not view.enabled else "")
    )


def _when(view: RuleView) -> str:
    return " and ".join(str(c) for c in view.conditions) or "every trace"


def rule_json(view: RuleView) -> dict[str, Any]:
    """A rule as JSON, with its conditions also in their text form (``when``)."""
    data: dict[str, Any] = output.jsonable(view)
    data["when"] = [str(c) for c in view.conditions]
    return data


@app.command("load")
def load(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Rules in .toml, .yaml/.yml or .json: a 'rules' list of objects with "
            "name, queue, and optionally conditions, sample_rate, enabled, description.",
            dir_okay=False,
        ),
    ],
    project: ProjectOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create or update rules from a file, matched by name; rules not in the file stay.
    Every rule is checked before any is written."""
    from assay.signals import load_rules_file

    with open_store(ctx, db) as store, store.write_session() as session:
        views = load_rules_file(session, get_project(session, project).id, file)
    if as_json:
        output.print_json([rule_json(v) for v in views])
        return
    output.done(f"Loaded {len(views)} rule(s) from {escape(str(file))}.")
    _table(views)


def _table(views: list[RuleView], hits: dict[int, RuleHits] | None = None) -> None:
    columns = ["rule", "queue", "on", "when", "rate", "matches"]
    rows: list[list[Any]] = [
        [v.name, v.queue, v.enabled, _when(v), f"{v.sample_rate:g}", v.matches] for v in views
    ]
    if hits is not None:
        columns += ["enqueued", "last match"]
        for v, row in zip(views, rows, strict=True):
            h = hits.get(v.id)
            row += [h.enqueued if h else 0, h.last_match_at if h else None]
    output.show(output.table(columns, rows))


@app.command("ls")
def ls(
    ctx: typer.Context,
    project: ProjectOption,
    days: Annotated[
        int,
        typer.Option(
            metavar="N", min=1, max=366, help="Days of matches per day in --json (today included)."
        ),
    ] = 14,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List a project's routing rules with what they did: traces matched, traces put
    in the queue (the others were sampled out or queued already), the last match."""
    from assay.signals import list_rules, rule_hits

    with open_store(ctx, db) as store, store.session() as session:
        project_id = get_project(session, project).id
        views = list_rules(session, project_id)
        hits = {h.rule_id: h for h in rule_hits(session, project_id, days=days)}
    if as_json:
        output.print_json([_hits_json(v, hits.get(v.id)) for v in views])
        return
    if not views:
        output.show(
            "No routing rules yet. Add one with: assay rule add NAME -p PROJECT --queue Q "
            "--when 'feedback.thumbs <= 0'"
        )
        return
    _table(views, hits)


def _hits_json(view: RuleView, hits: RuleHits | None) -> dict[str, Any]:
    data = rule_json(view)
    data["enqueued"] = hits.enqueued if hits else 0
    data["last_match_at"] = output.jsonable(hits.last_match_at) if hits else None
    data["per_day"] = [
        {"day": d.day.isoformat(), "matches": d.matches} for d in (hits.per_day if hits else [])
    ]
    return data


def _switch(ctx: typer.Context, name: str, project: str, db: str | None, *, on: bool) -> None:
    from assay.signals import update_rule

    with open_store(ctx, db) as store, store.write_session() as session:
        view = update_rule(session, get_project(session, project).id, name, enabled=on)
    output.done(f"Rule [bold]{escape(view.name)}[/] is {'enabled' if on else 'disabled'}.")


@app.command("enable")
def enable(ctx: typer.Context, name: NameArg, project: ProjectOption, db: DbOption = None) -> None:
    """Switch a rule on: it routes traces that arrive from now on."""
    _switch(ctx, name, project, db, on=True)


@app.command("disable")
def disable(ctx: typer.Context, name: NameArg, project: ProjectOption, db: DbOption = None) -> None:
    """Switch a rule off; its counts and the items it queued stay."""
    _switch(ctx, name, project, db, on=False)


@app.command("rm")
def rm(ctx: typer.Context, name: NameArg, project: ProjectOption, db: DbOption = None) -> None:
    """Delete a rule and its recorded matches; the queue items it made stay."""
    from assay.signals import delete_rule

    with open_store(ctx, db) as store, store.write_session() as session:
        delete_rule(session, get_project(session, project).id, name)
    output.done(f"Deleted rule [bold]{escape(name)}[/].")


def register(root: typer.Typer) -> None:
    """Add ``rule`` to the root app."""
    root.add_typer(app, name="rule")
