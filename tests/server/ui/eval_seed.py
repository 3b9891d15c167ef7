"""A dataset with two versions and runs with planted results, for the evaluation pages.

``support-suite`` v1 holds 40 cases, v2 60 (20 added, ``case-02`` changed). Runs
on v2, scored by ``exact`` (pass/fail) and ``embedding`` (a score without pass/fail):

- ``baseline`` answers every case right;
- ``candidate`` answers 10 German cases wrong (``case-00``, ``case-06``, ... every
  sixth, all with ``lang=de``) and its call for ``case-07`` (English) fails.

So the ``de`` slice (30 cases) drops significantly, ``en`` (29 paired cases, one lost
to the error) does not and is flagged small. Runs are written straight into the store,
as ``tests/_runs.py`` does: no target, no scorer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assay.datasets import CaseSpec, add_version, get_version, version_cases
from assay.experiments import records
from assay.experiments.runner import summarize
from assay.store import Store

SUITE = "support-suite"
EXACT = {"name": "exact", "args": {}}
EMBEDDING = {"name": "embedding", "args": {}}
LABELS = ["exact", "embedding"]
REGRESSED = [f"case-{i:02d}" for i in range(0, 60, 6)]
ERRORED = "case-07"
WRONG = "Sorry, I cannot help with that."
LONG_TAIL = " Also, " + "the tracking page keeps saying it is pending. " * 6
SOURCE_TRACE = "5eed" * 8


def right(i: int) -> str:
    """The reference answer of case ``i``, which the baseline always gives."""
    return f"Parcel {i} is on its way."


def case(i: int, *, trace_id: str = SOURCE_TRACE, v1: bool = False) -> CaseSpec:
    """Case ``i``: German when even; ``case-03`` is a chat, ``case-05`` a long text."""
    question: Any = f"Where is parcel {i}?"
    if i == 3:
        question = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Where is parcel 3?"},
        ]
    elif i == 5:
        question += LONG_TAIL
    return CaseSpec(
        id=f"case-{i:02d}",
        input=question,
        reference="Parcel 2 ships soon." if v1 and i == 2 else right(i),
        tags=("golden",) if i % 10 == 0 else (),
        slices={"lang": "de" if i % 2 == 0 else "en"},
        provenance={"trace_id": trace_id, "by": "alice"} if i == 1 else {},
    )


def add_suite(store: Store, project_id: int, trace_id: str = SOURCE_TRACE) -> None:
    """Versions 1 (40 cases) and 2 (60 cases) of ``support-suite``."""
    with store.write_session() as session:
        add_version(
            session,
            project_id,
            SUITE,
            [case(i, trace_id=trace_id, v1=True) for i in range(40)],
            message="first cut",
            source="cases.jsonl",
        )
        add_version(
            session,
            project_id,
            SUITE,
            [case(i, trace_id=trace_id) for i in range(60)],
            message="20 German cases from review",
            source="cases.jsonl",
        )


def _scores(output: str, reference: str) -> dict[str, Any]:
    good = output == reference
    return {
        "exact": {
            "value": 1.0 if good else 0.0,
            "passed": good,
            "reason": "matches the reference" if good else "differs from the reference",
            "metadata": {},
        },
        "embedding": {
            "value": 0.95 if good else 0.31,
            "passed": None,
            "reason": f"cosine {0.95 if good else 0.31}",
            "metadata": {},
        },
    }


def store_run(
    store: Store,
    project_id: int,
    name: str,
    dataset: str,
    answer: Callable[[int], str | None],
    *,
    release: str | None = None,
) -> None:
    """A completed run whose output for case ``i`` is ``answer(i)`` (None: the call failed)."""
    with store.write_session() as session:
        version = get_version(session, project_id, dataset)
        run, _ = records.start_run(
            session,
            project_id,
            name=name,
            version=version,
            target={"kind": "python", "function": f"app:{name}"},
            target_fingerprint=name.encode().hex().ljust(64, "0")[:64],
            release=release,
            scorers=[EXACT, EMBEDDING],
            repeat=1,
        )
        rows = []
        for c in version_cases(session, version.id):
            output = answer(int(c.id.split("-")[1]))
            rows.append(
                records.ResultRow(
                    case_pk=c.pk,
                    case_id=c.id,
                    sample=0,
                    output=output,
                    error="timeout after 60 s" if output is None else None,
                    latency_ms=120.0 if output is not None else 60_000.0,
                    prompt_tokens=12,
                    completion_tokens=8,
                    cost=0.0004,
                    cached=False,
                    scores={} if output is None else _scores(output, str(c.case.reference)),
                )
            )
        records.write_results(session, run.id, rows)
        results = records.run_results(session, run.id)
        records.finish_run(session, run.id, "completed", summarize(results, LABELS))


def candidate_answer(i: int) -> str | None:
    """What the candidate answers: wrong on the regressed cases, nothing on the errored."""
    if f"case-{i:02d}" == ERRORED:
        return None
    return WRONG if f"case-{i:02d}" in REGRESSED else right(i)


def seed_runs(store: Store, project_id: int) -> None:
    """``baseline`` and ``candidate`` on ``support-suite@2``."""
    store_run(store, project_id, "baseline", f"{SUITE}@2", right, release="v1")
    store_run(store, project_id, "candidate", f"{SUITE}@2", candidate_answer, release="v2")
