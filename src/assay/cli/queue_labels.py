"""``assay queue claim|label|skip|item|adjudicate|gold``: labelling from the command
line, for scripts (a model as one more annotator, labels brought from elsewhere) and
for adjudicators who live in a terminal.

Each command acts as the account named by ``--user``, with that account's role, the
way the review pages act as the signed-in user.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, open_store
from assay.cli.queue_fields import SET_HELP, label_text, label_values
from assay.cli.queue_lookup import QueueArg, project_queue, user_named
from assay.cli.traces import content_renderable
from assay.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from assay.accounts import UserView
    from assay.review import Claim, QueueView, SubmitResult

ItemArg = Annotated[int, typer.Argument(metavar="ITEM", help="The item's id (assay queue items).")]
ItemOption = Annotated[
    int, typer.Option("--item", metavar="ID", help="The item's id (assay queue claim or items).")
]
UserOption = Annotated[
    str,
    typer.Option(
        "--user", "-u", metavar="USERNAME", help="The account acting (see assay user ls)."
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="FIELD=VALUE", help=SET_HELP, show_default=False),
]


class _NoGold(random.Random):
    """Draws that never hand out a gold item: a script naming the item it labels
    wants that item, and gold items are handed out at random, never by name."""

    def random(self) -> float:
        """Always 1.0, which no gold rate (under 1) exceeds."""
        return 1.0


def claim(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    user: UserOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Claim the next item for an annotator and show its trace (the one they hold
    already, if any). Label it with `assay queue label`."""
    from assay.review import claim_next

    with open_store(ctx, db) as store, store.write_session() as session:
        _, view = project_queue(session, project, name)
        annotator = user_named(session, user)
        held = claim_next(session, view, annotator) if view.schema.fields else None
    if as_json:
        output.print_json(_claim_json(held))
        return
    if held is None:
        output.show(f"Nothing left for {escape(user)} in queue {escape(view.name)}.")
        return
    verb = "Still held" if held.resumed else "Claimed"
    output.done(
        f"{verb}: item [bold]{held.item_id}[/] (trace {held.trace_id}) for {escape(user)} until "
        f"{output.format_time(held.expires_at)}"
        + (f"; in the queue because: {escape(held.reason)}" if held.reason else "")
    )
    if held.context is None:
        output.warn("the trace has not arrived yet")
    else:
        for part, content in (("input", held.context.input), ("output", held.context.output)):
            output.show(Panel(content_renderable(content), title=part, title_align="left"))
    fields = " ".join(f"--set {f.name}=..." for f in view.schema.fields if f.required)
    output.show(
        f"Label it: assay queue label {escape(view.name)} --user {escape(user)} "
        f"--item {held.item_id} {fields}".rstrip()
    )


def _claim_json(held: Claim | None) -> dict[str, Any] | None:
    if held is None:
        return None
    data: dict[str, Any] = output.jsonable(held)
    # Whether an item is gold stays hidden from whoever labels it, as on the page.
    data.pop("gold", None)
    return data


