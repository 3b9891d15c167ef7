"""``assay runs``: list experiment runs and show one, case by case."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, command_group, open_store
from assay.projects import get_project

if TYPE_CHECKING:
    from assay.experiments import StoredResult

app = command_group("Experiment runs: list them, and show one case by case.")

_CELL_CHARS = 60


@app.command("ls")
def ls(
    ctx: typer.Context,
    project: ProjectOption,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Show at most this many.")] = 50,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List a project's runs, newest first."""
    from assay.experiments import list_runs

    with open_store(ctx, db) as store, store.session() as session:
        runs = list_runs(session, get_project(session, project).id, limit=limit)
    output.listing(
        runs,
        as_json=as_json,
        empty="No runs yet. Start one with: assay run --dataset NAME --target SPEC -p PROJECT",
        columns=("name", "dataset", "target", "release", "status", "cases", "errors", "started"),
        row=lambda r: (
            r.name,
            r.dataset,
            r.target.get("kind", ""),
            r.release or "",
            r.status,
            r.summary.get("cases", ""),
            r.summary.get("errors", ""),
            output.format_time(r.created_at),
        ),
    )


@app.command("show")
def show(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(metavar="RUN", help="The run's name or id.")],
    project: ProjectOption,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only cases that failed a scorer or errored.")
    ] = False,
    limit: Annotated[int, typer.Option(min=0, help="Show at most this many cases.")] = 50,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show a run: its summary and each case's output, scores and errors."""
    from assay.experiments import get_run, run_results

    with open_store(ctx, db) as store, store.session() as session:
        view = get_run(session, get_project(session, project).id, run)
        results = run_results(session, view.id)
    if failed:
        results = [r for r in results if r.error or _any_failed(r)]
    if as_json:
        output.print_json({"run": view, "results": results[:limit] if limit else results})
        return
    output.show(
        f"[bold]{escape(view.name)}[/]  {escape(view.dataset)}  {view.status}  "
        f"target {escape(view.target.get('kind', ''))} {view.target_fingerprint[:12]}"
        + (f"  release {escape(view.release)}" if view.release else "")
    )
    rows = [
        (
            r.case_id + (f" #{r.sample}" if view.repeat > 1 else ""),
            _cut(r.error or _text(r.output)),
            ", ".join(_verdict(label, s) for label, s in r.scores.items()),
        )
        for r in results[:limit]
    ]
    if rows:
        title = f"{len(rows)} of {len(results)} results"
        output.show(output.table(("case", "output", "scores"), rows, title=title))


def _any_failed(result: StoredResult) -> bool:
    return any(s.get("passed") is False or s.get("error") for s in result.scores.values())


def _verdict(label: str, score: dict[str, Any]) -> str:
    if score.get("error"):
        return f"{label}: error"
    passed = score.get("passed")
    mark = "pass" if passed is True else "FAIL" if passed is False else f"{score['value']:.2f}"
    return f"{label}: {mark}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _cut(text: str) -> str:
    return output.one_line(text, _CELL_CHARS)


def register(root: typer.Typer) -> None:
    """Add ``runs`` to the root app."""
    root.add_typer(app, name="runs")
