"""Applying a gate policy to a comparison: each rule passes or fails with its numbers.

A drop fails a rule only when it is both larger than the rule's margin and
significant at the policy's alpha (Holm-corrected across slice values). Each drop
rule also says whether the data could have detected a drop of that size at all
(the minimum detectable effect): a pass on a dataset too small to see the margin is
reported as such, not as evidence that nothing got worse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assay.comparisons import Comparison, ScorerComparison
from assay.comparisons.report import fmt_delta, fmt_mde, fmt_ms, fmt_p
from assay.gate.policy import (
    AdapterRule,
    BudgetRule,
    DropRule,
    GapRule,
    Policy,
    Rule,
    SuiteRule,
    TagRule,
)
from assay.stats import PairedComparison, pass_rate


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's verdict.

    Attributes:
        title: What the rule checks, in a line.
        passed: Whether it held.
        reason: Why, with the numbers.
        details: Per-slice (or per-case) lines behind the verdict.
        undetectable: True when the data could not have detected the rule's margin
            (MDE larger than the margin), so a pass is weak evidence.
    """

    title: str
    passed: bool
    reason: str
    details: list[str] = field(default_factory=list)
    undetectable: bool = False


@dataclass(frozen=True, slots=True)
class GateResult:
    """A policy applied to a comparison."""

    passed: bool
    rules: list[RuleResult]
    comparison: Comparison
    policy: Policy

    @property
    def failed(self) -> list[RuleResult]:
        """The rules that failed."""
        return [r for r in self.rules if not r.passed]


def evaluate(
    comparison: Comparison, policy: Policy, *, release_manifest: dict[str, Any] | None = None
) -> GateResult:
    """Check every rule of ``policy`` against ``comparison``.

    Args:
        comparison: Baseline and candidate compared (with the policy's alpha, seed
            and resamples).
        policy: The gate policy.
        release_manifest: The candidate release's manifest, for adapter rules.
    """
    results = [_check(rule, comparison, policy, release_manifest) for rule in policy.rules]
    return GateResult(
        passed=all(r.passed for r in results), rules=results, comparison=comparison, policy=policy
    )


def _check(
    rule: Rule, c: Comparison, policy: Policy, manifest: dict[str, Any] | None
) -> RuleResult:
    if isinstance(rule, DropRule):
        return _drop(rule, c, policy)
    if isinstance(rule, GapRule):
        return _gap(rule, c)
    if isinstance(rule, TagRule):
        return _tag(rule, c)
    if isinstance(rule, SuiteRule):
        return _suite(rule, c, policy)
    if isinstance(rule, BudgetRule):
        return _budget(rule, c)
    return _adapter(rule, c, policy, manifest)


def _title(rule: Rule, default: str) -> str:
    return rule.name or default


def _drop(rule: DropRule, c: Comparison, policy: Policy) -> RuleResult:
    s = c.scorer(rule.scorer)
    margin = f"{rule.max_drop * 100:.1f} pts"
    if rule.slice is None:
        o = s.overall
        title = _title(rule, f"{s.label}: no significant drop larger than {margin}")
        failed = _significant_drop(o, rule.max_drop, o.test.p_value, policy.alpha)
        reason = (
            f"delta {fmt_delta(o)}, p {fmt_p(o.test.p_value)} ({o.test.name}), n {o.n}; "
            f"detectable drop {fmt_mde(o)}"
        )
        return RuleResult(
            title=title,
            passed=not failed,
            reason=("dropped: " if failed else "") + reason,
            undetectable=_undetectable(o, rule.max_drop),
        )
    title = _title(rule, f"{s.label}: no significant drop larger than {margin} in any {rule.slice}")
    slices = [sl for sl in s.slices if sl.key == rule.slice]
    if not slices:
        return RuleResult(title, False, f"no case has the slice {rule.slice!r}")
    details: list[str] = []
    failed_values: list[str] = []
    undetectable = False
    for sl in slices:
        bad = _significant_drop(sl.comparison, rule.max_drop, sl.adjusted_p, policy.alpha)
        undetectable |= _undetectable(sl.comparison, rule.max_drop)
        if bad:
            failed_values.append(f"{rule.slice}={sl.value}")
        details.append(
            f"{'FAIL ' if bad else ''}{rule.slice}={sl.value}: {fmt_delta(sl.comparison)}, "
            f"p (Holm) {fmt_p(sl.adjusted_p)}, n {sl.comparison.n}"
            + (" (small)" if sl.small else "")
        )
    reason = (
        f"dropped in {', '.join(failed_values)}"
        if failed_values
        else f"no significant drop over {margin} in {len(slices)} values"
    )
    return RuleResult(title, not failed_values, reason, details, undetectable)


