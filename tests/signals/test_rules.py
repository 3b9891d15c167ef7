"""Routing rules: management, files, routing once per (rule, trace) and per queue, hit
counts, and several workers on PostgreSQL routing the same traces at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from assay.errors import Conflict, InvalidInput, NotFound
from assay.settings import Settings
from assay.signals.hits import rule_hits
from assay.signals.rule_files import load_rules_file
from assay.signals.rules import (
    create_rule,
    delete_rule,
    find_routes,
    get_rule,
    list_rules,
    route,
    store_routes,
    update_rule,
)
from assay.signals.sampling import sampled
from assay.signals.worker import Worker, WorkerReport
from assay.store import Store
from assay.store.models import QueueItem, RuleMatch

from .conftest import SCORED, Project, tid


def _items(store: Store) -> list[tuple[str, int, str]]:
    with store.session() as session:
        rows = session.execute(
            select(QueueItem.trace_id, QueueItem.queue_id, QueueItem.reason).order_by(
                QueueItem.queue_id, QueueItem.trace_id
            )
        )
        return [(t, q, r) for t, q, r in rows]


def test_manage_rules(project: Project) -> None:
    triage = project.queue("triage")
    other = project.queue("other")
    with project.store.session() as session:
        rule = create_rule(
            session, project.id, "thumbs-down", "triage", conditions="feedback.thumbs <= 0"
        )
        assert (rule.queue_id, rule.queue, rule.matches, rule.enabled) == (
            triage,
            "triage",
            0,
            True,
        )
        assert [str(c) for c in rule.conditions] == ["feedback.thumbs <= 0"]
        with pytest.raises(Conflict, match="'thumbs-down' already exists"):
            create_rule(session, project.id, "thumbs-down", "triage")
        with pytest.raises(NotFound, match="review queue 'nope' does not exist"):
            create_rule(session, project.id, "x", "nope")
        with pytest.raises(
            InvalidInput, match=r"rule 'x' conditions\[0\]: condition 'thumbs <= 0'"
        ):
            create_rule(session, project.id, "x", "triage", conditions=["thumbs <= 0"])
        with pytest.raises(InvalidInput, match="rule 'x' sample_rate: must be a number in"):
            create_rule(session, project.id, "x", "triage", sample_rate=1.5)
        changed = update_rule(
            session,
            project.id,
            "thumbs-down",
            name="negative",
            queue=other,
            conditions=None,
            sample_rate=0.1,
            enabled=False,
            description="calibration now",
        )
        assert (changed.name, changed.queue, changed.conditions, changed.sample_rate) == (
            "negative",
            "other",
            [],
            0.1,
        )
        assert get_rule(session, project.id, rule.id) == changed
        assert list_rules(session, project.id, enabled=True) == []
        delete_rule(session, project.id, "negative")
        assert list_rules(session, project.id) == []


def test_a_trace_enters_a_queue_once_and_is_counted_once_per_rule(project: Project) -> None:
    triage = project.queue("triage")
    project.trace(0, status="error")
    project.trace(1)
    project.feedback(0, "thumbs", False)
    with project.store.session() as session:
        create_rule(session, project.id, "errors", "triage", conditions="status == error")
        create_rule(session, project.id, "thumbs", triage, conditions=["feedback.thumbs <= 0"])
    for _ in range(2):
        with project.store.session() as session:
            report = route(session, project.id, [tid(0), tid(1), tid(9)])
    assert (report.matched, report.enqueued) == (0, 0)  # the second time: nothing new
    items = _items(project.store)
    assert [(t, q) for t, q, _ in items] == [(tid(0), triage)]
    assert items[0][2] == "errors: status == error (was error)"
    with project.store.session() as session:
        rules = {r.name: r for r in list_rules(session, project.id)}
        assert rules["errors"].matches == 1
        assert rules["thumbs"].matches == 1
        enqueued = {
            rule_id: flag
            for rule_id, flag in session.execute(select(RuleMatch.rule_id, RuleMatch.enqueued))
        }
    assert enqueued == {rules["errors"].id: 1, rules["thumbs"].id: 0}


def test_a_rule_switched_off_after_matching_records_nothing(project: Project) -> None:
    # The worker matches in a read transaction and records in a write transaction;
    # a rule switched off or deleted in between must not record its matches.
    project.queue("triage")
    project.trace(0, status="error")
    project.trace(1, status="error")
    with project.store.session() as session:
        create_rule(session, project.id, "errors", "triage", conditions="status == error")
        create_rule(session, project.id, "again", "triage", conditions="status == error")
    with project.store.session() as session:
        found = find_routes(session, project.id, [tid(0), tid(1)])
    assert sorted((rule.name, sorted(hits)) for rule, hits in found) == [
        ("again", [tid(0), tid(1)]),
        ("errors", [tid(0), tid(1)]),
    ]
    with project.store.session() as session:
        update_rule(session, project.id, "errors", enabled=False)
        delete_rule(session, project.id, "again")
    with project.store.session() as session:
        report = store_routes(session, project.id, found)
    assert (report.matched, report.enqueued) == (0, 0)
    assert _items(project.store) == []


def test_a_calibration_sample_keeps_its_share(project: Project) -> None:
    project.queue("calibration")
    project.traces(range(200))
    with project.store.session() as session:
        rule = create_rule(session, project.id, "calibration", "calibration", sample_rate=0.2)
        report = route(session, project.id, [tid(n) for n in range(200)])
    expected = {tid(n) for n in range(200) if sampled("rule", rule.id, tid(n), 0.2)}
    assert report.matched == 200
    assert report.enqueued == len(expected)
    assert 20 <= len(expected) <= 60
    items = _items(project.store)
    assert {t for t, _, _ in items} == expected
    assert items[0][2] == "calibration: calibration sample (20% of traces)"


def test_rule_hits_per_day(project: Project) -> None:
    project.queue("triage")
    project.trace(0, status="error")
    project.trace(1, status="error")
    with project.store.session() as session:
        create_rule(session, project.id, "errors", "triage", conditions="status == error")
        create_rule(session, project.id, "idle", "triage", conditions="status == unset")
        route(session, project.id, [tid(0), tid(1)])
    now = datetime.now(UTC)
    with project.store.session() as session:
        hits = {h.name: h for h in rule_hits(session, project.id, days=3, now=now)}
        with pytest.raises(InvalidInput, match="days: must be between 1 and 366"):
            rule_hits(session, project.id, days=0)
    errors = hits["errors"]
    assert (errors.matches, errors.enqueued, errors.queue) == (2, 2, "triage")
    assert errors.last_match_at is not None
    assert abs((now - errors.last_match_at).total_seconds()) < 120
    assert [d.day for d in errors.per_day] == [
        (now - timedelta(days=2)).date(),
        (now - timedelta(days=1)).date(),
        now.date(),
    ]
    assert [d.matches for d in errors.per_day] == [0, 0, 2]
    idle = hits["idle"]
    assert (idle.matches, idle.enqueued, idle.last_match_at) == (0, 0, None)


def test_rule_hits_count_matches_by_utc_day(project: Project) -> None:
    project.queue("triage")
    with project.store.session() as session:
        rule = create_rule(session, project.id, "errors", "triage", conditions="status == error")
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    times = [
        datetime(2026, 3, 7, 23, 59, tzinfo=UTC),  # before the three days asked for
        datetime(2026, 3, 9, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 9, 23, 30, tzinfo=UTC),
        datetime(2026, 3, 10, 0, 30, tzinfo=UTC),
        now,
    ]
    with project.store.session() as session:
        session.add_all(
            RuleMatch(rule_id=rule.id, trace_id=tid(n), enqueued=1, matched_at=at)
            for n, at in enumerate(times)
        )
    with project.store.session() as session:
        if project.store.dialect == "postgresql":
            # Days are UTC days whatever the connection's time zone (23:30 UTC is
            # already the next day in UTC+14).
            session.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))
        (hits,) = rule_hits(session, project.id, days=3, now=now)
    assert [(d.day.isoformat(), d.matches) for d in hits.per_day] == [
        ("2026-03-08", 0), ("2026-03-09", 2), ("2026-03-10", 2),
    ]  # fmt: skip
    assert (hits.enqueued, hits.last_match_at) == (5, now)


RULES_TOML = """
[[rules]]
name = "negative-feedback"
queue = "triage"
conditions = ["feedback.thumbs <= 0"]

