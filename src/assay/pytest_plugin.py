"""Eval suites as pytest tests, and the gate at the end of the session.

```python
import pytest

@pytest.mark.assay_dataset("support@3", scorers=["exact"])
def test_answers(case, assay_output):
    answer = my_app.answer(case.input)
    assay_output(answer)                  # scored with the marker's scorers
    assert "sorry" not in answer.lower()  # the test's own verdict is a score too
```

The test runs once per case of the dataset version (ids are the case ids). Each
case's output, the marker's scores and the test's outcome (the ``pytest`` score: 1
passed, 0 failed) are stored as one run per dataset (``--assay-run``, default
``pytest-DATE-TIME``). With ``--assay-gate POLICY --assay-baseline REF`` the policy
is applied to that run against the baseline when the session ends; a failed gate
fails the session (exit code 1) and prints why.

The plugin is registered through the ``pytest11`` entry point and stays inert (and
cheap to import) unless a test carries the marker.
"""

from __future__ import annotations

import hashlib
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from assay.datasets import CaseView
    from assay.store import Store

MARKER = "assay_dataset"
OUTCOME_SCORE = "pytest"
"""The label of the score that records the test's own outcome (1 passed, 0 failed)."""


@dataclass
class _Recorded:
    case: CaseView
    output: Any = None
    has_output: bool = False
    tokens: tuple[int | None, int | None] = (None, None)
    cost: float | None = None
    latency_ms: float | None = None
    passed: bool | None = None
    error: str | None = None


@dataclass
class _Suite:
    """Everything one dataset's tests recorded in this session."""

    dataset: str
    version_id: int
    scorers: list[str]
    module: str
    source: str
    cases: dict[str, _Recorded] = field(default_factory=dict)


