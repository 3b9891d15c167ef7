"""The demo's review loop: routing rules, a triage queue, three simulated annotators who
disagree the way real ones do, adjudication, and promotion into a regression dataset.

Everything goes through the same functions the server, the CLI and the worker use
(:mod:`assay.signals`, :mod:`assay.review`); only the annotators are simulated. Each
has a temperament, drawn from a seeded generator so two demo runs label alike:

- ``ana`` is careful: she sees what the trace shows;
- ``ben`` is lenient: he rates good answers a notch higher and now and then passes
  a broken one;
- ``chiara`` is strict: she rates good answers a notch lower and now and then fails
  a good one.

Their disagreements go to adjudication (the demo admin settles each by majority,
with a reason), and the resolved items become cases of ``support-regressions``,
each with its trace as provenance. Running the demo again on the same store adds
nothing twice: queues, rules and users are reused, labels are only given to items
an annotator has not labelled, and promotion is idempotent.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.accounts import UserView, create_user, list_users, set_password
from assay.demo.bot import FALLBACK, answers
from assay.errors import Conflict, NotFound
from assay.projects import get_project
from assay.review import (
    QueueView,
    adjudicate,
    claim_next,
    create_queue,
    disputed_items,
    get_queue,
    item_labels,
    promote,
    queue_agreement,
    submit,
)
from assay.settings import Settings
from assay.signals import Worker, create_rule, get_rule
from assay.store.engine import Store
from assay.store.models import Assignment, QueueItem

QUEUE = "triage"
DATASET = "support-regressions"
ANNOTATORS = ("ana", "ben", "chiara")
LEFT_FOR_YOU = 5
"""Items the simulated annotators leave one label short, for the person trying the demo."""
ERROR_OUTPUT = "Sorry, something went wrong. Please try again."

QUEUE_DEFINITION: dict[str, Any] = {
    "name": QUEUE,
    "description": "Answers users were unhappy with, failed requests, and a calibration sample.",
    "instructions": (
        "Read the question and the answer (and the retrieved context, if any). Is the "
        "answer what a support agent should have said? If not, write the answer it "
        "should have given in 'correction': it becomes the reference of a regression case."
    ),
    "overlap": 3,
    "agreement_floor": 0.667,
    "fields": [
        {
            "name": "verdict",
            "type": "categorical",
            "options": ["good", "bad"],
            "description": "Would you send this answer to the user?",
        },
        {
            "name": "helpfulness",
            "type": "ordinal",
            "scale": 5,
            "anchors": {"1": "useless or wrong", "3": "partly helps", "5": "fully answers"},
        },
        {
            "name": "issues",
            "type": "tags",
            "options": ["error", "wrong_language", "incomplete", "tone"],
        },
        {"name": "correction", "type": "correction", "required": False},
        {"name": "notes", "type": "text"},
    ],
}

# (name, description, conditions, sample rate)
RULES: tuple[tuple[str, str, list[str], float], ...] = (
    ("thumbs-down", "A user gave the answer a thumbs down.", ["feedback.thumbs <= 0"], 1.0),
    ("errors", "The request failed.", ["status == error"], 1.0),
    ("calibration", "A random 5% of traffic, to see what nobody complained about.", [], 0.05),
)


@dataclass(frozen=True)
class Temperament:
    """How a simulated annotator departs from what the trace shows.

    Attributes:
        name: The annotator.
        miss_bad: Chance of calling a broken answer good.
        fail_good: Chance of calling a good answer bad.
        shift: Chance of rating a good answer one notch off, and which way.
    """

    name: str
    miss_bad: float
    fail_good: float
    shift: tuple[float, int]


TEMPERAMENTS = (
    Temperament("ana", 0.0, 0.02, (0.10, +1)),
    Temperament("ben", 0.12, 0.0, (0.35, +1)),
    Temperament("chiara", 0.0, 0.15, (0.30, -1)),
)


@dataclass(frozen=True)
class DemoReview:
    """What the review stage did, for the printed summary and tests."""

    routed: int
    items: int
    open_items: int
    annotations: int
    disputed: int
    adjudicated: int
    promoted: int
    dataset_version: int | None
    alpha: float | None
    annotators: tuple[str, ...]


def run_review(store: Store, project_name: str, password: str, *, seed: int = 11) -> DemoReview:
    """Rules, routing, labelling, adjudication and promotion on the demo's traffic.

    Args:
        store: The demo store, with the traffic and feedback already sent.
        project_name: The demo project.
        password: The password the simulated annotators get (the demo account's).
        seed: Seeds the annotators' temperaments.
    """
    with store.session() as session:
        project_id = get_project(session, project_name).id
        queue = _queue(session, project_id)
        _rules(session, project_id)
    routed = _route_everything(store)
    users = _annotators(store, password)
    rng = random.Random(seed)
    with store.session() as session:
        waiting = _unlabelled(session, queue, users[TEMPERAMENTS[-1].name])
    # The last annotator leaves a few items (the newest) for whoever signs in to the
    # demo: they wait for a third label, so "Start labelling" has something to show.
    leave = min(LEFT_FOR_YOU, waiting // 4)
    annotations = 0
    for temperament in TEMPERAMENTS:
        last = temperament is TEMPERAMENTS[-1]
        annotations += _label_queue(
            store,
            queue,
            users[temperament.name],
            temperament,
            rng,
            limit=waiting - leave if last else None,
        )
    with store.session() as session:
        disputed = len(disputed_items(session, queue, limit=10_000))
    adjudicated = _adjudicate_by_majority(store, queue, users["demo"])
    with store.session() as session:
        result = promote(
            session,
            project_id,
            queue,
            DATASET,
            message="Promoted from the triage queue by the demo",
            created_by="demo",
        )
        final = get_queue(session, project_id, QUEUE)
        report = queue_agreement(session, final, resamples=200)
    items = final.open + final.disputed + final.resolved
    open_items = final.open
    verdict = next((f for f in report.fields if f.field == "verdict"), None)
    return DemoReview(
        routed=routed,
        items=items,
        open_items=open_items,
        annotations=annotations,
        disputed=disputed,
        adjudicated=adjudicated,
        promoted=len(result.added),
        dataset_version=result.version.number if result.version else None,
        alpha=verdict.alpha if verdict else None,
        annotators=ANNOTATORS,
    )


def _queue(session: Session, project_id: int) -> QueueView:
    try:
        return get_queue(session, project_id, QUEUE)
    except NotFound:
        return create_queue(session, project_id, QUEUE_DEFINITION)


def _rules(session: Session, project_id: int) -> None:
    for name, description, conditions, rate in RULES:
        try:
            get_rule(session, project_id, name)
        except NotFound:
            create_rule(
                session,
                project_id,
                name,
                QUEUE,
                conditions=conditions,
                sample_rate=rate,
                description=description,
            )


def _route_everything(store: Store) -> int:
    """Run worker passes until one finds nothing: every trace and feedback routed."""
    # Every trace and feedback item is committed (acknowledged) by now, so nothing can
    # commit behind the cursor: no settle time, no commit lag.
    settings = Settings(worker_settle_s=0.0, worker_commit_lag_s=0.0)
    worker = Worker(store, settings, worker_id="demo")
    enqueued = 0
    for _ in range(1000):
        report = worker.run_once()
        enqueued += report.enqueued
        if not report.busy:
            break
    return enqueued


def _annotators(store: Store, password: str) -> dict[str, UserView]:
    with store.session() as session:
        for name in ANNOTATORS:
            try:
                create_user(session, name, password, role="annotator")
            except Conflict:
                set_password(session, name, password)
        return {u.username: u for u in list_users(session)}


def _label_queue(
    store: Store,
    queue: QueueView,
    user: UserView,
    temperament: Temperament,
    rng: random.Random,
    *,
    limit: int | None = None,
) -> int:
    """Label the items the queue hands this annotator, at most ``limit`` of them."""
    count = 0
    while limit is None or count < limit:
        with store.write_session() as session:
            claim = claim_next(session, queue, user, rng=rng)
            if claim is None:
                return count
            context = claim.context
            values = _label(context.output if context else None, temperament, rng)
            question = context.input if context else None
            if values["verdict"] == "bad" and isinstance(question, str):
                values["correction"] = answers().get(question, (FALLBACK, ""))[0]
            submit(
                session,
                queue,
                user,
                claim.item_id,
                values,
                seconds=round(rng.uniform(12, 75), 1),
            )
            count += 1
    return count


def _unlabelled(session: Session, queue: QueueView, user: UserView) -> int:
    """Open items this annotator has not been assigned yet."""
    assigned = select(Assignment.item_id).where(Assignment.user_id == user.id)
    count = session.scalar(
        select(func.count())
        .select_from(QueueItem)
        .where(
            QueueItem.queue_id == queue.id,
            QueueItem.status == "open",
            QueueItem.id.not_in(assigned),
        )
    )
    return int(count or 0)


def _label(output: Any, temperament: Temperament, rng: random.Random) -> dict[str, Any]:
    broken = not isinstance(output, str) or output.strip() in ("", ERROR_OUTPUT)
    draw = rng.random()
    good = draw < temperament.miss_bad if broken else draw >= temperament.fail_good
    if not good:
        return {"verdict": "bad", "helpfulness": 1, "issues": ["error"] if broken else []}
    chance, direction = temperament.shift
    helpfulness = 4 + (direction if rng.random() < chance else 0)
    return {"verdict": "good", "helpfulness": helpfulness, "issues": []}


def _adjudicate_by_majority(store: Store, queue: QueueView, adjudicator: UserView) -> int:
    """Settle each disputed item with its majority label, as a busy lead would."""
    count = 0
    with store.session() as session:
        pending = [item.id for item in disputed_items(session, queue, limit=10_000)]
    for item_id in pending:
        with store.write_session() as session:
            labels = [a.values for a in item_labels(session, item_id).annotations]
            verdict = Counter(v["verdict"] for v in labels).most_common(1)[0][0]
            chosen = next(v for v in labels if v["verdict"] == verdict)
            helpfulness = sorted(v["helpfulness"] for v in labels)[len(labels) // 2]
            adjudicate(
                session,
                queue,
                adjudicator,
                item_id,
                {**chosen, "helpfulness": helpfulness},
                f"Majority verdict '{verdict}' of {len(labels)}; median helpfulness.",
            )
            count += 1
    return count
