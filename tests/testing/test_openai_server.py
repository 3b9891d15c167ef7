"""The fake OpenAI server, driven by the official openai client."""

from __future__ import annotations

import asyncio
import base64
import math
import struct
from collections.abc import Iterator

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from assay.testing import Fault, OpenAIServer, Reply, ToolCall, serve_openai
from assay.testing.openai_replies import embedding_vector, stream_pieces

MODEL = "gpt-4o-mini"
QUESTION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is up"}]


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with serve_openai() as running:
        yield running


@pytest.fixture
def client(server) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


def test_chat_completion(server, client) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=QUESTION)
    assert server.base_url.endswith("/v1")
    assert completion.id == "chatcmpl-assay-000001"
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    (choice,) = completion.choices
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "Echo: What is up"
    assert choice.message.tool_calls is None
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 5  # "Be brief." + "What is up"
    assert completion.usage.completion_tokens == 4
    assert completion.usage.total_tokens == 9
    assert server.requests == [{"model": MODEL, "messages": QUESTION}]
    assert server.calls[0].headers["authorization"] == "Bearer sk-test"
    again = client.chat.completions.create(model="other-model", messages=QUESTION)
    assert again.id == "chatcmpl-assay-000002"
    assert again.model == "other-model"


def test_content_parts_and_n(client) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "two words"}]}]
    completion = client.chat.completions.create(model=MODEL, messages=messages, n=2)
    assert [c.message.content for c in completion.choices] == ["Echo: two words"] * 2
    assert [c.index for c in completion.choices] == [0, 1]


def test_max_tokens_cuts_the_answer(client) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "one two three four"}],
        max_completion_tokens=2,
    )
    assert completion.choices[0].message.content == "Echo: one"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 2


def test_scripted_mapping_and_tool_calls() -> None:
    responses = {
        "ping": "pong",
        "weather?": Reply(tool_calls=[ToolCall("get_weather", {"city": "Oslo"})]),
    }
    with (
        serve_openai(responses=responses) as server,
        OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
    ):
        pong = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "ping"}]
        )
        assert pong.choices[0].message.content == "pong"
        tool = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "weather?"}],
            tools=[
                {
                    "type": "function",
                    "function": {"name": "get_weather", "parameters": {"type": "object"}},
                }
            ],
        )
        choice = tool.choices[0]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content is None
        (call,) = choice.message.tool_calls or []
        assert call.id == "call_assay_000002_0"
        assert call.type == "function"
        assert call.function.name == "get_weather"
        assert call.function.arguments == '{"city": "Oslo"}'
        fallback = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "unscripted"}]
        )
        assert fallback.choices[0].message.content == "Echo: unscripted"


def test_scripted_callable_and_error_reply() -> None:
    def script(body: dict[str, object]) -> str | Reply | None:
        if body.get("temperature") == 0:
            return Reply(status_code=400, error_message="temperature 0 is refused")
        if body.get("temperature") == 1:
            return f"hot answer from {body['model']}"
        return None

    with (
        serve_openai(responses=script) as server,
        OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
    ):
        hot = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "q"}], temperature=1
        )
        assert hot.choices[0].message.content == "hot answer from gpt-4o-mini"
        with pytest.raises(openai.BadRequestError, match="temperature 0 is refused"):
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "q"}], temperature=0
            )


def test_stream_with_usage(client) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "stream  these words"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream  these words"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert all(c.usage is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (3, 4)
    assert {c.id for c in chunks} == {"chatcmpl-assay-000001"}


def test_stream_without_usage_and_with_tool_calls() -> None:
    reply = Reply(content="Let me check.", tool_calls=[ToolCall("lookup", '{"q": 1}', id="c9")])
    with (
        serve_openai(responses=lambda body: reply) as server,
        OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
    ):
        with client.chat.completions.stream(
            model=MODEL, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            final = stream.get_final_completion()
        choice = final.choices[0]
        assert choice.message.content == "Let me check."
        assert choice.finish_reason == "tool_calls"
        (call,) = choice.message.tool_calls or []
        assert (call.id, call.function.name, call.function.arguments) == (
            "c9",
            "lookup",
            '{"q": 1}',
        )
        raw = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
        )
        assert all(chunk.usage is None for chunk in raw)


def test_async_client(server) -> None:
    async def main() -> tuple[str | None, str]:
        async with AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
            completion = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "async hello"}]
            )
            stream = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "async stream"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
            return completion.choices[0].message.content, "".join(parts)

    assert asyncio.run(main()) == ("Echo: async hello", "Echo: async stream")


