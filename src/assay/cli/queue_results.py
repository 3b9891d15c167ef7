"""``assay queue promote|export``: a queue's results out of the store, as dataset cases
or as a file."""

from __future__ import annotations

import io
import sys
from typing import Annotated, Literal

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, open_store
from assay.cli.queue_lookup import ItemStatus, QueueArg, project_queue
from assay.cli.trace_filters import (
    KindFilter,
    ModelFilter,
    ReleaseFilter,
    SearchFilter,
    SinceFilter,
    SliceFilter,
    StatusFilter,
    any_given,
    trace_filter,
)
from assay.errors import InvalidInput

ExportFormat = Literal["jsonl", "csv"]
"""Export formats (:data:`assay.review.EXPORT_FORMATS`) for Typer's choices."""


def promote(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset", "-d", metavar="DATASET", help="The dataset (created if it is missing)."
        ),
    ],
    item: Annotated[
        list[int] | None,
        typer.Option(
            "--item",
            metavar="ID",
            help="Only this item (repeat); default: every resolved item.",
            show_default=False,
        ),
    ] = None,
    release: ReleaseFilter = None,
    model: ModelFilter = None,
    status: StatusFilter = None,
    kind: KindFilter = None,
    slice_: SliceFilter = None,
    search: SearchFilter = None,
    since: SinceFilter = None,
    message: Annotated[
        str, typer.Option("--message", "-m", metavar="TEXT", help="A note kept with the version.")
    ] = "",
    by: Annotated[
        str, typer.Option(metavar="NAME", help="Who promotes, kept with the version.")
    ] = "cli",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a queue's resolved items to a dataset as a new version: each becomes the case
    `trace-TRACE_ID` with the final label's reference and its provenance (queue,
    item, annotators, adjudicator). Promoting the same items again adds no version."""
    from assay.review import promote as promote_items

    filtered = any_given(release, model, status, kind, slice_, search, since)
    filters = (
        trace_filter(
            release=release,
            model=model,
            status=status,
            kind=kind,
            slices=slice_,
            search=search,
            since=since,
        )
        if filtered
        else None
    )
    with open_store(ctx, db) as store, store.write_session() as session:
        project_id, view = project_queue(session, project, name)
        result = promote_items(
            session,
            project_id,
            view,
            dataset,
            item_ids=item,
            trace_filter=filters,
            message=message,
            created_by=by,
        )
    if as_json:
        output.print_json(result)
        return
    if result.version is None or not (result.added or result.changed or result.unchanged):
        output.show(f"Nothing to promote from queue {escape(view.name)}: no resolved item matched.")
    elif not result.created:
        output.show(
            f"{escape(result.version.ref)} has these {len(result.unchanged)} case(s) already; "
            "no new version."
        )
    else:
        output.done(
            f"Promoted {len(result.added) + len(result.changed)} item(s) to "
            f"[bold]{escape(result.version.ref)}[/]: {len(result.added)} added, "
            f"{len(result.changed)} changed, {len(result.unchanged)} unchanged"
        )
    if result.skipped:
        rows = [(s.item_id, s.trace_id, s.reason) for s in result.skipped]
        output.show(output.table(("item", "trace", "not promoted because"), rows))
    for d in result.duplicates:
        fate = "left out" if d.dropped else "kept"
        output.warn(f"case {d.case_id} repeats the input of case {d.duplicate_of} ({fate})")


def export(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    out: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Where to write ('-' writes to stdout)."
        ),
    ],
    fmt: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            help="jsonl (one object per item, its labels nested) or csv (one row per "
            "label). Default: from the file's suffix, else jsonl.",
            show_default=False,
        ),
    ] = None,
    status: Annotated[
        ItemStatus | None, typer.Option(help="Only items of this status.", show_default=False)
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a queue's items with every label, the final label and the adjudicator's
    reason, as JSONL or CSV."""
    from assay.review import export_results

    chosen: ExportFormat = fmt or ("csv" if out.lower().endswith(".csv") else "jsonl")
    buffer = io.StringIO(newline="")
    with open_store(ctx, db) as store, store.session() as session:
        _, view = project_queue(session, project, name)
        count = export_results(session, view, buffer, format=chosen, status=status)
    if out == "-":
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
        return
    try:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
    except OSError as exc:
        raise InvalidInput(f"cannot write {out!r}: {exc.strerror or exc}") from exc
    output.done(f"Wrote {count} item(s) of queue {escape(view.name)} to {escape(out)} ({chosen})")


def add_commands(group: typer.Typer) -> None:
    """Add ``promote`` and ``export`` to the ``queue`` group."""
    group.command("promote")(promote)
    group.command("export")(export)
