"""``assay queue``: a queue from a file, traces in, labels from three annotators, a
dispute settled, agreement, promotion to a dataset, export; and refusals that change
nothing."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import pytest

from assay.cli import queue, queue_agreement, queue_lookup, queue_results
from assay.cli.queue_fields import label_text, label_values, parse_field_spec
from assay.errors import InvalidInput
from assay.testing.otlp import genai_llm_span

from .conftest import Cli, seed_spans

QUEUE_TOML = """
name = "answers"
description = "Answers about cities"
instructions = "Is the **answer** right? Correct it if not."
overlap = 3

[[fields]]
name = "verdict"
type = "categorical"
options = ["good", "bad"]

[[fields]]
name = "fix"
type = "correction"
required = false
"""


def seed_traces(cli: Cli, prompts: list[str]) -> list[str]:
    """One stored trace per prompt, an hour old, oldest first; their ids."""
    start = time.time_ns() - 3600 * 10**9
    spans = [
        genai_llm_span(prompt=p, completion=f"About {p}: Paris.", start_ns=start + i * 10**9)
        for i, p in enumerate(prompts)
    ]
    seed_spans(cli.url, "bot", spans)
    return [s.trace_id.hex() for s in spans]


def make_users(cli: Cli, **roles: str) -> None:
    for name, role in roles.items():
        cli.ok("user", "create", name, "--role", role, "--password-stdin", input="password1\n")


@pytest.fixture
def bot(any_cli: Cli, tmp_path: Path) -> Cli:
    """A project ``bot`` with the queue ``answers`` (overlap 3) from a TOML file."""
    any_cli.ok("project", "create", "bot")
    file = tmp_path / "answers.toml"
    file.write_text(QUEUE_TOML)
    made = any_cli.json("queue", "create", "-p", "bot", "--file", str(file))
    assert (made["name"], made["overlap"], made["items"]) == ("answers", 3, 0)
    assert [f["name"] for f in made["schema"]] == ["verdict", "fix"]
    return any_cli


def label(cli: Cli, user: str, item: int, *values: str) -> dict[str, Any]:
    sets = [arg for value in values for arg in ("--set", value)]
    result: dict[str, Any] = cli.json(
        "queue", "label", "answers", "-p", "bot", "--user", user, "--item", str(item), *sets
    )
    return result


def test_the_review_loop_from_the_command_line(bot: Cli, tmp_path: Path) -> None:
    first, second, third = seed_traces(bot, ["Paris", "Lyon", "Nice"])
    make_users(bot, ana="annotator", bo="annotator", cy="annotator", dee="adjudicator")

    added = bot.json("queue", "add", "answers", first, second, "-p", "bot", "--reason", "picked")
    assert added == {"added": 2, "already": 0, "not_arrived": []}
    by_filter = bot.json("queue", "add", "answers", "-p", "bot", "--since", "2h", "--limit", "5")
    assert by_filter == {"added": 1, "already": 2, "not_arrived": []}
    items = bot.json("queue", "items", "answers", "-p", "bot")
    assert [i["trace_id"] for i in items] == [first, second, third]
    one, two, _ = (i["id"] for i in items)

    claimed = bot.json("queue", "claim", "answers", "-p", "bot", "--user", "ana")
    assert (claimed["item_id"], claimed["resumed"]) == (one, False)
    assert "gold" not in claimed
    assert "Paris" in json.dumps(claimed["context"]["input"])
    assert label(bot, "ana", one, "verdict=good")["status"] == "open"
    assert label(bot, "bo", one, "verdict=good")["status"] == "open"
    assert label(bot, "cy", one, "verdict=bad", "fix=It is Lyon.")["status"] == "disputed"
    for user in ("ana", "bo", "cy"):
        done = label(bot, user, two, "verdict=good")
    assert (done["status"], done["resolution"]) == ("resolved", "unanimous")
    again = bot.fails(
        "queue", "label", "answers", "-p", "bot", "-u", "cy", "--item", str(one),
        "--set", "verdict=good", "--comment", "changed my mind",
    )  # fmt: skip
    assert "is disputed: its labels stay as they are" in again.stderr
    disputed = bot.json("queue", "items", "answers", "-p", "bot", "--status", "disputed")
    assert [i["id"] for i in disputed] == [one]
    side_by_side = bot.ok("queue", "item", "answers", str(one), "-p", "bot").stdout
    assert "ana" in side_by_side
    assert "verdict=bad" in side_by_side

    settled = bot.json(
        "queue",
        "adjudicate",
        "answers",
        str(one),
        "-p",
        "bot",
        "--user",
        "dee",
        "--set",
        "verdict=bad",
        "--set",
        "fix=Lyon.",
        "--reason",
        "the question was about Lyon",
    )
    assert (settled["status"], settled["resolution"], settled["resolved_by"]) == (
        "resolved",
        "adjudicated",
        "dee",
    )
    gold = bot.json("queue", "gold", "answers", str(two), "-p", "bot")
    assert gold["gold"] == {"verdict": "good", "fix": None}

    agreement = bot.json("queue", "agreement", "answers", "-p", "bot", "--resamples", "50")
    (verdict,) = agreement["fields"]
    assert verdict["field"] == "verdict"
    assert "alpha" in verdict
    assert verdict["alpha"] == pytest.approx(verdict["report"]["alpha"]["value"])
    assert (agreement["items"], agreement["annotations"], agreement["annotators"]) == (2, 6, 3)
    shown = bot.ok("queue", "agreement", "answers", "-p", "bot", "--resamples", "50").stdout
    assert "Krippendorff's alpha" in shown
    periods = bot.json(
        "queue",
        "agreement",
        "answers",
        "-p",
        "bot",
        "--over-time",
        "--bucket",
        "day",
        "--resamples",
        "20",
    )
    assert periods["field"] == "verdict"
    assert len(periods["periods"]) == 1

    shown = bot.json("queue", "show", "answers", "-p", "bot")
    assert (shown["queue"]["resolved"], shown["queue"]["open"], shown["queue"]["gold"]) == (2, 1, 1)
    assert [a["annotator"] for a in shown["annotators"]] == ["ana", "bo", "cy"]
    human = bot.ok("queue", "show", "answers", "-p", "bot").stdout
    assert "Is the answer right?" in human
    assert "good | bad" in human
    assert [q["name"] for q in bot.json("queue", "ls", "-p", "bot")] == ["answers"]

    promoted = bot.json("queue", "promote", "answers", "-p", "bot", "--dataset", "reviewed")
    assert promoted["created"]
    assert promoted["dataset_created"]
    assert sorted(promoted["added"]) == sorted([f"trace-{first}", f"trace-{second}"])
    again = bot.ok("queue", "promote", "answers", "-p", "bot", "-d", "reviewed").stdout
    assert "no new version" in again
    cases = bot.json("dataset", "show", "reviewed", "-p", "bot")["cases"]
    case = next(c for c in cases if c["id"] == f"trace-{first}")
    assert case["reference"] == "Lyon."
    assert case["provenance"]["trace_id"] == first
    assert case["provenance"]["adjudicator"] == "dee"
    assert case["provenance"]["annotators"] == ["ana", "bo", "cy"]

    jsonl = tmp_path / "out.jsonl"
    bot.ok("queue", "export", "answers", "-p", "bot", "-o", str(jsonl))
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["agreement"] for r in records] == ["disputed", "unanimous", None]
    assert records[0]["reason"] == "the question was about Lyon"
    table = tmp_path / "out.csv"
    bot.ok("queue", "export", "answers", "-p", "bot", "-o", str(table), "--status", "resolved")
    with table.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6  # three labels on each resolved item
    assert {r["label.verdict"] for r in rows} == {"good", "bad"}


def test_refusals_exit_2_and_change_nothing(bot: Cli) -> None:
    first, second = seed_traces(bot, ["Paris", "Lyon"])
    make_users(bot, ana="annotator", bo="annotator", root="admin")
    bot.ok("queue", "add", "answers", first, second, "-p", "bot")
    one, two = (i["id"] for i in bot.json("queue", "items", "answers", "-p", "bot"))
    base = ("-p", "bot", "--user", "ana", "--item")

    cases: list[tuple[tuple[str, ...], str]] = [
        (("queue", "show", "nope", "-p", "bot"), "no review queue named 'nope'"),
        (("queue", "add", "nope", first, "-p", "bot"), "no review queue named 'nope'"),
        (("queue", "add", "answers", "xyz", "-p", "bot"), "must be 32 hex digits"),
        (("queue", "add", "answers", "-p", "bot"), "which traces?"),
        (("queue", "add", "answers", first, "--since", "1h", "-p", "bot"), "not both"),
        (
            ("queue", "label", "answers", *base, str(one), "--set", "verdict=meh"),
            "'meh' is not one of the options: good, bad",
        ),
        (("queue", "label", "answers", *base, str(one), "--set", "mood=ok"), "unknown field"),
        (("queue", "label", "answers", *base, str(one), "--set", "verdict"), "KEY=VALUE"),
        (("queue", "label", "answers", *base, str(one)), "field 'verdict': is required"),
        (
            ("queue", "label", "answers", *base, str(two), "--set", "verdict=good"),
            f"is not 'ana''s next item (item {one} is)",
        ),
        (("queue", "label", "answers", *base, "999", "--set", "verdict=good"), "no item 999"),
        (
            (
                "queue",
                "label",
                "answers",
                "-p",
                "bot",
                "--user",
                "zed",
                "--item",
                str(one),
                "--set",
                "verdict=good",
            ),
            "user 'zed' does not exist",
        ),
        (("queue", "edit", "answers", "-p", "bot"), "nothing to change"),
        (("queue", "edit", "answers", "-p", "bot", "--overlap", "0"), "overlap must be"),
        (("queue", "export", "answers", "-p", "bot", "-o", "/nonexistent/x.csv"), "cannot write"),
    ]
    for args, message in cases:
        assert message in bot.fails(*args).stderr, args
    # Nothing was claimed: ana's next item is still the first, not held before.
    claimed = bot.json("queue", "claim", "answers", "-p", "bot", "--user", "ana")
    assert (claimed["item_id"], claimed["resumed"]) == (one, False)
    label(bot, "ana", one, "verdict=good")
    label(bot, "bo", one, "verdict=bad")
    bot.ok("queue", "edit", "answers", "-p", "bot", "--overlap", "2")
    assert bot.json("queue", "items", "answers", "-p", "bot")[0]["status"] == "disputed"

    adjudicate = ("queue", "adjudicate", "answers", str(one), "-p", "bot", "--set", "verdict=bad")
    by_annotator = bot.fails(*adjudicate, "--user", "ana", "--reason", "mine")
    assert "only adjudicators and admins adjudicate" in by_annotator.stderr
    assert "Missing option '--reason'" in bot.fails(*adjudicate, "--user", "ana").stderr
    assert "reason: say why" in bot.fails(*adjudicate, "--user", "root", "--reason", " ").stderr
    assert (
        "only resolved items can be gold"
        in bot.fails("queue", "gold", "answers", str(one), "-p", "bot").stderr
    )
    schema_locked = bot.fails("queue", "edit", "answers", "-p", "bot", "--field", "ok:boolean")
    assert "its label schema can no longer change" in schema_locked.stderr
    item = bot.json("queue", "items", "answers", "-p", "bot")[0]
    assert (item["status"], item["label"], item["annotations"]) == ("disputed", None, 2)
    assert bot.json("dataset", "ls", "-p", "bot") == []


def test_create_from_fields_and_edit(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    made = cli.json(
        "queue",
        "create",
        "triage",
        "-p",
        "bot",
        "--field",
        "ok:boolean",
        "--field",
        "quality:ordinal:5",
        "--field",
        "topics!:tags:billing,login",
        "--field",
        "fix?:correction",
        "--overlap",
        "1",
        "--gold-rate",
        "0.1",
    )
    assert [(f["name"], f["type"], f["required"]) for f in made["schema"]] == [
        ("ok", "boolean", True),
        ("quality", "ordinal", True),
        ("topics", "tags", True),
        ("fix", "correction", False),
    ]
    assert (made["overlap"], made["gold_rate"]) == (1, 0.1)
    edited = cli.json(
        "queue",
        "edit",
        "triage",
        "-p",
        "bot",
        "--instructions",
        "Be kind.",
        "--floor",
        "0.8",
        "--field",
        "ok:boolean",
    )
    assert (edited["instructions"], edited["agreement_floor"]) == ("Be kind.", 0.8)
    assert [f["name"] for f in edited["schema"]] == ["ok"]
    refused = [
        (("queue", "create", "-p", "bot"), "no label fields"),
        (("queue", "create", "-p", "bot", "--field", "ok:boolean"), "NAME is missing"),
        (("queue", "create", "triage", "-p", "bot", "--field", "ok:boolean"), "already exists"),
        (("queue", "create", "x", "-p", "bot", "--field", "ok:maybe"), "type must be one of"),
        (("queue", "create", "x", "-p", "bot", "--field", "v:categorical"), "give the options"),
        (("queue", "create", "x", "-p", "bot", "--file", "q.ini"), "unsupported format"),
    ]
    for args, message in refused:
        assert message in cli.fails(*args).stderr, args
    assert [q["name"] for q in cli.json("queue", "ls", "-p", "bot")] == ["triage"]


def test_field_specs_and_set_values() -> None:
    assert parse_field_spec("v:categorical:a, b") == {
        "type": "categorical",
        "name": "v",
        "options": ["a", "b"],
    }
    assert parse_field_spec("notes!:text") == {"type": "text", "required": True, "name": "notes"}
    with pytest.raises(InvalidInput, match="takes no arguments"):
        parse_field_spec("ok:boolean:yes")
    with pytest.raises(InvalidInput, match="give the scale"):
        parse_field_spec("q:ordinal")
    with pytest.raises(InvalidInput, match="expected NAME:TYPE"):
        parse_field_spec("verdict")
    from assay.review import parse_schema

    schema = parse_schema([{"name": "t", "type": "tags"}, {"name": "v", "type": "text"}])
    assert label_values(schema, ["t=a,b", "t=c", "v=x=y"]) == {"t": ["a", "b", "c"], "v": "x=y"}
    with pytest.raises(InvalidInput, match="--set v: given twice"):
        label_values(schema, ["v=1", "v=2"])
    assert label_text({"ok": True, "t": ["a", "b"], "fix": None}) == "ok=true, t=a,b"


def test_cli_choices_match_the_review_package() -> None:
    from typing import get_args

    from assay.review import BUCKETS, EXPORT_FORMATS, ITEM_STATUSES
    from assay.review.items import MAX_BULK
    from assay.stats.agreement import AGREEMENT_RESAMPLES

    assert get_args(queue_lookup.ItemStatus) == ITEM_STATUSES
    assert get_args(queue_results.ExportFormat) == EXPORT_FORMATS
    assert get_args(queue_agreement.Bucket) == BUCKETS
    assert queue.MAX_BULK == MAX_BULK
    assert queue_agreement.RESAMPLES == AGREEMENT_RESAMPLES
