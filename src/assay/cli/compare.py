"""``assay compare`` and ``assay gate``: paired comparison of two runs, and the CI gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markdown import Markdown

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, open_store, settings_of
from assay.errors import InvalidInput

if TYPE_CHECKING:
    from assay.comparisons import Comparison

# SciPy and statsmodels take seconds to import: the commands import the comparison
# and gate packages when they run, so `assay --help` and other commands stay quick.
EXIT_FAILED = 1
DEFAULT_SEED = 0
DEFAULT_RESAMPLES = 10_000
"""The CLI's bootstrap defaults; a test holds them equal to assay.stats's."""

OnCommonCases = Annotated[
    bool,
    typer.Option(
        "--on-common-cases",
        help="Runs on different dataset versions: compare the cases both versions hold "
        "unchanged (otherwise an error).",
    ),
]
SeedOption = Annotated[
    int, typer.Option(min=0, help="Bootstrap seed (recorded; the same seed gives the same CIs).")
]
ResamplesOption = Annotated[int, typer.Option(min=100, max=1_000_000, help="Bootstrap resamples.")]


def compare(
    ctx: typer.Context,
    baseline: Annotated[
        str, typer.Argument(metavar="BASELINE", help="The baseline run: name, id or release:NAME.")
    ],
    candidate: Annotated[
        str,
        typer.Argument(metavar="CANDIDATE", help="The candidate run: name, id or release:NAME."),
    ],
    project: ProjectOption,
    on_common_cases: OnCommonCases = False,
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5, help="Significance level.")] = 0.05,
    seed: SeedOption = DEFAULT_SEED,
    resamples: ResamplesOption = DEFAULT_RESAMPLES,
    markdown: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Also write the report as Markdown.", dir_okay=False),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Compare two runs case by case: per scorer and per slice, the mean delta with a
    95% paired-bootstrap CI, the p-value (exact McNemar for pass/fail, Wilcoxon
    otherwise, cluster-robust when cases have clusters), the smallest drop this data
    could detect, and the regressed and fixed cases."""
    from assay.comparisons import comparison_json, comparison_markdown
    from assay.gate import compare_refs
    from assay.projects import get_project

    with open_store(ctx, db) as store, store.session() as session:
        resolved = compare_refs(
            session,
            get_project(session, project).id,
            baseline,
            candidate,
            on_common_cases=on_common_cases,
            alpha=alpha,
            seed=seed,
            resamples=resamples,
        )
    result = resolved.comparison
    for note in resolved.notes:
        output.warn(note)
    text = comparison_markdown(result)
    if markdown is not None:
        _write(markdown, text)
    if as_json:
        output.print_json(comparison_json(result))
        return
    output.show(Markdown(text))


def gate(
    ctx: typer.Context,
    policy: Annotated[
        Path,
        typer.Option("--policy", metavar="FILE", help="The gate policy (TOML).", dir_okay=False),
    ],
    baseline: Annotated[
        str,
        typer.Option(metavar="REF", help="The last good run: name, id or release:NAME."),
    ],
    candidate: Annotated[
        str, typer.Option(metavar="REF", help="The run to judge: name, id or release:NAME.")
    ],
    project: ProjectOption,
    on_common_cases: OnCommonCases = False,
    markdown: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write the summary as Markdown (also appended to $GITHUB_STEP_SUMMARY when set).",
            dir_okay=False,
        ),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Write JUnit XML: one test case per rule.", dir_okay=False
        ),
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", metavar="FILE", help="Write the result as JSON.", dir_okay=False),
    ] = None,
    db: DbOption = None,
) -> None:
    """Apply a policy to the candidate against the baseline; exit 0 (pass) or 1 (fail).

    Every failed rule says why, with the numbers. A drop fails a rule only when it is
    larger than the rule's margin and significant; a rule whose margin this data
    cannot detect says so. Exit code 2: a usage or data error.
    """
    from assay.gate import (
        compare_refs,
        evaluate,
        gate_json,
        gate_junit,
        gate_markdown,
        load_policy,
        record_gate,
    )
    from assay.projects import get_project

    rules = load_policy(policy)
    settings = settings_of(ctx)
    with open_store(ctx, db) as store:
        with store.session() as session:
            project_id = get_project(session, project).id
            resolved = compare_refs(
                session,
                project_id,
                baseline,
                candidate,
                on_common_cases=on_common_cases,
                alpha=rules.alpha,
                seed=rules.seed,
                resamples=rules.resamples,
            )
            manifest = _manifest(session, project_id, resolved.comparison)
        result = evaluate(resolved.comparison, rules, release_manifest=manifest)
        with store.write_session() as session:
            record_gate(
                session,
                resolved.comparison.candidate.id,
                passed=result.passed,
                baseline=resolved.comparison.baseline.name,
                policy=policy.name,
            )
    for note in resolved.notes:
        output.warn(note)
    text = gate_markdown(result)
    if markdown is not None:
        _write(markdown, text)
    if settings.github_step_summary is not None:
        _append(settings.github_step_summary, text)
    if junit is not None:
        _write(junit, gate_junit(result))
    if json_file is not None:
        _write(json_file, json.dumps(gate_json(result), indent=2, default=str) + "\n")
    output.show(Markdown(text))
    if not result.passed:
        raise typer.Exit(EXIT_FAILED)


def _manifest(session: Any, project_id: int, c: Comparison) -> dict[str, Any] | None:
    from assay.releases import get_release

    if c.candidate.release is None:
        return None
    return get_release(session, project_id, c.candidate.release).manifest


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise InvalidInput(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a") as f:
            f.write(text + "\n")
    except OSError as exc:
        raise InvalidInput(f"cannot append to {str(path)!r}: {exc.strerror or exc}") from exc


def register(root: typer.Typer) -> None:
    """Add ``compare`` and ``gate`` to the root app."""
    root.command("compare")(compare)
    root.command("gate")(gate)
