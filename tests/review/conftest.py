"""Fixtures for review tests: a project with traces, a few users and a queue.

Traces and users are inserted as rows: review reads them and nothing more, and an
Argon2 password hash costs ~50 ms a user.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assay.accounts import UserView
from assay.projects import create_project
from assay.review import (
    Claim,
    QueueView,
    SubmitResult,
    claim_next,
    create_queue,
    enqueue,
    get_queue,
    list_items,
    submit,
)
from assay.store import Store
from assay.store.models import Span, Trace, User

# 2025-11-20T00:53:20Z, as in the trace tests.
T0 = 1_763_600_000_000_000_000
MS = 1_000_000
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

FIELDS: list[dict[str, Any]] = [
    {"name": "verdict", "type": "categorical", "options": ["good", "bad"]},
    {"name": "score", "type": "ordinal", "scale": 5, "required": False},
    {"name": "issues", "type": "tags", "options": ["wrong", "rude", "slow"]},
    {"name": "fix", "type": "correction", "required": False},
    {"name": "note", "type": "text"},
]
ANNOTATORS = ("ann", "bo", "cy")
GOOD = {"verdict": "good", "score": 5}
BAD = {"verdict": "bad", "score": 1, "issues": ["wrong"], "fix": "Refunds take 5 days."}


def trace_id(n: int) -> str:
    return f"{n + 1:032x}"


def trace_row(project_id: int, n: int, **fields: Any) -> Trace:
    """Trace number ``n``: a question, an answer, a locale slice (even: en, odd: de)."""
    row: dict[str, Any] = {
        "project_id": project_id,
        "trace_id": trace_id(n),
        "name": "chat",
        "has_root": 1,
        "start_ns": T0 + n * 1000 * MS,
        "end_ns": T0 + n * 1000 * MS + 800 * MS,
        "status": "ok",
        "model": "gpt-4o-mini",
        "input": f"Question {n}?",
        "output": f"Answer {n}.",
        "slices": json.dumps({"locale": "de" if n % 2 else "en"}),
        "span_count": 0,
    }
    row.update(fields)
    return Trace(**row)


def add_trace(store: Store, project_id: int, n: int, **fields: Any) -> str:
    """Insert trace number ``n`` (see :func:`trace_row`)."""
    with store.write_session() as session:
        session.add(trace_row(project_id, n, **fields))
    return trace_id(n)


def add_steps(store: Store, project_id: int, tid: str) -> None:
    """A root span with a retrieval step (two documents) and a tool call under it."""
    common = {"project_id": project_id, "trace_id": tid, "status": "ok"}
    with store.write_session() as session:
        session.add_all(
            [
                Span(span_id="a" * 16, name="chat", kind="chain", start_ns=T0, end_ns=T0 + 9 * MS,
                     **common),
                Span(span_id="b" * 16, parent_span_id="a" * 16, name="search", kind="retrieval",
                     input="refunds", start_ns=T0 + MS, end_ns=T0 + 2 * MS,
                     attributes=json.dumps({
                         "retrieval.documents.1.document.content": "Refunds take 5 days.",
                         "retrieval.documents.1.document.id": "kb-2",
                         "retrieval.documents.0.document.content": "Shipping is free.",
                         "retrieval.documents.0.document.score": 0.9,
                     }), **common),
                Span(span_id="c" * 16, parent_span_id="a" * 16, name="lookup_order",
                     kind="tool", input='{"order": 42}', output="shipped",
                     start_ns=T0 + 3 * MS, end_ns=T0 + 4 * MS, **common),
            ]
        )  # fmt: skip


def add_user(store: Store, name: str, role: str = "annotator") -> UserView:
    with store.write_session() as session:
        row = User(username=name, password_hash="!", role=role)
        session.add(row)
        session.flush()
        return _view(row)


def _view(row: User) -> UserView:
    return UserView(id=row.id, username=row.username, role=row.role, created_at=row.created_at)


@dataclass
class Review:
    """A queue with items, its project and users, and shortcuts that commit."""

    store: Store
    project_id: int
    queue: QueueView
    traces: list[str]
    items: list[int]
    users: dict[str, UserView] = field(default_factory=dict)

    def user(self, name: str, role: str = "annotator") -> UserView:
        if name not in self.users:
            self.users[name] = add_user(self.store, name, role)
        return self.users[name]

    def claim(self, name: str, **kw: Any) -> Claim | None:
        kw.setdefault("now", NOW)
        with self.store.write_session() as session:
            return claim_next(session, self.queue, self.user(name), **kw)

    def submit(self, name: str, item_id: int, values: Any, **kw: Any) -> SubmitResult:
        kw.setdefault("now", NOW)
        with self.store.write_session() as session:
            return submit(session, self.queue, self.user(name), item_id, values, **kw)

    def label(
        self, name: str, values: Any, *, now: datetime = NOW, rng: Any = None, **kw: Any
    ) -> SubmitResult:
        """Claim the next item and label it, in one transaction."""
        user = self.user(name)
        with self.store.write_session() as session:
            claim = claim_next(session, self.queue, user, now=now, rng=rng)
            assert claim is not None, f"nothing left for {name}"
            return submit(session, self.queue, user, claim.item_id, values, now=now, **kw)

    def refresh(self) -> QueueView:
        with self.store.session() as session:
            self.queue = get_queue(session, self.project_id, self.queue.name)
        return self.queue


MakeReview = Callable[..., Review]


@pytest.fixture
def make_review(store: Store) -> MakeReview:
    """Builds a project with ``traces`` traces, all in a queue of the given settings."""

    def build(traces: int = 4, name: str = "answers", **settings: Any) -> Review:
        with store.write_session() as session:
            project_id = create_project(session, "bot").id
            session.add_all(trace_row(project_id, n) for n in range(traces))
            session.flush()
            queue = create_queue(session, project_id, {"name": name, "fields": FIELDS, **settings})
            for n in range(traces):
                enqueue(session, project_id, queue.id, trace_id(n), reason="thumbs down")
            annotators = [User(username=n, password_hash="!", role="annotator") for n in ANNOTATORS]
            session.add_all(annotators)
            session.flush()
            users = {u.username: _view(u) for u in annotators}
        review = Review(store, project_id, queue, [trace_id(n) for n in range(traces)], [], users)
        review.refresh()
        with store.session() as session:
            review.items = [i.id for i in list_items(session, review.queue, limit=500)]
        return review

    return build


@pytest.fixture
def review(make_review: MakeReview) -> Review:
    """Four traces in a queue of overlap 2."""
    return make_review()


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)
