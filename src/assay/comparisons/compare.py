"""Comparing two runs on the same dataset version, case by case.

For each scorer the cases both runs scored are paired by id. Overall and per slice
value, :func:`assay.stats.compare_paired` gives the mean delta with a paired
bootstrap CI (cluster bootstrap when cases carry a ``cluster``), the p-value of the
right test, and the minimum detectable effect; per-slice p-values are Holm-corrected
within each scorer. Regressed and fixed cases are listed, worst first. With repeated
samples, a case's score is the mean of its samples, and pass^k and flakiness are
reported per run.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from assay.datasets import CaseFacts, version_case_facts
from assay.errors import InvalidInput
from assay.experiments import RunView, StoredResult, get_run, run_results
from assay.experiments.runner import quantile
from assay.scorers import ScorerSpec
from assay.stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    HolmCorrection,
    PairedComparison,
    PassRate,
    RepeatSummary,
    compare_paired,
    compare_paired_groups,
    holm,
    pass_rate,
    summarize_repeats,
)
from assay.store.reads import paused_gc

MIN_SLICE_N = 30
"""Slices with fewer paired cases get a warning: with under ~30 pairs the bootstrap
interval and the normal-approximation MDE are rough (a common rule of thumb for the
central limit theorem; Miller 2024, section 2, reports CIs narrowing reliably above
it)."""

MAX_LISTED_CASES = 200
"""Regressed or fixed cases listed per scorer; the counts are always complete."""


@dataclass(frozen=True, slots=True)
class CaseDelta:
    """One case whose score differs between the runs."""

    case_id: str
    baseline: float
    candidate: float
    tags: tuple[str, ...]
    slices: dict[str, Any]

    @property
    def delta(self) -> float:
        """Candidate minus baseline."""
        return self.candidate - self.baseline


@dataclass(frozen=True, slots=True)
class SliceComparison:
    """One scorer on the cases of one slice value."""

    key: str
    value: Any
    comparison: PairedComparison
    adjusted_p: float | None
    significant: bool
    small: bool


@dataclass(frozen=True, slots=True)
class ScorerComparison:
    """One scorer, compared overall and per slice.

    Attributes:
        label: The scorer as the runs store it (``exact``, ``regex:{...}``).
        overall: The paired comparison over every case both runs scored.
        baseline_rate: Pass rate of the baseline with its Wilson interval, when the
            scorer gives pass/fail.
        candidate_rate: The same for the candidate.
        slices: Per slice value, Holm-corrected within this scorer.
        regressed: Cases that scored lower, worst first (at most MAX_LISTED_CASES).
        fixed: Cases that scored higher, best first.
        regressed_count: How many regressed in all.
        fixed_count: How many were fixed in all.
        missing: Cases only one of the runs could score (an error or no score).
        repeats: pass^k and flakiness of (baseline, candidate) with repeated samples.
        ids: The paired case ids, in dataset order.
        baseline_values: The baseline's score of each paired case (mean of samples).
        candidate_values: The candidate's, in the same order.
        clusters: Each paired case's cluster (None: its own), when any case has one.
    """

    label: str
    overall: PairedComparison
    baseline_rate: PassRate | None
    candidate_rate: PassRate | None
    slices: list[SliceComparison]
    regressed: list[CaseDelta]
    fixed: list[CaseDelta]
    regressed_count: int
    fixed_count: int
    missing: int
    repeats: tuple[RepeatSummary, RepeatSummary] | None = None
    ids: tuple[str, ...] = ()
    baseline_values: tuple[float, ...] = ()
    candidate_values: tuple[float, ...] = ()
    clusters: tuple[str | None, ...] | None = None

    def subset(
        self, keep: Sequence[bool], *, alpha: float, seed: int, resamples: int
    ) -> PairedComparison | None:
        """The paired comparison over the cases where ``keep`` is true (None: none)."""
        idx = [i for i, k in enumerate(keep) if k]
        if not idx:
            return None
        return compare_paired(
            [self.baseline_values[i] for i in idx],
            [self.candidate_values[i] for i in idx],
            clusters=[self.clusters[i] for i in idx] if self.clusters is not None else None,
            alpha=alpha,
            seed=seed,
            resamples=resamples,
        )


@dataclass(frozen=True, slots=True)
class RunCosts:
    """Latency and cost of a run over the paired cases."""

    latency_p50_ms: float | None
    latency_p95_ms: float | None
    cost: float
    errors: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two runs compared.

    Attributes:
        baseline: The baseline run.
        candidate: The candidate run.
        dataset: ``NAME@N`` of the version compared on.
        cases: Cases in the comparison (common to both runs).
        on_common_cases: Whether the runs were on different versions and only
            their common cases (same id and content) were compared.
        alpha: Significance level.
        seed: Bootstrap seed; the same seed gives the same intervals.
        resamples: Bootstrap resamples.
        scorers: One entry per scorer both runs have.
        baseline_costs: Latency and cost of the baseline.
        candidate_costs: Latency and cost of the candidate.
        warnings: What a reader must know (small slices, missing scores, ...).
        tags: Each compared case's tags, by case id.
    """

    baseline: RunView
    candidate: RunView
    dataset: str
    cases: int
    on_common_cases: bool
    alpha: float
    seed: int
    resamples: int
    scorers: list[ScorerComparison]
    baseline_costs: RunCosts
    candidate_costs: RunCosts
    warnings: list[str] = field(default_factory=list)
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def scorer(self, label: str) -> ScorerComparison:
        """The comparison of one scorer, by label or by name when unambiguous.

        Raises:
            InvalidInput: no scorer of that label or name.
        """
        for s in self.scorers:
            if s.label == label:
                return s
        named = [s for s in self.scorers if s.label.split(":", 1)[0] == label]
        if len(named) == 1:
            return named[0]
        known = ", ".join(s.label for s in self.scorers) or "none"
        raise InvalidInput(f"no scorer {label!r} in both runs (they have: {known})")


