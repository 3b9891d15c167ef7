"""``assay rule``: add, load from a file, list with hits after the worker routed a
trace, switch off and on, delete; refusals that change nothing."""

from __future__ import annotations

import time
from pathlib import Path

from assay.testing.otlp import genai_llm_span

from .conftest import Cli, run_worker, seed_spans

RULES_TOML = """
[[rules]]
name = "thumbs-down"
queue = "triage"
conditions = ["feedback.thumbs <= 0"]
sample_rate = 0.5

[[rules]]
name = "errors"
queue = "triage"
conditions = ["status == error"]
enabled = false
"""


def test_rules_route_traces_to_a_queue(any_cli: Cli, tmp_path: Path) -> None:
    cli = any_cli
    cli.ok("project", "create", "bot")
    cli.ok("queue", "create", "triage", "-p", "bot", "--field", "ok:boolean", "--overlap", "1")
    made = cli.json(
        "rule", "add", "thumbs-down", "-p", "bot", "--queue", "triage",
        "--when", "feedback.thumbs <= 0", "--when", "slice.locale in de,fr",
        "--description", "unhappy users",
    )  # fmt: skip
    assert made["when"] == ["feedback.thumbs <= 0", "slice.locale in de,fr"]
    assert (made["queue"], made["sample_rate"], made["enabled"]) == ("triage", 1.0, True)
    assert "every trace" in cli.ok("rule", "add", "calibration", "-p", "bot", "-q", "triage",
                                   "--sample-rate", "0.02", "--disabled").stdout  # fmt: skip

    file = tmp_path / "rules.toml"
    file.write_text(RULES_TOML)
    loaded = cli.json("rule", "load", str(file), "-p", "bot")
    assert [(r["name"], r["sample_rate"], r["enabled"]) for r in loaded] == [
        ("thumbs-down", 0.5, True),
        ("errors", 1.0, False),
    ]
    rules = {r["name"]: r for r in cli.json("rule", "ls", "-p", "bot")}
    assert sorted(rules) == ["calibration", "errors", "thumbs-down"]
    assert rules["thumbs-down"]["when"] == ["feedback.thumbs <= 0"]
    assert (rules["errors"]["matches"], rules["errors"]["enqueued"]) == (0, 0)
    assert len(rules["errors"]["per_day"]) == 14
    cli.ok("rule", "rm", "calibration", "-p", "bot")
    cli.ok("rule", "disable", "thumbs-down", "-p", "bot")
    cli.ok("rule", "enable", "errors", "-p", "bot")

    span = genai_llm_span(start_ns=time.time_ns() - 3600 * 10**9, status="error")
    seed_spans(cli.url, "bot", [span])
    run_worker(cli.url)
    hits = {r["name"]: r for r in cli.json("rule", "ls", "-p", "bot", "--days", "2")}
    assert (hits["errors"]["matches"], hits["errors"]["enqueued"]) == (1, 1)
    assert hits["errors"]["last_match_at"] is not None
    assert sum(d["matches"] for d in hits["errors"]["per_day"]) == 1
    assert (hits["thumbs-down"]["enabled"], hits["thumbs-down"]["matches"]) == (False, 0)
    (item,) = cli.json("queue", "items", "triage", "-p", "bot")
    assert (item["trace_id"], item["source"]) == (span.trace_id.hex(), "rule")
    table = cli("rule", "ls", "-p", "bot", env={"COLUMNS": "200"}).stdout
    assert "status == error" in table
    assert "last match" in table


def test_rule_refusals_change_nothing(cli: Cli, tmp_path: Path) -> None:
    cli.ok("project", "create", "bot")
    cli.ok("queue", "create", "triage", "-p", "bot", "--field", "ok:boolean")
    cli.ok("rule", "add", "neg", "-p", "bot", "-q", "triage", "--when", "feedback.thumbs <= 0")
    bad_file = tmp_path / "rules.toml"
    bad_file.write_text(
        '[[rules]]\nname = "neg"\nqueue = "triage"\nsample_rate = 0.1\n\n'
        '[[rules]]\nname = "other"\nqueue = "nope"\n'
    )
    refused = [
        (("rule", "add", "x", "-p", "bot", "-q", "nope"), "review queue 'nope' does not exist"),
        (
            ("rule", "add", "x", "-p", "bot", "-q", "triage", "--when", "mood == sad"),
            "unknown field 'mood'",
        ),
        (("rule", "add", "x", "-p", "bot", "-q", "triage", "--sample-rate", "0"), "sample_rate"),
        (("rule", "add", "neg", "-p", "bot", "-q", "triage"), "already exists"),
        (("rule", "load", str(bad_file), "-p", "bot"), "rule 'other'"),
        (("rule", "load", str(tmp_path / "none.toml"), "-p", "bot"), "cannot read"),
        (("rule", "enable", "ghost", "-p", "bot"), "routing rule 'ghost' does not exist"),
        (("rule", "rm", "ghost", "-p", "bot"), "routing rule 'ghost' does not exist"),
    ]
    for args, message in refused:
        assert message in cli.fails(*args).stderr, args
    (rule,) = cli.json("rule", "ls", "-p", "bot")
    assert (rule["name"], rule["sample_rate"], rule["when"]) == (
        "neg",
        1.0,
        ["feedback.thumbs <= 0"],
    )
    cli.ok("rule", "rm", "neg", "-p", "bot")
    assert "No routing rules yet" in cli.ok("rule", "ls", "-p", "bot").stdout
