"""A comparison as JSON and as Markdown (for a pull request or a terminal)."""

from __future__ import annotations

from typing import Any

from assay.comparisons.compare import CaseDelta, Comparison, RunCosts, ScorerComparison
from assay.stats import PairedComparison, PassRate

# Cases listed per scorer in Markdown: enough to act on, short enough for a PR comment.
MARKDOWN_CASES = 10


def comparison_json(c: Comparison) -> dict[str, Any]:
    """The comparison as plain JSON data (stable keys, for scripts and the API)."""
    return {
        "baseline": {"name": c.baseline.name, "id": c.baseline.id, "release": c.baseline.release},
        "candidate": {
            "name": c.candidate.name,
            "id": c.candidate.id,
            "release": c.candidate.release,
        },
        "dataset": c.dataset,
        "cases": c.cases,
        "on_common_cases": c.on_common_cases,
        "alpha": c.alpha,
        "seed": c.seed,
        "resamples": c.resamples,
        "scorers": [_scorer_json(s) for s in c.scorers],
        "latency_cost": {
            "baseline": _costs_json(c.baseline_costs),
            "candidate": _costs_json(c.candidate_costs),
        },
        "warnings": c.warnings,
    }


def paired_json(p: PairedComparison) -> dict[str, Any]:
    """One paired comparison as JSON."""
    return {
        "n": p.n,
        "mean_baseline": p.mean_baseline,
        "mean_candidate": p.mean_candidate,
        "delta": p.delta,
        "ci": None
        if p.ci is None
        else {"low": p.ci.low, "high": p.ci.high, "confidence": p.ci.confidence},
        "test": p.test.name,
        "p_value": p.test.p_value,
        "significant": p.significant,
        "standard_error": p.standard_error,
        "mde": p.mde,
        "power": p.power,
        "binary": p.binary,
        "clusters": p.clusters,
        "worse": p.worse,
        "better": p.better,
        "tied": p.tied,
        "notes": list(p.notes),
    }


def _rate_json(rate: PassRate | None) -> dict[str, Any] | None:
    if rate is None:
        return None
    out: dict[str, Any] = {
        "passes": rate.passes,
        "n": rate.n,
        "rate": rate.rate,
        "low": rate.low,
        "high": rate.high,
    }
    if rate.failure_rate_upper_95 is not None:
        out["failure_rate_upper_95"] = rate.failure_rate_upper_95
    return out


def _case_json(d: CaseDelta) -> dict[str, Any]:
    return {
        "case_id": d.case_id,
        "baseline": d.baseline,
        "candidate": d.candidate,
        "delta": d.delta,
        "tags": list(d.tags),
        "slices": d.slices,
    }


def _scorer_json(s: ScorerComparison) -> dict[str, Any]:
    return {
        "scorer": s.label,
        "overall": paired_json(s.overall),
        "baseline_pass_rate": _rate_json(s.baseline_rate),
        "candidate_pass_rate": _rate_json(s.candidate_rate),
        "slices": [
            {
                "key": sl.key,
                "value": sl.value,
                **paired_json(sl.comparison),
                "p_value_holm": sl.adjusted_p,
                "significant": sl.significant,
                "small": sl.small,
            }
            for sl in s.slices
        ],
        "regressed_count": s.regressed_count,
        "fixed_count": s.fixed_count,
        "regressed": [_case_json(d) for d in s.regressed],
        "fixed": [_case_json(d) for d in s.fixed],
        "missing": s.missing,
        "repeats": None
        if s.repeats is None
        else {
            name: {
                "k": r.k,
                "pass_at_k": r.pass_at_k,
                "pass_hat_k": r.pass_hat_k,
                "flaky_cases": len(r.flaky_cases),
                "flakiness_rate": r.flakiness_rate,
            }
            for name, r in zip(("baseline", "candidate"), s.repeats, strict=True)
        },
    }


def _costs_json(c: RunCosts) -> dict[str, Any]:
    return {
        "latency_p50_ms": c.latency_p50_ms,
        "latency_p95_ms": c.latency_p95_ms,
        "cost": c.cost,
        "errors": c.errors,
    }


# -- Markdown ------------------------------------------------------------------------


def fmt_delta(p: PairedComparison) -> str:
    """``-4.0 pts [-6.1, -1.9]``: the delta and its CI, in percentage points."""
    ci = f" [{p.ci.low * 100:+.1f}, {p.ci.high * 100:+.1f}]" if p.ci is not None else ""
    return f"{p.delta * 100:+.1f} pts{ci}"