def test_embeddings(server, client) -> None:
    # The client asks for base64 by default; float is the other encoding.
    packed = client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
    floats = client.embeddings.create(
        model="text-embedding-3-small", input="a b", encoding_format="float", dimensions=5
    )
    assert server.requests[0]["encoding_format"] == "base64"
    assert [d.index for d in packed.data] == [0, 1]
    first = packed.data[0].embedding
    assert len(first) == 16
    assert math.isclose(sum(v * v for v in first), 1.0, rel_tol=1e-5)
    expected = embedding_vector("text-embedding-3-small", "a b", 16)
    assert first == pytest.approx(expected, rel=1e-6)
    assert packed.data[1].embedding != first
    assert packed.usage.prompt_tokens == 3
    assert len(floats.data[0].embedding) == 5
    assert floats.data[0].embedding == pytest.approx(
        embedding_vector("text-embedding-3-small", "a b", 5)
    )


def test_embedding_base64_is_little_endian_float32(server) -> None:
    response = httpx.post(
        f"{server.base_url}/embeddings",
        json={"model": "m", "input": [[1, 2, 3]], "encoding_format": "base64", "dimensions": 3},
    )
    encoded = response.json()["data"][0]["embedding"]
    decoded = struct.unpack("<3f", base64.b64decode(encoded))
    assert decoded == pytest.approx(embedding_vector("m", "1 2 3", 3), rel=1e-6)


def test_models(client) -> None:
    ids = [model.id for model in client.models.list()]
    assert "gpt-4o-mini" in ids
    assert client.models.retrieve("ft:gpt-4o:acme").id == "ft:gpt-4o:acme"


def test_fault_then_retry_succeeds(server) -> None:
    server.fail_next(503, retry_after_s=0.01)
    with OpenAI(base_url=server.base_url, api_key="k", max_retries=1) as client:
        completion = client.chat.completions.create(model=MODEL, messages=QUESTION)
    assert completion.choices[0].message.content == "Echo: What is up"
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (401, openai.AuthenticationError),
    ],
)
def test_faults_map_to_client_errors(server, client, status, error) -> None:
    server.fail_next(status, times=2, path="/v1/chat/completions")
    client.embeddings.create(model="e", input="not affected")
    for _ in range(2):
        with pytest.raises(error, match="injected fault"):
            client.chat.completions.create(model=MODEL, messages=QUESTION)
    client.chat.completions.create(model=MODEL, messages=QUESTION)


def test_fault_headers(server) -> None:
    server.state.add_fault(Fault(429, retry_after_s=1.5, message="slow down"))
    response = httpx.get(f"{server.base_url}/models")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    assert response.json()["error"]["message"] == "slow down"


def test_delay_causes_client_timeout(server) -> None:
    server.set_delay(0.5)
    with (
        OpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=0.1) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        client.chat.completions.create(model=MODEL, messages=QUESTION)


def test_required_api_key() -> None:
    with serve_openai(require_api_key="sk-right") as server:
        with (
            OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0) as client,
            pytest.raises(openai.AuthenticationError),
        ):
            client.models.list()
        with OpenAI(base_url=server.base_url, api_key="sk-right", max_retries=0) as client:
            assert client.models.list().data


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": MODEL, "messages": []}, "messages"),
        ({"model": MODEL, "messages": ["not an object"]}, "messages"),
    ],
)
def test_malformed_requests(server, body, param) -> None:
    response = httpx.post(f"{server.base_url}/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    bad_json = httpx.post(
        f"{server.base_url}/chat/completions",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert bad_json.status_code == 400


def test_stream_pieces_rebuild_the_text() -> None:
    text = "  two  spaces\nand newline "
    assert "".join(stream_pieces(text)) == text


def test_openinference_instrumentation_sees_the_fake(server) -> None:
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
            client.chat.completions.create(model=MODEL, messages=QUESTION)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    (finished,) = exporter.get_finished_spans()
    assert finished.attributes["openinference.span.kind"] == "LLM"
    assert finished.attributes["llm.model_name"] == MODEL
    assert finished.attributes["llm.token_count.prompt"] == 5
    assert finished.attributes["llm.output_messages.0.message.content"] == "Echo: What is up"


def test_openai_v2_instrumentation_sees_the_fake(server) -> None:
    openai_v2 = pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = openai_v2.OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
            client.chat.completions.create(model=MODEL, messages=QUESTION)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    (finished,) = exporter.get_finished_spans()
    assert finished.attributes["gen_ai.operation.name"] == "chat"
    assert finished.attributes["gen_ai.request.model"] == MODEL
    assert finished.attributes["gen_ai.usage.input_tokens"] == 5
    assert finished.attributes["gen_ai.usage.output_tokens"] == 4
