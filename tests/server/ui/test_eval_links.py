"""Links between the evaluation pages."""

from __future__ import annotations

from assay.server.ui.eval_links import EvalLinks


def test_links_quote_every_part() -> None:
    links = EvalLinks("my bot")
    assert links.datasets == "/p/my%20bot/datasets"
    assert links.dataset("suite", 2, page=1) == "/p/my%20bot/datasets/suite?version=2"
    assert links.dataset("suite", page=3) == "/p/my%20bot/datasets/suite?page=3"
    assert links.version("suite@4") == "/p/my%20bot/datasets/suite?version=4"
    assert links.version("?") == "/p/my%20bot/datasets/%3F"
    assert links.run("nightly/42") == "/p/my%20bot/runs/nightly%2F42"
    assert links.runs("suite@2") == "/p/my%20bot/runs?dataset=suite%402"
    assert links.compare(candidate="b") == "/p/my%20bot/compare?candidate=b"
    assert links.trace("ab12") == "/p/my%20bot/traces/ab12"
