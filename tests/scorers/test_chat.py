"""One judge call: request shape, error statuses, transport failures, bad bodies."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from assay.scorers import ChatEndpoint, JudgeHTTPError, JudgeResponseError, ScorerError

COMPLETION = {
    "model": "judge-1",
    "choices": [{"message": {"role": "assistant", "content": "fine"}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def call(endpoint: ChatEndpoint, handler, prompt: str = "grade this"):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await endpoint.complete(prompt, client=client)

    return asyncio.run(go())


def test_request_and_reply() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=COMPLETION)

    endpoint = ChatEndpoint("judge-1", "http://judge.test/v1/", "sk-1", 0.0, max_tokens=50)
    reply = call(endpoint, handler)
    assert (reply.content, reply.model, reply.usage) == ("fine", "judge-1", COMPLETION["usage"])
    (request,) = seen
    assert str(request.url) == "http://judge.test/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-1"
    assert json.loads(request.content) == {
        "model": "judge-1",
        "messages": [{"role": "user", "content": "grade this"}],
        "temperature": 0.0,
        "max_tokens": 50,
    }


def test_no_key_no_authorization_header_and_key_not_in_repr() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=COMPLETION)

    call(ChatEndpoint("m", "http://judge.test/v1"), handler)
    assert "authorization" not in seen[0].headers
    assert "sk-secret" not in repr(ChatEndpoint("m", "http://x", api_key="sk-secret"))


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (401, False), (408, True), (429, True), (503, True)]
)
def test_error_statuses_name_status_and_url(status: int, retryable: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"message": "nope, said the API"}})

    with pytest.raises(JudgeHTTPError) as info:
        call(ChatEndpoint("m", "http://judge.test/v1"), handler)
    error = info.value
    assert str(error) == (
        f"judge request to http://judge.test/v1/chat/completions failed with HTTP {status}: "
        "nope, said the API"
    )
    assert (error.status_code, error.url, error.retryable) == (
        status,
        "http://judge.test/v1/chat/completions",
        retryable,
    )
    assert isinstance(error, ScorerError)


def test_error_body_that_is_not_json_is_quoted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad gateway</html>")

    with pytest.raises(JudgeHTTPError, match="HTTP 502: <html>Bad gateway</html>"):
        call(ChatEndpoint("m", "http://judge.test/v1"), handler)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"choices": []}),
        json.dumps({"choices": [{"message": {"content": None}}]}),
        json.dumps([1]),
    ],
)
def test_bodies_without_text_are_response_errors(body: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=body)

    with pytest.raises(JudgeResponseError, match="answered without message text") as info:
        call(ChatEndpoint("m", "http://judge.test/v1"), handler)
    assert info.value.raw == body
    assert not info.value.retryable


def test_no_server_is_a_retryable_error_without_status() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = ChatEndpoint("m", f"http://127.0.0.1:{port}/v1", timeout_s=5)
    with pytest.raises(JudgeHTTPError, match="ConnectError") as info:
        asyncio.run(endpoint.complete("hi"))
    assert (info.value.status_code, info.value.retryable) == (None, True)
    assert f"127.0.0.1:{port}/v1/chat/completions" in str(info.value)
