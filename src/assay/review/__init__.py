"""Review: queues with label schemas, hand-out to annotators, annotations, agreement,
adjudication, gold items, and promotion of resolved items to dataset cases."""

from assay.review.items import enqueue

__all__ = ["enqueue"]
