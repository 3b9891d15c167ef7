"""The experiment runner: a target over a dataset version, scored, stored, resumable.

Work is (case, sample) pairs. A fixed pool of ``concurrency`` asyncio workers takes
them from a queue, so 10,000 cases cost 64 coroutines, not 10,000 tasks. Answers the
result cache already holds are scored without calling the target. Results go to the
store in batches from a worker thread every quarter second, so the event loop never
waits on the database and a killed run keeps what it finished: running it again
under the same name resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assay.datasets import CaseView, VersionView
from assay.datasets.cases import canonical
from assay.experiments import records
from assay.experiments.calls import Caller, CallPolicy
from assay.experiments.scoring import Scoring
from assay.store import Store
from assay.targets import Target, TargetError

# A batch goes to the store when it holds this many results or this much time has
# passed: large enough to amortise a commit (~5 ms on SQLite with fsync), small
# enough that a kill -9 loses at most a fraction of a second of work.
FLUSH_ROWS = 500
FLUSH_INTERVAL_S = 0.25

ProgressHook = Callable[[int, int], None]
"""Called with (finished, total) as work completes."""


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One sample of one case."""

    case: CaseView
    case_pk: int
    sample: int
    input_hash: str


@dataclass
class RunStats:
    """What a run did, for the caller and the summary.

    Attributes:
        total: (case, sample) pairs in the run.
        skipped: Pairs already done by an earlier attempt of this run (a resume).
        cached: Answers taken from the result cache (no call).
        called: Target calls that completed (successfully or not).
        errors: Pairs whose target call failed for good.
        retries: Extra attempts after retryable failures.
        elapsed_s: Wall time of this attempt.
    """

    total: int = 0
    skipped: int = 0
    cached: int = 0
    called: int = 0
    errors: int = 0
    retries: int = 0
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)


