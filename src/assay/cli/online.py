"""``assay online``: online scorers, the evaluation engine's scorers run on live traffic.

The worker (in ``assay serve``, or ``assay worker``) scores each new trace an
enabled scorer selects (sampled at its rate, meeting its ``--when`` filters) and
stores the verdict once per trace; routing rules read it as ``score.NAME``,
``passed.NAME`` and ``confidence.NAME``. Traces from before a scorer existed are
scored on request with ``assay online backfill``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, command_group, open_store
from assay.cli.rule import WHEN_HELP
from assay.cli.trace_filters import parse_since
from assay.projects import get_project
from assay.traces import check_trace_id, ns_to_datetime

if TYPE_CHECKING:
    from assay.signals import OnlineScorerView

app = command_group(
    "Online scorers: score a sample of live traces with any scorer `assay run` takes, "
    "for dashboards and routing rules."
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The online scorer's name.")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="Its name: letters, digits, '_', '.' or '-'; rules read its verdicts as "
            "score.NAME, passed.NAME and confidence.NAME.",
        ),
    ],
    project: ProjectOption,
    scorer: Annotated[
        str,
        typer.Option(
            "--scorer",
            "-s",
            metavar="NAME[:ARGS]",
            help="The scorer, as assay run --scorer takes it: regex:pattern=..., json, "
            "embedding, judge:model=...,base_url=..., python:function=..., or a plugin. "
            "Traces have no reference, so scorers that need one (exact, numeric) record "
            "errors.",
        ),
    ],
    sample_rate: Annotated[
        float, typer.Option(metavar="R", help="Share of new traces scored, in (0, 1].")
    ] = 1.0,
    when: Annotated[
        list[str] | None,
        typer.Option(
            "--when",
            metavar="COND",
            help="Only score traces that meet this. " + WHEN_HELP,
            show_default=False,
        ),
    ] = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Create it switched off (see assay online enable).")
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create an online scorer. It scores traces that arrive from now on; score older
    ones with `assay online backfill`."""
    from assay.signals import create_online_scorer

    with open_store(ctx, db) as store, store.write_session() as session:
        view = create_online_scorer(
            session,
            get_project(session, project).id,
            name,
            scorer,
            sample_rate=sample_rate,
            filters=when or [],
            enabled=not disabled,
        )
    if as_json:
        output.print_json(scorer_json(view))
        return
    output.done(
        f"Created online scorer [bold]{escape(view.name)}[/] ({escape(str(view.spec))}) on "
        f"{view.sample_rate:.0%} of {escape(_when(view))}"
        + (" (disabled)" if not view.enabled else "")
    )


def _when(view: OnlineScorerView) -> str:
    if not view.filters:
        return "new traces"
    return "new traces where " + " and ".join(str(c) for c in view.filters)


def scorer_json(view: OnlineScorerView) -> dict[str, Any]:
    """An online scorer as JSON: its spec as stored (``{"name", "args"}``) and its
    filters also in their text form (``when``)."""
    data: dict[str, Any] = output.jsonable(view)
    data["spec"] = view.spec.to_dict()
    data["when"] = [str(c) for c in view.filters]
    return data


@app.command("ls")
def ls(
    ctx: typer.Context, project: ProjectOption, as_json: JsonOption = False, db: DbOption = None
) -> None:
    """List a project's online scorers."""
    from assay.signals import list_online_scorers

    with open_store(ctx, db) as store, store.session() as session:
        views = list_online_scorers(session, get_project(session, project).id)
    if as_json:
        output.print_json([scorer_json(v) for v in views])
        return
    output.listing(
        views,
        as_json=False,
        empty="No online scorers yet. Add one with: assay online add NAME -p PROJECT "
        "--scorer 'regex:pattern=...'",
        columns=("name", "scorer", "rate", "when", "on", "created"),
        row=lambda v: (
            v.name,
            str(v.spec),
            f"{v.sample_rate:g}",
            " and ".join(str(c) for c in v.filters),
            v.enabled,
            v.created_at,
        ),
    )


