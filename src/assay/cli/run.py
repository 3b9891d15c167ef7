"""``assay run``: run a target over a dataset version, score it, store the results."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, open_store, settings_of

if TYPE_CHECKING:
    from assay.experiments import ExperimentResult

EXIT_INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C


def run(
    ctx: typer.Context,
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset", "-d", metavar="NAME[@VERSION]", help="The dataset version to run over."
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "--target",
            "-t",
            metavar="SPEC",
            help="What to run: module:function (the current directory is importable), "
            "http(s)://URL, openai:MODEL@BASE_URL, or a .toml/.json/.yaml target file.",
        ),
    ],
    project: ProjectOption,
    scorer: Annotated[
        list[str] | None,
        typer.Option(
            "--scorer",
            "-s",
            metavar="NAME[:ARGS]",
            help="A scorer (repeat for several): exact, contains, regex:pattern=..., json, "
            "numeric:abs_tol=0.01, embedding, judge:model=...,base_url=..., python:function=...",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            metavar="RUN",
            help="Name of the run (default: run-DATE-TIME-xxxx). An unfinished run of this "
            "name is resumed.",
            show_default=False,
        ),
    ] = None,
    release: Annotated[
        str | None,
        typer.Option(
            metavar="REF", help="The registered release this run measures.", show_default=False
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, max=1024, help="Calls in flight at once.")
    ] = 8,
    repeat: Annotated[
        int,
        typer.Option(
            min=1, max=100, help="Samples per case, for targets that answer differently each time."
        ),
    ] = 1,
    timeout: Annotated[
        float, typer.Option(min=0.001, metavar="SECONDS", help="Longest wait for one call.")
    ] = 60.0,
    retries: Annotated[
        int,
        typer.Option(
            min=0, help="Retries of a call after a timeout, HTTP 429 or 5xx (backoff with jitter)."
        ),
    ] = 3,
    rpm: Annotated[
        float | None,
        typer.Option(
            metavar="N", min=0.001, help="Most calls started per minute.", show_default=False
        ),
    ] = None,
    tpm: Annotated[
        float | None,
        typer.Option(metavar="N", min=1, help="Most tokens spent per minute.", show_default=False),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Call the target even for inputs it has answered before."),
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Run a target over every case of a dataset version, score the answers, store them.

    Answers an unchanged target gave before come from the result cache and cost
    nothing. Ctrl-C (or a crash) keeps what finished: run again with the same
    `--name` to resume. Compare two runs with `assay compare`.
    """
    # Imported here: the experiment stack (scorers, targets, SciPy) is slow to import.
    from assay.experiments import CallPolicy, run_experiment_async

    settings = settings_of(ctx)
    policy = CallPolicy(
        timeout_s=timeout, retries=retries, requests_per_minute=rpm, tokens_per_minute=tpm
    )
    show_progress = not as_json and sys.stderr.isatty()
    progress = Progress(
        TextColumn("[bold]running"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=output.stderr(),
        transient=True,
        disable=not show_progress,
    )
    task = progress.add_task("run", total=None)

    def tick(finished: int, total: int) -> None:
        progress.update(task, completed=finished, total=total)

    with open_store(ctx, db) as store, progress:
        try:
            result = asyncio.run(
                run_experiment_async(
                    store,
                    project=project,
                    dataset=dataset,
                    target=target,
                    scorers=scorer or [],
                    name=name,
                    release=release,
                    concurrency=concurrency,
                    repeat=repeat,
                    policy=policy,
                    use_cache=not no_cache,
                    api_key=settings.openai_api_key,
                    cwd=Path.cwd(),
                    progress=tick if show_progress else None,
                )
            )
        except KeyboardInterrupt:
            output.error(
                "interrupted; what finished is stored. Run again with the same --name to resume."
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
    if as_json:
        output.print_json(_json(result))
        return
    _report(result)


def _json(result: ExperimentResult) -> dict[str, Any]:
    stats = result.stats
    return {
        "run": result.run,
        "resumed": result.resumed,
        "summary": result.run.summary,
        "stats": {
            "total": stats.total,
            "skipped": stats.skipped,
            "cached": stats.cached,
            "called": stats.called,
            "errors": stats.errors,
            "retries": stats.retries,
            "elapsed_s": round(stats.elapsed_s, 3),
        },
    }


def _report(result: ExperimentResult) -> None:
    run, stats, summary = result.run, result.stats, result.run.summary
    verb = "Resumed" if result.resumed else "Ran"
    output.done(
        f"{verb} [bold]{escape(run.name)}[/] on {escape(run.dataset)}: "
        f"{summary.get('samples', 0)} results, {stats.called} calls, {stats.cached} cached, "
        f"{stats.errors} errors in {stats.elapsed_s:.1f} s"
    )
    rows = []
    for label, s in summary.get("scorers", {}).items():
        judged = s["passed"] + s["failed"]
        rate = f"{s['passed'] / judged:.1%}" if judged else ""
        mean = f"{s['mean']:.3f}" if s["mean"] is not None else ""
        rows.append((label, s["n"], mean, rate, s["errors"]))
    if rows:
        output.show(output.table(("scorer", "n", "mean", "pass rate", "errors"), rows))
    latency = summary.get("latency_ms", {})
    if latency.get("p50") is not None:
        output.show(
            f"latency p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms; "
            f"cost {output.format_cost(summary.get('cost'))}"
        )
    if stats.errors:
        output.warn(
            f"{stats.errors} case(s) failed; `assay runs show {run.name} -p PROJECT` lists them"
        )


def register(root: typer.Typer) -> None:
    """Add ``run`` to the root app."""
    root.command("run")(run)
