"""Running experiments (SQLite and PostgreSQL): results and summaries, the result
cache, repeats, retries, timeouts, errors, and run names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.errors import Conflict, InvalidInput, NotFound
from assay.experiments import CallPolicy, get_run, run_experiment, run_results
from assay.projects import get_project
from assay.store import Store


def run(store: Store, target_dir: Path, target: str, **kw: Any):  # type: ignore[no-untyped-def]
    kw.setdefault("scorers", ["exact"])
    return run_experiment(
        store, project="bot", dataset="suite", target=target, cwd=target_dir, **kw
    )


def results_of(store: Store, name: str) -> dict[str, Any]:
    with store.session() as session:
        project_id = get_project(session, "bot").id
        view = get_run(session, project_id, name)
        return {r.case_id: r for r in run_results(session, view.id)}


def test_results_scores_and_summary(suite: Store, target_dir: Path) -> None:
    outcome = run(suite, target_dir, "evaltarget:answer", name="first")
    assert outcome.run.status == "completed"
    assert outcome.run.dataset == "suite@1"
    assert (outcome.stats.total, outcome.stats.called, outcome.stats.cached) == (3, 3, 0)
    summary = outcome.run.summary
    assert summary["cases"] == 3
    assert summary["scorers"]["exact"]["passed"] == 2
    assert summary["scorers"]["exact"]["failed"] == 1
    assert summary["scorers"]["exact"]["mean"] == pytest.approx(2 / 3)
    stored = results_of(suite, "first")
    assert stored["add"].output == "4"
    assert stored["miss"].scores["exact"]["passed"] is False
    assert stored["add"].latency_ms is not None


def test_an_unchanged_rerun_costs_no_calls(suite: Store, target_dir: Path) -> None:
    run(suite, target_dir, "evaltarget:answer", name="a")
    again = run(suite, target_dir, "evaltarget:answer", name="b")
    assert (again.stats.called, again.stats.cached) == (0, 3)
    assert (
        again.run.summary["scorers"]
        == run(suite, target_dir, "evaltarget:answer", name="c").run.summary["scorers"]
    )
    fresh = run(suite, target_dir, "evaltarget:answer", name="d", use_cache=False)
    assert fresh.stats.called == 3


def test_async_targets_and_repeats(suite: Store, target_dir: Path) -> None:
    outcome = run(suite, target_dir, "evaltarget:answer_async", repeat=3, concurrency=4)
    assert outcome.stats.total == 9
    assert outcome.run.summary["samples"] == 9
    with suite.session() as session:
        stored = run_results(session, outcome.run.id)
    assert sorted({(r.case_id, r.sample) for r in stored}) == [
        (c, s) for c in ("add", "caps", "miss") for s in range(3)
    ]


def test_retryable_errors_are_retried(suite: Store, target_dir: Path) -> None:
    policy = CallPolicy(retries=2, timeout_s=5)
    outcome = run(suite, target_dir, "evaltarget:flaky", policy=policy, concurrency=1)
    assert outcome.stats.errors == 0
    assert outcome.stats.retries == 3  # every other call fails once


def test_retries_stop_after_the_policy_and_record_the_error(suite: Store, target_dir: Path) -> None:
    policy = CallPolicy(retries=2, timeout_s=5)
    outcome = run(suite, target_dir, "evaltarget:always_busy", policy=policy, name="busy")
    assert outcome.stats.errors == 3
    assert outcome.stats.retries == 6  # two more attempts for each of the three cases
    error = results_of(suite, "busy")["add"].error
    assert error == "evaltarget:always_busy raised TimeoutError: upstream timed out again"


def test_failures_are_recorded_not_scored(suite: Store, target_dir: Path) -> None:
    outcome = run(suite, target_dir, "evaltarget:broken", name="broken")
    assert outcome.stats.errors == 3
    assert outcome.stats.retries == 0  # a ValueError is not worth retrying
    stored = results_of(suite, "broken")
    assert stored["add"].error == "evaltarget:broken raised ValueError: no answer for What is 2+2?"
    assert stored["add"].scores == {}
    assert outcome.run.summary["scorers"]["exact"]["n"] == 0
    assert outcome.run.summary["errors"] == 3


def test_timeouts(suite: Store, target_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVAL_SLEEP", "5")
    policy = CallPolicy(timeout_s=0.05, retries=1)
    outcome = run(suite, target_dir, "evaltarget:slow", policy=policy, name="slow")
    assert outcome.stats.errors == 3
    assert results_of(suite, "slow")["add"].error == "timed out after 0.05 s (every attempt)"


def test_names_and_errors(suite: Store, target_dir: Path) -> None:
    run(suite, target_dir, "evaltarget:answer", name="named")
    finished = run(suite, target_dir, "evaltarget:answer", name="named")
    assert finished.resumed
    assert finished.stats.skipped == 3
    assert finished.stats.called == 0
    with pytest.raises(Conflict, match="different target"):
        run(suite, target_dir, "evaltarget:answer_async", name="named")
    with pytest.raises(Conflict, match="different scorers"):
        run(suite, target_dir, "evaltarget:answer", name="named", scorers=["contains"])
    with pytest.raises(NotFound, match="no dataset named 'nope'"):
        run_experiment(
            suite, project="bot", dataset="nope", target="evaltarget:answer", cwd=target_dir
        )
    with pytest.raises(InvalidInput, match="repeat must be 1 to 100"):
        run(suite, target_dir, "evaltarget:answer", repeat=0)
    with pytest.raises(InvalidInput, match="the same scorer is given twice"):
        run(suite, target_dir, "evaltarget:answer", scorers=["exact", "exact"])
    with pytest.raises(NotFound, match="release"):
        run(suite, target_dir, "evaltarget:answer", release="v9")
