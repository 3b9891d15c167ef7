"""Promotion: resolved items become eval cases of a new dataset version.

Each resolved item (``single``, ``unanimous`` or ``adjudicated``) becomes the case
``trace-<trace id>``:

- ``input``: the trace's input (text, or chat messages);
- ``reference``: the value of the schema's reference field in the final label (a
  correction, or a categorical, boolean or ordinal verdict); None when it is empty;
- ``slices``: the trace's slices; ``tags``: the label's tags fields plus
  ``queue:<name>``; ``metadata.label``: the whole final label;
- ``provenance``: ``source`` ``review``, the trace, queue, item, why the item was
  routed (its ``reason`` and ``rule_id``), the ids and names behind the label (gold
  annotations left out), the resolution, the adjudicator and their reason
  (``resolution_reason``), and when it was resolved.

The new version is the latest one plus these cases (a case already there is
replaced by its new content). Promotion never drops a case already there, even one
whose input repeats another's (a dataset may keep such cases on purpose): only the
new cases are checked, and one whose input repeats a case already there (or an
earlier new one) is reported and left out. Case ids come from the trace and the
content is deterministic, so promoting the same items again adds no version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.datasets import (
    AddResult,
    CaseSpec,
    CaseView,
    Duplicate,
    VersionView,
    add_version,
    case_hash,
    check_name,
    exact_duplicates,
    get_dataset,
    version_cases,
)
from assay.errors import InvalidInput, NotFound
from assay.review.items import item_annotations, usernames
from assay.review.queues import QueueView
from assay.review.schema import LabelSchema
from assay.review.views import AnnotationView
from assay.store.models import QueueItem, Trace
from assay.traces import Content, TraceFilter, get_trace, parse_content
from assay.traces.query import trace_conditions
from assay.traces.times import as_utc

PROMOTABLE = ("single", "unanimous", "adjudicated")


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """An item that did not become a case, and why.

    Attributes:
        item_id: The item.
        trace_id: Its trace.
        reason: Why ("the item is disputed", "the trace has no input").
    """

    item_id: int
    trace_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class PromotionResult:
    """What :func:`promote` did.

    Attributes:
        version: The new version, or the latest one when nothing changed; None when
            there was nothing to promote into a dataset without versions.
        created: Whether a version was made.
        dataset_created: Whether the dataset was created.
        added: Case ids new in the dataset.
        changed: Case ids whose content changed (the item's label did).
        unchanged: Case ids that were there already with the same content.
        skipped: Items that did not become cases.
        duplicates: Promoted cases whose input repeats another case's: a new case
            that repeats one already there is left out (``dropped``); a case already
            there is never dropped.
    """

    version: VersionView | None
    created: bool
    dataset_created: bool
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    skipped: list[SkippedItem]
    duplicates: list[Duplicate]


def promote(
    session: Session,
    project_id: int,
    queue: QueueView,
    dataset: str,
    *,
    item_ids: Sequence[int] | None = None,
    trace_filter: TraceFilter | None = None,
    message: str = "",
    created_by: str = "",
) -> PromotionResult:
    """Add a queue's resolved items to a dataset as a new version.

    Args:
        session: A write session (the caller commits).
        project_id: The project; it must be the queue's.
        queue: The queue.
        dataset: The dataset's name; created when missing.
        item_ids: Only these items (each must be in the queue); None: every
            resolved item.
        trace_filter: Only items whose traces match it (bulk promotion of, say, one
            release's or one slice's traces).
        message: A note kept with the version.
        created_by: Who promotes.

    Raises:
        InvalidInput: A queue of another project, or an invalid dataset name or filter.
        NotFound: An item id not in the queue.
    """
    if queue.project_id != project_id:
        raise InvalidInput(f"queue {queue.name!r} belongs to another project")
    check_name(dataset)
    items, skipped = _items(session, queue, item_ids, trace_filter)
    traces = _traces(session, project_id, [item.trace_id for item in items])
    labels = item_annotations(session, [item.id for item in items], gold=False)
    adjudicators = usernames(session, {i.resolved_by for i in items if i.resolved_by is not None})
    cases: list[CaseSpec] = []
    for item in items:
        trace = traces.get(item.trace_id)
        if trace is None:
            skipped.append(SkippedItem(item.id, item.trace_id, "the trace has not arrived"))
            continue
        case = _case(session, queue, item, trace, labels.get(item.id, []), adjudicators, project_id)
        if isinstance(case, str):
            skipped.append(SkippedItem(item.id, item.trace_id, case))
        else:
            cases.append(case)
    latest, existing = _existing(session, project_id, dataset)
    cases, repeats = _new_inputs_only(cases, existing)
    if not cases:
        return PromotionResult(
            version=latest,
            created=False,
            dataset_created=False,
            added=[],
            changed=[],
            unchanged=[],
            skipped=skipped,
            duplicates=repeats,
        )
    # "keep": the cases already there stay even when they repeat each other; the new
    # ones were checked against them above.
    result = add_version(
        session,
        project_id,
        dataset,
        cases,
        mode="append",
        message=message
        or f"{len(cases)} reviewed item(s) promoted from review queue {queue.name!r}",
        source=f"review:{queue.name}",
        created_by=created_by,
        on_duplicate="keep",
    )
    return _result(result, cases, {c.id: c.hash for c in existing}, skipped, repeats)


def _items(
    session: Session,
    queue: QueueView,
    item_ids: Sequence[int] | None,
    trace_filter: TraceFilter | None,
) -> tuple[list[QueueItem], list[SkippedItem]]:
    query = select(QueueItem).where(QueueItem.queue_id == queue.id)
    if item_ids is not None:
        wanted = sorted(set(item_ids))
        found = set(
            session.scalars(
                select(QueueItem.id).where(QueueItem.queue_id == queue.id, QueueItem.id.in_(wanted))
            )
        )
        missing = [i for i in wanted if i not in found]
        if missing:
            listed = ", ".join(str(i) for i in missing[:10])
            raise NotFound(f"review queue {queue.name!r} has no item {listed}")
        query = query.where(QueueItem.id.in_(wanted))
    if trace_filter is not None:
        matching = select(Trace.trace_id).where(
            Trace.project_id == queue.project_id,
            *trace_conditions(session, queue.project_id, trace_filter),
        )
        query = query.where(QueueItem.trace_id.in_(matching))
    rows = list(session.scalars(query.order_by(QueueItem.id)))
    kept: list[QueueItem] = []
    skipped: list[SkippedItem] = []
    for row in rows:
        if row.status == "resolved" and row.resolution in PROMOTABLE:
            kept.append(row)
        elif item_ids is not None:
            skipped.append(SkippedItem(row.id, row.trace_id, f"the item is {row.status}"))
    return kept, skipped


def _traces(session: Session, project_id: int, trace_ids: list[str]) -> dict[str, Trace]:
    out: dict[str, Trace] = {}
    for start in range(0, len(trace_ids), 500):
        chunk = trace_ids[start : start + 500]
        for row in session.scalars(
            select(Trace).where(Trace.project_id == project_id, Trace.trace_id.in_(chunk))
        ):
            out[row.trace_id] = row
    return out


def _case(
    session: Session,
    queue: QueueView,
    item: QueueItem,
    trace: Trace,
    labels: list[AnnotationView],
    adjudicators: dict[int, str],
    project_id: int,
) -> CaseSpec | str:
    """The item's case, or why it cannot be one."""
    content: Content = parse_content(trace.input)
    if content is None:
        # Content sent as GenAI log events is folded into the trace when read.
        content = get_trace(session, project_id, trace.trace_id).input
    label: dict[str, Any] = json.loads(item.label or "{}")
    schema = queue.schema
    reference_field = schema.reference_field
    provenance = {
        "source": "review",
        "trace_id": item.trace_id,
        "queue": queue.name,
        "item_id": item.id,
        "reason": item.reason,
        "rule_id": item.rule_id,
        "annotation_ids": [a.id for a in labels],
        "annotators": [a.annotator for a in labels],
        "resolution": item.resolution,
        "adjudicator": adjudicators.get(item.resolved_by) if item.resolved_by else None,
        "resolution_reason": item.resolution_reason,
        "resolved_at": as_utc(item.resolved_at).isoformat() if item.resolved_at else None,
    }
    try:
        return CaseSpec(
            id=f"trace-{item.trace_id}",
            input=content,
            reference=label.get(reference_field.name) if reference_field else None,
            tags=(*_tags(schema, label), f"queue:{queue.name}"),
            slices=_slices(trace.slices),
            metadata={"label": label},
            provenance=provenance,
        )
    except ValidationError:
        return "the trace has no input"


def _tags(schema: LabelSchema, label: dict[str, Any]) -> list[str]:
    tags: list[str] = []
    for f in schema.fields:
        if f.type == "tags":
            tags.extend(t for t in label.get(f.name) or [] if t not in tags)
    return tags


def _slices(text: str | None) -> dict[str, Any]:
    data = json.loads(text or "{}")
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool))}


