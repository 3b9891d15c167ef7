"""Feedback over REST: record (201), validation (4xx naming the field), list and pages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from assay.testing.otlp import IdFactory, make_span

from .conftest import T0, Project, send

ids = IdFactory("routes.test_feedback")
TRACE = "ab" * 16


def post(client: TestClient, project: Project, **body: Any) -> Any:
    payload = {"trace_id": TRACE, "name": "thumbs", "value": True, **body}
    return client.post("/api/v1/feedback", json=payload, headers=project.headers)


def count(client: TestClient, project: Project) -> int:
    body = client.get("/api/v1/feedback", params={"limit": 500}, headers=project.headers).json()
    return len(body["items"])


@pytest.mark.parametrize(
    ("value", "value_num", "value_text"),
    [
        (True, 1.0, "true"),
        (False, 0.0, "false"),
        (5, 5.0, None),
        (0.5, 0.5, None),
        ("1", None, "1"),
        ("Lyon, not Paris", None, "Lyon, not Paris"),
    ],
)
def test_record_values(
    client: TestClient, alpha: Project, value: Any, value_num: Any, value_text: Any
) -> None:
    response = post(client, alpha, value=value)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["value"] == value
    assert type(body["value"]) is (float if type(value) is int else type(value))
    assert (body["value_num"], body["value_text"]) == (value_num, value_text)
    assert body["source"] == "api"
    assert body["trace_known"] is False


def test_record_on_a_stored_span(client: TestClient, alpha: Project) -> None:
    span = make_span("ask", start_ns=T0, ids=ids)
    trace_id = send(client, alpha, [span])
    response = post(
        client,
        alpha,
        trace_id=trace_id.upper(),
        span_id=span.span_id.hex(),
        comment="wrong",
        source="sdk",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["trace_id"], body["span_id"]) == (trace_id, span.span_id.hex())
    assert (body["comment"], body["source"], body["trace_known"]) == ("wrong", "sdk", True)
    assert body["created_at"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"trace_id": "123"}, 400, "trace_id"),
        ({"trace_id": "0" * 32}, 400, "trace_id"),
        ({"span_id": "xyz"}, 400, "span_id"),
        ({"name": ""}, 400, "name"),
        ({"name": "n" * 101}, 400, "name"),
        ({"source": "s" * 21}, 400, "source"),
        ({"source": "Implicit"}, 400, "reserved for the signals assay derives"),
        ({"value": None}, 422, "value"),
        ({"value": [1]}, 422, "value"),
        ({"value": {"a": 1}}, 422, "value"),
        ({"trace_id": None}, 422, "trace_id"),
        ({"extra": 1}, 422, "extra"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    client: TestClient, alpha: Project, body: dict[str, Any], status: int, field: str
) -> None:
    response = post(client, alpha, **body)
    assert response.status_code == status
    assert field in str(response.json()["detail"])
    assert count(client, alpha) == 0


def test_missing_fields_and_non_finite_numbers(client: TestClient, alpha: Project) -> None:
    response = client.post("/api/v1/feedback", json={"trace_id": TRACE}, headers=alpha.headers)
    assert response.status_code == 422
    detail = str(response.json()["detail"])
    assert "name" in detail
    assert "value" in detail
    nan = client.post(
        "/api/v1/feedback",
        content=b'{"trace_id": "' + TRACE.encode() + b'", "name": "x", "value": NaN}',
        headers={**alpha.headers, "Content-Type": "application/json"},
    )
    assert nan.status_code in (400, 422)
    assert count(client, alpha) == 0


def test_list_filters_and_pages(client: TestClient, alpha: Project) -> None:
    other = "cd" * 16
    made = [
        post(client, alpha, trace_id=TRACE if i % 2 else other, name=f"n{i % 2}", value=i).json()
        for i in range(5)
    ]
    by_trace = client.get(
        "/api/v1/feedback", params={"trace_id": TRACE.upper()}, headers=alpha.headers
    ).json()
    assert [f["id"] for f in by_trace["items"]] == [made[3]["id"], made[1]["id"]]
    by_name = client.get("/api/v1/feedback", params={"name": "n0"}, headers=alpha.headers)
    assert [f["value"] for f in by_name.json()["items"]] == [4, 2, 0]

    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = client.get("/api/v1/feedback", params=params, headers=alpha.headers).json()
        seen += [f["id"] for f in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [f["id"] for f in reversed(made)]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": 0}, 422), ({"limit": 501}, 422), ({"cursor": "x"}, 400), ({"trace_id": "z"}, 400)],
)
def test_list_bad_parameters(
    client: TestClient, alpha: Project, params: dict[str, Any], status: int
) -> None:
    response = client.get("/api/v1/feedback", params=params, headers=alpha.headers)
    assert response.status_code == status


def test_feedback_needs_a_key(client: TestClient, alpha: Project) -> None:
    response = client.post(
        "/api/v1/feedback", json={"trace_id": TRACE, "name": "thumbs", "value": True}
    )
    assert response.status_code == 401
    assert client.get("/api/v1/feedback").status_code == 401
    assert count(client, alpha) == 0


def test_comments_and_text_values_are_redacted(client: TestClient, alpha: Project) -> None:
    response = post(client, alpha, value="it is jane@example.com", comment="ring 555 123 4567")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["value_text"], body["comment"]) == (
        "it is [REDACTED:email]",
        "ring [REDACTED:phone]",
    )
    listed = client.get("/api/v1/feedback", headers=alpha.headers).json()["items"]
    assert "jane@example.com" not in str(listed)


def test_feedback_span_events_through_the_receiver(client: TestClient, alpha: Project) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    from assay.testing.otlp import export_trace_request

    span = make_span(
        "answer",
        start_ns=T0,
        ids=ids,
        events=[
            ("assay.feedback", {"assay.feedback.name": "thumbs", "assay.feedback.value": True}),
            ("assay.feedback", {"assay.feedback.value": 1}),  # no name
        ],
    )
    response = client.post(
        "/v1/traces",
        content=export_trace_request([span]).SerializeToString(),
        headers={**alpha.headers, "Content-Type": "application/x-protobuf"},
    )
    assert response.status_code == 200, response.text
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 0
    assert "feedback event: assay.feedback.name: required" in answer.partial_success.error_message
    listed = client.get(
        "/api/v1/feedback", params={"trace_id": span.trace_id.hex()}, headers=alpha.headers
    ).json()["items"]
    assert [(f["name"], f["value"], f["source"], f["trace_known"]) for f in listed] == [
        ("thumbs", True, "otel", True)
    ]
