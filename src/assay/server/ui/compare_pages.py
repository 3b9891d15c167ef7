"""The comparison page: two runs of one dataset version, paired case by case.

Per scorer it shows what ``assay compare`` prints (pass rates with Wilson intervals,
the mean delta with its paired-bootstrap CI, the test and p-value, the smallest drop
the data could detect), per slice the same with Holm-corrected p-values, and the
regressed cases side by side: input, reference, and both runs' outputs and scores.

JSON twin: ``GET /api/v1/compare`` (project key), which answers
:func:`assay.comparisons.comparison_json` of the same comparison, as ``assay compare
--json`` prints it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from assay.datasets import CaseView, version_cases
from assay.errors import AssayError, InvalidInput
from assay.experiments import RunView, StoredResult, list_runs, run_results
from assay.projects import get_project
from assay.server.errors import status_of
from assay.server.ui.access import Staff
from assay.server.ui.eval_links import EvalLinks
from assay.server.ui.layout import failure_page, layout_context, store_of
from assay.server.ui.result_view import TEMPLATE_HELPERS, verdict_of
from assay.server.ui.run_pages import previous_runs
from assay.server.ui.templating import render

if TYPE_CHECKING:
    from assay.comparisons import CaseDelta, Comparison
    from assay.stats import PairedComparison, PassRate

router = APIRouter(include_in_schema=False)

UI_RESAMPLES = 2_000
"""Bootstrap resamples on the page. The CLI and the gate use 10,000; 2,000 keeps a
page on a few thousand cases quick, and the Monte Carlo error of a 2.5% interval
endpoint is then sqrt(0.025 * 0.975 / 2000) / phi(1.96) = 0.06 standard errors
(0.027 at 10,000): the interval's half-width is 1.96."""
MIN_RESAMPLES = 100
MAX_RESAMPLES = 10_000
"""The most a page may ask for: the gate's own count."""
SHOWN_SIDE_BY_SIDE = 20
"""Regressed cases per scorer shown in full; the rest are listed by id and score."""


def parse_resamples(text: str) -> int:
    """The ``resamples`` query value; :data:`UI_RESAMPLES` when empty.

    Raises:
        InvalidInput: not a whole number from :data:`MIN_RESAMPLES` to
            :data:`MAX_RESAMPLES`.
    """
    if not text.strip():
        return UI_RESAMPLES
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not MIN_RESAMPLES <= value <= MAX_RESAMPLES:
        raise InvalidInput(
            f"resamples: expected a whole number from {MIN_RESAMPLES} to {MAX_RESAMPLES:,}"
        )
    return value


@dataclass(frozen=True)
class ScoreCell:
    """A run's score on the page.

    Attributes:
        value: ``83.3%`` for pass/fail scorers, ``0.812`` for others.
        note: The 95% Wilson interval, or the rule-of-three bound when nothing
            failed (never a bare "100%"), or "".
    """

    value: str
    note: str


def score_cell(mean: float, rate: PassRate | None) -> ScoreCell:
    """How a run scored: its pass rate with the Wilson interval, or its mean."""
    if rate is None:
        return ScoreCell(f"{mean:.3f}", "")
    if rate.failure_rate_upper_95 is not None:
        return ScoreCell(
            f"{rate.passes}/{rate.n} passed",
            f"0 failures: failure rate < {rate.failure_rate_upper_95:.1%} (rule of three)",
        )
    return ScoreCell(f"{rate.rate:.1%}", f"[{rate.low:.1%}, {rate.high:.1%}]")


def fmt_mean(value: float, binary: bool) -> str:
    """A mean score: a percentage for pass/fail scores, three decimals otherwise."""
    return f"{value:.1%}" if binary else f"{value:.3f}"


def direction(p: PairedComparison) -> str:
    """``worse`` or ``better`` for a significant change, else ``same`` (a CSS class)."""
    if not p.significant or p.delta == 0:
        return "same"
    return "worse" if p.delta < 0 else "better"


@dataclass(frozen=True)
class SideBySide:
    """A regressed case with what both runs answered.

    Attributes:
        delta: The case's scores in both runs (mean over samples).
        case: The dataset case (input, reference), when found.
        baseline: The baseline's samples of the case.
        candidate: The candidate's samples.
    """

    delta: CaseDelta
    case: CaseView | None
    baseline: list[StoredResult]
    candidate: list[StoredResult]


