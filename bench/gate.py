"""Comparison and gate benchmark: 10,000 paired cases, 10,000 bootstrap resamples.

Two runs of ``--cases`` cases (in ``--slices`` slice values, every 10th case
golden) are written straight into a fresh SQLite store, then timed: reading them
back and comparing (``compare_runs``: bootstrap CI, test, MDE, per slice with Holm),
and applying a four-rule gate policy. Once with pass/fail scores (McNemar; the
bootstrap has a fast path for few distinct differences) and once with continuous
scores in [0, 1] (Wilcoxon; every resample drawn).

Prints one JSON line. Usage and results: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assay.comparisons import compare_runs
from assay.datasets import CaseSpec, add_version, get_version, version_cases
from assay.experiments import records
from assay.experiments.runner import summarize
from assay.gate import evaluate, parse_policy
from assay.projects import create_project
from assay.store import Store, migrate

POLICY = {
    "gate": {
        "rules": [
            {"scorer": "exact", "max_drop": 0.02},
            {"tag": "golden", "max_regressions": 0},
            {"scorer": "exact", "slice": "lang", "max_drop": 0.05},
            {"scorer": "exact", "slice": "lang", "max_gap": 0.1},
        ]
    }
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="Paired cases.")
    parser.add_argument("--resamples", type=int, default=10_000, help="Bootstrap resamples.")
    parser.add_argument("--slices", type=int, default=8, help="Values of the `lang` slice.")
    return parser.parse_args(argv)


def write_run(store: Store, project_id: int, name: str, scores: list[float]) -> None:
    """Store a completed run with the given ``exact`` score per case."""
    with store.write_session() as session:
        version = get_version(session, project_id, "bench")
        run, _ = records.start_run(
            session,
            project_id,
            name=name,
            version=version,
            target={"kind": "python", "function": name},
            target_fingerprint=name.ljust(64, "0")[:64],
            release=None,
            scorers=[{"name": "exact", "args": {}}],
            repeat=1,
        )
        rows = [
            records.ResultRow(
                case_pk=case.pk,
                case_id=case.id,
                sample=0,
                output="x",
                error=None,
                latency_ms=50.0,
                prompt_tokens=10,
                completion_tokens=5,
                cost=0.0001,
                cached=False,
                scores={"exact": {"value": v, "passed": v >= 0.5, "reason": "", "metadata": {}}},
            )
            for case, v in zip(version_cases(session, version.id), scores, strict=True)
        ]
        records.write_results(session, run.id, rows)
        records.finish_run(
            session, run.id, "completed", summarize(records.run_results(session, run.id), ["exact"])
        )


def timed(
    store: Store, project_id: int, baseline: str, candidate: str, resamples: int
) -> dict[str, float]:
    """Seconds to compare and to gate."""
    policy = parse_policy({"gate": {**POLICY["gate"], "resamples": resamples}})
    began = time.perf_counter()
    with store.session() as session:
        comparison = compare_runs(
            session, project_id, baseline, candidate, resamples=resamples, alpha=policy.alpha
        )
    compared = time.perf_counter()
    result = evaluate(comparison, policy)
    gated = time.perf_counter()
    return {
        "compare_s": round(compared - began, 3),
        "gate_s": round(gated - compared, 3),
        "total_s": round(gated - began, 3),
        "passed": result.passed,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print one JSON line."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assay-gate-bench-") as tmp:
        out = run(args, Store(f"sqlite:///{Path(tmp) / 'b.db'}"))
    print(json.dumps(out))
    sys.stdout.flush()


def run(args: argparse.Namespace, store: Store) -> dict[str, Any]:
    """Fill ``store`` with two pairs of runs and time comparing and gating them."""
    migrate.upgrade(store)
    rng = random.Random(5)
    with store.write_session() as session:
        project_id = create_project(session, "bench").id
        cases = [
            CaseSpec(
                id=f"c{i:05d}",
                input=f"question {i}",
                slices={"lang": f"l{i % args.slices}"},
                tags=("golden",) if i % 10 == 0 else (),
            )
            for i in range(args.cases)
        ]
        add_version(session, project_id, "bench", cases)
    binary_base = [1.0 if rng.random() < 0.8 else 0.0 for _ in range(args.cases)]
    binary_cand = [1.0 if rng.random() < 0.79 else 0.0 for _ in range(args.cases)]
    cont_base = [rng.random() for _ in range(args.cases)]
    cont_cand = [min(1.0, max(0.0, v + rng.gauss(-0.01, 0.1))) for v in cont_base]
    write_run(store, project_id, "binary-base", binary_base)
    write_run(store, project_id, "binary-cand", binary_cand)
    write_run(store, project_id, "cont-base", cont_base)
    write_run(store, project_id, "cont-cand", cont_cand)
    out = {
        "cases": args.cases,
        "resamples": args.resamples,
        "slices": args.slices,
        "pass_fail": timed(store, project_id, "binary-base", "binary-cand", args.resamples),
        "continuous": timed(store, project_id, "cont-base", "cont-cand", args.resamples),
    }
    store.dispose()
    return out


if __name__ == "__main__":
    main()