def label(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    user: UserOption,
    item: ItemOption,
    set_: SetOption = None,
    comment: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Words beside the label.", show_default=False)
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Label an item as an annotator; an item they do not hold yet is claimed first.

    Items are handed out oldest first, so a script labels them in the order
    `assay queue claim` gives them; a label on an item that is not the annotator's
    next is refused and nothing changes. Labelling an item again replaces the
    annotator's label while the item is not resolved.
    """
    with open_store(ctx, db) as store, store.write_session() as session:
        _, view = project_queue(session, project, name)
        annotator = user_named(session, user)
        values = label_values(view.schema, set_ or [])
        view.schema.validate(values)
        result = _claim_and_submit(session, view, annotator, item, values, comment)
    if as_json:
        output.print_json(result)
        return
    output.done(f"Labelled item {item} as {escape(user)}: {_outcome(result)}")


def _claim_and_submit(
    session: Session,
    view: QueueView,
    annotator: UserView,
    item_id: int,
    values: dict[str, Any],
    comment: str | None,
) -> SubmitResult:
    from assay.review import claim_next, get_item, submit
    from assay.review.assign import own_assignment

    item = get_item(session, view, item_id)
    if own_assignment(session, item.id, annotator.id) is None:
        if item.status != "open":
            raise Conflict(f"item {item_id} is {item.status}: it takes no more labels")
        handed = claim_next(session, view, annotator, rng=_NoGold())
        if handed is None:
            raise Conflict(
                f"item {item_id} cannot go to {annotator.username!r}: its "
                f"{view.overlap} slot(s) are taken"
            )
        if handed.item_id != item_id:
            # Raising rolls the claim back: nothing changes.
            raise Conflict(
                f"item {item_id} is not {annotator.username!r}'s next item (item "
                f"{handed.item_id} is): items are handed out oldest first, see "
                "assay queue claim"
            )
    return submit(session, view, annotator, item_id, values, comment=comment)


def _outcome(result: SubmitResult) -> str:
    if result.gold:
        verdict = {True: "right", False: "wrong", None: "not checked"}[result.gold_correct]
        return f"a gold item; the label is {verdict}"
    replaced = " (replacing their earlier label)" if result.replaced else ""
    if result.status == "resolved":
        return f"the item is resolved ({result.resolution}){replaced}"
    if result.status == "disputed":
        return f"the labels disagree: the item waits for an adjudicator{replaced}"
    return f"the item waits for more labels{replaced}"


def skip(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    user: UserOption,
    item: ItemOption,
    reason: Annotated[
        str,
        typer.Option(
            metavar="TEXT",
            help="Why (the trace is empty, it needs an expert): it helps fix the queue.",
        ),
    ],
    db: DbOption = None,
) -> None:
    """Pass on an item: its slot is freed for another annotator, and it is never handed
    to this one again."""
    from assay.review import skip as skip_item

    with open_store(ctx, db) as store, store.write_session() as session:
        _, view = project_queue(session, project, name)
        skip_item(session, view, user_named(session, user), item, reason)
    output.done(f"Skipped item {item} for {escape(user)}.")


def item(
    ctx: typer.Context,
    name: QueueArg,
    item_id: ItemArg,
    project: ProjectOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show an item with every label side by side, who gave it, and the final label."""
    from assay.review import get_item, item_labels

    with open_store(ctx, db) as store, store.session() as session:
        _, view = project_queue(session, project, name)
        labels = item_labels(session, get_item(session, view, item_id).id)
    if as_json:
        output.print_json(labels)
        return
    it = labels.item
    output.show(
        f"[bold]item {it.id}[/]  trace {it.trace_id}  {it.status}"
        + (f" ({it.resolution})" if it.resolution else "")
        + ("  gold" if it.is_gold else "")
    )
    if it.reason:
        output.show(f"in the queue because: {escape(it.reason)}")
    if labels.annotations:
        rows = [
            (a.annotator, label_text(a.values), a.comment, a.gold, a.created_at)
            for a in labels.annotations
        ]
        output.show(output.table(("annotator", "label", "comment", "gold", "at"), rows))
    else:
        output.show("No labels yet.")
    if it.label is not None:
        by = f" by {escape(it.resolved_by)}" if it.resolved_by else ""
        output.show(f"final label{by}: {escape(label_text(it.label))}")
        if it.resolution_reason:
            output.show(f"reason: {escape(it.resolution_reason)}")


def adjudicate(
    ctx: typer.Context,
    name: QueueArg,
    item_id: ItemArg,
    project: ProjectOption,
    user: UserOption,
    reason: Annotated[
        str,
        typer.Option(
            metavar="TEXT", help="Why this label is right (kept with the item and its case)."
        ),
    ],
    set_: SetOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Settle an item's final label as an adjudicator (role adjudicator or admin): a
    disputed item, or an open one with at least one label."""
    from assay.review import adjudicate as settle

    with open_store(ctx, db) as store, store.write_session() as session:
        _, view = project_queue(session, project, name)
        adjudicator = user_named(session, user)
        values = label_values(view.schema, set_ or [])
        settled = settle(session, view, adjudicator, item_id, values, reason)
    if as_json:
        output.print_json(settled)
        return
    output.done(
        f"Resolved item {settled.id} as {escape(user)}: {escape(label_text(settled.label))}"
    )


def gold(
    ctx: typer.Context,
    name: QueueArg,
    item_id: ItemArg,
    project: ProjectOption,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="FIELD=VALUE",
            help="The gold label, when it is not the item's final label. " + SET_HELP,
            show_default=False,
        ),
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Stop handing the item out as a gold item.")
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Make a resolved item a gold item: handed to annotators who have not labelled
    it, to measure them against its known answer."""
    from assay.review import mark_gold, unmark_gold

    if remove and set_:
        raise InvalidInput("--remove takes no --set: it stops using the item as gold")
    with open_store(ctx, db) as store, store.write_session() as session:
        _, view = project_queue(session, project, name)
        if remove:
            changed = unmark_gold(session, view, item_id)
        else:
            values = label_values(view.schema, set_) if set_ else None
            changed = mark_gold(session, view, item_id, values)
    if as_json:
        output.print_json(changed)
        return
    if remove:
        output.done(f"Item {changed.id} is no longer a gold item.")
    else:
        output.done(f"Item {changed.id} is a gold item: {escape(label_text(changed.gold))}")


def add_commands(group: typer.Typer) -> None:
    """Add the labelling commands to the ``queue`` group."""
    group.command("claim")(claim)
    group.command("label")(label)
    group.command("skip")(skip)
    group.command("item")(item)
    group.command("adjudicate")(adjudicate)
    group.command("gold")(gold)