def side_by_side(
    db: Session, comparison: Comparison, shown: int = SHOWN_SIDE_BY_SIDE
) -> dict[str, list[SideBySide]]:
    """The first ``shown`` regressed cases of each scorer, with both runs' answers."""
    cases = {c.id: c for c in version_cases(db, comparison.candidate.dataset_version_id)}
    by_run: list[dict[str, list[StoredResult]]] = []
    for run in (comparison.baseline, comparison.candidate):
        grouped: dict[str, list[StoredResult]] = defaultdict(list)
        for r in run_results(db, run.id):
            grouped[r.case_id].append(r)
        by_run.append(grouped)
    return {
        s.label: [
            SideBySide(
                delta=d,
                case=cases.get(d.case_id),
                baseline=by_run[0].get(d.case_id, []),
                candidate=by_run[1].get(d.case_id, []),
            )
            for d in s.regressed[:shown]
        ]
        for s in comparison.scorers
    }


def default_pair(runs: list[RunView], baseline: str, candidate: str) -> tuple[str, str]:
    """The runs the form starts with: those asked for, else the newest run and the
    run before it on the same dataset version."""
    by_name = {r.name: r for r in runs}
    if not candidate and runs:
        candidate = runs[0].name
    if not baseline and candidate in by_name:
        previous = previous_runs(runs).get(by_name[candidate].id)
        baseline = previous.name if previous else ""
    return baseline, candidate


def _compare(
    db: Session,
    project_id: int,
    baseline: str,
    candidate: str,
    *,
    on_common_cases: bool,
    resamples: int,
) -> tuple[Comparison, list[str]]:
    # Imported here: SciPy and statsmodels take seconds to import, and only this page
    # needs them; the rest of the server starts without them.
    from assay.gate import compare_refs

    result = compare_refs(
        db, project_id, baseline, candidate, on_common_cases=on_common_cases, resamples=resamples
    )
    return result.comparison, result.notes


@router.get("/p/{project}/compare")
def compare_page(
    request: Request,
    project: str,
    viewer: Staff,
    baseline: Annotated[str, Query(description="Baseline run: name, id or release:NAME.")] = "",
    candidate: Annotated[str, Query(description="Candidate run: name, id or release:NAME.")] = "",
    common: Annotated[
        str, Query(description="1: runs on different versions are compared on common cases.")
    ] = "",
    resamples: Annotated[str, Query(description="Bootstrap resamples (default 2,000).")] = "",
) -> Response:
    """The form to pick two runs and, when both are given, their paired comparison."""
    baseline, candidate = baseline.strip(), candidate.strip()
    on_common = common in ("1", "true", "on", "yes")
    comparison: Comparison | None = None
    sides: dict[str, list[SideBySide]] = {}
    notes: list[str] = []
    error = ""
    status = 200
    try:
        with store_of(request).session() as db:
            the_project = get_project(db, project)
            runs = list_runs(db, the_project.id)
            context = layout_context(
                db, viewer, title="Compare runs", project=the_project, nav="runs"
            )
            if baseline and candidate:
                try:
                    comparison, notes = _compare(
                        db,
                        the_project.id,
                        baseline,
                        candidate,
                        on_common_cases=on_common,
                        resamples=parse_resamples(resamples),
                    )
                    sides = side_by_side(db, comparison)
                except AssayError as exc:
                    # The form stays on screen with the reason, so another pair can be picked.
                    error, status = str(exc), status_of(exc)
    except AssayError as exc:
        return failure_page(exc, viewer)
    if comparison is not None:
        context["title"] = f"{comparison.candidate.name} vs {comparison.baseline.name}"
    chosen_baseline, chosen_candidate = default_pair(runs, baseline, candidate)
    names = {r.name for r in runs}
    versions: dict[str, list[RunView]] = defaultdict(list)
    for r in runs:
        versions[r.dataset].append(r)
    context.update(
        runs=runs,
        versions=versions,
        # A reference from a link (an id, release:NAME) stays selectable.
        extra=[ref for ref in dict.fromkeys((baseline, candidate)) if ref and ref not in names],
        chosen_baseline=chosen_baseline,
        chosen_candidate=chosen_candidate,
        on_common=on_common,
        resamples=resamples.strip(),
        comparison=comparison,
        sides=sides,
        notes=notes,
        error=error,
        score_cell=score_cell,
        fmt_mean=fmt_mean,
        direction=direction,
        verdict_of=verdict_of,
        max_resamples=MAX_RESAMPLES,
        links=EvalLinks(the_project.name),
        **(_formatters() if comparison is not None else {}),
        **TEMPLATE_HELPERS,
    )
    return render("compare.html", context, status=status)


def _formatters() -> dict[str, object]:
    """The report's number formats, so the page reads like ``assay compare``.

    Imported on use: the report module loads the statistics stack.
    """
    from assay.comparisons.report import fmt_delta, fmt_mde, fmt_p

    return {"fmt_delta": fmt_delta, "fmt_p": fmt_p, "fmt_mde": fmt_mde}
