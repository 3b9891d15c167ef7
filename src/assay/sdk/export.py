"""Span processor and exporter wrappers that let ``init()`` plug into any provider.

A ``TracerProvider`` has no API to remove a processor, and its resource is fixed
when it is built. assay still has to (a) stop exporting when its handle is shut
down or replaced, and (b) stamp ``service.name``/``assay.release`` on its own
export when it joins a provider the app built earlier. These two wrappers do that
without touching the provider's other processors.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.util.types import AttributeValue


class GatedSpanProcessor(SpanProcessor):
    """Forwards to an inner processor until shut down, then drops everything.

    Args:
        inner: The processor doing the work (batch or simple, with assay's exporter).
    """

    def __init__(self, inner: SpanProcessor) -> None:
        self._inner = inner
        self._closed = False
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` has run."""
        return self._closed

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Forward a started span unless closed."""
        if not self._closed:
            self._inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        """Forward an ended span unless closed."""
        if not self._closed:
            self._inner.on_end(span)

    def shutdown(self) -> None:
        """Flush and shut down the inner processor once; later spans are dropped."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything queued; ``True`` when done within the timeout."""
        if self._closed:
            return True
        return self._inner.force_flush(timeout_millis)


class ResourceOverlayExporter(SpanExporter):
    """Exports spans with extra resource attributes merged over their own.

    Used when assay joins a tracer provider whose resource lacks the app's
    ``service.name``/``assay.release``: only assay's copy of each span gets them.

    Args:
        inner: The exporter that sends the spans.
        overlay: Resource attributes to add (they win over the provider's).
    """

    def __init__(self, inner: SpanExporter, overlay: Mapping[str, AttributeValue]) -> None:
        self._inner = inner
        self._overlay = Resource(dict(overlay))

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Re-home each span on the merged resource and export the batch."""
        return self._inner.export([self._rehome(span) for span in spans])

    def _rehome(self, span: ReadableSpan) -> ReadableSpan:
        """A copy of ``span`` on the provider's resource merged with the overlay."""
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource.merge(self._overlay),
            attributes=span.attributes,
            events=span.events,
            links=span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def shutdown(self) -> None:
        """Shut down the inner exporter."""
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the inner exporter."""
        return self._inner.force_flush(timeout_millis)