class AssayPlugin:
    """The session state: the store, the suites being recorded, the options."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.suites: dict[str, _Suite] = {}
        # The marker's dataset reference (``support``) to its suite (``support@3``).
        self.by_marker: dict[str, _Suite] = {}
        self._store: Store | None = None
        self._project_id: int | None = None

    # -- options -------------------------------------------------------------------

    def option(self, name: str) -> Any:
        return self.config.getoption(name)

    @property
    def store(self) -> Store:
        if self._store is None:
            from assay.settings import Settings
            from assay.store import Store
            from assay.store.migrate import ensure_current

            url = self.option("assay_db") or Settings().resolved_database_url()
            self._store = Store(url)
            ensure_current(self._store)
        return self._store

    @property
    def project_id(self) -> int:
        if self._project_id is None:
            from assay.projects import get_project

            project = self.option("assay_project")
            if not project:
                raise pytest.UsageError(f"@pytest.mark.{MARKER} needs --assay-project NAME")
            with self.store.session() as session:
                self._project_id = get_project(session, project).id
        return self._project_id

    # -- collection ----------------------------------------------------------------

    def suite_cases(self, metafunc: pytest.Metafunc) -> tuple[_Suite, list[CaseView]]:
        from assay.datasets import get_version, version_cases
        from assay.scorers import create_scorer

        marker = metafunc.definition.get_closest_marker(MARKER)
        assert marker is not None
        if not marker.args or not isinstance(marker.args[0], str):
            raise pytest.UsageError(f'@pytest.mark.{MARKER}("NAME[@VERSION]") needs a dataset')
        scorers = [str(s) for s in marker.kwargs.get("scorers", ())]
        for spec in scorers:
            create_scorer(spec)  # a bad spec fails at collection, naming it
        with self.store.session() as session:
            version = get_version(session, self.project_id, marker.args[0])
            cases = version_cases(session, version.id)
        suite = self.suites.get(version.ref)
        if suite is None:
            module = metafunc.module.__name__ if metafunc.module else "?"
            source = inspect.getsource(metafunc.module) if metafunc.module else ""
            suite = _Suite(version.ref, version.id, scorers, module, source)
            self.suites[version.ref] = suite
        elif suite.scorers != scorers:
            raise pytest.UsageError(
                f"tests over {version.ref} give different scorers: {suite.scorers} and "
                f"{scorers}; one run per dataset version takes one set"
            )
        self.by_marker[marker.args[0]] = suite
        return suite, cases

    # -- the session's end -----------------------------------------------------------

    def finish(self, session: pytest.Session) -> None:
        if not any(
            rec.passed is not None or rec.has_output
            for suite in self.suites.values()
            for rec in suite.cases.values()
        ):
            return
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        write: Callable[[str], None] = (
            (lambda text: reporter.write_line(text)) if reporter is not None else print
        )
        gate_failed = False
        for suite in self.suites.values():
            run_name = self._store_run(suite)
            ran = sum(1 for r in suite.cases.values() if r.passed is not None or r.has_output)
            write(f"assay: stored run {run_name!r} over {suite.dataset} ({ran} cases)")
            policy = self.option("assay_gate")
            if policy:
                gate_failed |= not self._gate(Path(policy), run_name, write)
        if gate_failed:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _store_run(self, suite: _Suite) -> str:
        import asyncio

        from assay.experiments import records
        from assay.experiments.runner import summarize
        from assay.experiments.scoring import Scoring
        from assay.scorers import create_scorer

        scoring = Scoring([create_scorer(s) for s in suite.scorers])
        name = self.option("assay_run") or f"pytest-{time.strftime('%Y%m%d-%H%M%S')}"
        if len(self.suites) > 1:
            name = f"{name}-{suite.dataset}"
        rows = []
        # Cases whose test did not run (deselected with -k, skipped) are not results.
        ran = [rec for rec in suite.cases.values() if rec.passed is not None or rec.has_output]
        for rec in ran:
            scores: dict[str, Any] = {}
            if rec.has_output:
                scores = asyncio.run(scoring.score(rec.case.case, rec.output))
            if rec.passed is not None:
                scores[OUTCOME_SCORE] = {
                    "value": 1.0 if rec.passed else 0.0,
                    "passed": rec.passed,
                    "reason": "" if rec.passed else (rec.error or "the test failed"),
                    "metadata": {},
                }
            rows.append(
                records.ResultRow(
                    case_pk=rec.case.pk,
                    case_id=rec.case.id,
                    sample=0,
                    output=rec.output if rec.has_output else None,
                    error=None if rec.has_output or rec.passed else rec.error,
                    latency_ms=rec.latency_ms,
                    prompt_tokens=rec.tokens[0],
                    completion_tokens=rec.tokens[1],
                    cost=rec.cost,
                    cached=False,
                    scores=scores,
                )
            )
        labels = [*scoring.labels, OUTCOME_SCORE]
        specs = [*scoring.specs, {"name": OUTCOME_SCORE, "args": {}}]
        fingerprint = hashlib.sha256(suite.source.encode()).hexdigest()
        with self.store.write_session() as session:
            from assay.datasets import get_version

            version = get_version(session, self.project_id, suite.dataset)
            run, _ = records.start_run(
                session,
                self.project_id,
                name=name,
                version=version,
                target={"kind": "pytest", "module": suite.module},
                target_fingerprint=fingerprint,
                release=self._release(session),
                scorers=specs,
                repeat=1,
            )
            records.write_results(session, run.id, rows)
            results = records.run_results(session, run.id)
            records.finish_run(session, run.id, "completed", summarize(results, labels))
        return name

    def _release(self, session: Any) -> str | None:
        release = self.option("assay_release")
        if not release:
            return None
        from assay.releases import get_release

        return get_release(session, self.project_id, release).name

    def _gate(self, policy_path: Path, candidate: str, write: Callable[[str], None]) -> bool:
        from assay.gate import compare_refs, evaluate, gate_markdown, load_policy, record_gate

        baseline = self.option("assay_baseline")
        if not baseline:
            raise pytest.UsageError(
                "--assay-gate needs --assay-baseline REF (a run or release:NAME)"
            )
        policy = load_policy(policy_path)
        with self.store.session() as session:
            comparison, notes = compare_refs(
                session,
                self.project_id,
                baseline,
                candidate,
                alpha=policy.alpha,
                seed=policy.seed,
                resamples=policy.resamples,
            )
        result = evaluate(comparison, policy)
        with self.store.write_session() as session:
            record_gate(
                session,
                comparison.candidate.id,
                passed=result.passed,
                baseline=comparison.baseline.name,
                policy=policy_path.name,
            )
        for note in notes:
            write(f"assay: {note}")
        write(gate_markdown(result))
        return result.passed


# -- pytest hooks ----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--assay-*`` options."""
    group = parser.getgroup("assay", "assay evaluation")
    group.addoption("--assay-project", metavar="NAME", help="Project of the eval datasets.")
    group.addoption(
        "--assay-db",
        metavar="URL",
        help="Store URL (default: ASSAY_DATABASE_URL, else .assay/assay.db).",
    )
    group.addoption("--assay-run", metavar="NAME", help="Name of the run (default: pytest-DATE).")
    group.addoption("--assay-release", metavar="REF", help="The release the run measures.")
    group.addoption(
        "--assay-gate", metavar="POLICY", help="Apply this gate policy (TOML) at the end."
    )
    group.addoption(
        "--assay-baseline", metavar="REF", help="The gate's baseline: a run or release:NAME."
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and the session state."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(dataset, scorers=()): run the test once per case of an assay dataset "
        "version and store the outputs as a run",
    )
    config.pluginmanager.register(AssayPlugin(config), "assay-session")


