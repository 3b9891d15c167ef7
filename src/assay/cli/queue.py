"""``assay queue``: review queues from the command line, the twin of the review pages.

Define a queue (``create``, ``edit``), fill it with traces (``add``) and look at it
(``ls``, ``show``, ``items``). Labelling, skipping, adjudication and gold items are
in :mod:`assay.cli.queue_labels`, agreement in :mod:`assay.cli.queue_agreement`,
promotion and export in :mod:`assay.cli.queue_results`.

Every command goes through :mod:`assay.review`, imported when a command runs: it
pulls in the statistics stack, which ``assay --help`` must not wait for.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel

from assay.cli import output, queue_agreement, queue_labels, queue_results
from assay.cli.context import DbOption, JsonOption, ProjectOption, command_group, open_store
from assay.cli.queue_fields import FIELD_HELP, label_text, parse_field_specs, schema_rows
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
from assay.projects import get_project
from assay.traces import check_trace_id, known_traces

if TYPE_CHECKING:
    from assay.review import QueueDefinition, QueueView

app = command_group(
    "Review queues: define the labels, add traces, label and adjudicate, measure "
    "agreement, promote resolved items to a dataset."
)

MAX_BULK = 10_000
"""Most traces one ``queue add`` by filter puts in a queue (:data:`assay.review.items.MAX_BULK`)."""

DescriptionOption = Annotated[
    str | None,
    typer.Option(metavar="TEXT", help="What the queue is for.", show_default=False),
]
InstructionsOption = Annotated[
    str | None,
    typer.Option(
        metavar="TEXT",
        help="What annotators read before labelling (Markdown).",
        show_default=False,
    ),
]
OverlapOption = Annotated[
    int | None,
    typer.Option(
        metavar="K",
        help="How many annotators label each item (1-20; 1: one label decides).",
        show_default=False,
    ),
]
GoldRateOption = Annotated[
    float | None,
    typer.Option(
        metavar="R",
        help="Share of hand-outs that are gold items with a known answer (0 to under 1).",
        show_default=False,
    ),
]
FloorOption = Annotated[
    float | None,
    typer.Option(
        metavar="ALPHA",
        help="Krippendorff's alpha under this is flagged (.667: tentative; .800: reliable).",
        show_default=False,
    ),
]
ClaimOption = Annotated[
    int | None,
    typer.Option(
        metavar="SECONDS",
        help="How long a claimed item stays reserved for its annotator (30 s to a week).",
        show_default=False,
    ),
]
FieldOption = Annotated[
    list[str] | None, typer.Option("--field", metavar="SPEC", help=FIELD_HELP, show_default=False)
]


def _settings(
    description: str | None,
    instructions: str | None,
    overlap: int | None,
    claim_seconds: int | None,
    gold_rate: float | None,
    floor: float | None,
) -> dict[str, Any]:
    """The settings given on the command line, by their key in a definition file."""
    given = {
        "description": description,
        "instructions": instructions,
        "overlap": overlap,
        "claim_seconds": claim_seconds,
        "gold_rate": gold_rate,
        "agreement_floor": floor,
    }
    return {k: v for k, v in given.items() if v is not None}


def _definition_data(definition: QueueDefinition) -> dict[str, Any]:
    data = {f.name: getattr(definition, f.name) for f in dataclasses.fields(definition)}
    data["fields"] = data.pop("schema").to_data()
    return data


@app.command("create")
def create(
    ctx: typer.Context,
    project: ProjectOption,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[NAME]",
            help="The queue's name; with --file, it replaces the file's name.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="A queue definition, .toml, .yaml/.yml or .json: name; fields, a list of "
            "{name, type, options | scale, required, description, reference} (types: "
            "categorical, ordinal, boolean, tags, text, correction); and optionally "
            "description, instructions, overlap, claim_seconds, gold_rate, agreement_floor.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    field: FieldOption = None,
    description: DescriptionOption = None,
    instructions: InstructionsOption = None,
    overlap: OverlapOption = None,
    claim_seconds: ClaimOption = None,
    gold_rate: GoldRateOption = None,
    floor: FloorOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create a review queue from a definition file, or from NAME and --field options.

    Options given beside --file replace the file's settings. The defaults: overlap 2,
    claims of 30 minutes, no gold items, agreement floor 0.667.
    """
    from assay.review import create_queue, load_queue_definition, parse_queue_definition

    if file is not None and field:
        raise InvalidInput("give the label fields in --file or with --field, not both")
    if file is not None:
        base = load_queue_definition(file)
    elif field:
        if name is None:
            raise InvalidInput("NAME is missing: a queue made with --field needs a name")
        base = parse_queue_definition(
            {"name": name, "fields": parse_field_specs(field)}, source="--field"
        )
    else:
        raise InvalidInput(
            "no label fields: give --file QUEUE.toml, or --field NAME:TYPE[:ARGS] (repeat)"
        )
    data = _definition_data(base)
    if name is not None:
        data["name"] = name
    data |= _settings(description, instructions, overlap, claim_seconds, gold_rate, floor)
    definition = parse_queue_definition(data, source="command line")
    with open_store(ctx, db) as store, store.write_session() as session:
        view = create_queue(session, get_project(session, project).id, definition)
    if as_json:
        output.print_json(queue_json(view))
        return
    output.done(
        f"Created queue [bold]{escape(view.name)}[/] with {len(view.schema.fields)} field(s), "
        f"overlap {view.overlap}. Add traces with: assay queue add {escape(view.name)} TRACE_ID"
    )


