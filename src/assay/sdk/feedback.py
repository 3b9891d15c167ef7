"""``feedback()``: attach a user's reaction (thumbs, rating, correction) to a trace."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

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
from assay.sdk.config import DEFAULT_ENDPOINT, active_handle

if TYPE_CHECKING:
    import httpx

FEEDBACK_PATH = "/api/v1/feedback"
_TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")
_SPAN_ID = re.compile(r"[0-9a-fA-F]{16}")

FeedbackValue = bool | int | float | str
"""A feedback value: thumbs (bool), a rating (int/float), or a label or correction."""


def _error_message(response: httpx.Response) -> str:
    """The server's error text: FastAPI's ``detail``, an ``error``/``message`` field, or
    the raw body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("detail", body.get("error", body.get("message")))
        if isinstance(detail, dict):
            detail = detail.get("message", detail)
        if isinstance(detail, list):  # FastAPI validation errors
            detail = "; ".join(
                ".".join(str(p) for p in item.get("loc", ())) + f": {item.get('msg')}"
                if isinstance(item, dict)
                else str(item)
                for item in detail
            )
        if detail is not None:
            return str(detail)
    text = response.text.strip()
    return text or response.reason_phrase


def raise_for_status(response: httpx.Response) -> None:
    """Turn an error response of the assay API into the matching :mod:`assay.errors` class.

    Args:
        response: A response from the assay server.

    Raises:
        PayloadTooLarge: 413.
        InvalidInput: Other 4xx that mean a malformed request (400, 422, ...).
        AuthError: 401.
        Forbidden: 403.
        NotFound: 404.
        Conflict: 409.
        Overloaded: 429 or 503, with ``retry_after`` from the ``Retry-After`` header.
        AssayError: Any other non-2xx status.
    """
    if response.is_success:
        return
    status = response.status_code
    message = f"{_error_message(response)} (HTTP {status})"
    if status in (429, 503):
        retry_after = response.headers.get("retry-after", "1")
        raise Overloaded(message, retry_after=int(retry_after) if retry_after.isdigit() else 1)
    errors: dict[int, type[AssayError]] = {
        401: AuthError,
        403: Forbidden,
        404: NotFound,
        409: Conflict,
        413: PayloadTooLarge,
    }
    if status in errors:
        raise errors[status](message)
    if 400 <= status < 500:
        raise InvalidInput(message)
    raise AssayError(message)


def _check(trace_id: str, span_id: str | None, name: str, value: Any) -> None:
    """Reject locally what the server would reject anyway, with the field named."""
    if not isinstance(trace_id, str) or not _TRACE_ID.fullmatch(trace_id):
        raise InvalidInput(f"trace_id must be 32 hex digits; got {trace_id!r}")
    if span_id is not None and not _SPAN_ID.fullmatch(span_id):
        raise InvalidInput(f"span_id must be 16 hex digits; got {span_id!r}")
    if not name:
        raise InvalidInput("name must be a non-empty string")
    if not isinstance(value, bool | int | float | str):
        raise InvalidInput(f"value must be a bool, int, float or str; got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"value must be a finite number; got {value!r}")


def feedback(
    trace_id: str,
    name: str,
    value: FeedbackValue,
    comment: str | None = None,
    span_id: str | None = None,
    *,
    endpoint: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 10.0,
) -> None:
    """Record feedback on a trace (or one span of it).

    Args:
        trace_id: The trace, 32 hex digits (``Span.trace_id``, ``current_trace_id()``).
        name: What is measured, e.g. ``thumbs``, ``rating``, ``correction``.
        value: ``True``/``False`` for thumbs, a number for a rating, a string for a
            label or a corrected answer.
        comment: Free text from the user.
        span_id: The span the feedback is about, 16 hex digits; the whole trace when
            omitted.
        endpoint: assay server base URL; the one given to ``init()`` by default.
        api_key: Project API key; the one given to ``init()`` by default.
        timeout_s: Request timeout in seconds.

    Raises:
        InvalidInput: An argument is malformed (checked before sending) or the
            server rejected the request; the message is the server's.
        AuthError: The API key is missing, unknown or revoked.
        AssayError: The server could not be reached or failed (other subclasses as
            in :func:`raise_for_status`).
    """
    import httpx

    _check(trace_id, span_id, name, value)
    handle = active_handle()
    if endpoint is None:
        endpoint = handle.endpoint if handle is not None else DEFAULT_ENDPOINT
    if api_key is None and handle is not None:
        api_key = handle.api_key
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    body = {
        "trace_id": trace_id.lower(),
        "span_id": span_id.lower() if span_id is not None else None,
        "name": name,
        "value": value,
        "comment": comment,
        "source": "sdk",
    }
    url = endpoint.rstrip("/") + FEEDBACK_PATH
    try:
        response = httpx.post(url, json=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as error:
        raise AssayError(f"could not send feedback to {url}: {error}") from error
    raise_for_status(response)


# The span event assay's ingest reads as feedback (see assay.ingest.feedback; the SDK
# may not import ingest, and a test holds the names equal).
FEEDBACK_EVENT = "assay.feedback"
NAME_KEY = "assay.feedback.name"
VALUE_KEY = "assay.feedback.value"
COMMENT_KEY = "assay.feedback.comment"


def feedback_event(
    name: str, value: FeedbackValue, comment: str | None = None, *, span: Any = None
) -> None:
    """Attach feedback to a span as an ``assay.feedback`` event: no request of its own.

    The feedback travels with the span through the same exporter and is stored when
    the span is, once even if the exporter sends the span again. Use it when the
    verdict is known before the span ends (a validator, a guardrail, the user's
    reaction inside the same request); :func:`feedback` works at any time.

    Args:
        name: What is measured, e.g. ``thumbs``, ``rating``, ``correction``.
        value: ``True``/``False``, a number, or text (a label or a corrected answer).
        comment: Free text.
        span: An ``assay.sdk.Span`` or OpenTelemetry span; the active one by default.

    Raises:
        InvalidInput: No span is active and none was given, or an argument is
            malformed.
    """
    from opentelemetry import trace as trace_api

    _check("0" * 31 + "1", None, name, value)
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput(f"comment must be text; got {type(comment).__name__}")
    target = getattr(span, "_span", span) if span is not None else trace_api.get_current_span()
    if not target.get_span_context().is_valid:
        raise InvalidInput("no active span: call inside a traced function or pass span=")
    attributes: dict[str, Any] = {NAME_KEY: name, VALUE_KEY: value}
    if comment is not None:
        attributes[COMMENT_KEY] = comment
    target.add_event(FEEDBACK_EVENT, attributes)