def _significant_drop(
    p: PairedComparison, max_drop: float, p_value: float | None, alpha: float
) -> bool:
    return -p.delta > max_drop and p_value is not None and p_value < alpha


def _undetectable(p: PairedComparison, margin: float) -> bool:
    # A margin of 0 means "any significant drop": the MDE says how large a drop is
    # needed to be seen; only a positive margin can be compared with it.
    return margin > 0 and (p.mde is None or p.mde > margin)


def _gap(rule: GapRule, c: Comparison) -> RuleResult:
    s = c.scorer(rule.scorer)
    title = _title(
        rule, f"{s.label}: worst {rule.slice} within {rule.max_gap * 100:.1f} pts of the best"
    )
    slices = [sl for sl in s.slices if sl.key == rule.slice]
    if len(slices) < 2:
        return RuleResult(title, False, f"fewer than two values of the slice {rule.slice!r}")
    best = max(slices, key=lambda sl: sl.comparison.mean_candidate)
    worst = min(slices, key=lambda sl: sl.comparison.mean_candidate)
    gap = best.comparison.mean_candidate - worst.comparison.mean_candidate
    reason = (
        f"{rule.slice}={worst.value} {worst.comparison.mean_candidate:.1%} (n {worst.comparison.n})"
        f" vs {rule.slice}={best.value} {best.comparison.mean_candidate:.1%} "
        f"(n {best.comparison.n}): gap {gap * 100:.1f} pts"
    )
    details = [
        f"{rule.slice}={sl.value}: {sl.comparison.mean_candidate:.1%} (n {sl.comparison.n})"
        for sl in sorted(slices, key=lambda sl: sl.comparison.mean_candidate)
    ]
    return RuleResult(title, gap <= rule.max_gap, reason, details)


def _tag(rule: TagRule, c: Comparison) -> RuleResult:
    scorers = [c.scorer(rule.scorer)] if rule.scorer else c.scorers
    title = _title(rule, f"at most {rule.max_regressions} regressed case(s) tagged {rule.tag!r}")
    tagged = {cid for cid, tags in c.tags.items() if rule.tag in tags}
    if not tagged:
        return RuleResult(title, True, f"no case is tagged {rule.tag!r}")
    regressed: dict[str, list[str]] = {}
    for s in scorers:
        for d in s.regressed:
            if d.case_id in tagged:
                regressed.setdefault(d.case_id, []).append(
                    f"{s.label} {d.baseline:.2f} → {d.candidate:.2f}"
                )
    details = [f"{cid}: {'; '.join(v)}" for cid, v in sorted(regressed.items())]
    reason = f"{len(regressed)} of {len(tagged)} tagged case(s) regressed"
    return RuleResult(title, len(regressed) <= rule.max_regressions, reason, details)


def _suite_check(
    s: ScorerComparison, c: Comparison, suite: str, max_drop: float, policy: Policy
) -> tuple[bool, str, bool]:
    keep = [suite in c.tags.get(cid, ()) for cid in s.ids]
    sub = s.subset(keep, alpha=policy.alpha, seed=policy.seed, resamples=policy.resamples)
    if sub is None:
        return False, f"the suite {suite!r} has no cases: tag its cases {suite!r}", False
    failed = _significant_drop(sub, max_drop, sub.test.p_value, policy.alpha)
    reason = f"suite {suite!r}: delta {fmt_delta(sub)}, p {fmt_p(sub.test.p_value)}, n {sub.n}"
    return not failed, reason, _undetectable(sub, max_drop)


