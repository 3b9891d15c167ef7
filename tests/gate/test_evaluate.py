"""The gate on stored runs with planted differences, its outputs, and an A/A
simulation: runs from one distribution fail the gate at most at rate alpha."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy import stats as scipy_stats

from _runs import Lab
from assay.comparisons import compare_runs
from assay.datasets import CaseSpec
from assay.gate import evaluate, gate_json, gate_junit, gate_markdown, parse_policy
from assay.gate.policy import Policy

CASES = [
    CaseSpec(
        id=f"c{i:03d}",
        input=f"question {i}",
        slices={"lang": "en" if i % 2 else "de"},
        tags=("golden",) if i % 10 == 0 else ("math",) if i % 10 == 1 else (),
    )
    for i in range(200)
]


def num(case: CaseSpec) -> int:
    return int((case.id or "c0")[1:])


def policy(*rules: dict[str, object], **gate: object) -> Policy:
    return parse_policy({"gate": {"resamples": 1000, **gate, "rules": list(rules)}})


def gate_on(lab: Lab, p: Policy, *, candidate: str = "cand"):  # type: ignore[no-untyped-def]
    with lab.store.session() as session:
        c = compare_runs(
            session, lab.project_id, "base", candidate, alpha=p.alpha, resamples=p.resamples
        )
    return evaluate(c, p)


@pytest.fixture
def planted(lab: Lab) -> Lab:
    """base passes everything; cand fails 30 German cases (including golden ones)."""
    ref = lab.dataset(CASES)
    lab.run("base", ref, lambda c: 1.0, latency_ms=100, cost=0.001)
    lab.run(
        "cand",
        ref,
        lambda c: 0.0 if num(c) % 2 == 0 and num(c) < 60 else 1.0,
        latency_ms=250,
        cost=0.0015,
    )
    lab.run("same", ref, lambda c: 1.0)
    return lab


def test_overall_and_slice_drops(planted: Lab) -> None:
    result = gate_on(
        planted,
        policy(
            {"scorer": "exact", "max_drop": 0.02},
            {"scorer": "exact", "max_drop": 0.5},
            {"scorer": "exact", "slice": "lang", "max_drop": 0.05},
        ),
    )
    first, loose, by_lang = result.rules
    assert not first.passed
    assert first.reason.startswith("dropped: delta -15.0 pts")
    assert loose.passed  # a drop smaller than the margin
    assert not by_lang.passed
    assert by_lang.reason == "dropped in lang=de"
    assert any(d.startswith("FAIL lang=de") for d in by_lang.details)
    assert not result.passed


def test_tags_suites_gaps_budgets(planted: Lab) -> None:
    result = gate_on(
        planted,
        policy(
            {"tag": "golden", "max_regressions": 0},
            {"tag": "golden", "max_regressions": 10},
            {"suite": "math", "scorer": "exact", "min_pass_rate": 0.9},
            {"suite": "missing", "scorer": "exact"},
            {"scorer": "exact", "slice": "lang", "max_gap": 0.1},
            {"max_latency_p95_ms": 200},
            {"max_cost_increase": 0.6},
        ),
    )
    golden, golden_loose, math, missing, gap, latency, cost = result.rules
    assert not golden.passed
    assert golden.reason == "6 of 20 tagged case(s) regressed"
    assert golden_loose.passed
    assert math.passed  # the math cases are odd: English, untouched
    assert "candidate pass rate 100.0%" in math.reason
    assert not missing.passed
    assert "has no cases" in missing.reason
    assert not gap.passed
    assert "gap 30.0 pts" in gap.reason
    assert not latency.passed
    assert "p95 latency over 200 ms" in latency.reason
    assert cost.passed
    assert "cost $0.2000 → $0.3000" in cost.reason


def test_identical_runs_pass_and_small_data_is_flagged(planted: Lab) -> None:
    result = gate_on(planted, policy({"scorer": "exact", "max_drop": 0.001}), candidate="same")
    (rule,) = result.rules
    assert rule.passed
    assert rule.undetectable  # 0 variance: no drop size is known to be detectable


def test_outputs(planted: Lab) -> None:
    result = gate_on(
        planted,
        policy({"scorer": "exact", "max_drop": 0.02}, {"tag": "golden", "max_regressions": 100}),
    )
    text = gate_markdown(result)
    assert text.startswith("## ❌ **assay gate failed**: cand vs base")
    assert "| ❌ | exact: no significant drop larger than 2.0 pts |" in text
    root = ET.fromstring(gate_junit(result).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert "dropped" in (failure.get("message") or "")
    data = gate_json(result)
    assert data["passed"] is False
    assert [r["passed"] for r in data["rules"]] == [False, True]


def test_a_a_runs_fail_at_most_at_alpha() -> None:
    # 400 pairs of runs drawn from one distribution (pass rate 0.7, 150 cases): the
    # rule "no significant drop" (margin 0) must fail at most alpha of the time, up
    # to binomial error. Comparisons are built without a store: the gate only reads
    # them.
    from assay.comparisons.compare import Comparison, RunCosts, ScorerComparison
    from assay.experiments import RunView
    from assay.stats import compare_paired

    rng = np.random.default_rng(11)
    p = policy({"scorer": "exact", "max_drop": 0.0}, alpha=0.05)
    run = RunView(1, "r", "d@1", 1, {}, "f", None, [], 1, "completed", {}, None, None)  # type: ignore[arg-type]
    costs = RunCosts(None, None, 0.0, 0)
    failures = 0
    trials = 400
    for _ in range(trials):
        base = (rng.random(150) < 0.7).astype(float)
        cand = (rng.random(150) < 0.7).astype(float)
        overall = compare_paired(base, cand, alpha=0.05, resamples=200, seed=1)
        scorer = ScorerComparison("exact", overall, None, None, [], [], [], 0, 0, 0)
        comparison = Comparison(run, run, "d@1", 150, False, 0.05, 1, 200, [scorer], costs, costs)
        failures += not evaluate(comparison, p).passed
    # One-sided: the rule fails only on drops, so the expected rate is about alpha/2.
    upper = scipy_stats.binomtest(failures, trials, 0.05, alternative="greater").pvalue
    assert upper > 0.01, f"{failures}/{trials} A/A failures"