@app.command("ls")
def ls(
    ctx: typer.Context, project: ProjectOption, as_json: JsonOption = False, db: DbOption = None
) -> None:
    """List a project's review queues with their item counts."""
    from assay.review import list_queues

    with open_store(ctx, db) as store, store.session() as session:
        queues = list_queues(session, get_project(session, project).id)
    if as_json:
        output.print_json([queue_json(q) for q in queues])
        return
    output.listing(
        queues,
        as_json=False,
        empty="No review queues yet. Create one with: assay queue create -p PROJECT --file Q.toml",
        columns=("name", "items", "open", "disputed", "resolved", "gold", "labels", "overlap"),
        row=lambda q: (
            q.name,
            q.items,
            q.open,
            q.disputed,
            q.resolved,
            q.gold,
            q.annotations,
            q.overlap,
        ),
    )


def queue_json(view: QueueView) -> dict[str, Any]:
    """A queue as JSON: its view, the schema as a definition file writes it, and
    the item total."""
    data: dict[str, Any] = output.jsonable(view)
    data["schema"] = view.schema.to_data()
    data["items"] = view.items
    return data


@app.command("show")
def show(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show a queue: its settings and counts, instructions, label fields, and how
    each annotator works (labels, skips, pace, gold accuracy, agreement with the
    final labels)."""
    from assay.review import annotator_stats

    with open_store(ctx, db) as store, store.session() as session:
        _, view = project_queue(session, project, name)
        stats = annotator_stats(session, view)
    if as_json:
        output.print_json({"queue": queue_json(view), "annotators": stats})
        return
    output.show(f"[bold]{escape(view.name)}[/]  {escape(view.description)}".rstrip())
    output.show(
        f"overlap {view.overlap} · claims last {view.claim_seconds // 60} min · gold rate "
        f"{view.gold_rate:.0%} · agreement floor {view.agreement_floor:.3f} · created "
        f"{output.format_time(view.created_at)}"
    )
    output.show(
        f"{view.items} items: {view.open} open, {view.disputed} disputed, {view.resolved} "
        f"resolved ({view.gold} gold); {view.annotations} labels"
    )
    if view.instructions.strip():
        output.show(Panel(Markdown(view.instructions), title="instructions", title_align="left"))
    fields = ("field", "type", "required", "values", "reference", "description")
    output.show(output.table(fields, schema_rows(view.schema), title="label fields"))
    if not stats:
        output.show("No labels yet.")
        return
    rows = [
        (
            s.annotator,
            s.annotations,
            s.skips,
            f"{s.median_seconds:.0f}" if s.median_seconds is not None else "",
            f"{s.items_per_hour:.0f}" if s.items_per_hour is not None else "",
            s.gold_seen,
            _share(s.gold_accuracy),
            _share(s.agreement_with_final),
        )
        for s in stats
    ]
    columns = ("annotator", "labels", "skips", "median s", "per hour", "gold", "gold ok", "final")
    output.show(output.table(columns, rows, title="annotators"))


def _share(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else ""


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    description: DescriptionOption = None,
    instructions: InstructionsOption = None,
    overlap: OverlapOption = None,
    claim_seconds: ClaimOption = None,
    gold_rate: GoldRateOption = None,
    floor: FloorOption = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="SPEC",
            help="Replace the label fields (only while the queue has no labels). " + FIELD_HELP,
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Change a queue's settings; what is not given stays. Lowering --overlap decides
    the open items that now have enough labels."""
    from assay.review import update_queue

    changes = _settings(description, instructions, overlap, claim_seconds, gold_rate, floor)
    if not changes and not field:
        raise InvalidInput(
            "nothing to change: give --instructions, --overlap, --gold-rate, --floor, "
            "--claim-seconds, --description or --field"
        )
    fields = parse_field_specs(field) if field else None
    with open_store(ctx, db) as store, store.write_session() as session:
        _, view = project_queue(session, project, name)
        view = update_queue(session, view, fields=fields, **changes)
    if as_json:
        output.print_json(queue_json(view))
        return
    changed = ", ".join(sorted({*changes, *(["fields"] if fields else [])}))
    output.done(f"Changed {changed} of queue [bold]{escape(view.name)}[/].")


@app.command("add")
def add(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    trace_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[TRACE_ID]...",
            help="Traces to add (32 hex digits); or leave out and pick traces with the "
            "filter options.",
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
    limit: Annotated[
        int,
        typer.Option(
            metavar="N",
            min=1,
            max=MAX_BULK,
            help="With filter options: add at most the N newest matching traces.",
        ),
    ] = 100,
    reason: Annotated[
        str,
        typer.Option(
            metavar="TEXT",
            help="Why the traces are in the queue, shown to annotators.",
            show_default=False,
        ),
    ] = "",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Put traces in a queue: the ones named, or the newest ones matching the filter
    options (as `assay traces ls` takes them). A trace already in the queue stays
    as it is."""
    from assay.review import enqueue, enqueue_filtered

    filtered = any_given(release, model, status, kind, slice_, search, since)
    if trace_ids and filtered:
        raise InvalidInput("give TRACE_IDs or filter options, not both")
    if not trace_ids and not filtered:
        raise InvalidInput(
            "which traces? give TRACE_IDs, or filter options such as --since 7d or "
            "--status error to add the traces they match"
        )
    unknown: list[str] = []
    with open_store(ctx, db) as store, store.write_session() as session:
        project_id, view = project_queue(session, project, name)
        if trace_ids:
            ids = list(dict.fromkeys(check_trace_id(t) for t in trace_ids))
            added = sum(
                enqueue(session, project_id, view.id, t, source="manual", reason=reason)
                for t in ids
            )
            already = len(ids) - added
            known = known_traces(session, project_id, set(ids))
            unknown = [t for t in ids if t not in known]
        else:
            filters = trace_filter(
                release=release,
                model=model,
                status=status,
                kind=kind,
                slices=slice_,
                search=search,
                since=since,
            )
            result = enqueue_filtered(
                session, project_id, view, filters, limit=limit, reason=reason
            )
            added, already = result.added, result.already
    if as_json:
        output.print_json({"added": added, "already": already, "not_arrived": unknown})
        return
    if not trace_ids and added + already == 0:
        output.show("No traces match the filters; nothing was added.")
        return
    output.done(
        f"Added {added} trace(s) to queue [bold]{escape(view.name)}[/]"
        + (f"; {already} were in it already" if already else "")
        + "."
    )
    if unknown:
        output.warn(
            f"{len(unknown)} trace(s) have not arrived yet ({', '.join(unknown[:3])}"
            f"{', ...' if len(unknown) > 3 else ''}): annotators see them once they do"
        )


@app.command("items")
def items(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    status: Annotated[
        ItemStatus | None, typer.Option(help="Only items of this status.", show_default=False)
    ] = None,
    gold: Annotated[
        bool | None,
        typer.Option(
            "--gold/--no-gold", help="Only gold items, or only the others.", show_default=False
        ),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", help="At most this many, 1-500.")] = 50,
    offset: Annotated[int, typer.Option(metavar="N", help="Items to pass over first.")] = 0,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List a queue's items, oldest first: status, labels so far, and the final label."""
    from assay.review import list_items

    with open_store(ctx, db) as store, store.session() as session:
        _, view = project_queue(session, project, name)
        page = list_items(session, view, status=status, gold=gold, limit=limit, offset=offset)
    if as_json:
        output.print_json([{**output.jsonable(i), "is_gold": i.is_gold} for i in page])
        return
    output.listing(
        page,
        as_json=False,
        empty="No items. Add traces with: assay queue add NAME TRACE_ID (or filter options)",
        columns=("id", "trace", "status", "labels", "label", "resolution", "gold", "reason"),
        row=lambda i: (
            i.id,
            i.trace_id,
            i.status,
            i.annotations,
            output.one_line(label_text(i.label), 50),
            i.resolution,
            i.is_gold,
            output.one_line(i.reason, 40),
        ),
    )


def register(root: typer.Typer) -> None:
    """Add ``queue`` to the root app, with its labelling and agreement commands."""
    queue_labels.add_commands(app)
    queue_agreement.add_commands(app)
    queue_results.add_commands(app)
    root.add_typer(app, name="queue")
