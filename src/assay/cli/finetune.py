"""``assay finetune``: corrected outputs as fine-tuning JSONL, eval cases kept out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.context import (
    DbOption,
    JsonOption,
    NearThresholdOption,
    ProjectOption,
    command_group,
    open_store,
)
from assay.datasets.duplicates import NEAR_DUPLICATE_COSINE
from assay.errors import InvalidInput
from assay.projects import get_project

if TYPE_CHECKING:
    from assay.finetune import FinetuneExport

app = command_group("Export corrected outputs for fine-tuning, without eval cases.")


@app.command("export")
def export(
    ctx: typer.Context,
    project: ProjectOption,
    out: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write the JSONL records.",
            dir_okay=False,
            show_default=False,
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help='openai: chat fine-tuning lines ({"messages": [...]}); generic: trace '
            "id, input, corrected and original output, and where the correction came from.",
        ),
    ] = "openai",
    feedback: Annotated[
        str,
        typer.Option(metavar="NAME", help="The feedback whose text value is the corrected answer."),
    ] = "correction",
    sources: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            metavar="SOURCE",
            help="Where corrections come from: feedback (text feedback named by "
            "--feedback) or review (the correction field of resolved review-queue items). "
            "Repeat for both; both by default.",
            show_default=False,
        ),
    ] = None,
    near: Annotated[
        bool,
        typer.Option(
            "--near-duplicates/--no-near-duplicates",
            help="Also exclude examples whose question means nearly the same as an eval "
            "case's input (offline MiniLM embeddings, cosine at or above --near-threshold). "
            "Exact duplicates are always excluded.",
        ),
    ] = True,
    near_threshold: NearThresholdOption = NEAR_DUPLICATE_COSINE,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Write corrections as fine-tuning examples, leaving out every eval case's question.

    Each trace's newest correction (text feedback, or the correction field of a
    resolved review item) becomes one example: the trace's input messages and the
    corrected answer. Examples whose question equals (case and whitespace
    ignored) or nearly equals an input of any case of any dataset of the project are
    excluded and listed, so eval cases never leak into training data.
    """
    from assay.finetune import FORMATS, SOURCES, export_corrections

    if fmt not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    chosen = tuple(dict.fromkeys(sources or SOURCES))
    for source in chosen:
        if source not in SOURCES:
            raise InvalidInput(f"--source must be one of {', '.join(SOURCES)}, not {source!r}")
    embedder = None
    if near:
        # Imported here: the embedder brings NumPy and onnxruntime.
        from assay.embeddings import get_embedder

        embedder = get_embedder("minilm")
    with open_store(ctx, db) as store:
        with store.session() as session:
            project_id = get_project(session, project).id
        result = export_corrections(
            store,
            project_id,
            feedback_name=feedback,
            format=fmt,
            embedder=embedder,
            threshold=near_threshold,
            sources=chosen,  # type: ignore[arg-type]
        )
    try:
        out.write_bytes(result.jsonl())
    except OSError as exc:
        raise InvalidInput(f"cannot write {str(out)!r}: {exc.strerror or exc}") from exc
    if as_json:
        report = output.jsonable(result)
        del report["records"]
        report["written"] = len(result.records)
        report["output"] = str(out)
        output.print_json(report)
        return
    _show(result, out)


def _show(result: FinetuneExport, out: Path) -> None:
    output.done(
        f"Wrote {len(result.records)} examples to {escape(str(out))} "
        f"({result.corrections} corrections, {len(result.excluded)} excluded as eval cases, "
        f"{len(result.skipped)} skipped; checked against {result.cases_checked} cases)"
    )
    if result.excluded:
        output.show(
            output.table(
                ["trace", "why", "similarity", "dataset", "case", "question"],
                [
                    (
                        e.trace_id,
                        f"{e.kind} duplicate",
                        f"{e.similarity:.3f}",
                        e.dataset,
                        e.case_id,
                        output.one_line(e.question, 60),
                    )
                    for e in result.excluded
                ],
                title="Excluded: the question is an eval case's",
            )
        )
    if result.skipped:
        output.show(
            output.table(
                ["trace", "why"],
                [(s.trace_id, s.reason) for s in result.skipped],
                title="Skipped",
            )
        )


def register(root: typer.Typer) -> None:
    """Add ``finetune`` to the root app."""
    root.add_typer(app, name="finetune")
