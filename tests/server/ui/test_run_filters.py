"""The run page's result filters."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import QueryParams

from assay.errors import InvalidInput
from assay.experiments import StoredResult
from assay.server.ui.run_filters import ResultFilter

LABELS = ["exact", "judge"]


def result(
    case_id: str, output: str | None, exact: bool | None, judge: dict[str, Any] | None
) -> StoredResult:
    scores: dict[str, Any] = {}
    if exact is not None:
        scores["exact"] = {"value": float(exact), "passed": exact, "reason": ""}
    if judge is not None:
        scores["judge"] = judge
    return StoredResult(
        case_id=case_id,
        sample=0,
        output=output,
        error="boom" if output is None else None,
        latency_ms=None,
        prompt_tokens=None,
        completion_tokens=None,
        cost=None,
        cached=False,
        scores=scores,
    )


RESULTS = [
    result("a", "Refund approved", True, {"value": 0.9, "passed": True}),
    result("b", "No idea", False, {"value": 0.2, "passed": False}),
    result("c", "Refund denied", True, {"error": "judge timed out"}),
    result("d", None, None, None),
]


def shown(query: str) -> list[str]:
    form = ResultFilter.from_query(QueryParams(query))
    form.check(LABELS)
    return [r.case_id for r in RESULTS if form.matches(r, LABELS)]


def test_filters_narrow_the_results() -> None:
    assert shown("") == ["a", "b", "c", "d"]
    assert shown("failed=1") == ["b", "c", "d"]
    assert shown("scorer=exact&verdict=fail") == ["b"]
    assert shown("scorer=judge&verdict=error") == ["c", "d"]
    assert shown("verdict=pass") == ["a", "c"]  # any scorer
    assert shown("q=REFUND") == ["a", "c"]
    assert shown("q=denied&failed=1") == ["c"]


def test_bad_filters_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="verdict: expected one of pass, fail, error"):
        ResultFilter(verdict="maybe").check(LABELS)
    with pytest.raises(InvalidInput, match=r"no scorer 'regex' \(it has: exact, judge\)"):
        ResultFilter(scorer="regex").check(LABELS)


def test_query_round_trip() -> None:
    form = ResultFilter.from_query(QueryParams("failed=on&scorer=exact&verdict=FAIL&q=x"))
    assert form == ResultFilter(failed=True, scorer="exact", verdict="fail", q="x")
    assert form.active
    assert form.query(page=2) == "?failed=1&scorer=exact&verdict=fail&q=x&page=2"
    assert form.query(failed=False, q="") == "?scorer=exact&verdict=fail"
    assert ResultFilter().query() == ""
    assert not ResultFilter(scorer="exact").active