def fmt_p(p_value: float | None) -> str:
    """A p-value for people: ``0.003``, ``<0.001``, or ``n/a``."""
    if p_value is None:
        return "n/a"
    return "<0.001" if p_value < 0.001 else f"{p_value:.3f}"


def fmt_mde(p: PairedComparison) -> str:
    """The MDE in points, or ``n/a``."""
    return "n/a" if p.mde is None else f"{p.mde * 100:.1f} pts"


def comparison_markdown(c: Comparison, *, heading: str = "##") -> str:
    """The comparison as Markdown: per scorer a table with CIs, slices, and cases."""
    lines = [
        f"{heading} {c.candidate.name} vs {c.baseline.name} on {c.dataset}",
        "",
        f"{c.cases} paired cases; 95% paired-bootstrap intervals ({c.resamples:,} resamples, "
        f"seed {c.seed}); alpha {c.alpha}.",
        "",
        "| scorer | baseline | candidate | delta [95% CI] | p | test "
        "| detectable drop (80% power) |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in c.scorers:
        o = s.overall
        lines.append(
            f"| `{s.label}` | {_mean(o.mean_baseline, s.baseline_rate)} | "
            f"{_mean(o.mean_candidate, s.candidate_rate)} | {fmt_delta(o)} | "
            f"{fmt_p(o.test.p_value)} | {o.test.name} | {fmt_mde(o)} |"
        )
    for s in c.scorers:
        lines += _scorer_details(s)
    b, k = c.baseline_costs, c.candidate_costs
    lines += [
        "",
        "**Latency and cost**: "
        f"p50 {fmt_ms(b.latency_p50_ms)} → {fmt_ms(k.latency_p50_ms)}, "
        f"p95 {fmt_ms(b.latency_p95_ms)} → {fmt_ms(k.latency_p95_ms)}, "
        f"cost ${b.cost:.4f} → ${k.cost:.4f}, errors {b.errors} → {k.errors}.",
    ]
    if c.warnings:
        lines += ["", *[f"> ⚠️ {w}" for w in c.warnings]]
    return "\n".join(lines) + "\n"


def _scorer_details(s: ScorerComparison) -> list[str]:
    lines: list[str] = []
    if s.slices:
        lines += [
            "",
            f"**`{s.label}` by slice** (p Holm-corrected over {len(s.slices)} slice values)",
            "",
            "| slice | n | delta [95% CI] | p (Holm) | detectable drop |",
            "|---|---|---|---|---|",
        ]
        for sl in s.slices:
            mark = " ⚠️ small" if sl.small else ""
            star = " **significant**" if sl.significant else ""
            lines.append(
                f"| {sl.key}={sl.value} | {sl.comparison.n}{mark} | {fmt_delta(sl.comparison)} | "
                f"{fmt_p(sl.adjusted_p)}{star} | {fmt_mde(sl.comparison)} |"
            )
    if s.regressed_count or s.fixed_count:
        lines += ["", f"`{s.label}`: {s.regressed_count} regressed, {s.fixed_count} fixed."]
        if s.regressed:
            shown = s.regressed[:MARKDOWN_CASES]
            lines += [
                "",
                "| regressed case | baseline | candidate | tags |",
                "|---|---|---|---|",
                *[
                    f"| `{d.case_id}` | {d.baseline:.2f} | {d.candidate:.2f} | "
                    f"{', '.join(d.tags)} |"
                    for d in shown
                ],
            ]
            if s.regressed_count > len(shown):
                lines.append(f"| … {s.regressed_count - len(shown)} more | | | |")
    if s.repeats is not None:
        b, k = s.repeats
        lines += [
            "",
            f"`{s.label}` with {k.k} samples per case: pass^{k.k} {b.pass_hat_k:.1%} → "
            f"{k.pass_hat_k:.1%}, flaky cases {len(b.flaky_cases)} → {len(k.flaky_cases)}.",
        ]
    return lines


def _mean(mean: float, rate: PassRate | None) -> str:
    if rate is None:
        return f"{mean:.3f}"
    text = f"{rate.rate:.1%} [{rate.low:.1%}, {rate.high:.1%}]"
    if rate.failure_rate_upper_95 is not None:
        # Zero failures: "100%" would overstate it; the rule of three bounds the rate.
        text = f"{rate.passes}/{rate.n} passed (failure rate < {rate.failure_rate_upper_95:.1%})"
    return text


def fmt_ms(value: float | None) -> str:
    """Milliseconds for people: ``152 ms``, or ``n/a``."""
    return "n/a" if value is None else f"{value:.0f} ms"