def _plugin(config: pytest.Config) -> AssayPlugin:
    plugin = config.pluginmanager.get_plugin("assay-session")
    assert isinstance(plugin, AssayPlugin)
    return plugin


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``case`` over the marker's dataset version."""
    if metafunc.definition.get_closest_marker(MARKER) is None:
        return
    if "case" not in metafunc.fixturenames:
        raise pytest.UsageError(f"{metafunc.function.__name__}: @{MARKER} tests take a `case`")
    plugin = _plugin(metafunc.config)
    suite, cases = plugin.suite_cases(metafunc)
    for case in cases:
        suite.cases.setdefault(case.id, _Recorded(case))
    metafunc.parametrize("case", [c.case for c in cases], ids=[c.id for c in cases])


def _current(node: pytest.Item | Any) -> _Recorded | None:
    """The recorded case of a marked test item (None for any other test)."""
    marker = node.get_closest_marker(MARKER)
    callspec = getattr(node, "callspec", None)
    if marker is None or callspec is None or "case" not in callspec.params:
        return None
    suite = _plugin(node.config).by_marker.get(marker.args[0])
    case = callspec.params["case"]
    return suite.cases.get(case.id) if suite is not None else None


@pytest.fixture
def assay_output(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record the current case's output (and optionally tokens and cost).

    ``assay_output(text_or_data, prompt_tokens=None, completion_tokens=None, cost=None)``
    """
    recorded = _current(request.node)
    began = time.perf_counter()

    def record(
        output: Any,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        cost: float | None = None,
    ) -> None:
        if recorded is None:
            raise pytest.UsageError(f"assay_output is for tests marked @pytest.mark.{MARKER}")
        recorded.output = output
        recorded.has_output = True
        recorded.tokens = (prompt_tokens, completion_tokens)
        recorded.cost = cost
        recorded.latency_ms = round((time.perf_counter() - began) * 1000, 3)

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each marked test's outcome for its case."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when != "call":
        return
    recorded = _current(item)
    if recorded is None:
        return
    recorded.passed = report.passed
    if report.failed and call.excinfo is not None:
        recorded.error = f"{call.excinfo.typename}: {call.excinfo.value}"[:500]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Store the runs, then apply the gate."""
    plugin = session.config.pluginmanager.get_plugin("assay-session")
    if isinstance(plugin, AssayPlugin):
        plugin.finish(session)