def _switch(ctx: typer.Context, name: str, project: str, db: str | None, *, on: bool) -> None:
    from assay.signals import update_online_scorer

    with open_store(ctx, db) as store, store.write_session() as session:
        view = update_online_scorer(session, get_project(session, project).id, name, enabled=on)
    state = "enabled" if on else "disabled"
    output.done(f"Online scorer [bold]{escape(view.name)}[/] is {state}.")


@app.command("enable")
def enable(ctx: typer.Context, name: NameArg, project: ProjectOption, db: DbOption = None) -> None:
    """Switch an online scorer on: the worker scores traces that arrive from now on."""
    _switch(ctx, name, project, db, on=True)


@app.command("disable")
def disable(ctx: typer.Context, name: NameArg, project: ProjectOption, db: DbOption = None) -> None:
    """Switch an online scorer off; its stored scores stay."""
    _switch(ctx, name, project, db, on=False)


@app.command("rm")
def rm(ctx: typer.Context, name: NameArg, project: ProjectOption, db: DbOption = None) -> None:
    """Delete an online scorer with its scores and pending jobs."""
    from assay.signals import delete_online_scorer

    with open_store(ctx, db) as store, store.write_session() as session:
        delete_online_scorer(session, get_project(session, project).id, name)
    output.done(f"Deleted online scorer [bold]{escape(name)}[/] and its scores.")


@app.command("backfill")
def backfill(
    ctx: typer.Context,
    name: NameArg,
    project: ProjectOption,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="Only traces started since WHEN: 30m, 1h, 7d, 2w ago, or 2026-11-01T00:00 (UTC).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="Only traces started before WHEN (the same forms as --since).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            metavar="N", min=1, help="At most N traces, newest first.", show_default=False
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Queue stored traces for scoring, so the worker scores history. The scorer's
    rate and filters apply as for new traces; traces scored already are left alone."""
    from assay.signals import backfill as add_jobs
    from assay.signals import get_online_scorer

    start = ns_to_datetime(parse_since(since)) if since is not None else None
    end = ns_to_datetime(parse_since(until, option="--until")) if until is not None else None
    with open_store(ctx, db) as store, store.write_session() as session:
        view = get_online_scorer(session, get_project(session, project).id, name)
        added = add_jobs(session, view, since=start, until=end, limit=limit)
    if as_json:
        output.print_json({"scorer": view.name, "jobs": added})
        return
    output.done(
        f"Queued {added} trace(s) for [bold]{escape(view.name)}[/]; the worker (assay serve "
        "or assay worker) scores them."
    )


@app.command("scores")
def scores(
    ctx: typer.Context,
    trace_ids: Annotated[
        list[str], typer.Argument(metavar="TRACE_ID...", help="Traces (32 hex digits).")
    ],
    project: ProjectOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show the online scores of traces: value, pass/fail, the judge's confidence, and
    the reason or the error."""
    from assay.signals import trace_scores

    ids = [check_trace_id(t) for t in trace_ids]
    with open_store(ctx, db) as store, store.session() as session:
        found = trace_scores(session, get_project(session, project).id, ids)
    output.listing(
        found,
        as_json=as_json,
        empty="No online scores for these traces (yet).",
        columns=("trace", "scorer", "value", "passed", "confidence", "reason", "at"),
        row=lambda s: (
            s.trace_id,
            s.scorer,
            f"{s.value:.3f}" if s.value is not None else "",
            s.passed,
            f"{s.confidence:.2f}" if s.confidence is not None else "",
            output.one_line(s.reason or (f"error: {s.error}" if s.error else ""), 60),
            s.created_at,
        ),
    )


def register(root: typer.Typer) -> None:
    """Add ``online`` to the root app."""
    root.add_typer(app, name="online")
