"""``init()``: point an app's OpenTelemetry traces at an assay server.

The heavy parts (the OpenTelemetry SDK and the OTLP exporter) are imported inside
:func:`init`, so ``import assay.sdk`` stays cheap for code that only decorates
functions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import trace as trace_api

from assay.sdk.serialize import DEFAULT_MAX_VALUE_CHARS, to_attribute

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from assay.sdk.export import GatedSpanProcessor

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "http://127.0.0.1:6500"
RELEASE_ATTRIBUTE = "assay.release"
SERVICE_NAME_ATTRIBUTE = "service.name"


@dataclass(eq=False)
class SdkHandle:
    """What :func:`init` set up; flush or shut down assay's export through it.

    Attributes:
        endpoint: Base URL of the assay server (no trailing slash).
        api_key: The project API key sent as a bearer token (hidden from ``repr``).
        release: Release name or fingerprint stamped on every span's resource.
        service_name: ``service.name`` of the resource, if given.
        tracer_provider: The provider assay's spans are created on.
        max_value_chars: Size limit for recorded inputs, outputs and attributes.
    """

    endpoint: str
    api_key: str | None = field(repr=False)
    release: str | None
    service_name: str | None
    tracer_provider: TracerProvider
    max_value_chars: int
    _processor: GatedSpanProcessor = field(repr=False)
    _key: tuple[Any, ...] = field(repr=False)

    @property
    def active(self) -> bool:
        """Whether this handle still exports (neither shut down nor replaced)."""
        return not self._processor.closed

    def flush(self, timeout_millis: int = 30_000) -> bool:
        """Export every finished span that is still queued.

        Args:
            timeout_millis: Longest wait.

        Returns:
            ``True`` when everything was exported in time.
        """
        return self._processor.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush, then stop assay's export. The tracer provider itself stays usable."""
        global _active
        self._processor.shutdown()
        with _lock:
            if _active is self:
                _active = None


_lock = threading.Lock()
_active: SdkHandle | None = None


def active_handle() -> SdkHandle | None:
    """The handle of the last :func:`init` call, unless it was shut down."""
    return _active


def _resource_attributes(
    release: str | None,
    service_name: str | None,
    extra: Mapping[str, Any] | None,
    max_chars: int,
) -> dict[str, Any]:
    """The resource attributes assay adds: extras, then service name and release."""
    attributes: dict[str, Any] = {}
    for key, value in (extra or {}).items():
        coerced = to_attribute(value, max_chars)
        if coerced is not None:
            attributes[key] = coerced
    if service_name is not None:
        attributes[SERVICE_NAME_ATTRIBUTE] = service_name
    if release is not None:
        attributes[RELEASE_ATTRIBUTE] = release
    return attributes


def _choose_provider(
    given: TracerProvider | None, resource_attributes: dict[str, Any]
) -> tuple[TracerProvider, dict[str, Any]]:
    """Pick the provider to join and the resource overlay assay's export needs.

    Returns:
        The provider, and the attributes its resource lacks (empty when assay
        built the provider with exactly these attributes).
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider: TracerProvider
    if given is not None:
        provider = given
    else:
        current = trace_api.get_tracer_provider()
        if isinstance(current, TracerProvider):
            provider = current
        else:
            provider = TracerProvider(resource=Resource.create(resource_attributes))
            if isinstance(current, trace_api.ProxyTracerProvider):
                trace_api.set_tracer_provider(provider)
            else:
                logger.warning(
                    "assay: the global tracer provider is %s, not an OpenTelemetry SDK "
                    "TracerProvider; assay spans use their own provider and spans from "
                    "other instrumentation are not sent to assay",
                    type(current).__name__,
                )
    present = provider.resource.attributes
    overlay = {k: v for k, v in resource_attributes.items() if present.get(k) != v}
    return provider, overlay


def init(
    endpoint: str = DEFAULT_ENDPOINT,
    api_key: str | None = None,
    release: str | None = None,
    service_name: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    batch: bool = True,
    *,
    tracer_provider: TracerProvider | None = None,
    exporter: SpanExporter | None = None,
    max_value_chars: int = DEFAULT_MAX_VALUE_CHARS,
    timeout_s: float = 10.0,
) -> SdkHandle:
    """Send this process's OpenTelemetry spans to an assay server.

    Which provider is used:

    - ``tracer_provider`` when given (tests; apps that keep their own provider);
    - else the global provider if it is an OpenTelemetry SDK ``TracerProvider``
      (e.g. set up by ``opentelemetry-instrument`` or another vendor): assay adds
      its processor to it, and its export carries ``service.name``/``assay.release``
      merged over that provider's resource;
    - else a new ``TracerProvider`` with the resource below, set as the global
      provider so auto-instrumentation (openai, httpx, ...) reaches assay too.

    Calling ``init()`` again with the same arguments returns the same handle. With
    different arguments the previous handle is flushed and shut down first and
    the new one replaces it, so no span is ever exported twice.

    Args:
        endpoint: Base URL of the assay server; spans go to ``{endpoint}/v1/traces``.
        api_key: Project API key, sent as ``Authorization: Bearer <api_key>``. Without
            one the server answers 401 (unless ``OTEL_EXPORTER_OTLP_HEADERS``
            supplies it).
        release: Release name or fingerprint; the resource attribute
            ``assay.release``, which ties every trace to the app version behind it.
        service_name: The resource's ``service.name`` (OpenTelemetry's default
            ``unknown_service`` if neither this nor ``OTEL_SERVICE_NAME`` is set).
        resource_attributes: More resource attributes (deployment environment, ...).
        batch: Export in the background in batches (``BatchSpanProcessor``, the
            right choice for servers); ``False`` exports each span as it ends
            (``SimpleSpanProcessor``, for scripts and notebooks).
        tracer_provider: Provider to join instead of the global one.
        exporter: Exporter to use instead of OTLP/HTTP protobuf (tests pass an
            ``InMemorySpanExporter``).
        max_value_chars: Inputs, outputs and attribute values longer than this are
            cut, with a marker saying how much was dropped.
        timeout_s: Timeout of one export request, in seconds.

    Returns:
        The handle; call ``flush()`` before a short-lived process exits, or
        ``shutdown()`` to stop sending.
    """
    global _active
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    from assay.sdk.export import GatedSpanProcessor, ResourceOverlayExporter

    endpoint = endpoint.rstrip("/")
    attributes = _resource_attributes(release, service_name, resource_attributes, max_value_chars)
    key = (
        endpoint,
        api_key,
        tuple(sorted(attributes.items(), key=lambda item: item[0])),
        batch,
        id(tracer_provider),
        id(exporter),
        max_value_chars,
        timeout_s,
    )
    with _lock:
        previous = _active
        if previous is not None and previous.active and previous._key == key:
            return previous
    if previous is not None:
        previous.shutdown()

    provider, overlay = _choose_provider(tracer_provider, attributes)
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        exporter = OTLPSpanExporter(
            endpoint=f"{endpoint}/v1/traces", headers=headers, timeout=timeout_s
        )
    if overlay:
        exporter = ResourceOverlayExporter(exporter, overlay)
    inner = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    processor = GatedSpanProcessor(inner)
    provider.add_span_processor(processor)
    handle = SdkHandle(
        endpoint=endpoint,
        api_key=api_key,
        release=release,
        service_name=service_name,
        tracer_provider=provider,
        max_value_chars=max_value_chars,
        _processor=processor,
        _key=key,
    )
    with _lock:
        _active = handle
    return handle
