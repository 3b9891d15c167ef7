"""The demo app: a support bot instrumented with the stock OpenTelemetry SDK.

Nothing here imports assay's server or SDK: it is what any team's app looks like
when it sends GenAI-convention spans over OTLP/HTTP, which is the point of the demo.
Each request is a trace of a root span, a knowledge-base retrieval, a chat model
call and sometimes a tool call, stamped over the last day.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from assay.demo.corpus import Exchange

SYSTEM_PROMPTS = {
    "support-bot-v1": "You are a helpful support assistant. Answer briefly using the context.",
    "support-bot-v2": (
        "You are a friendly support assistant. Answer in the user's language, cite the "
        "knowledge base, and offer a next step."
    ),
}
TIERS = ("free", "free", "pro", "enterprise")
CHANNELS = ("web", "web", "slack", "email")


@dataclass(frozen=True)
class ReleaseTraffic:
    """How one release of the demo bot behaves."""

    name: str
    model: str
    temperature: float
    error_rate: float
    snapshot: str = "2024-07-18"
    # Extra error rate for one locale: the regression a later slice check will catch.
    locale_error: tuple[str, float] | None = None


@dataclass(frozen=True)
class SentTrace:
    """What the demo sent, for feedback and the summary."""

    trace_id: str
    release: str
    locale: str
    failed: bool


def _tokens(text: str) -> int:
    # ~1.3 tokens per whitespace word is what tiktoken gives on English prose.
    return max(1, round(len(text.split()) * 1.3))


def send_traffic(
    endpoint: str,
    api_key: str,
    exchanges: Sequence[Exchange],
    releases: Sequence[ReleaseTraffic],
    *,
    traces: int,
    now_ns: int,
    seed: int = 7,
) -> list[SentTrace]:
    """Send ``traces`` requests' worth of spans, split over ``releases``.

    Args:
        endpoint: Base URL of the assay server.
        api_key: The project's API key.
        exchanges: Question/answer pairs to draw from.
        releases: Release behaviours; trace i goes to ``releases[i % len]``.
        traces: How many traces to send.
        now_ns: The end of the time window (traces spread over the day before).
        seed: Random seed, so two demo runs look alike.
    """
    rng = random.Random(seed)
    by_topic: dict[str, list[Exchange]] = {}
    for ex in exchanges:
        by_topic.setdefault(f"{ex.locale}/{ex.topic}", []).append(ex)
    providers = []
    tracers = []
    for rel in releases:
        provider = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": "support-bot",
                    "service.version": rel.name,
                    "assay.release": rel.name,
                    "deployment.environment": "production",
                }
            )
        )
        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(
                    endpoint=f"{endpoint}/v1/traces",
                    headers={"Authorization": f"Bearer {api_key}"},
                )
            )
        )
        providers.append(provider)
        tracers.append(provider.get_tracer("support-bot", "1.0"))

    sent: list[SentTrace] = []
    day_ns = 24 * 3600 * 10**9
    for i in range(traces):
        index = i % len(releases)
        rel, tracer = releases[index], tracers[index]
        ex = exchanges[rng.randrange(len(exchanges))]
        neighbours = by_topic[f"{ex.locale}/{ex.topic}"]
        docs = rng.sample(neighbours, k=min(3, len(neighbours)))
        start = now_ns - day_ns + (i * day_ns) // max(traces, 1) + rng.randrange(10**9)
        session = f"sess-{rng.randrange(traces // 3 + 1):04d}"
        user = f"user-{rng.randrange(traces // 5 + 1):04d}"
        fail_rate = rel.error_rate
        if rel.locale_error and rel.locale_error[0] == ex.locale:
            fail_rate += rel.locale_error[1]
        failed = rng.random() < fail_rate
        slices = {
            "locale": ex.locale,
            "tier": rng.choice(TIERS),
            "channel": rng.choice(CHANNELS),
        }
        root = tracer.start_span(
            "support.answer",
            kind=SpanKind.SERVER,
            start_time=start,
            attributes={
                "openinference.span.kind": "CHAIN",
                "input.value": ex.question,
                "session.id": session,
                "user.id": user,
                **slices,
            },
        )
        root_ctx = set_span_in_context(root)
        t = start + rng.randrange(2, 6) * 10**6
        retrieve_ms = rng.randrange(15, 60)
        retrieval = tracer.start_span(
            "kb.search",
            context=root_ctx,
            start_time=t,
            attributes={
                "openinference.span.kind": "RETRIEVER",
                "input.value": ex.question,
                "retrieval.top_k": 3,
                **{
                    f"retrieval.documents.{k}.document.content": d.answer
                    for k, d in enumerate(docs)
                },
                **{
                    f"retrieval.documents.{k}.document.score": round(0.92 - 0.11 * k, 3)
                    for k in range(len(docs))
                },
            },
        )
        t += retrieve_ms * 10**6
        retrieval.end(end_time=t)

        system = SYSTEM_PROMPTS.get(rel.name, SYSTEM_PROMPTS["support-bot-v1"])
        context = "\n".join(f"- {d.answer}" for d in docs)
        in_messages = [
            {"role": "system", "parts": [{"type": "text", "content": system}]},
            {
                "role": "user",
                "parts": [{"type": "text", "content": f"Context:\n{context}\n\n{ex.question}"}],
            },
        ]
        llm_ms = rng.randrange(350, 1800)
        llm = tracer.start_span(
            f"chat {rel.model}",
            kind=SpanKind.CLIENT,
            context=root_ctx,
            start_time=t,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": rel.model,
                "gen_ai.request.temperature": rel.temperature,
                "gen_ai.input.messages": json.dumps(in_messages),
            },
        )
        t += llm_ms * 10**6
        if failed:
            llm.set_status(Status(StatusCode.ERROR, "RateLimitError: 429 Too Many Requests"))
            llm.add_event(
                "exception",
                {"exception.type": "openai.RateLimitError", "exception.message": "429"},
                timestamp=t,
            )
            llm.end(end_time=t)
            root.set_attribute("output.value", "Sorry, something went wrong. Please try again.")
            root.set_status(Status(StatusCode.ERROR, "upstream model call failed"))
        else:
            answer = ex.answer
            llm.set_attributes(
                {
                    "gen_ai.response.model": f"{rel.model}-{rel.snapshot}",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.usage.input_tokens": _tokens(system)
                    + _tokens(context)
                    + _tokens(ex.question),
                    "gen_ai.usage.output_tokens": _tokens(answer),
                    "gen_ai.output.messages": json.dumps(
                        [
                            {
                                "role": "assistant",
                                "parts": [{"type": "text", "content": answer}],
                                "finish_reason": "stop",
                            }
                        ]
                    ),
                }
            )
            llm.end(end_time=t)
            if rng.random() < 0.2:
                tool = tracer.start_span(
                    "execute_tool create_ticket",
                    context=root_ctx,
                    start_time=t,
                    attributes={
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": "create_ticket",
                        "input.value": json.dumps({"summary": ex.question[:80]}),
                        "output.value": json.dumps({"ticket": f"T-{rng.randrange(10**5):05d}"}),
                    },
                )
                t += rng.randrange(40, 120) * 10**6
                tool.end(end_time=t)
            root.set_attribute("output.value", answer)
        root.end(end_time=t + rng.randrange(1, 4) * 10**6)
        sent.append(
            SentTrace(format(root.get_span_context().trace_id, "032x"), rel.name, ex.locale, failed)
        )

    for provider in providers:
        provider.force_flush()
        provider.shutdown()
    return sent
