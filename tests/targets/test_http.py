"""HTTP targets: the input in a JSON template, the output at a path, and errors that
say whether to retry."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from assay.errors import InvalidInput
from assay.targets import HttpTarget, TargetError, TargetOutput
from assay.targets.http import fill
from assay.testing.background import serve_app

received: list[Any] = []


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/answer")
    async def answer(request: Request) -> Any:
        body = await request.json()
        received.append(body)
        return {"output": f"re: {body.get('input')}", "meta": {"n": [1, 2]}}

    @app.post("/nested")
    async def nested(request: Request) -> Any:
        body = await request.json()
        return {"choices": [{"message": {"content": body["q"]}}]}

    @app.post("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse("plain answer")

    @app.post("/busy")
    async def busy() -> JSONResponse:
        return JSONResponse({"error": "busy"}, status_code=503, headers={"retry-after": "2"})

    @app.post("/bad")
    async def bad() -> JSONResponse:
        return JSONResponse({"error": "no"}, status_code=400)

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_app(make_app()) as server:
        yield server.base_url


def call(target: HttpTarget, value: Any) -> TargetOutput:
    async def go() -> TargetOutput:
        try:
            return await target(value)
        finally:
            await target.aclose()

    return asyncio.run(go())


def test_default_mapping(base_url: str) -> None:
    out = call(HttpTarget(f"{base_url}/answer"), "hello")
    assert out.output == "re: hello"
    assert received[-1] == {"input": "hello"}


def test_body_template_and_output_path(base_url: str) -> None:
    target = HttpTarget(
        f"{base_url}/nested",
        body={"q": "$input.question", "mode": "eval"},
        output="choices.0.message.content",
    )
    assert call(target, {"question": "why?"}).output == "why?"
    assert call(HttpTarget(f"{base_url}/text"), "x").output == "plain answer"


def test_errors(base_url: str) -> None:
    with pytest.raises(TargetError, match="answered 503") as info:
        call(HttpTarget(f"{base_url}/busy"), "x")
    assert info.value.retryable
    assert info.value.retry_after == 2.0
    with pytest.raises(TargetError, match="answered 400") as info:
        call(HttpTarget(f"{base_url}/bad"), "x")
    assert not info.value.retryable
    with pytest.raises(TargetError, match="nothing at 'answer'"):
        call(HttpTarget(f"{base_url}/answer", output="answer"), "x")
    with pytest.raises(TargetError, match="not JSON"):
        call(HttpTarget(f"{base_url}/text", output="a"), "x")
    with pytest.raises(TargetError, match="ConnectError") as info:
        call(HttpTarget("http://127.0.0.1:9/none"), "x")
    assert info.value.retryable
    with pytest.raises(InvalidInput, match="must start with http"):
        HttpTarget("ftp://x")


def test_fill_keeps_types_and_reports_missing_keys() -> None:
    assert fill({"a": ["$input", "$input.k.0"], "b": 1}, {"k": [7]}) == {
        "a": [{"k": [7]}, 7],
        "b": 1,
    }
    with pytest.raises(TargetError, match="nothing at 'missing'"):
        fill("$input.missing", {"k": 1})


def test_fingerprint_leaves_header_values_out() -> None:
    a = HttpTarget("http://x/a", headers={"Authorization": "Bearer one"})
    b = HttpTarget("http://x/a", headers={"Authorization": "Bearer two"})
    assert a.fingerprint == b.fingerprint
    assert "Bearer" not in str(a.describe())
    assert HttpTarget("http://x/a", output="o").fingerprint != a.fingerprint
