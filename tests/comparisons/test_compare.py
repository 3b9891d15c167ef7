"""Comparisons on stored runs (SQLite and PostgreSQL) with planted differences."""

from __future__ import annotations

import pytest
from scipy import stats as scipy_stats

from _runs import Lab
from assay.comparisons import compare_runs, comparison_json, comparison_markdown
from assay.datasets import CaseSpec
from assay.errors import InvalidInput

# 120 cases: 60 English, 60 German; every 10th is golden; ids c000..c119.
CASES = [
    CaseSpec(
        id=f"c{i:03d}",
        input=f"question {i}",
        slices={"lang": "en" if i % 2 else "de"},
        tags=("golden",) if i % 10 == 0 else (),
    )
    for i in range(120)
]


def num(case: CaseSpec) -> int:
    return int((case.id or "c0")[1:])


def test_a_planted_regression_in_one_slice(lab: Lab) -> None:
    ref = lab.dataset(CASES)
    lab.run("base", ref, lambda c: 1.0)
    # The candidate fails a third of the German cases (even numbers), none of the English.
    lab.run("cand", ref, lambda c: 0.0 if num(c) % 2 == 0 and num(c) % 6 == 0 else 1.0)
    with lab.store.session() as session:
        result = compare_runs(session, lab.project_id, "base", "cand", seed=7, resamples=2000)
    exact = result.scorer("exact")
    assert exact.overall.n == 120
    assert exact.overall.binary
    assert exact.overall.test.name == "mcnemar-exact"
    assert exact.overall.delta == pytest.approx(-20 / 120)
    # McNemar on 20 discordant pairs, all one way: the exact binomial test's p.
    expected_p = scipy_stats.binomtest(0, 20, 0.5).pvalue
    assert exact.overall.test.p_value == pytest.approx(expected_p)
    assert exact.regressed_count == 20
    assert exact.fixed_count == 0
    assert exact.regressed[0].case_id == "c000"
    assert "golden" in exact.regressed[0].tags
    by_value = {sl.value: sl for sl in exact.slices}
    assert by_value["de"].significant
    assert not by_value["en"].significant
    assert by_value["en"].comparison.delta == 0
    assert by_value["de"].adjusted_p is not None
    assert by_value["de"].adjusted_p >= by_value["de"].comparison.test.p_value
    assert exact.baseline_rate is not None
    assert exact.baseline_rate.failure_rate_upper_95 == pytest.approx(3 / 120)
    assert result.seed == 7


def test_same_seed_same_interval(lab: Lab) -> None:
    ref = lab.dataset(CASES)
    lab.run("base", ref, lambda c: (num(c) % 7) / 7)
    lab.run("cand", ref, lambda c: (num(c) % 5) / 5)
    with lab.store.session() as session:
        a = compare_runs(session, lab.project_id, "base", "cand", seed=3, resamples=1000)
        b = compare_runs(session, lab.project_id, "base", "cand", seed=3, resamples=1000)
        c = compare_runs(session, lab.project_id, "base", "cand", seed=4, resamples=1000)
    assert a.scorers[0].overall.ci == b.scorers[0].overall.ci
    assert a.scorers[0].overall.ci != c.scorers[0].overall.ci
    assert a.scorers[0].overall.test.name == "wilcoxon"
    assert a.scorers[0].baseline_rate is not None  # the fixture passes >= 1.0


def test_clusters_make_the_statistics_cluster_robust(lab: Lab) -> None:
    clustered = [c.model_copy(update={"cluster": f"conv{num(c) // 4}"}) for c in CASES]
    ref = lab.dataset(clustered)
    lab.run("base", ref, lambda c: 1.0)
    lab.run("cand", ref, lambda c: 0.0 if num(c) < 8 else 1.0)
    with lab.store.session() as session:
        result = compare_runs(session, lab.project_id, "base", "cand", resamples=1000)
    overall = result.scorer("exact").overall
    assert overall.clusters == 30
    assert overall.test.name == "cluster-t"


def test_errors_are_left_out_and_said(lab: Lab) -> None:
    ref = lab.dataset(CASES)
    lab.run("base", ref, lambda c: 1.0)
    lab.run("cand", ref, lambda c: None if num(c) < 5 else 1.0)
    with lab.store.session() as session:
        result = compare_runs(session, lab.project_id, "base", "cand", resamples=1000)
    assert result.scorer("exact").overall.n == 115
    assert result.scorer("exact").missing == 5
    assert any("5 case(s) left out" in w for w in result.warnings)
    assert result.candidate_costs.errors == 5


def test_repeats_give_pass_hat_k(lab: Lab) -> None:
    ref = lab.dataset(CASES[:40])
    lab.run("base", ref, lambda c: [1.0, 1.0, 1.0])
    lab.run("cand", ref, lambda c: [1.0, 0.0, 1.0] if num(c) % 4 == 0 else [1.0, 1.0, 1.0])
    with lab.store.session() as session:
        result = compare_runs(session, lab.project_id, "base", "cand", resamples=1000)
    exact = result.scorer("exact")
    assert exact.repeats is not None
    base, cand = exact.repeats
    assert base.pass_hat_k == 1.0
    assert cand.pass_hat_k == pytest.approx(30 / 40)
    assert len(cand.flaky_cases) == 10
    assert "pass^3 100.0% → 75.0%" in comparison_markdown(result)


def test_different_versions_need_on_common_cases(lab: Lab) -> None:
    v1 = lab.dataset(CASES[:50])
    v2 = lab.dataset([*CASES[:40], *CASES[60:70]])
    lab.run("base", v1, lambda c: 1.0)
    lab.run("cand", v2, lambda c: 1.0)
    with lab.store.session() as session:
        with pytest.raises(InvalidInput, match="--on-common-cases"):
            compare_runs(session, lab.project_id, "base", "cand")
        result = compare_runs(
            session, lab.project_id, "base", "cand", on_common_cases=True, resamples=1000
        )
    assert result.cases == 40
    assert result.on_common_cases
    assert "compared on the 40 cases both hold unchanged" in result.warnings[0]


def test_no_common_scorer(lab: Lab) -> None:
    ref = lab.dataset(CASES[:10])
    lab.run("base", ref, lambda c: 1.0)
    lab.run("cand", ref, lambda c: 1.0, scorers=[{"name": "contains", "args": {}}])
    with lab.store.session() as session, pytest.raises(InvalidInput, match="no scorer in common"):
        compare_runs(session, lab.project_id, "base", "cand")


def test_json_and_markdown(lab: Lab) -> None:
    ref = lab.dataset(CASES)
    lab.run("base", ref, lambda c: 1.0)
    lab.run("cand", ref, lambda c: 0.0 if num(c) % 3 == 0 else 1.0, latency_ms=150, cost=0.002)
    with lab.store.session() as session:
        result = compare_runs(session, lab.project_id, "base", "cand", resamples=1000)
    data = comparison_json(result)
    assert data["scorers"][0]["overall"]["test"] == "mcnemar-exact"
    assert data["scorers"][0]["regressed_count"] == 40
    assert data["latency_cost"]["candidate"]["latency_p95_ms"] == 150
    text = comparison_markdown(result)
    assert "## cand vs base on suite@1" in text
    assert "| `exact` | 120/120 passed (failure rate < 2.5%)" in text
    assert "regressed case" in text
    assert "p50 100 ms → 150 ms" in text
