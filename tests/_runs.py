"""Runs written straight into the store with chosen scores, so comparisons and the
gate are tested on known numbers (no target, no scorer). Used by the ``lab``
fixtures of tests/comparisons and tests/gate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assay.datasets import CaseSpec, add_version, get_version, version_cases
from assay.experiments import records
from assay.experiments.runner import summarize
from assay.projects import create_project
from assay.store import Store

EXACT = {"name": "exact", "args": {}}


@dataclass
class Lab:
    """A project with one dataset, and a way to store runs with given scores."""

    store: Store
    project_id: int

    def dataset(self, cases: Sequence[CaseSpec], name: str = "suite") -> str:
        with self.store.write_session() as session:
            return add_version(session, self.project_id, name, cases).version.ref

    def run(
        self,
        name: str,
        dataset: str,
        score: Callable[[CaseSpec], float | list[float] | None],
        *,
        passed: bool = True,
        release: str | None = None,
        latency_ms: float = 100.0,
        cost: float = 0.001,
        scorers: list[dict[str, Any]] | None = None,
    ) -> int:
        """Store a completed run whose exact score of each case is ``score(case)``
        (a list: one value per sample; None: the target failed)."""
        label = "exact"
        with self.store.write_session() as session:
            version = get_version(session, self.project_id, dataset)
            run, _ = records.start_run(
                session,
                self.project_id,
                name=name,
                version=version,
                target={"kind": "python", "function": name},
                target_fingerprint=name.ljust(64, "0")[:64],
                release=release,
                scorers=scorers or [EXACT],
                repeat=1,
            )
            rows = []
            for case in version_cases(session, version.id):
                value = score(case.case)
                samples = value if isinstance(value, list) else [value]
                for i, v in enumerate(samples):
                    rows.append(
                        records.ResultRow(
                            case_pk=case.pk,
                            case_id=case.id,
                            sample=i,
                            output=None if v is None else str(v),
                            error="failed" if v is None else None,
                            latency_ms=latency_ms,
                            prompt_tokens=10,
                            completion_tokens=5,
                            cost=cost,
                            cached=False,
                            scores={}
                            if v is None
                            else {
                                label: {
                                    "value": v,
                                    "passed": (v >= 1.0) if passed else None,
                                    "reason": "",
                                    "metadata": {},
                                }
                            },
                        )
                    )
            records.write_results(session, run.id, rows)
            results = records.run_results(session, run.id)
            records.finish_run(session, run.id, "completed", summarize(results, [label]))
            return run.id


def new_lab(store: Store) -> Lab:
    """A lab with project ``bot`` on ``store``."""
    with store.write_session() as session:
        project_id = create_project(session, "bot").id
    return Lab(store, project_id)
