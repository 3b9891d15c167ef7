"""Deciding an item from its labels: unanimous, single, or disputed.

An item is decided when it has as many labels as the queue's overlap. With overlap 1
the one label resolves it (``single``). Otherwise it is ``unanimous`` when every
decisive field (categorical, ordinal, boolean, tags) is equal across annotators and
the non-empty corrections are equal once surrounding whitespace is stripped (an
annotator who leaves the correction empty agrees with any); else it is ``disputed``
and waits for an adjudicator. Gold annotations never decide anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.review.schema import LabelSchema, decisive
from assay.review.views import ItemStatus, Resolution
from assay.store.models import Annotation, QueueItem


@dataclass(frozen=True, slots=True)
class Decision:
    """What an item's labels decide.

    Attributes:
        status: ``open`` (too few labels), ``disputed`` or ``resolved``.
        resolution: ``single`` or ``unanimous`` when resolved.
        label: The agreed label when resolved.
    """

    status: ItemStatus
    resolution: Resolution | None = None
    label: dict[str, Any] | None = None


def agree(schema: LabelSchema, labels: Sequence[Mapping[str, Any]]) -> bool:
    """Whether labels agree: decisive fields equal, non-empty corrections equal
    (stripped). One label (or none) agrees with itself."""
    for f in schema.fields:
        if decisive(f):
            if len({_key(label.get(f.name)) for label in labels}) > 1:
                return False
        elif f.type == "correction" and len(_corrections(labels, f.name)) > 1:
            return False
    return True


def matches(schema: LabelSchema, values: Mapping[str, Any], label: Mapping[str, Any]) -> bool:
    """Whether ``values`` equal ``label`` on every decisive field (gold checks, agreement
    with the final label)."""
    return all(_key(values.get(f.name)) == _key(label.get(f.name)) for f in schema.decisive_fields)


def agreed_label(schema: LabelSchema, labels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The label that agreeing labels stand for: the shared decisive values, the
    correction they gave (the first non-empty one as written), and free text when
    every annotator wrote the same (None otherwise)."""
    out: dict[str, Any] = {}
    for f in schema.fields:
        given = [label.get(f.name) for label in labels]
        if f.type == "correction":
            out[f.name] = next((v for v in given if isinstance(v, str) and v.strip()), None)
        elif f.type == "text":
            out[f.name] = given[0] if len({_key(v) for v in given}) == 1 else None
        else:
            out[f.name] = given[0] if given else None
    return out


def decide(schema: LabelSchema, labels: Sequence[Mapping[str, Any]], overlap: int) -> Decision:
    """The decision for an item with ``labels`` (non-gold) in a queue of ``overlap``."""
    if len(labels) < overlap or not labels:
        return Decision("open")
    if len(labels) == 1:
        return Decision("resolved", "single", dict(labels[0]))
    if agree(schema, labels):
        return Decision("resolved", "unanimous", agreed_label(schema, labels))
    return Decision("disputed")


def settle(
    session: Session, item: QueueItem, schema: LabelSchema, overlap: int, now: datetime
) -> Decision:
    """Decide an open or disputed item from its stored labels and record the outcome.

    Resolved items are left as they are. A disputed item whose labels now agree
    (an annotator changed theirs) is resolved; an open item short of labels stays open.
    """
    if item.status == "resolved":
        return Decision("resolved", item.resolution, load_label(item.label))  # type: ignore[arg-type]
    labels = [
        json.loads(text)
        for text in session.scalars(
            select(Annotation.values)
            .where(Annotation.item_id == item.id, Annotation.gold == 0)
            .order_by(Annotation.created_at, Annotation.id)
        )
    ]
    decision = decide(schema, labels, overlap)
    if decision.status == "open" and item.status == "disputed":
        return Decision("disputed")
    item.status = decision.status
    if decision.status == "resolved":
        item.resolution = decision.resolution
        item.label = dump_label(decision.label)
        item.resolved_at = now
    return decision


def dump_label(label: Mapping[str, Any] | None) -> str | None:
    """A label as stored (JSON text)."""
    return None if label is None else json.dumps(label, ensure_ascii=False)


def load_label(text: str | None) -> dict[str, Any] | None:
    """A stored label (JSON text) as a dict."""
    return None if text is None else dict(json.loads(text))


def _key(value: Any) -> Any:
    # Lists (tags) are unhashable; their normalised form is sorted already.
    return tuple(value) if isinstance(value, list) else value


def _corrections(labels: Sequence[Mapping[str, Any]], name: str) -> set[str]:
    return {v.strip() for label in labels if isinstance(v := label.get(name), str) and v.strip()}