def input_hash(value: Any) -> str:
    """SHA-256 of a case input's canonical JSON: the result cache's key with the target."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


class Runner:
    """Runs one experiment attempt; see :func:`assay.experiments.run_experiment`."""

    def __init__(
        self,
        store: Store,
        *,
        run_id: int,
        target: Target,
        scoring: Scoring,
        policy: CallPolicy,
        concurrency: int,
        use_cache: bool,
        progress: ProgressHook | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.target = target
        self.scoring = scoring
        self.caller = Caller(target, policy)
        self.concurrency = max(1, concurrency)
        self.use_cache = use_cache
        self.progress = progress
        self.stats = RunStats()
        self._pending: list[records.ResultRow] = []
        self._pending_cache: list[tuple[str, int, records.ResultRow]] = []
        self._last_flush = time.monotonic()
        self._flush_lock = asyncio.Lock()

    async def run(self, items: Sequence[WorkItem]) -> RunStats:
        """Process ``items`` (already minus what the run has done); returns the stats."""
        began = time.perf_counter()
        self.stats.total += len(items)
        cached = await asyncio.to_thread(self._cached, items) if self.use_cache else {}
        queue: asyncio.Queue[WorkItem] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)
        finished = 0

        async def worker() -> None:
            nonlocal finished
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                row = await self._process(item, cached.get((item.input_hash, item.sample)))
                self._pending.append(row)
                if not row.cached and row.error is None:
                    self._pending_cache.append((item.input_hash, item.sample, row))
                finished += 1
                if self.progress is not None:
                    self.progress(finished, len(items))
                if (
                    len(self._pending) >= FLUSH_ROWS
                    or time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S
                ):
                    await self.flush()

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(items)))))
        finally:
            # Ctrl-C cancels the workers: what they finished is still written.
            await asyncio.shield(self.flush())
            self.stats.retries += self.caller.retried
            self.stats.elapsed_s += time.perf_counter() - began
        return self.stats

    async def _process(self, item: WorkItem, hit: records.CachedOutput | None) -> records.ResultRow:
        case = item.case.case
        if hit is not None:
            self.stats.cached += 1
            answer = hit
        else:
            began = time.perf_counter()
            try:
                out = await self.caller(case.input)
            except TargetError as exc:
                return self._failed(item, str(exc), began)
            except TimeoutError:
                timeout = self.caller.policy.timeout_s
                return self._failed(item, f"timed out after {timeout:g} s (every attempt)", began)
            latency = (time.perf_counter() - began) * 1000
            self.stats.called += 1
            self.stats.latencies_ms.append(latency)
            answer = records.CachedOutput(
                out.output, round(latency, 3), out.prompt_tokens, out.completion_tokens, out.cost
            )
        return records.ResultRow(
            case_pk=item.case_pk,
            case_id=item.case.id,
            sample=item.sample,
            output=answer.output,
            error=None,
            latency_ms=answer.latency_ms,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost=answer.cost,
            cached=hit is not None,
            scores=await self.scoring.score(case, answer.output),
        )

    def _failed(self, item: WorkItem, message: str, began: float) -> records.ResultRow:
        self.stats.called += 1
        self.stats.errors += 1
        return records.ResultRow(
            case_pk=item.case_pk,
            case_id=item.case.id,
            sample=item.sample,
            output=None,
            error=message,
            latency_ms=round((time.perf_counter() - began) * 1000, 3),
            prompt_tokens=None,
            completion_tokens=None,
            cost=None,
            cached=False,
            scores={},
        )

    async def flush(self) -> None:
        """Write the results gathered so far (and new cache entries) in one transaction."""
        async with self._flush_lock:
            rows, self._pending = self._pending, []
            cache, self._pending_cache = self._pending_cache, []
            self._last_flush = time.monotonic()
            if rows:
                await asyncio.to_thread(self._write, rows, cache)

    def _write(
        self, rows: list[records.ResultRow], cache: list[tuple[str, int, records.ResultRow]]
    ) -> None:
        with self.store.write_session() as session:
            records.write_results(session, self.run_id, rows)
            if self.use_cache:
                records.cache_outputs(session, self.target.fingerprint, cache)

    def _cached(self, items: Sequence[WorkItem]) -> dict[tuple[str, int], records.CachedOutput]:
        with self.store.session() as session:
            return records.cached_outputs(
                session, self.target.fingerprint, ((i.input_hash, i.sample) for i in items)
            )


def summarize(results: Sequence[records.StoredResult], labels: Sequence[str]) -> dict[str, Any]:
    """Aggregates of a run's stored results: per scorer, latency, tokens, cost."""
    latencies = sorted(r.latency_ms for r in results if r.latency_ms is not None and not r.cached)
    scorers: dict[str, Any] = {}
    for label in labels:
        values: list[float] = []
        passed = failed = errors = 0
        for r in results:
            score = r.scores.get(label)
            if score is None:
                continue
            if score.get("error"):
                errors += 1
                continue
            values.append(float(score["value"]))
            if score.get("passed") is True:
                passed += 1
            elif score.get("passed") is False:
                failed += 1
        scorers[label] = {
            "n": len(values),
            "mean": statistics.fmean(values) if values else None,
            "passed": passed,
            "failed": failed,
            "errors": errors,
        }
    return {
        "cases": len({r.case_id for r in results}),
        "samples": len(results),
        "errors": sum(1 for r in results if r.error is not None),
        "cached": sum(1 for r in results if r.cached),
        "scorers": scorers,
        "latency_ms": {
            "p50": quantile(latencies, 0.5),
            "p95": quantile(latencies, 0.95),
        },
        "prompt_tokens": sum(r.prompt_tokens or 0 for r in results),
        "completion_tokens": sum(r.completion_tokens or 0 for r in results),
        "cost": round(sum(r.cost or 0.0 for r in results), 8),
    }


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0.01 steps) of sorted ``values``, or None when empty."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return round(statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1], 3)


def work_items(
    cases: Sequence[CaseView], repeat: int, done: set[tuple[str, int]]
) -> list[WorkItem]:
    """The (case, sample) pairs still to do."""
    items: list[WorkItem] = []
    for case in cases:
        digest = input_hash(case.case.input)
        for sample in range(repeat):
            if (case.id, sample) not in done:
                items.append(WorkItem(case=case, case_pk=case.pk, sample=sample, input_hash=digest))
    return items


def version_label(version: VersionView) -> str:
    """``NAME@N`` of a version, for messages."""
    return version.ref