def _suite(rule: SuiteRule, c: Comparison, policy: Policy) -> RuleResult:
    s = c.scorer(rule.scorer)
    title = _title(rule, f"{s.label}: capability suite {rule.suite!r} holds")
    ok, reason, undetectable = _suite_check(s, c, rule.suite, rule.max_drop, policy)
    if ok and rule.min_pass_rate is not None:
        values = [
            v
            for cid, v in zip(s.ids, s.candidate_values, strict=True)
            if rule.suite in c.tags.get(cid, ())
        ]
        passes = sum(1 for v in values if v >= 1.0)
        rate = pass_rate(passes, len(values))
        ok = rate.rate >= rule.min_pass_rate
        reason += (
            f"; candidate pass rate {rate.rate:.1%} [{rate.low:.1%}, {rate.high:.1%}] "
            f"(needs {rule.min_pass_rate:.0%})"
        )
    return RuleResult(title, ok, reason, undetectable=undetectable)


def _budget(rule: BudgetRule, c: Comparison) -> RuleResult:
    b, k = c.baseline_costs, c.candidate_costs
    problems: list[str] = []
    facts: list[str] = []
    if rule.max_latency_p95_ms is not None or rule.max_latency_increase is not None:
        if k.latency_p95_ms is None:
            problems.append("the candidate has no latencies (every answer cached or failed?)")
        else:
            facts.append(f"p95 latency {fmt_ms(b.latency_p95_ms)} → {fmt_ms(k.latency_p95_ms)}")
            if rule.max_latency_p95_ms is not None and k.latency_p95_ms > rule.max_latency_p95_ms:
                problems.append(f"p95 latency over {rule.max_latency_p95_ms:.0f} ms")
            if rule.max_latency_increase is not None and b.latency_p95_ms:
                rise = k.latency_p95_ms / b.latency_p95_ms - 1
                if rise > rule.max_latency_increase:
                    problems.append(
                        f"p95 latency up {rise:.0%} (limit {rule.max_latency_increase:.0%})"
                    )
    if rule.max_cost is not None or rule.max_cost_increase is not None:
        facts.append(f"cost ${b.cost:.4f} → ${k.cost:.4f}")
        if rule.max_cost is not None and k.cost > rule.max_cost:
            problems.append(f"cost over ${rule.max_cost:.4f}")
        if rule.max_cost_increase is not None and b.cost > 0:
            rise = k.cost / b.cost - 1
            if rise > rule.max_cost_increase:
                problems.append(f"cost up {rise:.0%} (limit {rule.max_cost_increase:.0%})")
    title = _title(rule, "latency and cost budgets")
    reason = "; ".join(problems + facts)
    return RuleResult(title, not problems, reason)


def _adapter(
    rule: AdapterRule, c: Comparison, policy: Policy, manifest: dict[str, Any] | None
) -> RuleResult:
    title = _title(rule, "adapter trained on the base model it is served on")
    if c.candidate.release is None or manifest is None:
        return RuleResult(
            title, False, "the candidate run has no release: run it with --release NAME"
        )
    adapter = manifest.get("adapter") or {}
    serving = manifest.get("serving") or {}
    trained_on = adapter.get("base_model")
    served_on = serving.get("base_model")
    if not adapter:
        return RuleResult(title, True, f"release {c.candidate.release!r} has no adapter")
    if trained_on and served_on and trained_on == served_on:
        return RuleResult(title, True, f"adapter and serving base model: {served_on}")
    mismatch = f"adapter trained on {trained_on or '?'}, served on {served_on or '?'}"
    if rule.compatibility_suite is None:
        return RuleResult(title, False, mismatch + "; no compatibility_suite to vouch for it")
    scorer = c.scorer(rule.scorer) if rule.scorer else c.scorers[0]
    ok, reason, _ = _suite_check(scorer, c, rule.compatibility_suite, 0.0, policy)
    return RuleResult(
        title, ok, f"{mismatch}; compatibility {reason}" + ("" if ok else " (dropped)")
    )
