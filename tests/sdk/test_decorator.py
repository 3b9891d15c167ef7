"""The @trace decorator on sync and async functions."""

from __future__ import annotations

import asyncio
import inspect
import json
from dataclasses import dataclass

import pytest
from opentelemetry.trace import StatusCode

from assay.errors import InvalidInput
from assay.sdk import span, trace


@trace
def add(a: int, b: int = 1, *rest: int, **options: str) -> int:
    return a + b + sum(rest)


def test_bare_decorator_records_input_and_output(pipeline) -> None:
    assert add(2, 3, 4, mode="x") == 9
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.name == "add"
    assert finished.attributes["openinference.span.kind"] == "CHAIN"
    assert json.loads(finished.attributes["input.value"]) == {
        "a": 2,
        "b": 3,
        "rest": [4],
        "mode": "x",
    }
    assert finished.attributes["input.mime_type"] == "application/json"
    assert finished.attributes["output.value"] == "9"
    assert finished.attributes["output.mime_type"] == "application/json"
    assert add.__name__ == "add"


def test_options_and_methods(pipeline) -> None:
    class Bot:
        @trace(name="bot.reply", kind="agent")
        def reply(self, question: str) -> str:
            return question.upper()

    assert Bot().reply("hi") == "HI"
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.name == "bot.reply"
    assert finished.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert json.loads(finished.attributes["input.value"]) == {"question": "hi"}
    assert finished.attributes["output.value"] == "HI"
    assert finished.attributes["output.mime_type"] == "text/plain"


def test_tool_kind(pipeline) -> None:
    @trace(kind="tool")
    def get_weather(city: str) -> dict[str, object]:
        return {"city": city, "temp_c": -3}

    get_weather("Oslo")
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.attributes["gen_ai.operation.name"] == "execute_tool"
    assert finished.attributes["gen_ai.tool.name"] == "test_tool_kind.<locals>.get_weather"
    assert finished.attributes["gen_ai.tool.type"] == "function"
    assert json.loads(finished.attributes["output.value"]) == {"city": "Oslo", "temp_c": -3}


def test_capture_flags(pipeline) -> None:
    @trace(capture_input=False, capture_output=False)
    def secret(password: str) -> str:
        return password

    secret("hunter2")
    (finished,) = pipeline.exporter.get_finished_spans()
    assert "input.value" not in finished.attributes
    assert "output.value" not in finished.attributes


def test_truncation(pipeline) -> None:
    @trace(max_chars=10)
    def echo(text: str) -> str:
        return text

    echo("x" * 25)
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.attributes["output.value"] == "x" * 10 + "… [truncated 15 chars]"
    assert finished.attributes["assay.output.truncated"] is True
    # Cut JSON is not valid JSON any more, so it is not labelled as such.
    assert finished.attributes["input.mime_type"] == "text/plain"
    assert finished.attributes["assay.input.truncated"] is True


def test_init_limit_applies(pipeline) -> None:
    pipeline.handle.max_value_chars = 4
    with span("s") as s:
        s.set_output("abcdefgh")
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.attributes["output.value"].startswith("abcd…")


def test_unserializable_values_fall_back(pipeline) -> None:
    @dataclass
    class Point:
        x: int
        y: int

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    @trace
    def f(p: Point, o: Opaque, data: bytes, tags: set[str]) -> object:
        loop: list[object] = []
        loop.append(loop)
        return loop

    f(Point(1, 2), Opaque(), b"abc", {"t"})
    (finished,) = pipeline.exporter.get_finished_spans()
    assert json.loads(finished.attributes["input.value"]) == {
        "p": {"x": 1, "y": 2},
        "o": "<opaque>",
        "data": "<3 bytes>",
        "tags": ["t"],
    }
    assert json.loads(finished.attributes["output.value"]) == "[[...]]"


def test_exception(pipeline) -> None:
    class QuotaError(RuntimeError):
        pass

    @trace
    def fail() -> None:
        raise QuotaError("over quota")

    with pytest.raises(QuotaError):
        fail()
    (finished,) = pipeline.exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.attributes["error.type"].endswith("QuotaError")
    assert [event.name for event in finished.events] == ["exception"]
    assert "output.value" not in finished.attributes


def test_async(pipeline) -> None:
    @trace(kind="retrieval")
    async def search(query: str) -> list[str]:
        await asyncio.sleep(0)
        return [query, query + "!"]

    @trace
    async def broken() -> None:
        await asyncio.sleep(0)
        raise KeyError("k")

    async def main() -> list[str]:
        with pytest.raises(KeyError):
            await broken()
        return await search("q")

    assert asyncio.run(main()) == ["q", "q!"]
    failed, ok = pipeline.exporter.get_finished_spans()
    assert ok.attributes["openinference.span.kind"] == "RETRIEVER"
    assert json.loads(ok.attributes["output.value"]) == ["q", "q!"]
    assert ok.end_time > ok.start_time
    assert failed.status.status_code is StatusCode.ERROR
    assert inspect.iscoroutinefunction(search)


def test_concurrent_async_calls_get_separate_parents(pipeline) -> None:
    @trace
    async def child(i: int) -> int:
        await asyncio.sleep(0.01)
        return i

    @trace
    async def parent(i: int) -> int:
        return await child(i)

    async def main() -> None:
        await asyncio.gather(parent(1), parent(2))

    asyncio.run(main())
    spans = pipeline.exporter.get_finished_spans()
    parents = {s.context.span_id: s for s in spans if s.name.endswith("parent")}
    children = [s for s in spans if s.name.endswith("child")]
    assert len(parents) == 2
    assert len(children) == 2
    for c in children:
        assert c.parent.span_id in parents
        matching = parents[c.parent.span_id]
        assert matching.attributes["input.value"] == c.attributes["input.value"]


def test_llm_kind_reads_openai_like_calls(pipeline) -> None:
    class Usage:
        prompt_tokens = 7
        completion_tokens = 2

    class Message:
        def model_dump(self, mode: str, exclude_none: bool) -> dict[str, str]:
            return {"role": "assistant", "content": "Paris."}

    class Choice:
        message = Message()
        finish_reason = "stop"

    class Completion:
        model = "gpt-4o-mini-2024-07-18"
        usage = Usage()
        choices = (Choice(),)

    @trace(kind="llm")
    def complete(model: str, messages: list[dict[str, str]]) -> Completion:
        return Completion()

    complete(model="gpt-4o-mini", messages=[{"role": "user", "content": "Capital of France?"}])
    (finished,) = pipeline.exporter.get_finished_spans()
    attrs = finished.attributes
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["gen_ai.usage.output_tokens"] == 2
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Capital of France?"}]}
    ]
    assert json.loads(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Paris."}],
            "finish_reason": "stop",
        }
    ]
    assert json.loads(attrs["input.value"])["model"] == "gpt-4o-mini"


def test_generators_are_refused() -> None:
    def gen() -> object:
        yield 1

    async def agen() -> object:
        yield 1

    with pytest.raises(TypeError, match="generator"):
        trace(gen)
    with pytest.raises(TypeError, match="generator"):
        trace(kind="chain")(agen)


def test_unknown_kind_is_refused_at_decoration() -> None:
    with pytest.raises(InvalidInput):
        trace(kind="nope")(lambda: None)  # type: ignore[call-overload]
