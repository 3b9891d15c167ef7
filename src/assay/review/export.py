"""A queue's results as JSONL or CSV, and read back.

JSONL has one object per item::

    {"item_id": 7, "trace_id": "…", "status": "resolved", "resolution": "adjudicated",
     "agreement": "disputed", "label": {...}, "gold": null, "adjudicator": "ana",
     "reason": "the refund policy changed", "resolved_at": "2026-…",
     "annotations": [{"annotator": "bo", "values": {...}, "comment": null,
                      "gold": false, "created_at": "2026-…"}]}

``agreement`` is the item's own: ``unanimous`` or ``disputed`` over its (non-gold)
labels, ``single`` with one label, null with none.

CSV flattens it for spreadsheets: one row per annotation (one row for an item
without any), the item's columns repeated, and one column per schema field for the
label (``label.<field>``), the gold label (``gold.<field>``) and the annotation's
values (``value.<field>``). Cells hold text as is, numbers, ``true``/``false``, and
tags as a JSON list; an empty cell is no value. :func:`read_results` turns either
format back into the JSONL objects.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import InvalidInput
from assay.review.decision import agree, load_label
from assay.review.items import item_annotations, usernames
from assay.review.queues import QueueView
from assay.review.schema import LabelField, LabelSchema
from assay.review.views import ITEM_STATUSES, AnnotationView, ItemStatus
from assay.store.models import QueueItem
from assay.traces.times import as_utc

ExportFormat = Literal["jsonl", "csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")
ITEM_COLUMNS = (
    "item_id",
    "trace_id",
    "status",
    "resolution",
    "agreement",
    "adjudicator",
    "reason",
    "resolved_at",
    "is_gold",
)
ANNOTATION_COLUMNS = ("annotator", "annotation_gold", "comment", "created_at")


def result_records(
    session: Session, queue: QueueView, *, status: ItemStatus | str | None = None
) -> list[dict[str, Any]]:
    """A queue's items with their labels, as the JSONL objects, oldest item first.

    Raises:
        InvalidInput: An unknown status.
    """
    if status is not None and status not in ITEM_STATUSES:
        raise InvalidInput(f"status: must be one of {', '.join(ITEM_STATUSES)}; got {status!r}")
    query = select(QueueItem).where(QueueItem.queue_id == queue.id)
    if status is not None:
        query = query.where(QueueItem.status == status)
    items = list(session.scalars(query.order_by(QueueItem.id)))
    labels = item_annotations(session, [item.id for item in items])
    names = usernames(session, {i.resolved_by for i in items if i.resolved_by is not None})
    return [_record(queue.schema, item, labels.get(item.id, []), names) for item in items]


def export_results(
    session: Session,
    queue: QueueView,
    out: TextIO,
    *,
    format: ExportFormat = "jsonl",
    status: ItemStatus | str | None = None,
) -> int:
    """Write a queue's results to a text stream.

    Args:
        session: The session to read with.
        queue: The queue.
        out: Where to write (open with ``newline=""`` for CSV files).
        format: ``jsonl`` (one object per item) or ``csv`` (one row per annotation).
        status: Only items of this status.

    Returns:
        The number of items written.

    Raises:
        InvalidInput: An unknown format or status.
    """
    if format not in EXPORT_FORMATS:
        raise InvalidInput(f"format: must be jsonl or csv; got {format!r}")
    records = result_records(session, queue, status=status)
    if format == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        writer = csv.writer(out)
        writer.writerow(csv_columns(queue.schema))
        writer.writerows(_csv_rows(queue.schema, records))
    return len(records)


def csv_columns(schema: LabelSchema) -> list[str]:
    """The CSV header for a schema."""
    return [
        *ITEM_COLUMNS,
        *(f"label.{name}" for name in schema.names),
        *(f"gold.{name}" for name in schema.names),
        *ANNOTATION_COLUMNS,
        *(f"value.{name}" for name in schema.names),
    ]


def read_results(stream: TextIO, format: ExportFormat, schema: LabelSchema) -> list[dict[str, Any]]:
    """Read an export back into the JSONL objects (CSV cells decoded with the schema).

    Raises:
        InvalidInput: An unknown format, a line that is not JSON, or a CSV whose
            header is not this schema's.
    """
    if format == "jsonl":
        out = []
        for number, line in enumerate(stream, start=1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InvalidInput(f"line {number}: not JSON: {exc.msg}") from None
        return out
    if format != "csv":
        raise InvalidInput(f"format: must be jsonl or csv; got {format!r}")
    reader = csv.DictReader(stream)
    if reader.fieldnames != csv_columns(schema):
        raise InvalidInput("the CSV header does not match the queue's schema")
    records: dict[int, dict[str, Any]] = {}
    for row in reader:
        item_id = int(row["item_id"])
        record = records.get(item_id)
        if record is None:
            record = records[item_id] = _item_from_row(schema, row)
        if row["annotator"]:
            record["annotations"].append(
                {
                    "annotator": row["annotator"],
                    "values": _values_from_row(schema, row, "value."),
                    "comment": row["comment"] or None,
                    "gold": row["annotation_gold"] == "true",
                    "created_at": row["created_at"],
                }
            )
    return list(records.values())


def _record(
    schema: LabelSchema,
    item: QueueItem,
    labels: list[AnnotationView],
    names: dict[int, str],
) -> dict[str, Any]:
    ordinary = [a.values for a in labels if not a.gold]
    return {
        "item_id": item.id,
        "trace_id": item.trace_id,
        "status": item.status,
        "resolution": item.resolution,
        "agreement": _agreement(schema, ordinary),
        "label": load_label(item.label),
        "gold": load_label(item.gold),
        "adjudicator": names.get(item.resolved_by) if item.resolved_by is not None else None,
        "reason": item.resolution_reason,
        "resolved_at": _iso(item.resolved_at),
        "annotations": [
            {
                "annotator": a.annotator,
                "values": a.values,
                "comment": a.comment,
                "gold": a.gold,
                "created_at": _iso(a.created_at),
            }
            for a in labels
        ],
    }


def _agreement(schema: LabelSchema, labels: list[dict[str, Any]]) -> str | None:
    if not labels:
        return None
    if len(labels) == 1:
        return "single"
    return "unanimous" if agree(schema, labels) else "disputed"


def _csv_rows(schema: LabelSchema, records: Iterable[dict[str, Any]]) -> Iterable[list[str]]:
    for record in records:
        head = [
            str(record["item_id"]),
            record["trace_id"],
            record["status"],
            *(
                _cell(record[key])
                for key in ("resolution", "agreement", "adjudicator", "reason", "resolved_at")
            ),
            _cell(record["gold"] is not None),
            *_label_cells(schema, record["label"]),
            *_label_cells(schema, record["gold"]),
        ]
        if not record["annotations"]:
            yield head + [""] * (len(ANNOTATION_COLUMNS) + len(schema.fields))
        for a in record["annotations"]:
            yield [
                *head,
                a["annotator"],
                _cell(a["gold"]),
                _cell(a["comment"]),
                a["created_at"],
                *_label_cells(schema, a["values"]),
            ]


def _label_cells(schema: LabelSchema, label: dict[str, Any] | None) -> list[str]:
    if label is None:
        return [""] * len(schema.fields)
    return [_cell(label.get(name)) for name in schema.names]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _item_from_row(schema: LabelSchema, row: dict[str, str]) -> dict[str, Any]:
    return {
        "item_id": int(row["item_id"]),
        "trace_id": row["trace_id"],
        "status": row["status"],
        "resolution": row["resolution"] or None,
        "agreement": row["agreement"] or None,
        "label": _values_from_row(schema, row, "label.") if row["resolution"] else None,
        "gold": _values_from_row(schema, row, "gold.") if row["is_gold"] == "true" else None,
        "adjudicator": row["adjudicator"] or None,
        "reason": row["reason"] or None,
        "resolved_at": row["resolved_at"] or None,
        "annotations": [],
    }


def _values_from_row(schema: LabelSchema, row: dict[str, str], prefix: str) -> dict[str, Any]:
    return {f.name: _decode(f, row[prefix + f.name]) for f in schema.fields}


def _decode(f: LabelField, cell: str) -> Any:
    if f.type == "tags":
        return json.loads(cell) if cell else []
    if cell == "":
        return None
    if f.type == "ordinal":
        return int(cell)
    if f.type == "boolean":
        return cell == "true"
    return cell


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None