def compare_runs(
    session: Session,
    project_id: int,
    baseline: str,
    candidate: str,
    *,
    on_common_cases: bool = False,
    alpha: float = 0.05,
    seed: int = DEFAULT_SEED,
    resamples: int = DEFAULT_RESAMPLES,
) -> Comparison:
    """Compare two stored runs (names or ids).

    Raises:
        NotFound: a run does not exist.
        InvalidInput: the runs are on different dataset versions (unless
            ``on_common_cases``), share no cases or no scorer.
    """
    # Tens of thousands of small acyclic objects: the cyclic collector would walk
    # them again and again (see assay.store.reads).
    with paused_gc():
        return _compare_runs(
            session, project_id, baseline, candidate, on_common_cases, alpha, seed, resamples
        )


def _compare_runs(
    session: Session,
    project_id: int,
    baseline: str,
    candidate: str,
    on_common_cases: bool,
    alpha: float,
    seed: int,
    resamples: int,
) -> Comparison:
    base = get_run(session, project_id, baseline)
    cand = get_run(session, project_id, candidate)
    cand_cases = version_case_facts(session, cand.dataset_version_id)
    base_cases = (
        cand_cases
        if base.dataset_version_id == cand.dataset_version_id
        else version_case_facts(session, base.dataset_version_id)
    )
    warnings: list[str] = []
    if base.dataset_version_id != cand.dataset_version_id:
        if not on_common_cases:
            raise InvalidInput(
                f"run {base.name!r} is on {base.dataset} and {cand.name!r} on {cand.dataset}: "
                "paired statistics need the same cases. Run both on one version, or pass "
                "--on-common-cases to compare the cases the two versions share"
            )
        same = {c.id: c.hash for c in base_cases}
        cases = [c for c in cand_cases if same.get(c.id) == c.hash]
        warnings.append(
            f"different dataset versions ({base.dataset}, {cand.dataset}): compared on the "
            f"{len(cases)} cases both hold unchanged"
        )
    else:
        cases = cand_cases
    if not cases:
        raise InvalidInput("the two runs have no cases in common")
    base_results = run_results(session, base.id, outputs=False)
    cand_results = run_results(session, cand.id, outputs=False)
    labels = [
        str_label(s) for s in base.scorers if str_label(s) in {str_label(c) for c in cand.scorers}
    ]
    if not labels:
        raise InvalidInput(
            f"runs {base.name!r} and {cand.name!r} have no scorer in common: compare runs "
            "scored the same way"
        )
    by_case = {c.id: c for c in cases}
    scorers = [
        _compare_scorer(
            label, by_case, base_results, cand_results, alpha, seed, resamples, warnings
        )
        for label in labels
    ]
    ids = set(by_case)
    return Comparison(
        baseline=base,
        candidate=cand,
        dataset=cand.dataset,
        cases=len(cases),
        on_common_cases=base.dataset_version_id != cand.dataset_version_id,
        alpha=alpha,
        seed=seed,
        resamples=resamples,
        scorers=scorers,
        baseline_costs=_costs(base_results, ids),
        candidate_costs=_costs(cand_results, ids),
        warnings=warnings,
        tags={c.id: c.tags for c in cases},
    )