def _existing(
    session: Session, project_id: int, dataset: str
) -> tuple[VersionView | None, list[CaseView]]:
    """The dataset's latest version and its cases (none when there is no version)."""
    try:
        latest = get_dataset(session, project_id, dataset).latest
    except NotFound:
        return None, []
    if latest is None:
        return None, []
    return latest, version_cases(session, latest.id)


def _new_inputs_only(
    cases: list[CaseSpec], existing: list[CaseView]
) -> tuple[list[CaseSpec], list[Duplicate]]:
    """The cases to add, and the new ones left out because their input repeats a case
    already there (or an earlier new one).

    A case whose id is there already replaces that case (same trace, maybe a new
    label) and is not checked. Repeats among the cases already there are not this
    promotion's business: those cases stay.
    """
    there = {c.id for c in existing}
    new = [(c.id, c) for c in cases if c.id is not None and c.id not in there]
    _, found = exact_duplicates([*((c.id, c.case) for c in existing), *new], drop=True)
    repeats = [d for d in found if d.case_id not in there]
    left_out = {d.case_id for d in repeats}
    return [c for c in cases if c.id not in left_out], repeats


def _result(
    result: AddResult,
    cases: list[CaseSpec],
    previous: dict[str, str],
    skipped: list[SkippedItem],
    repeats: list[Duplicate],
) -> PromotionResult:
    # Appending with duplicates kept, add_version removes no case: result.removed is
    # always empty, so it is not part of a promotion's result.
    incoming = {c.id for c in cases if c.id is not None}
    unchanged = [
        c.id for c in cases if c.id is not None and previous.get(c.id) == case_hash(c, c.id)
    ]
    return PromotionResult(
        version=result.version,
        created=result.created,
        dataset_created=result.dataset_created,
        added=[i for i in result.added if i in incoming],
        changed=[i for i in result.changed if i in incoming],
        unchanged=unchanged,
        skipped=skipped,
        duplicates=repeats + [d for d in result.duplicates if d.case_id in incoming],
    )
