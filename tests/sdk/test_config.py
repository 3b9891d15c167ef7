"""init(): provider choice, resource, idempotence, and real OTLP/HTTP export."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from assay.sdk import init, span, trace
from assay.sdk.config import active_handle


def _attributes(key_values) -> dict[str, object]:
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in key_values}


def test_resource_carries_service_and_release(pipeline) -> None:
    with span("s"):
        pass
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.resource.attributes["service.name"] == "svc-test"
    assert finished.resource.attributes["assay.release"] == "rel-1"
    assert active_handle() is pipeline.handle
    assert "ak_test" not in repr(pipeline.handle)


def test_same_arguments_return_the_same_handle(pipeline) -> None:
    again = init(
        api_key="ak_test",
        release="rel-1",
        service_name="svc-test",
        batch=False,
        tracer_provider=pipeline.provider,
        exporter=pipeline.exporter,
    )
    assert again is pipeline.handle
    with span("once"):
        pass
    assert len(pipeline.exporter.get_finished_spans()) == 1


def test_new_arguments_replace_the_previous_export(pipeline) -> None:
    second = InMemorySpanExporter()
    handle = init(
        release="rel-2",
        service_name="svc-test",
        batch=False,
        tracer_provider=pipeline.provider,
        exporter=second,
    )
    try:
        assert not pipeline.handle.active
        assert active_handle() is handle
        with span("after"):
            pass
        assert pipeline.exporter.get_finished_spans() == ()
        (finished,) = second.get_finished_spans()
        assert finished.resource.attributes["assay.release"] == "rel-2"
    finally:
        handle.shutdown()


def test_joining_an_existing_provider_overlays_only_assay_export() -> None:
    app_exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "app", "deployment.environment": "prod"}),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(SimpleSpanProcessor(app_exporter))
    assay_exporter = InMemorySpanExporter()
    handle = init(
        release="v7",
        service_name="checkout-bot",
        resource_attributes={"team": "payments", "replicas": 3},
        batch=False,
        tracer_provider=provider,
        exporter=assay_exporter,
    )
    try:
        with span("s"):
            pass
        (mine,) = assay_exporter.get_finished_spans()
        assert (
            dict(mine.resource.attributes).items()
            >= {
                "service.name": "checkout-bot",
                "assay.release": "v7",
                "team": "payments",
                "replicas": 3,
                "deployment.environment": "prod",
            }.items()
        )
        (theirs,) = app_exporter.get_finished_spans()
        assert theirs.resource.attributes["service.name"] == "app"
        assert "assay.release" not in theirs.resource.attributes
        assert mine.context == theirs.context
    finally:
        handle.shutdown()
        provider.shutdown()


def test_shutdown_stops_export(pipeline) -> None:
    pipeline.handle.shutdown()
    assert active_handle() is None
    assert pipeline.handle.flush() is True
    with span("ignored"):
        pass
    assert pipeline.exporter.get_finished_spans() == ()


def test_exports_protobuf_over_http(receiver) -> None:
    provider = TracerProvider(shutdown_on_exit=False)
    handle = init(
        endpoint=receiver.base_url + "/",
        api_key="ak_live_123",
        release="2024-06-01.3",
        service_name="support-bot",
        resource_attributes={"deployment.environment": "test"},
        tracer_provider=provider,
    )
    try:

        @trace(kind="llm")
        def answer(question: str) -> str:
            return "42"

        answer("meaning of life?")
        assert handle.flush(timeout_millis=10_000)
    finally:
        handle.shutdown()
        provider.shutdown()

    (request,) = receiver.received
    assert request.path == "/v1/traces"
    assert request.headers["authorization"] == "Bearer ak_live_123"
    assert request.headers["content-type"] == "application/x-protobuf"
    export = ExportTraceServiceRequest.FromString(request.body)
    (resource_spans,) = export.resource_spans
    resource = _attributes(resource_spans.resource.attributes)
    assert resource["service.name"] == "support-bot"
    assert resource["assay.release"] == "2024-06-01.3"
    assert resource["deployment.environment"] == "test"
    (scope_spans,) = resource_spans.scope_spans
    assert scope_spans.scope.name == "assay.sdk"
    (otlp_span,) = scope_spans.spans
    attributes = _attributes(otlp_span.attributes)
    assert otlp_span.name == "test_exports_protobuf_over_http.<locals>.answer"
    assert attributes["openinference.span.kind"] == "LLM"
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["input.value"] == '{"question": "meaning of life?"}'
    assert attributes["output.value"] == "42"


def test_global_provider_in_a_fresh_process(receiver) -> None:
    # The global tracer provider can be set once per process, so this runs apart.
    script = textwrap.dedent(
        f"""
        from opentelemetry import trace as otel
        from opentelemetry.sdk.trace import TracerProvider
        import assay.sdk as assay

        handle = assay.init(endpoint={receiver.base_url!r}, api_key="k1", release="r1",
                            service_name="script")
        assert isinstance(otel.get_tracer_provider(), TracerProvider)
        assert assay.init(endpoint={receiver.base_url!r}, api_key="k1", release="r1",
                          service_name="script") is handle

        # Spans of other instrumentation on the global provider reach assay too.
        with assay.span("root") as root:
            with otel.get_tracer("other-lib").start_as_current_span("library-call"):
                pass
        print(root.trace_id)
        handle.shutdown()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    trace_id = result.stdout.strip()
    spans = []
    for request in receiver.received:
        assert request.headers["authorization"] == "Bearer k1"
        for resource_spans in ExportTraceServiceRequest.FromString(request.body).resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            assert resource["service.name"] == "script"
            assert resource["assay.release"] == "r1"
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    assert sorted(s.name for s in spans) == ["library-call", "root"]
    assert {s.trace_id.hex() for s in spans} == {trace_id}
