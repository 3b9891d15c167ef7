"""Fixtures of the scorer tests: a synchronous way to run one score."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from assay.scorers import Score, ScoreInput, Scorer

RunScore = Callable[..., Score]


@pytest.fixture
def run_score() -> RunScore:
    """``run_score(scorer, output, reference=None, **fields)``: score one case."""

    def run(scorer: Scorer, output: Any, reference: Any = None, **fields: Any) -> Score:
        case = ScoreInput(
            input=fields.pop("input", "the question"),
            output=output,
            reference=reference,
            **fields,
        )
        return asyncio.run(scorer.score(case))

    return run
