"""``assay queue agreement``: how far a queue's annotators agree, rendered as
``assay agreement`` renders a labels file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.agreement import show_report
from assay.cli.context import DbOption, JsonOption, ProjectOption, open_store
from assay.cli.queue_lookup import QueueArg, project_queue
from assay.errors import InvalidInput

if TYPE_CHECKING:
    from assay.review import PeriodAgreement, QueueAgreement, QueueView

Bucket = Literal["day", "week", "month"]
"""Periods of ``--over-time`` (:data:`assay.review.BUCKETS`) for Typer's choices."""
RESAMPLES = 1_000
"""Default bootstrap resamples (:data:`assay.stats.agreement.AGREEMENT_RESAMPLES`)."""
OVER_TIME_RESAMPLES = 200
"""Default resamples per period with ``--over-time``: one interval per period adds up
(:func:`assay.review.agreement_over_time`'s default)."""


def agreement(
    ctx: typer.Context,
    name: QueueArg,
    project: ProjectOption,
    field: Annotated[
        str | None,
        typer.Option(
            metavar="FIELD",
            help="Only this field (categorical, ordinal, boolean or tags); default: every "
            "decisive field.",
            show_default=False,
        ),
    ] = None,
    over_time: Annotated[
        bool,
        typer.Option(
            "--over-time",
            help="Alpha per period (items by their first label) instead of overall; needs "
            "--field when the queue has several decisive fields.",
        ),
    ] = False,
    bucket: Annotated[Bucket, typer.Option(help="The period of --over-time.")] = "week",
    resamples: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            help=f"Bootstrap resamples for the intervals (default {RESAMPLES}; "
            f"{OVER_TIME_RESAMPLES} per period with --over-time).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(metavar="SEED", help="Bootstrap seed.")] = 0,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """How far a queue's annotators agree, field by field: Krippendorff's alpha,
    Fleiss' kappa and Cohen's kappa per pair, with 95% bootstrap intervals over items.

    Gold annotations are left out. Exit code 0 even when alpha is under the queue's
    floor (the warning says so).
    """
    from assay.review import agreement_over_time, queue_agreement

    with open_store(ctx, db) as store, store.session() as session:
        _, view = project_queue(session, project, name)
        if over_time:
            chosen = field or _only_decisive(view)
            periods = agreement_over_time(
                session,
                view,
                chosen,
                bucket=bucket,
                resamples=resamples or OVER_TIME_RESAMPLES,
                seed=seed,
            )
        else:
            if field is not None:
                _check_decisive(view, field)
            result = queue_agreement(session, view, resamples=resamples or RESAMPLES, seed=seed)
    if over_time:
        _over_time(view.name, chosen, bucket, periods, as_json=as_json)
    elif as_json:
        output.print_json(_json(result, field))
    else:
        _show(result, field)


def _only_decisive(view: QueueView) -> str:
    names = [f.name for f in view.schema.decisive_fields]
    if len(names) != 1:
        listed = ", ".join(names) or "none"
        raise InvalidInput(f"--over-time needs --field: the queue's decisive fields are {listed}")
    return names[0]


def _check_decisive(view: QueueView, field: str) -> None:
    found = view.schema.field(field)
    if not found.decisive:
        raise InvalidInput(
            f"--field {field}: a {found.type} field has no agreement; use a categorical, "
            "ordinal, boolean or tags field"
        )


def _json(result: QueueAgreement, field: str | None) -> dict[str, Any]:
    data: dict[str, Any] = output.jsonable(result)
    data["below_floor"] = result.below_floor
    fields = []
    for f, shown in zip(result.fields, data["fields"], strict=True):
        if field is None or f.field == field:
            fields.append({**shown, "alpha": f.alpha, "below_floor": f.below_floor})
    data["fields"] = fields
    return data


def _show(result: QueueAgreement, field: str | None) -> None:
    output.show(
        f"queue [bold]{escape(result.queue)}[/]: {result.annotations} labels by "
        f"{result.annotators} annotators on {result.items} items; agreement floor "
        f"{result.floor:.3f}"
    )
    shown = [f for f in result.fields if field is None or f.field == field]
    if not shown:
        output.show("The queue has no decisive field (categorical, ordinal, boolean or tags).")
    for f in shown:
        output.show("")
        output.show(f"[bold]{escape(f.field)}[/] ({f.type}, {f.level})")
        if f.report is None:
            output.show(f.note or "no report")
        else:
            show_report(f.report)


def _over_time(
    queue: str, field: str, bucket: str, periods: list[PeriodAgreement], *, as_json: bool
) -> None:
    if as_json:
        output.print_json({"queue": queue, "field": field, "bucket": bucket, "periods": periods})
        return
    if not periods:
        output.show(f"No labels in queue {escape(queue)} yet.")
        return
    rows = [
        (
            p.start.date().isoformat(),
            p.items,
            p.labels,
            f"{p.alpha:.3f}" if p.alpha is not None else "",
            f"{p.ci.low:.3f} to {p.ci.high:.3f}" if p.ci is not None else "",
            p.note,
        )
        for p in periods
    ]
    title = f"Krippendorff's alpha on {field} per {bucket}, queue {queue}"
    columns = (bucket, "items", "labels", "alpha", "95% CI", "note")
    output.show(output.table(columns, rows, title=title))


def add_commands(group: typer.Typer) -> None:
    """Add ``agreement`` to the ``queue`` group."""
    group.command("agreement")(agreement)
