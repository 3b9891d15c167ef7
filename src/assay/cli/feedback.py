"""``assay feedback``: record feedback on a trace and list a project's feedback."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, command_group, open_store
from assay.errors import InvalidInput
from assay.projects import get_project
from assay.traces import FeedbackValue, list_feedback, record_feedback

app = command_group("Record feedback on traces (thumbs, ratings, corrections) and list it.")


def parse_value(text: str, *, as_text: bool) -> FeedbackValue:
    """``true``/``false`` as a boolean, a number as a number, anything else as text.

    Raises:
        InvalidInput: ``nan`` or an infinite number.
    """
    if as_text:
        return text
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        raise InvalidInput(f"value: must be a finite number; got {text!r} (or pass --text)")
    return number


@app.command("add")
def add(
    ctx: typer.Context,
    trace_id: Annotated[str, typer.Argument(metavar="TRACE_ID", help="The trace, 32 hex digits.")],
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="What is measured: thumbs, rating, correction..."),
    ],
    value: Annotated[
        str,
        typer.Argument(
            metavar="VALUE",
            help="true/false, a number, or text (a label or a corrected answer).",
        ),
    ],
    project: ProjectOption,
    comment: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Free text.", show_default=False)
    ] = None,
    span: Annotated[
        str | None,
        typer.Option(
            metavar="SPAN_ID",
            help="The span it is about; the whole trace by default.",
            show_default=False,
        ),
    ] = None,
    as_text: Annotated[
        bool, typer.Option("--text", help="Keep VALUE as text even if it reads as a number.")
    ] = False,
    source: Annotated[str, typer.Option(metavar="SOURCE", help="Who sends it.")] = "cli",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Record feedback on a trace, which need not have arrived yet.

    A text VALUE and the comment are redacted by the project's rules.
    """
    parsed = parse_value(value, as_text=as_text)
    with open_store(ctx, db) as store, store.write_session() as session:
        view = record_feedback(
            session,
            get_project(session, project).id,
            trace_id,
            name,
            parsed,
            comment=comment,
            span_id=span,
            source=source,
        )
    if as_json:
        output.print_json(view)
        return
    output.done(
        f"Recorded {escape(view.name)} = {escape(output.cell_text(view.value))} on trace "
        f"{view.trace_id}" + ("" if view.trace_known else " (the trace has not arrived yet)")
    )


@app.command("ls")
def ls(
    ctx: typer.Context,
    project: ProjectOption,
    trace: Annotated[
        str | None,
        typer.Option(metavar="TRACE_ID", help="Only feedback on this trace.", show_default=False),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Only feedback of this name.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", help="At most this many, 1-500.")] = 50,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List a project's feedback, newest first."""
    with open_store(ctx, db) as store, store.session() as session:
        page = list_feedback(
            session, get_project(session, project).id, trace_id=trace, name=name, limit=limit
        )
    output.listing(
        page.items,
        as_json=as_json,
        empty="No feedback yet. Record some with `assay feedback add TRACE_ID NAME VALUE`.",
        columns=["trace", "span", "name", "value", "comment", "source", "at"],
        row=lambda f: (
            f.trace_id,
            f.span_id,
            f.name,
            output.one_line(output.cell_text(f.value), 60),
            f.comment,
            f.source,
            output.format_time(f.created_at),
        ),
    )


def register(root: typer.Typer) -> None:
    """Add ``feedback`` to the root app."""
    root.add_typer(app, name="feedback")
