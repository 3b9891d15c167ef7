"""Experiment runner benchmark: how close the runner gets to the Little's-law bound.

A target that takes ``--latency`` seconds per case (an async sleep, as a remote
model call would) is run over ``--cases`` cases with ``--concurrency`` calls in
flight, scored with ``exact``, every result written to a fresh SQLite store. With
no overhead the rate would be concurrency / latency (Little's law: 64 / 0.05 s =
1,280 cases/s); the figure is the fraction of that reached, end to end (dataset
resolution, scoring and the store writes included).

Prints one JSON line. Usage and results: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assay.datasets import CaseSpec, add_version
from assay.experiments import CallPolicy, run_experiment
from assay.projects import create_project
from assay.store import Store, migrate
from assay.targets import PythonTarget


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="Cases in the dataset.")
    parser.add_argument("--concurrency", type=int, default=64, help="Calls in flight.")
    parser.add_argument("--latency", type=float, default=0.05, help="Seconds per call.")
    parser.add_argument("--db", help="Store URL (default: a fresh SQLite file).")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print one JSON line."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assay-runner-bench-") as tmp:
        out = run(args, Store(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"))
    print(json.dumps(out))
    sys.stdout.flush()


def run(args: argparse.Namespace, store: Store) -> dict[str, Any]:
    """Run the experiment over ``store`` and measure it."""
    migrate.upgrade(store)
    latency = args.latency

    async def target(question: str) -> str:
        await asyncio.sleep(latency)
        return question[::-1]

    with store.write_session() as session:
        project_id = create_project(session, "bench").id
        cases = [
            CaseSpec(id=f"c{i:05d}", input=f"question {i}", reference=f"{i} noitseuq")
            for i in range(args.cases)
        ]
        add_version(session, project_id, "bench", cases)
    cpu = time.process_time()
    began = time.perf_counter()
    result = run_experiment(
        store,
        project="bench",
        dataset="bench",
        target=PythonTarget(func=target),
        scorers=["exact"],
        concurrency=args.concurrency,
        policy=CallPolicy(timeout_s=30, retries=0),
    )
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu
    bound = args.concurrency / latency
    rate = args.cases / elapsed
    out = {
        "cases": args.cases,
        "concurrency": args.concurrency,
        "latency_s": latency,
        "elapsed_s": round(elapsed, 2),
        "cases_per_s": round(rate, 1),
        "littles_law_bound": round(bound, 1),
        "fraction_of_bound": round(rate / bound, 3),
        # Wall time each case cost beyond the target's own latency, per slot.
        "overhead_ms_per_case": round(
            (elapsed * args.concurrency / args.cases - latency) * 1000, 3
        ),
        "cpu_ms_per_case": round(cpu / args.cases * 1000, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "errors": result.stats.errors,
        "stored": result.run.summary.get("samples"),
    }
    store.dispose()
    return out


if __name__ == "__main__":
    main()
