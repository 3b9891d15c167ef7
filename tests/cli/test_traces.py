"""``assay traces``: list with filters, show one trace's span tree."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assay.cli.traces import parse_since
from assay.errors import InvalidInput
from assay.testing.otlp import genai_llm_span, trace_with_children

from .conftest import Cli, seed_spans

HOUR_NS = 3600 * 10**9


@pytest.fixture
def seeded(cli: Cli, tmp_path: Path) -> dict[str, str]:
    """Project ``bot`` with release v1 registered and three traces:

    - ``chain``: a root chain span with two gpt-4o-mini children, release v1, locale de;
    - ``failed``: one gpt-4o call that failed, release v2 (unregistered), two days old;
    - ``search``: one gpt-4o-mini call about refunds, no release.
    """
    cli.ok("project", "create", "bot")
    manifest = tmp_path / "v1.json"
    manifest.write_text('{"name": "v1", "model": {"id": "gpt-4o-mini"}}')
    cli.ok("release", "register", str(manifest), "-p", "bot")

    chain = trace_with_children(
        2, root_attributes={"locale": "de"}, root_input="Wie spät ist es?", root_output="Zwölf."
    )
    seed_spans(cli.url, "bot", chain, release="v1")
    failed = genai_llm_span(
        model="gpt-4o",
        prompt="Summarise this",
        status="error",
        status_message="rate limited",
        start_ns=time.time_ns() - 48 * HOUR_NS,
    )
    seed_spans(cli.url, "bot", [failed], release="v2")
    search = genai_llm_span(prompt="How do I get a refund?", completion="Use the form.")
    seed_spans(cli.url, "bot", [search])
    return {
        "chain": chain[0].trace_id.hex(),
        "failed": failed.trace_id.hex(),
        "search": search.trace_id.hex(),
    }


def _ids(cli: Cli, *args: str) -> set[str]:
    page = cli.json("traces", "ls", "-p", "bot", *args)
    return {item["trace_id"] for item in page["items"]}


def test_ls_json_lists_newest_first(cli: Cli, seeded: dict[str, str]) -> None:
    page = cli.json("traces", "ls", "-p", "bot")
    assert [t["trace_id"] for t in page["items"]][-1] == seeded["failed"]
    assert len(page["items"]) == 3
    assert page["next_cursor"] is None


def test_ls_filters(cli: Cli, seeded: dict[str, str]) -> None:
    assert _ids(cli, "--release", "v1") == {seeded["chain"]}
    assert _ids(cli, "--release", "v2") == {seeded["failed"]}
    assert _ids(cli, "--model", "gpt-4o") == {seeded["failed"]}
    assert _ids(cli, "--status", "error") == {seeded["failed"]}
    assert _ids(cli, "--kind", "chain") == {seeded["chain"]}
    assert _ids(cli, "--slice", "locale=de") == {seeded["chain"]}
    assert _ids(cli, "--search", "REFUND") == {seeded["search"]}
    assert _ids(cli, "--since", "1h") == {seeded["chain"], seeded["search"]}
    assert _ids(cli, "--since", "3d") == set(seeded.values())
    assert _ids(cli, "--since", "2000-01-01T00:00") == set(seeded.values())


def test_ls_pages_with_cursor(cli: Cli, seeded: dict[str, str]) -> None:
    first = cli.json("traces", "ls", "-p", "bot", "--limit", "2")
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    second = cli.json("traces", "ls", "-p", "bot", "--limit", "2", "--cursor", first["next_cursor"])
    seen = {t["trace_id"] for t in first["items"] + second["items"]}
    assert seen == set(seeded.values())
    human = cli.ok("traces", "ls", "-p", "bot", "--limit", "2").stdout
    assert f"--cursor {first['next_cursor']}" in human


def test_ls_human(cli: Cli, seeded: dict[str, str]) -> None:
    out = cli.ok("traces", "ls", "-p", "bot").stdout
    for trace_id in seeded.values():
        assert trace_id in out
    assert "answer_question" in out
    assert "error" in out


def test_ls_no_match(cli: Cli, seeded: dict[str, str]) -> None:
    assert "No traces match" in cli.ok("traces", "ls", "-p", "bot", "--model", "nope").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday"), "--since"),
        (("--kind", "robot"), "kind: must be one of"),
        (("--slice", "locale"), "expected KEY=VALUE"),
        (("--cursor", "garbage"), "cursor"),
    ],
)
def test_ls_bad_filters_exit_2(cli: Cli, seeded: dict[str, str], args, message) -> None:
    result = cli.fails("traces", "ls", "-p", "bot", *args)
    assert message in result.stderr


def test_ls_bad_status_is_usage_error(cli: Cli, seeded: dict[str, str]) -> None:
    cli.fails("traces", "ls", "-p", "bot", "--status", "broken")


def test_show_json(cli: Cli, seeded: dict[str, str]) -> None:
    detail = cli.json("traces", "show", seeded["chain"], "-p", "bot")
    assert detail["trace_id"] == seeded["chain"]
    assert detail["release"]["name"] == "v1"
    [root] = detail["spans"]
    assert root["kind"] == "chain"
    assert [c["kind"] for c in root["children"]] == ["llm", "llm"]
    assert detail["input"] == "Wie spät ist es?"


def test_show_human_tree_and_panels(cli: Cli, seeded: dict[str, str]) -> None:
    out = cli.ok("traces", "show", seeded["chain"], "-p", "bot").stdout
    assert "chain answer_question" in out
    assert out.count("llm chat gpt-4o-mini") == 2
    assert "tok" in out
    assert "Wie spät ist es?" in out
    assert "Zwölf." in out
    failed = cli.ok("traces", "show", seeded["failed"], "-p", "bot").stdout
    assert "rate limited" in failed
    assert "v2 (unregistered)" in failed


def test_show_messages_content(cli: Cli, seeded: dict[str, str]) -> None:
    out = cli.ok("traces", "show", seeded["search"], "-p", "bot").stdout
    assert "user: How do I get a refund?" in out
    assert "Use the form." in out


def test_show_errors_exit_2(cli: Cli, seeded: dict[str, str]) -> None:
    result = cli.fails("traces", "show", "1234", "-p", "bot")
    assert "trace_id" in result.stderr
    result = cli.fails("traces", "show", "ab" * 16, "-p", "bot")
    assert "does not exist" in result.stderr
    cli.ok("project", "create", "other")
    result = cli.fails("traces", "show", seeded["chain"], "-p", "other")
    assert "does not exist" in result.stderr


def test_traces_on_both_dialects(any_cli: Cli) -> None:
    any_cli.ok("project", "create", "bot")
    spans = trace_with_children(1, root_attributes={"tier": "pro"})
    seed_spans(any_cli.url, "bot", spans, release="r1")
    trace_id = spans[0].trace_id.hex()
    page = any_cli.json("traces", "ls", "-p", "bot", "--slice", "tier=pro", "--release", "r1")
    assert [t["trace_id"] for t in page["items"]] == [trace_id]
    assert any_cli.json("traces", "show", trace_id, "-p", "bot")["span_count"] == 2


def test_parse_since() -> None:
    now = 10**18
    assert parse_since("30m", now_ns=now) == now - 30 * 60 * 10**9
    assert parse_since("2w", now_ns=now) == now - 14 * 24 * HOUR_NS
    assert parse_since("1970-01-01T00:00:01Z") == 10**9
    assert parse_since("1970-01-01T00:00:01") == 10**9
    with pytest.raises(InvalidInput, match="--since"):
        parse_since("1 fortnight")
