"""`assay demo --no-serve`: the whole first-run path, through the real CLI, server and OTel SDK."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.accounts import authenticate
from assay.cli.main import app
from assay.demo.corpus import load_exchanges
from assay.store import Store
from assay.store.models import (
    Annotation,
    Case,
    Dataset,
    Feedback,
    QueueItem,
    Release,
    Run,
    Span,
    Trace,
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo writes its gate policy to .assay/ of the working directory.
    monkeypatch.chdir(tmp_path)


def _run(db_url: str, traces: int) -> str:
    result = CliRunner().invoke(
        app, ["demo", "--no-serve", "--traces", str(traces), "--db", db_url, "--port", "0"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_sets_up_everything_and_prints_next_steps(db_url) -> None:
    output = _run(db_url, 40)
    password = re.search(r"password (\S+)", output)
    key = re.search(r"API key\s+(ak_\S+)", output)
    assert password
    assert key
    assert "assay traces ls --project support-bot" in output

    store = Store(db_url)
    try:
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(Trace)) == 40
            assert session.scalar(select(func.count()).select_from(Release)) == 2
            assert session.scalar(select(func.count()).select_from(Feedback)) > 0
            kinds = set(session.scalars(select(Span.kind).distinct()))
            assert {"chain", "retrieval", "llm"} <= kinds
            # Every trace is tied to a registered release, and carries real corpus text.
            refs = set(session.scalars(select(Trace.release_ref).distinct()))
            names = set(session.scalars(select(Release.name)))
            assert refs <= names
            questions = {e.question for e in load_exchanges()}
            inputs = set(session.scalars(select(Trace.input)))
            assert inputs
            assert inputs <= questions
            assert authenticate(session, "demo", password.group(1)).role == "admin"
            # The evaluation loop: cases from the traffic, linked to their traces, a run
            # per release, and the gate verdict on v2.
            provenance = set(session.scalars(select(Case.provenance)))
            trace_ids = set(session.scalars(select(Trace.trace_id)))
            assert provenance
            assert all(json.loads(p)["trace_id"] in trace_ids for p in provenance)
            runs = {r.release_ref: r for r in session.scalars(select(Run))}
            assert set(runs) == {"support-bot-v1", "support-bot-v2"}
            assert all(r.status == "completed" for r in runs.values())
            assert "gate" in json.loads(runs["support-bot-v2"].summary)
            _check_review(session, password.group(1))
    finally:
        store.dispose()
    assert "Evaluated   dataset support-golden@1" in output
    assert re.search(r"Reviewed\s+\d+ traces in queue triage", output)
    assert "/p/support-bot/queues/triage/agreement" in output
    assert "/compare?baseline=support-bot-v1-on-support-golden-v1" in output


def _check_review(session: Session, password: str) -> None:
    """The review loop: routed items, three labels each, all resolved, and promoted
    cases that lead back to their traces and labels."""
    items = session.scalars(select(QueueItem)).all()
    assert items, "no trace was routed to the triage queue"
    assert all(i.rule_id is not None for i in items)
    # A few of the newest items are left one label short, for the person trying it.
    waiting = [i for i in items if i.status == "open"]
    assert len(waiting) <= 5
    assert {i.status for i in items} - {"open"} == {"resolved"}
    labels = session.scalars(select(Annotation)).all()
    assert len(labels) == 3 * len(items) - len(waiting)
    for name in ("ana", "ben", "chiara"):
        assert authenticate(session, name, password).role == "annotator"
    regressions = session.scalar(select(Dataset).where(Dataset.name == "support-regressions"))
    assert regressions is not None
    promoted = [
        json.loads(c.provenance)
        for c in session.scalars(select(Case).where(Case.dataset_id == regressions.id))
    ]
    assert promoted
    routed = {i.trace_id: i for i in items}
    for provenance in promoted:
        assert provenance["source"] == "review"
        item = routed[provenance["trace_id"]]
        assert len(provenance["annotation_ids"]) == 3
        assert provenance["item_id"] == item.id


def test_the_default_demo_gate_blocks_v2(tmp_path: Path) -> None:
    output = _run(f"sqlite:///{tmp_path}/demo.db", 240)
    assert "v2 against v1: failed" in output
    assert "dropped in lang=it" in output
    assert (tmp_path / ".assay" / "demo-gate.toml").exists()


def test_demo_runs_again_on_the_same_store(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    _run(url, 10)
    output = _run(url, 10)
    store = Store(url)
    try:
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(Trace)) == 20
            password = re.search(r"password (\S+)", output)
            assert password
            authenticate(session, "demo", password.group(1))
            # Routed again, but no trace twice, and nobody labels an item twice.
            items = session.scalars(select(QueueItem)).all()
            assert len({i.trace_id for i in items}) == len(items)
            pairs = session.execute(select(Annotation.item_id, Annotation.user_id)).all()
            assert len(set(pairs)) == len(pairs)
    finally:
        store.dispose()
