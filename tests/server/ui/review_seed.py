"""A review queue with items in every state, for the review pages in-process and in
Chromium.

``support-answers`` (overlap 2) holds ``traces`` traces. ``ann`` and ``bob`` label the
first ``labelled`` items, three a week over the weeks before :data:`NOW`; they agree
on the verdict of items 0, 1, 4, 5, 8, 9 ... (resolved, unanimous) and disagree on
the rest (disputed), so Krippendorff's alpha on ``verdict`` is far under the floor.
The remaining items are open; the first of them, trace :data:`FIRST_OPEN`, is the
XSS probe with a retrieval step and a tool call.

Traces and users are inserted as rows (review reads them and nothing more): an
Argon2 hash costs ~50 ms a user, and these users sign in by session cookie.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assay.accounts import UserView
from assay.review import (
    QueueView,
    claim_next,
    create_queue,
    enqueue,
    get_queue,
    list_items,
    submit,
)
from assay.server.ui.sessions import COOKIE_NAME, SessionManager, UiSession
from assay.store import Store
from assay.store.models import RoutingRule, RuleMatch, Span, Trace, User

from .live import XSS_INPUT

QUEUE = "support-answers"
INSTRUCTIONS = "Judge the answer against the help centre.\nWrite the answer it should have given."
FIELDS: list[dict[str, Any]] = [
    {"name": "verdict", "type": "categorical", "options": ["good", "bad", "unsure"]},
    {
        "name": "score",
        "type": "ordinal",
        "scale": 5,
        "anchors": {"1": "wrong", "5": "perfect"},
        "description": "How good is the answer?",
    },
    {"name": "on_topic", "type": "boolean"},
    {"name": "issues", "type": "tags", "options": ["wrong", "rude", "slow"]},
    {"name": "fix", "type": "correction", "required": False},
    {"name": "note", "type": "text"},
]
NOW = datetime.now(UTC).replace(microsecond=0)
T0 = 1_763_600_000_000_000_000
MS = 1_000_000
XSS_OUTPUT = "</pre><script>window.__xss = 3</script>"


def trace_id(n: int) -> str:
    """The id of seeded trace ``n``."""
    return f"{n + 1:032x}"


def ann_label(i: int) -> dict[str, Any]:
    """What ``ann`` says of item ``i``."""
    return {"verdict": "good" if i % 2 else "bad", "score": 3, "on_topic": True}


def bob_label(i: int) -> dict[str, Any]:
    """What ``bob`` says: ``ann``'s verdict on items 0, 1, 4, 5, ..., the other one else."""
    agree = i % 4 in (0, 1)
    verdict = ann_label(i)["verdict"] if agree else ("bad" if i % 2 else "good")
    return {"verdict": verdict, "score": 3, "on_topic": True, "note": f"bob on {i}"}


@dataclass
class ReviewSeed:
    """What :func:`seed_review` made.

    Attributes:
        queue: The queue, as seeded.
        traces: Trace ids, in item order.
        items: Item ids, in trace order.
        users: The users by name (``ada`` adjudicates; the others annotate).
        first_open: Index of the first item nobody labelled.
    """

    queue: QueueView
    traces: list[str]
    items: list[int]
    users: dict[str, UserView] = field(default_factory=dict)
    first_open: int = 0

    @property
    def disputed(self) -> list[int]:
        """Ids of the disputed items, oldest first."""
        return [self.items[i] for i in range(self.first_open) if i % 4 in (2, 3)]

    @property
    def resolved(self) -> list[int]:
        """Ids of the resolved items, oldest first."""
        return [self.items[i] for i in range(self.first_open) if i % 4 in (0, 1)]


def add_user(store: Store, name: str, role: str) -> UserView:
    """A user row that cannot sign in with a password (sessions are made directly)."""
    with store.write_session() as session:
        row = User(username=name, password_hash="!", role=role)
        session.add(row)
        session.flush()
        return UserView(id=row.id, username=name, role=role, created_at=row.created_at)


