"""Online scorers: deterministic sampling, filters, verdicts and errors stored by the
worker, management, and backfill of history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assay.errors import Conflict, InvalidInput, NotFound
from assay.settings import Settings
from assay.signals.facts import TraceFacts
from assay.signals.online import (
    backfill,
    create_online_scorer,
    delete_online_scorer,
    get_online_scorer,
    list_online_scorers,
    trace_scores,
    update_online_scorer,
)
from assay.signals.sampling import sampled
from assay.signals.worker import Worker

from .conftest import BASE, Project, tid


def test_sampling_is_deterministic_and_near_its_rate() -> None:
    ids = [f"{i * 7919:032x}" for i in range(2000)]
    kept = {t for t in ids if sampled("scorer", 1, t, 0.1)}
    # Binomial(2000, 0.1): sd 13.4; 150-250 is beyond 3.7 sd either side.
    assert 150 <= len(kept) <= 250
    assert kept == {t for t in ids if sampled("scorer", 1, t, 0.1)}
    assert kept != {t for t in ids if sampled("scorer", 2, t, 0.1)}
    assert kept != {t for t in ids if sampled("rule", 1, t, 0.1)}
    assert kept <= {t for t in ids if sampled("scorer", 1, t, 0.3)}
    assert all(sampled("scorer", 1, t, 1.0) for t in ids)


def _facts(trace_id: str, model: str) -> TraceFacts:
    return TraceFacts(row_id=1, project_id=1, trace_id=trace_id, attributes={"model": model})


def test_a_scorer_selects_sampled_traces_that_meet_its_filters(project: Project) -> None:
    with project.store.session() as session:
        scorer = create_online_scorer(
            session,
            project.id,
            "polite",
            "regex:pattern=please",
            sample_rate=0.5,
            filters=["model == gpt-x"],
        )
    ids = [f"{i:032x}" for i in range(1, 401)]
    chosen = [t for t in ids if scorer.selects(_facts(t, "gpt-x"))]
    assert 150 <= len(chosen) <= 250
    assert chosen == [t for t in ids if sampled("scorer", scorer.id, t, 0.5)]
    assert not any(scorer.selects(_facts(t, "other")) for t in ids)


def test_manage_online_scorers(project: Project) -> None:
    with project.store.session() as session:
        made = create_online_scorer(session, project.id, "polite", "regex:pattern=please,flags=i")
        assert made.spec.name == "regex"
        assert made.spec.args == {"pattern": "please", "flags": "i"}
        assert made.enabled
        assert made.sample_rate == 1.0
        with pytest.raises(Conflict, match="'polite' already exists"):
            create_online_scorer(session, project.id, "polite", "exact")
        with pytest.raises(InvalidInput, match="unknown scorer 'nope'"):
            create_online_scorer(session, project.id, "other", "nope")
        with pytest.raises(InvalidInput, match=r"sample_rate: must be a number in \(0, 1\]"):
            create_online_scorer(session, project.id, "other", "exact", sample_rate=0)
        with pytest.raises(
            InvalidInput, match=r"filters\[0\]: condition 'size > 1': unknown field"
        ):
            create_online_scorer(session, project.id, "other", "exact", filters=["size > 1"])
        with pytest.raises(InvalidInput, match="online scorer name 'has space'"):
            create_online_scorer(session, project.id, "has space", "exact")
        changed = update_online_scorer(
            session, project.id, "polite", enabled=False, sample_rate=0.25, filters="status == ok"
        )
        assert (changed.enabled, changed.sample_rate, [str(c) for c in changed.filters]) == (
            False,
            0.25,
            ["status == ok"],
        )
        assert get_online_scorer(session, project.id, made.id) == changed
        assert list_online_scorers(session, project.id, enabled=True) == []
        delete_online_scorer(session, project.id, "polite")
        with pytest.raises(NotFound, match="online scorer 'polite' does not exist"):
            get_online_scorer(session, project.id, "polite")


def test_the_worker_stores_verdicts_confidence_and_errors(
    project: Project, settings: Settings
) -> None:
    project.trace(0, output="Yes, please wait.")
    project.trace(1, output="No.")
    project.trace(2, input=None, output="yes")
    project.scorer("polite", "regex:pattern=please")
    project.scorer("confident", "confident:confidence=0.25")
    project.scorer("exact", "exact")  # needs a reference, which traces do not have
    project.scorer("only-errors", "regex:pattern=x", filters=["status == error"])
    report = Worker(project.store, settings).run_once()
    assert report.scores == 9
    with project.store.session() as session:
        scores = {
            (s.trace_id, s.scorer): s
            for s in trace_scores(session, project.id, [tid(0), tid(1), tid(2)])
        }
    polite = scores[(tid(0), "polite")]
    assert (polite.value, polite.passed, polite.error) == (1.0, True, None)
    assert polite.reason.startswith("/please/ matched")
    assert (scores[(tid(1), "polite")].value, scores[(tid(1), "polite")].passed) == (0.0, False)
    assert scores[(tid(0), "confident")].confidence == 0.25
    assert scores[(tid(0), "confident")].passed is True
    assert scores[(tid(0), "polite")].confidence is None
    exact = scores[(tid(0), "exact")]
    assert (exact.value, exact.passed) == (None, None)
    assert exact.error is not None
    assert "reference" in exact.error
    no_input = scores[(tid(2), "polite")]
    assert no_input.error == "the trace has no input recorded, so it cannot be scored"
    assert not any(name == "only-errors" for _, name in scores)
    assert Worker(project.store, settings).run_once().scores == 0


def test_history_is_scored_by_backfill_only(project: Project, settings: Settings) -> None:
    for n in range(6):
        project.trace(n, output="please" if n % 2 else "no")
    with project.store.session() as session:
        scorer = create_online_scorer(session, project.id, "polite", "regex:pattern=please")
    worker = Worker(project.store, settings)
    assert worker.run_once().scores == 0  # the traces ended before the scorer existed
    with project.store.session() as session:
        assert backfill(session, scorer, since=BASE + timedelta(minutes=1), limit=3) == 3
        with pytest.raises(InvalidInput, match="limit: must be at least 1"):
            backfill(session, scorer, limit=0)
    assert worker.run_once().scores == 3
    with project.store.session() as session:
        scored = {s.trace_id for s in trace_scores(session, project.id, [tid(n) for n in range(6)])}
    assert scored == {tid(3), tid(4), tid(5)}  # the newest three since minute 1
    with project.store.session() as session:
        assert backfill(session, scorer, until=BASE + timedelta(minutes=4)) == 3
        assert backfill(session, scorer) == 0
    assert worker.run_once().scores == 3
