"""Previews, verdicts and scorer summaries of the evaluation pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assay.experiments import RunView, StoredResult
from assay.server.ui.result_view import (
    Verdict,
    display_text,
    is_chat,
    is_long,
    preview,
    scorer_summaries,
    target_text,
    verdict_of,
)


def result(scores: dict[str, Any], error: str | None = None) -> StoredResult:
    return StoredResult(
        case_id="c1",
        sample=0,
        output=None if error else "answer",
        error=error,
        latency_ms=1.0,
        prompt_tokens=None,
        completion_tokens=None,
        cost=None,
        cached=False,
        scores=scores,
    )


def run(summary: dict[str, Any]) -> RunView:
    return RunView(
        id=1,
        name="r",
        dataset="s@1",
        dataset_version_id=1,
        target={"kind": "http", "url": "http://app/answer"},
        target_fingerprint="f" * 64,
        release=None,
        scorers=[{"name": "exact", "args": {}}, {"name": "regex", "args": {"pattern": "a"}}],
        repeat=1,
        status="completed",
        summary=summary,
        created_at=datetime.now(UTC),
        finished_at=None,
    )


def test_verdicts() -> None:
    def score(value: float, passed: bool | None, reason: str = "") -> dict[str, Any]:
        return {"value": value, "passed": passed, "reason": reason, "metadata": {}}

    passed = verdict_of(result({"exact": score(1.0, True, "same")}), "exact")
    assert passed == Verdict("pass", 1.0, "same")
    assert passed.text == "pass"
    graded = verdict_of(result({"judge": score(0.4, False)}), "judge")
    assert graded.text == "fail 0.40"
    continuous = verdict_of(result({"embedding": score(0.8123, None)}), "embedding")
    assert (continuous.kind, continuous.text) == ("score", "0.81")
    broken = verdict_of(result({"judge": {"error": "HTTP 500"}}), "judge")
    assert (broken.kind, broken.reason, broken.text) == ("error", "HTTP 500", "error")
    failed_call = verdict_of(result({}, error="timeout"), "exact")
    assert (failed_call.kind, failed_call.reason) == ("error", "target failed: timeout")
    assert verdict_of(result({}), "exact").text == "—"


def test_previews() -> None:
    long = "word " * 60
    assert preview(long).endswith("…")
    assert len(preview(long)) == 120
    assert is_long(long)
    assert not is_long("short")
    assert not is_long(None)
    chat = [{"role": "system", "content": "Be\nbrief."}, {"role": "user", "content": "Hi"}]
    assert is_chat(chat)
    assert not is_chat([])
    assert not is_chat({"role": "user"})
    assert preview(chat) == "Be brief. Hi"
    assert preview({"b": 1, "a": [2]}) == '{"a":[2],"b":1}'
    assert display_text({"a": 1}) == '{\n  "a": 1\n}'
    assert display_text(None) == ""


def test_scorer_summaries() -> None:
    summary = {
        "scorers": {
            "exact": {"n": 10, "mean": 0.8, "passed": 8, "failed": 2, "errors": 0},
            'regex:{"pattern":"a"}': {"n": 3, "mean": 1.0, "passed": 3, "failed": 0},
            "embedding": {"n": 10, "mean": 0.8123, "passed": 0, "failed": 0, "errors": 1},
        }
    }
    exact, regex, embedding = scorer_summaries(run(summary))
    assert (exact.label, exact.pass_rate, exact.text) == ("exact", 0.8, "80.0% pass")
    assert regex.text == "3/3 passed"  # no failures: not "100%"
    assert (embedding.pass_rate, embedding.text, embedding.errors) == (None, "mean 0.812", 1)
    # A run still going has no summary: its scorers show as unscored.
    unscored = scorer_summaries(run({}))
    assert [s.label for s in unscored] == ["exact", 'regex:{"pattern":"a"}']
    assert unscored[0].text == "—"
    assert target_text(run({}).target) == "http://app/answer"
    assert target_text({"kind": "python"}) == ""