def str_label(spec: dict[str, Any]) -> str:
    """The label a scorer's stored spec has in results (its command-line form)."""
    return str(ScorerSpec.from_dict(spec))


def _scores(
    results: Sequence[StoredResult], label: str, ids: set[str]
) -> tuple[dict[str, list[float]], dict[str, list[bool]]]:
    values: dict[str, list[float]] = defaultdict(list)
    passes: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        if r.case_id not in ids:
            continue
        score = r.scores.get(label)
        if score is None or score.get("error") or r.error is not None:
            continue
        values[r.case_id].append(float(score["value"]))
        if score.get("passed") is not None:
            passes[r.case_id].append(bool(score["passed"]))
    return values, passes


def _compare_scorer(
    label: str,
    cases: dict[str, CaseFacts],
    base_results: Sequence[StoredResult],
    cand_results: Sequence[StoredResult],
    alpha: float,
    seed: int,
    resamples: int,
    warnings: list[str],
) -> ScorerComparison:
    ids = set(cases)
    base_values, base_passes = _scores(base_results, label, ids)
    cand_values, cand_passes = _scores(cand_results, label, ids)
    paired = [cid for cid in cases if cid in base_values and cid in cand_values]
    missing = len(ids) - len(paired)
    if missing:
        warnings.append(
            f"{label}: {missing} case(s) left out because a run has no score for them "
            "(a target or scorer error)"
        )
    if not paired:
        raise InvalidInput(f"{label}: no case was scored by both runs")
    base = [_mean(base_values[c]) for c in paired]
    cand = [_mean(cand_values[c]) for c in paired]
    clusters = [cases[c].cluster for c in paired]
    clustered = any(cl is not None for cl in clusters)

    def compare(indexes: Sequence[int]) -> PairedComparison:
        return compare_paired(
            [base[i] for i in indexes],
            [cand[i] for i in indexes],
            clusters=[clusters[i] for i in indexes] if clustered else None,
            alpha=alpha,
            seed=seed,
            resamples=resamples,
        )

    groups, values = _slice_groups(paired, cases)
    # The slice attribute that covers the most cases shares its bootstrap draws
    # with the overall interval (compare_paired_groups); other attributes' slices
    # are compared one by one.
    shared_key = max(
        sorted({key for key, _ in groups}),
        key=lambda k: sum(len(ix) for (key, _), ix in groups.items() if key == k),
        default=None,
    )
    shared = sorted(g for g in groups if g[0] == shared_key)
    overall, shared_parts = compare_paired_groups(
        base,
        cand,
        [groups[g] for g in shared],
        clusters=clusters if clustered else None,
        alpha=alpha,
        seed=seed,
        resamples=resamples,
    )
    by_group = dict(zip(shared, shared_parts, strict=True))
    for group in sorted(groups):
        if group not in by_group:
            by_group[group] = compare(groups[group])
    slices = _slices(by_group, values, alpha, label, warnings)
    # Sort (delta, id, position) tuples and build CaseDelta only for the cases listed.
    changed = [
        (k - b, c, i) for i, (c, b, k) in enumerate(zip(paired, base, cand, strict=True)) if b != k
    ]
    worst = sorted(d for d in changed if d[0] < 0)
    best = sorted((-d, c, i) for d, c, i in changed if d > 0)

    def listed(i: int) -> CaseDelta:
        c = paired[i]
        return CaseDelta(c, base[i], cand[i], cases[c].tags, cases[c].slices)

    regressed = [listed(i) for _, _, i in worst[:MAX_LISTED_CASES]]
    fixed = [listed(i) for _, _, i in best[:MAX_LISTED_CASES]]
    rates = _rates(paired, base_passes, cand_passes)
    repeats = _repeats(paired, base_passes, cand_passes)
    return ScorerComparison(
        label=label,
        overall=overall,
        baseline_rate=rates[0] if rates else None,
        candidate_rate=rates[1] if rates else None,
        slices=slices,
        regressed=regressed,
        fixed=fixed,
        regressed_count=len(worst),
        fixed_count=len(best),
        missing=missing,
        repeats=repeats,
        ids=tuple(paired),
        baseline_values=tuple(base),
        candidate_values=tuple(cand),
        clusters=tuple(clusters) if clustered else None,
    )


