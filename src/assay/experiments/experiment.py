"""Running an experiment end to end: resolve the dataset version, start or resume the
run, call and score, write the summary. The CLI (`assay run`), the API and
``assay.run_experiment`` all come here."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.datasets import get_version, version_cases
from assay.errors import InvalidInput
from assay.experiments import records
from assay.experiments.calls import CallPolicy
from assay.experiments.runner import ProgressHook, Runner, RunStats, summarize, work_items
from assay.experiments.scoring import Scoring
from assay.projects import get_project
from assay.releases import get_release
from assay.scorers import ScorerSpec, create_scorer
from assay.store import Store
from assay.targets import PythonTarget, Target, check_release_target, load_target

MAX_REPEAT = 100
MAX_CONCURRENCY = 1024


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    """What :func:`run_experiment` did.

    Attributes:
        run: The run as stored (status, summary).
        resumed: Whether an earlier attempt of the run was continued.
        stats: This attempt's counts: calls, cache hits, errors, retries, time.
    """

    run: records.RunView
    resumed: bool
    stats: RunStats


async def run_experiment_async(
    store: Store,
    *,
    project: str | int,
    dataset: str,
    target: Target | str,
    scorers: Sequence[str | ScorerSpec] = (),
    name: str | None = None,
    release: str | None = None,
    concurrency: int = 8,
    repeat: int = 1,
    policy: CallPolicy | None = None,
    use_cache: bool = True,
    api_key: str = "",
    cwd: Path | None = None,
    progress: ProgressHook | None = None,
) -> ExperimentResult:
    """Run ``target`` over a dataset version with ``scorers``, storing every result.

    Args:
        store: The store.
        project: Project name or id.
        dataset: ``NAME`` or ``NAME@VERSION``.
        target: A :class:`~assay.targets.Target`, or a ``--target`` spec.
        scorers: Scorer specs (``exact``, ``regex:pattern=...``, ...).
        name: The run's name; an existing run of that name is resumed (it must
            have the same dataset version, target, scorers and repeat).
        release: A registered release (name or fingerprint) the run measures;
            refused when the release was registered from another target.
        concurrency: Calls in flight at once.
        repeat: Samples per case, for non-deterministic targets.
        policy: Timeout, retries and rate limits of target calls.
        use_cache: Take answers from the result cache and fill it.
        api_key: Key for OpenAI-compatible targets and judges.
        cwd: Where Python targets import from.
        progress: Called with (finished, total) as work completes.

    Raises:
        InvalidInput: bad arguments, target or scorer specs, or a release registered
            from another target.
        NotFound: unknown project, dataset, version or release.
        Conflict: a run of that name exists with another configuration.
    """
    if not 1 <= repeat <= MAX_REPEAT:
        raise InvalidInput(f"repeat must be 1 to {MAX_REPEAT}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInput(f"concurrency must be 1 to {MAX_CONCURRENCY}")
    built = [create_scorer(s, secrets={"api_key": api_key} if api_key else None) for s in scorers]
    scoring = Scoring(built)
    runnable = load_target(target, api_key=api_key, cwd=cwd) if isinstance(target, str) else target
    if isinstance(runnable, PythonTarget):
        runnable.set_threads(concurrency)
    try:
        with store.write_session() as session:
            project_id = get_project(session, project).id
            version = get_version(session, project_id, dataset)
            release_name = None
            if release:
                found = get_release(session, project_id, release)
                check_release_target(found, runnable)
                release_name = found.name
            run, resumed = records.start_run(
                session,
                project_id,
                name=name or records.new_run_name(),
                version=version,
                target=runnable.describe(),
                target_fingerprint=runnable.fingerprint,
                release=release_name,
                scorers=scoring.specs,
                repeat=repeat,
            )
            cases = version_cases(session, version.id)
            done = records.done_keys(session, run.id) if resumed else set()
        items = work_items(cases, repeat, done)
        runner = Runner(
            store,
            run_id=run.id,
            target=runnable,
            scoring=scoring,
            policy=policy or CallPolicy(),
            concurrency=concurrency,
            use_cache=use_cache,
            progress=progress,
        )
        runner.stats.skipped = sum(1 for _ in done)
        status = "interrupted"
        try:
            stats = await runner.run(items)
            status = "completed"
        finally:
            _finish(store, project_id, run.id, status, scoring.labels)
    finally:
        await runnable.aclose()
    with store.session() as session:
        final = records.get_run(session, project_id, str(run.id))
    return ExperimentResult(run=final, resumed=resumed, stats=stats)


def _finish(store: Store, project_id: int, run_id: int, status: str, labels: list[str]) -> None:
    with store.write_session() as session:
        results = records.run_results(session, run_id, outputs=False)
        records.finish_run(session, run_id, status, summarize(results, labels))


def run_experiment(store: Store | str, **kwargs: Any) -> ExperimentResult:
    """Run an experiment from synchronous code (a script, a notebook cell, a test).

    ``store`` is a :class:`~assay.store.Store` or a store URL; the other arguments
    are those of :func:`run_experiment_async`.
    """
    own = isinstance(store, str)
    handle = Store(store) if isinstance(store, str) else store
    try:
        if own:
            from assay.store.migrate import ensure_current

            ensure_current(handle)
        return asyncio.run(run_experiment_async(handle, **kwargs))
    finally:
        if own:
            handle.dispose()