[[rules]]
name = "calibration"
queue = "triage"
sample_rate = 0.02
description = "random sample"
"""

RULES_YAML = """
- name: negative-feedback
  queue: triage
  conditions:
    - {field: feedback.thumbs, op: le, value: -1}
  enabled: false
"""

RULES_JSON = '{"rules": [{"name": "errors", "queue": "triage", "conditions": "status == error"}]}'


def test_rules_load_from_files(project: Project, tmp_path: Path) -> None:
    project.queue("triage")
    (tmp_path / "rules.toml").write_text(RULES_TOML)
    (tmp_path / "rules.yaml").write_text(RULES_YAML)
    (tmp_path / "rules.json").write_text(RULES_JSON)
    with project.store.session() as session:
        first = load_rules_file(session, project.id, tmp_path / "rules.toml")
        assert [(r.name, r.sample_rate, r.description) for r in first] == [
            ("negative-feedback", 1.0, ""),
            ("calibration", 0.02, "random sample"),
        ]
        # The same name again updates the rule.
        (updated,) = load_rules_file(session, project.id, tmp_path / "rules.yaml")
        assert updated.id == first[0].id
        assert ([str(c) for c in updated.conditions], updated.enabled) == (
            ["feedback.thumbs <= -1"],
            False,
        )
        load_rules_file(session, project.id, tmp_path / "rules.json")
        assert [r.name for r in list_rules(session, project.id)] == [
            "calibration",
            "errors",
            "negative-feedback",
        ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # nothing dialect-specific
@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("r.toml", "[[rules]]\nname = 'a'\n", r"r\.toml: rule 1: 'queue' is missing"),
        ("r.json", '[{"name": "a", "queue": "triage", "when": 1}]', "unknown keys when"),
        (
            "r.json",
            '[{"name": "a", "queue": "triage", "conditions": ["status is bad"]}]',
            r"rule 'a' conditions\[0\]: condition 'status is bad': unknown operator 'is'",
        ),
        ("r.json", '[{"name": "a", "queue": "nope"}]', "rule 'a': review queue 'nope' does not"),
        ("r.json", "[{", r"r\.json: invalid JSON at line 1"),
        ("r.json", '[{"name": "a", "name": "b", "queue": "triage"}]', "duplicate key 'name'"),
        ("r.yaml", "- name: [", r"r\.yaml: invalid YAML"),
        ("r.txt", "", "unsupported format '.txt' for a rules file"),
        ("r.json", '{"name": "a"}', "expected a list of rules"),
    ],
)
def test_rules_file_errors_name_the_rule_and_field(
    project: Project, tmp_path: Path, name: str, text: str, error: str
) -> None:
    project.queue("triage")
    (tmp_path / name).write_text(text)
    with project.store.session() as session, pytest.raises((InvalidInput, NotFound), match=error):
        load_rules_file(session, project.id, tmp_path / name)
    with project.store.session() as session:
        assert list_rules(session, project.id) == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_workers_enqueue_and_score_once(
    project: Project, settings: Settings, db_url: str
) -> None:
    """Four workers (threads, each with its own store connection pool) drain the same
    traces at once on PostgreSQL: every matching trace is enqueued exactly once, and
    every score job runs once."""
    triage = project.queue("triage")
    traces = project.traces(range(0, 60, 3), output="no")
    traces += project.traces((n for n in range(60) if n % 3), output="please")
    for n in range(0, 60, 4):
        project.feedback(n, "thumbs", False)
    project.scorer("polite", "counting")
    with project.store.session() as session:
        create_rule(session, project.id, "rude", "triage", conditions="passed.polite == false")
        create_rule(session, project.id, "thumbs", "triage", conditions="feedback.thumbs <= 0")
    for trace_id in traces:
        SCORED.pop(trace_id, None)
    small = settings.model_copy(update={"worker_batch": 4})
    stores = [Store(db_url) for _ in range(4)]
    start = threading.Barrier(len(stores))
    reports: list[WorkerReport] = []
    lock = threading.Lock()

    def drain(store: Store) -> None:
        worker = Worker(store, small)
        start.wait()
        idle = 0
        while idle < 3:
            report = worker.run_once()
            with lock:
                reports.append(report)
            idle = 0 if report.busy else idle + 1

    threads = [threading.Thread(target=drain, args=(s,)) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for store in stores:
            store.dispose()
    assert not any(t.is_alive() for t in threads)
    rude = {tid(n) for n in range(0, 60, 3)}
    thumbs = {tid(n) for n in range(0, 60, 4)}
    assert {t: SCORED[t] for t in traces} == dict.fromkeys(traces, 1)
    assert sum(r.scores for r in reports) == 60
    assert sum(r.traces for r in reports) == 60
    assert sum(r.matches for r in reports) == len(rude) + len(thumbs)
    assert sum(r.enqueued for r in reports) == len(rude | thumbs)
    assert sorted(t for t, _, _ in _items(project.store)) == sorted(rude | thumbs)
    with project.store.session() as session:
        matches = {r.name: r.matches for r in list_rules(session, project.id)}
        rows = session.scalar(select(func.count()).select_from(RuleMatch))
        per_queue = session.scalar(
            select(func.count()).select_from(QueueItem).where(QueueItem.queue_id == triage)
        )
    assert matches == {"rude": len(rude), "thumbs": len(thumbs)}
    assert rows == len(rude) + len(thumbs)
    assert per_queue == len(rude | thumbs)
