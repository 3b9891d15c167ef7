"""What review reads return about items and their annotations: named, frozen shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ItemStatus = Literal["open", "disputed", "resolved"]
ITEM_STATUSES: tuple[ItemStatus, ...] = ("open", "disputed", "resolved")
Resolution = Literal["single", "unanimous", "adjudicated"]


@dataclass(frozen=True, slots=True)
class ItemView:
    """One trace in one queue.

    Attributes:
        id: The item's row id.
        queue_id: Its queue.
        trace_id: The trace, 32 hex digits.
        source: How it came: ``rule``, ``manual`` or ``filter``.
        reason: Words for the annotator ("thumbs down").
        rule_id: The routing rule that sent it, if one did.
        status: ``open`` (being labelled), ``disputed`` (labels disagree) or
            ``resolved`` (``label`` is authoritative).
        label: The resolved label, field by field; None until resolved.
        gold: The gold label when the item is a gold item; None otherwise.
        resolution: How it was resolved: ``single`` (overlap 1), ``unanimous`` or
            ``adjudicated``.
        resolved_by: The adjudicator's username, for adjudicated items.
        resolution_reason: The adjudicator's reason.
        resolved_at: When it was resolved.
        created_at: When it entered the queue.
        annotations: Labels given by annotators (gold annotations not counted).
    """

    id: int
    queue_id: int
    trace_id: str
    source: str
    reason: str
    rule_id: int | None
    status: ItemStatus
    label: dict[str, Any] | None
    gold: dict[str, Any] | None
    resolution: Resolution | None
    resolved_by: str | None
    resolution_reason: str | None
    resolved_at: datetime | None
    created_at: datetime
    annotations: int

    @property
    def is_gold(self) -> bool:
        """Whether the item is a gold item (handed out with a known answer)."""
        return self.gold is not None


@dataclass(frozen=True, slots=True)
class AnnotationView:
    """One annotator's label on one item.

    Attributes:
        id: The annotation's row id.
        item_id: The item.
        user_id: The annotator's user id.
        annotator: The annotator's username.
        values: The normalised field values.
        comment: What the annotator wrote beside the label.
        gold: Whether it was given on a gold item (measures the annotator; never
            changes the item).
        seconds: Time the annotator spent, when the client measured it.
        created_at: When it was first submitted.
        updated_at: When it was last replaced, if it was.
    """

    id: int
    item_id: int
    user_id: int
    annotator: str
    values: dict[str, Any]
    comment: str | None
    gold: bool
    seconds: float | None
    created_at: datetime
    updated_at: datetime | None
