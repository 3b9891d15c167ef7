"""``assay online``: add a scorer, backfill history, read the worker's verdicts,
switch off, delete; refusals that change nothing."""

from __future__ import annotations

import time

from assay.testing.otlp import genai_llm_span

from .conftest import Cli, run_worker, seed_spans


def test_online_scorer_backfill_and_scores(any_cli: Cli) -> None:
    cli = any_cli
    cli.ok("project", "create", "bot")
    start = time.time_ns() - 3600 * 10**9
    paris, lyon = (
        genai_llm_span(completion=f"It is {city}.", start_ns=start + i * 10**9)
        for i, city in enumerate(("Paris", "Lyon"))
    )
    seed_spans(cli.url, "bot", [paris, lyon])
    made = cli.json("online", "add", "paris", "-p", "bot", "--scorer", "regex:pattern=Paris",
                    "--when", "status != error", "--sample-rate", "1")  # fmt: skip
    assert made["spec"]["name"] == "regex"
    assert made["when"] == ["status != error"]
    (listed,) = cli.json("online", "ls", "-p", "bot")
    assert (listed["name"], listed["enabled"]) == ("paris", True)

    assert cli.json("online", "backfill", "paris", "-p", "bot", "--since", "2h") == {
        "scorer": "paris",
        "jobs": 2,
    }
    run_worker(cli.url)
    ids = (paris.trace_id.hex(), lyon.trace_id.hex())
    scores = {s["trace_id"]: s for s in cli.json("online", "scores", *ids, "-p", "bot")}
    assert (scores[ids[0]]["passed"], scores[ids[1]]["passed"]) == (True, False)
    assert scores[ids[0]]["scorer"] == "paris"
    assert "paris" in cli.ok("online", "scores", ids[0], "-p", "bot").stdout
    assert cli.json("online", "backfill", "paris", "-p", "bot")["jobs"] == 0  # scored already

    cli.ok("online", "disable", "paris", "-p", "bot")
    assert cli.json("online", "ls", "-p", "bot")[0]["enabled"] is False
    cli.ok("online", "enable", "paris", "-p", "bot")
    cli.ok("online", "rm", "paris", "-p", "bot")
    assert cli.json("online", "ls", "-p", "bot") == []
    assert cli.json("online", "scores", *ids, "-p", "bot") == []


def test_online_refusals_change_nothing(cli: Cli) -> None:
    cli.ok("project", "create", "bot")
    cli.ok("online", "add", "polite", "-p", "bot", "-s", "regex:pattern=please")
    refused = [
        (("online", "add", "x", "-p", "bot", "-s", "nosuch"), "nosuch"),
        (("online", "add", "x", "-p", "bot", "-s", "regex"), "pattern"),
        (("online", "add", "x", "-p", "bot", "-s", "json", "--when", "cost <"), "cost"),
        (("online", "add", "x", "-p", "bot", "-s", "json", "--sample-rate", "2"), "sample_rate"),
        (("online", "add", "no name", "-p", "bot", "-s", "json"), "is not valid"),
        (("online", "add", "polite", "-p", "bot", "-s", "json"), "already exists"),
        (("online", "backfill", "ghost", "-p", "bot"), "online scorer 'ghost' does not exist"),
        (("online", "backfill", "polite", "-p", "bot", "--since", "soon"), "--since"),
        (("online", "backfill", "polite", "-p", "bot", "--until", "later"), "--until"),
        (("online", "scores", "xyz", "-p", "bot"), "must be 32 hex digits"),
        (("online", "disable", "ghost", "-p", "bot"), "does not exist"),
        (("online", "rm", "ghost", "-p", "bot"), "does not exist"),
    ]
    for args, message in refused:
        assert message in cli.fails(*args).stderr, args
    (scorer,) = cli.json("online", "ls", "-p", "bot")
    assert (scorer["name"], scorer["spec"]["name"], scorer["enabled"]) == ("polite", "regex", True)
