"""``assay feedback``: record values of every kind, list with filters, bad input."""

from __future__ import annotations

import pytest

from assay.testing.otlp import genai_llm_span

from .conftest import Cli, seed_spans

TRACE = "ab" * 16


@pytest.fixture
def bot(any_cli: Cli) -> Cli:
    any_cli.ok("project", "create", "bot")
    return any_cli


def test_values_are_read_as_booleans_numbers_or_text(bot: Cli) -> None:
    add = ("feedback", "add", TRACE)
    thumbs = bot.json(*add, "thumbs", "false", "-p", "bot", "--comment", "wrong city")
    assert (thumbs["value"], thumbs["value_num"], thumbs["source"]) == (False, 0.0, "cli")
    assert thumbs["trace_known"] is False
    assert bot.json(*add, "rating", "4", "-p", "bot")["value"] == 4.0
    correction = bot.json(*add, "correction", "Lyon, not Paris", "-p", "bot")
    assert correction["value_text"] == "Lyon, not Paris"
    as_text = bot.json(*add, "zip", "01234", "--text", "-p", "bot")
    assert as_text["value"] == "01234"
    listed = bot.json("feedback", "ls", "-p", "bot")
    assert [f["name"] for f in listed] == ["zip", "correction", "rating", "thumbs"]
    assert [f["name"] for f in bot.json("feedback", "ls", "-p", "bot", "--name", "rating")] == [
        "rating"
    ]
    human = bot.ok("feedback", "add", TRACE, "thumbs", "true", "-p", "bot").stdout
    assert "the trace has not arrived yet" in human
    assert "Lyon" in bot.ok("feedback", "ls", "-p", "bot").stdout


def test_feedback_on_a_stored_trace_and_span(bot: Cli) -> None:
    span = genai_llm_span()
    seed_spans(bot.url, "bot", [span])
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    view = bot.json(
        "feedback", "add", trace_id.upper(), "thumbs", "true", "--span", span_id, "-p", "bot"
    )
    assert (view["trace_id"], view["span_id"], view["trace_known"]) == (trace_id, span_id, True)
    only = bot.json("feedback", "ls", "-p", "bot", "--trace", trace_id)
    assert [f["id"] for f in only] == [view["id"]]
    shown = bot.ok("traces", "show", trace_id, "-p", "bot").stdout
    assert "thumbs" in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("feedback", "add", "xyz", "thumbs", "true"), "trace_id: must be 32 hex digits"),
        (("feedback", "add", TRACE, "rating", "nan"), "must be a finite number"),
        (("feedback", "add", TRACE, " ", "1"), "name: must not be empty"),
        (("feedback", "add", TRACE, "t", "1", "--span", "zz"), "span_id: must be 16 hex digits"),
        (("feedback", "ls", "--limit", "0"), "limit: must be between 1 and 500"),
    ],
)
def test_bad_input_exits_2_and_stores_nothing(
    bot: Cli, args: tuple[str, ...], message: str
) -> None:
    result = bot.fails(*args, "-p", "bot")
    assert message in result.stderr
    assert bot.json("feedback", "ls", "-p", "bot") == []