def add_trace(store: Store, project_id: int, n: int, *, probe: bool = False) -> str:
    """Trace ``n``: a question and an answer; the probe holds XSS and two steps."""
    tid = trace_id(n)
    start = T0 + n * 1000 * MS
    with store.write_session() as session:
        session.add(
            Trace(
                project_id=project_id,
                trace_id=tid,
                name="support_turn",
                has_root=1,
                start_ns=start,
                end_ns=start + 800 * MS,
                status="ok",
                model="gpt-4o-mini",
                input=XSS_INPUT if probe else f"Where is parcel {n}?",
                output=XSS_OUTPUT if probe else f"Parcel {n} is on its way.",
                slices=json.dumps({"locale": "de" if n % 2 else "en"}),
                span_count=3 if probe else 0,
            )
        )
        if probe:
            common = {"project_id": project_id, "trace_id": tid, "status": "ok"}
            session.add_all(
                [
                    Span(span_id="a" * 16, name="support_turn", kind="chain", start_ns=start,
                         end_ns=start + 800 * MS, **common),
                    Span(span_id="b" * 16, parent_span_id="a" * 16, name="search_kb",
                         kind="retrieval", input="refund policy", start_ns=start + MS,
                         end_ns=start + 2 * MS, attributes=json.dumps({
                             "retrieval.documents.0.document.content": "Refunds take 5 days.",
                             "retrieval.documents.0.document.id": "kb-7",
                         }), **common),
                    Span(span_id="c" * 16, parent_span_id="a" * 16, name="lookup_order",
                         kind="tool", input='{"order": 42}', output="shipped on Monday",
                         start_ns=start + 3 * MS, end_ns=start + 4 * MS, **common),
                ]
            )  # fmt: skip
    return tid


def seed_review(
    store: Store,
    project_id: int,
    *,
    traces: int = 16,
    labelled: int = 10,
    annotators: tuple[str, ...] = ("cat",),
) -> ReviewSeed:
    """The queue, its traces and labels, an adjudicator ``ada`` and annotators ``ann``,
    ``bob`` and ``annotators`` (who have labelled nothing)."""
    tids = [add_trace(store, project_id, n, probe=n == labelled) for n in range(traces)]
    with store.write_session() as session:
        queue = create_queue(
            session,
            project_id,
            {
                "name": QUEUE,
                "description": "Answers users disliked",
                "instructions": INSTRUCTIONS,
                "overlap": 2,
                "fields": FIELDS,
            },
        )
        for n, tid in enumerate(tids):
            enqueue(session, project_id, queue.id, tid, source="rule", reason=f"thumbs down {n}")
    users = {"ada": add_user(store, "ada", "adjudicator")}
    for name in ("ann", "bob", *annotators):
        users[name] = add_user(store, name, "annotator")
    for i in range(labelled):
        # Three items a week, the oldest weeks first, so alpha has weeks to compare.
        when = NOW - timedelta(weeks=(labelled - i) // 3 + 1)
        for name, label in (("ann", ann_label(i)), ("bob", bob_label(i))):
            with store.write_session() as session:
                claim = claim_next(session, queue, users[name], now=when)
                assert claim is not None
                assert claim.trace_id == tids[i]
                submit(session, queue, users[name], claim.item_id, label, seconds=20 + i, now=when)
    with store.session() as session:
        queue = get_queue(session, project_id, QUEUE)
        items = [item.id for item in list_items(session, queue, limit=500)]
    return ReviewSeed(queue=queue, traces=tids, items=items, users=users, first_open=labelled)


def add_rule(store: Store, project_id: int, queue_id: int, tids: list[str]) -> None:
    """A routing rule ``thumbs-down`` that matched ``tids`` and enqueued all but one."""
    with store.write_session() as session:
        rule = RoutingRule(
            project_id=project_id, queue_id=queue_id, name="thumbs-down", matches=len(tids)
        )
        session.add(rule)
        session.flush()
        for n, tid in enumerate(tids):
            session.add(RuleMatch(rule_id=rule.id, trace_id=tid, enqueued=int(n > 0)))


def session_cookie(sessions: SessionManager, user: UserView) -> tuple[str, str]:
    """A signed-in session cookie's value for ``user``, and its CSRF token."""
    session = UiSession.fresh(user.id)
    return sessions.codec().dumps(session), session.csrf


def sign_in(client: TestClient, app: FastAPI, user: UserView) -> str:
    """Sign ``client`` in as ``user`` by cookie; the session's CSRF token."""
    value, csrf = session_cookie(app.state.assay_ui_sessions, user)
    client.cookies.set(COOKIE_NAME, value)
    return csrf