def _mean(samples: list[float]) -> float:
    return samples[0] if len(samples) == 1 else statistics.fmean(samples)


def _slice_groups(
    paired: Sequence[str], cases: dict[str, CaseFacts]
) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], Any]]:
    """Positions of the paired cases per (slice key, value), and each value as stored."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    values: dict[tuple[str, str], Any] = {}
    for i, cid in enumerate(paired):
        for key, value in cases[cid].slices.items():
            group = (key, _slice_key(value))
            groups[group].append(i)
            values[group] = value
    return groups, values


def _slices(
    by_group: dict[tuple[str, str], PairedComparison],
    values: dict[tuple[str, str], Any],
    alpha: float,
    label: str,
    warnings: list[str],
) -> list[SliceComparison]:
    order = sorted(by_group)
    comparisons = [by_group[g] for g in order]
    correction: HolmCorrection = holm([c.test.p_value for c in comparisons], alpha=alpha)
    out: list[SliceComparison] = []
    small = 0
    for group, comparison, adjusted, reject in zip(
        order, comparisons, correction.adjusted, correction.reject, strict=True
    ):
        is_small = comparison.n < MIN_SLICE_N
        small += is_small
        out.append(
            SliceComparison(
                key=group[0],
                value=values[group],
                comparison=comparison,
                adjusted_p=adjusted,
                significant=reject,
                small=is_small,
            )
        )
    if small:
        warnings.append(
            f"{label}: {small} slice value(s) have fewer than {MIN_SLICE_N} paired cases; "
            "their intervals are rough and a real drop there may go undetected"
        )
    return out


def _slice_key(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value


def _rates(
    paired: Sequence[str], base: dict[str, list[bool]], cand: dict[str, list[bool]]
) -> tuple[PassRate, PassRate] | None:
    if not all(c in base and c in cand for c in paired):
        return None
    b = [x for c in paired for x in base[c]]
    k = [x for c in paired for x in cand[c]]
    return pass_rate(sum(b), len(b)), pass_rate(sum(k), len(k))


def _repeats(
    paired: Sequence[str], base: dict[str, list[bool]], cand: dict[str, list[bool]]
) -> tuple[RepeatSummary, RepeatSummary] | None:
    if not all(c in base and c in cand for c in paired):
        return None
    if max(len(base[c]) for c in paired) < 2 and max(len(cand[c]) for c in paired) < 2:
        return None
    return (
        summarize_repeats([base[c] for c in paired]),
        summarize_repeats([cand[c] for c in paired]),
    )


def _costs(results: Sequence[StoredResult], ids: set[str]) -> RunCosts:
    mine = [r for r in results if r.case_id in ids]
    latencies = sorted(r.latency_ms for r in mine if r.latency_ms is not None)
    return RunCosts(
        latency_p50_ms=quantile(latencies, 0.50),
        latency_p95_ms=quantile(latencies, 0.95),
        cost=round(sum(r.cost or 0.0 for r in mine), 8),
        errors=sum(1 for r in mine if r.error is not None),
    )
