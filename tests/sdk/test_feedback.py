"""feedback(): the request it sends and the errors it raises."""

from __future__ import annotations

import json
import socket

import pytest

from assay.errors import (
    AssayError,
    AuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Overloaded,
    PayloadTooLarge,
)
from assay.sdk import feedback, init

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def test_posts_json_with_bearer_key(receiver) -> None:
    feedback(
        TRACE,
        "thumbs",
        False,
        comment="wrong refund policy",
        span_id=SPAN,
        endpoint=receiver.base_url,
        api_key="ak_1",
    )
    (request,) = receiver.received
    assert request.path == "/api/v1/feedback"
    assert request.headers["authorization"] == "Bearer ak_1"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "trace_id": TRACE,
        "span_id": SPAN,
        "name": "thumbs",
        "value": False,
        "comment": "wrong refund policy",
        "source": "sdk",
    }


@pytest.mark.parametrize("value", [True, 4, 0.75, "Refunds take 5 business days."])
def test_value_types_round_trip(receiver, value) -> None:
    feedback(TRACE.upper(), "rating", value, endpoint=receiver.base_url)
    body = json.loads(receiver.received[0].body)
    assert body["value"] == value
    assert type(body["value"]) is type(value)
    assert body["trace_id"] == TRACE
    assert body["span_id"] is None
    assert body["comment"] is None
    assert "authorization" not in receiver.received[0].headers


def test_uses_endpoint_and_key_from_init(receiver, pipeline) -> None:
    handle = init(
        endpoint=receiver.base_url,
        api_key="ak_from_init",
        batch=False,
        tracer_provider=pipeline.provider,
        exporter=pipeline.exporter,
    )
    try:
        feedback(TRACE, "thumbs", True)
    finally:
        handle.shutdown()
    assert receiver.received[0].headers["authorization"] == "Bearer ak_from_init"


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (400, {"detail": "trace_id: unknown trace"}, InvalidInput, "trace_id: unknown trace"),
        (
            422,
            {"detail": [{"loc": ["body", "value"], "msg": "Input should be a valid number"}]},
            InvalidInput,
            "body.value: Input should be a valid number",
        ),
        (401, {"detail": "invalid API key"}, AuthError, "invalid API key"),
        (403, {"detail": "key is for another project"}, Forbidden, "another project"),
        (404, {"error": {"message": "no such trace"}}, NotFound, "no such trace"),
        (409, {"message": "duplicate"}, Conflict, "duplicate"),
        (413, {"detail": "too big"}, PayloadTooLarge, "too big"),
        (500, "oops", AssayError, "oops"),
    ],
)
def test_error_statuses(receiver, status, body, error, message) -> None:
    receiver.reply = (status, body)
    with pytest.raises(error, match=message) as caught:
        feedback(TRACE, "thumbs", True, endpoint=receiver.base_url)
    assert f"HTTP {status}" in str(caught.value)
    if error is AssayError:
        assert type(caught.value) is AssayError


def test_overloaded_carries_retry_after(receiver) -> None:
    receiver.reply = (503, {"detail": "ingest queue full"})
    receiver.reply_headers = {"Retry-After": "7"}
    with pytest.raises(Overloaded) as caught:
        feedback(TRACE, "thumbs", True, endpoint=receiver.base_url)
    assert caught.value.retry_after == 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trace_id": "abc"}, "trace_id"),
        ({"span_id": "xyz"}, "span_id"),
        ({"name": ""}, "name"),
        ({"value": [1, 2]}, "value must be a bool, int, float or str"),
        ({"value": None}, "value"),
        ({"value": float("nan")}, "finite"),
    ],
)
def test_bad_arguments_fail_before_sending(receiver, kwargs, message) -> None:
    arguments = {"trace_id": TRACE, "name": "thumbs", "value": True} | kwargs
    with pytest.raises(InvalidInput, match=message):
        feedback(**arguments, endpoint=receiver.base_url)
    assert receiver.received == []


def test_unreachable_server_is_an_assay_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(AssayError, match="could not send feedback"):
        feedback(TRACE, "thumbs", True, endpoint=f"http://127.0.0.1:{port}", timeout_s=2)
