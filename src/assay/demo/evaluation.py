"""The demo's evaluation loop: a dataset from the traffic, a run per release, the gate.

Cases are the questions of the demo's successful traces (provenance: the trace),
with the knowledge base's answer as the reference. Each release's bot runs over
them; the gate compares v2 with v1 and blocks it, because v2 answers Italian
questions worse.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass

from sqlalchemy import select

from assay.comparisons import compare_runs
from assay.datasets import CaseSpec, add_version, get_version
from assay.demo.bot import answer_v1, answer_v2, answers
from assay.experiments import CallPolicy, run_experiment
from assay.gate import GateResult, evaluate, parse_policy, record_gate
from assay.projects import get_project
from assay.store import Store
from assay.store.models import Trace
from assay.targets import PythonTarget

DATASET = "support-golden"
# Every eighth case is golden: a regression there fails the gate on its own.
GOLDEN_EVERY = 8
POLICY_TOML = """\
[gate]
alpha = 0.05

[[gate.rules]]
scorer = "exact"      # overall: fail on a significant drop larger than max_drop
max_drop = 0.02

[[gate.rules]]
tag = "golden"        # fail on any regressed case carrying this tag
max_regressions = 0

[[gate.rules]]
scorer = "exact"
slice = "lang"        # per value of the slice attribute `lang`
max_drop = 0.05
"""


@dataclass(frozen=True)
class DemoEvaluation:
    """What the demo's evaluation made."""

    dataset: str
    cases: int
    baseline: str
    candidate: str
    gate: GateResult


def build_dataset(store: Store, project: str) -> str:
    """A new version of the demo dataset from the project's successful traces.

    Returns:
        The version, ``NAME@N``.
    """
    known = answers()
    with store.session() as session:
        project_id = get_project(session, project).id
        rows = session.execute(
            select(Trace.trace_id, Trace.input, Trace.slices, Trace.release_ref)
            .where(Trace.project_id == project_id, Trace.status != "error")
            .order_by(Trace.start_ns, Trace.id)
        ).all()
    cases: list[CaseSpec] = []
    seen: set[str] = set()
    for trace_id, question, slices, release in rows:
        if not question or question not in known or question in seen:
            continue
        seen.add(question)
        cases.append(
            CaseSpec(
                input=question,
                reference=known[question][0],
                slices={"lang": json.loads(slices or "{}").get("locale") or known[question][1]},
                tags=("golden",) if len(cases) % GOLDEN_EVERY == 0 else (),
                provenance={"trace_id": trace_id, "release": release, "source": "demo traffic"},
            )
        )
    with store.write_session() as session:
        project_id = get_project(session, project).id
        result = add_version(
            session,
            project_id,
            DATASET,
            cases,
            message="Questions the demo bot answered in production, with the knowledge "
            "base's answers.",
            source="demo traffic",
        )
    return result.version.ref


def run_evaluation(store: Store, project: str) -> DemoEvaluation:
    """Build the dataset, run both releases, and gate v2 against v1."""
    dataset = build_dataset(store, project)
    version = dataset.split("@", 1)[1]
    runs: list[str] = []
    for release, func in (("support-bot-v1", answer_v1), ("support-bot-v2", answer_v2)):
        name = f"{release}-on-{DATASET}-v{version}"
        run_experiment(
            store,
            project=project,
            dataset=dataset,
            target=PythonTarget(f"assay.demo.bot:{func.__name__}", func=func),
            scorers=["exact"],
            name=name,
            release=release,
            concurrency=8,
            policy=CallPolicy(timeout_s=10, retries=0),
        )
        runs.append(name)
    policy = parse_policy(tomllib.loads(POLICY_TOML), "demo policy")
    with store.session() as session:
        project_id = get_project(session, project).id
        cases = get_version(session, project_id, dataset).case_count
        comparison = compare_runs(
            session, project_id, runs[0], runs[1], alpha=policy.alpha, resamples=policy.resamples
        )
    gate = evaluate(comparison, policy)
    with store.write_session() as session:
        record_gate(
            session, comparison.candidate.id, passed=gate.passed, baseline=runs[0], policy="demo"
        )
    return DemoEvaluation(dataset, cases, runs[0], runs[1], gate)
