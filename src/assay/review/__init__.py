"""Review: queues with label schemas, hand-out to annotators, annotations, agreement,
adjudication, gold items, and promotion of resolved items to dataset cases.

The flow, one module each: a queue is defined (:mod:`~assay.review.definition`,
:mod:`~assay.review.schema`) and created (:mod:`~assay.review.queues`); traces enter
it (:mod:`~assay.review.items`); annotators claim items (:mod:`~assay.review.assign`)
and submit labels (:mod:`~assay.review.annotate`), which decide items
(:mod:`~assay.review.decision`); adjudicators settle disputes and mark gold items
(:mod:`~assay.review.adjudicate`); agreement (:mod:`~assay.review.agreement`) and
annotator statistics (:mod:`~assay.review.annotators`) measure the labels; resolved
items become eval cases (:mod:`~assay.review.promote`) and results are exported
(:mod:`~assay.review.export`).

Every function takes the caller's SQLAlchemy session and leaves committing to it;
writes go through ``store.write_session()``.
"""

from assay.review.adjudicate import (
    ADJUDICATOR_ROLES,
    ItemLabels,
    adjudicate,
    disputed_items,
    item_labels,
    mark_gold,
    unmark_gold,
)
from assay.review.agreement import (
    BUCKETS,
    Bucket,
    FieldAgreement,
    PeriodAgreement,
    QueueAgreement,
    agreement_over_time,
    field_rows,
    queue_agreement,
)
from assay.review.annotate import SubmitResult, submit
from assay.review.annotators import AnnotatorStats, annotator_stats
from assay.review.assign import Claim, Progress, Rng, claim_next, progress, skip
from assay.review.context import Document, StepContext, TraceContext, trace_context
from assay.review.decision import Decision, agree, decide, matches
from assay.review.definition import (
    DefinitionFormat,
    QueueDefinition,
    check_queue_name,
    load_queue_definition,
    parse_queue_definition,
    parse_queue_text,
)
from assay.review.export import (
    EXPORT_FORMATS,
    ExportFormat,
    csv_columns,
    export_results,
    read_results,
    result_records,
)
from assay.review.items import (
    SOURCES,
    EnqueueResult,
    enqueue,
    enqueue_filtered,
    get_item,
    item_annotations,
    list_items,
)
from assay.review.promote import PROMOTABLE, PromotionResult, SkippedItem, promote
from assay.review.queues import QueueView, create_queue, get_queue, list_queues, update_queue
from assay.review.schema import (
    FIELD_TYPES,
    FieldType,
    LabelField,
    LabelSchema,
    agreement_level,
    decisive,
    parse_schema,
    validate_values,
)
from assay.review.views import ITEM_STATUSES, AnnotationView, ItemStatus, ItemView, Resolution

__all__ = [
    "ADJUDICATOR_ROLES",
    "BUCKETS",
    "EXPORT_FORMATS",
    "FIELD_TYPES",
    "ITEM_STATUSES",
    "PROMOTABLE",
    "SOURCES",
    "AnnotationView",
    "AnnotatorStats",
    "Bucket",
    "Claim",
    "Decision",
    "DefinitionFormat",
    "Document",
    "EnqueueResult",
    "ExportFormat",
    "FieldAgreement",
    "FieldType",
    "ItemLabels",
    "ItemStatus",
    "ItemView",
    "LabelField",
    "LabelSchema",
    "PeriodAgreement",
    "Progress",
    "PromotionResult",
    "QueueAgreement",
    "QueueDefinition",
    "QueueView",
    "Resolution",
    "Rng",
    "SkippedItem",
    "StepContext",
    "SubmitResult",
    "TraceContext",
    "adjudicate",
    "agree",
    "agreement_level",
    "agreement_over_time",
    "annotator_stats",
    "check_queue_name",
    "claim_next",
    "create_queue",
    "csv_columns",
    "decide",
    "decisive",
    "disputed_items",
    "enqueue",
    "enqueue_filtered",
    "export_results",
    "field_rows",
    "get_item",
    "get_queue",
    "item_annotations",
    "item_labels",
    "list_items",
    "list_queues",
    "load_queue_definition",
    "mark_gold",
    "matches",
    "parse_queue_definition",
    "parse_queue_text",
    "parse_schema",
    "progress",
    "promote",
    "queue_agreement",
    "read_results",
    "result_records",
    "skip",
    "submit",
    "trace_context",
    "unmark_gold",
    "update_queue",
    "validate_values",
]
