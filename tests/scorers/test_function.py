"""The python scorer: a user's function from a module in the working directory."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.errors import ConfigError, InvalidInput
from assay.scorers import PythonScorer, Score, ScorerError, ScorerSpec, create_scorer

CHECKS = """
import asyncio

from assay.scorers import Score


def polite(output):
    return "please" in output.lower()


def length(output, reference):
    return min(1.0, len(output) / len(reference))


def everything(**kwargs):
    return {"value": 1.0, "passed": True, "reason": ",".join(sorted(kwargs)),
            "metadata": {"n": len(kwargs)}}


def only_passed(output):
    return {"passed": output == "yes", "reason": "said " + output}


def full(input, output, reference, rubric, metadata):
    return Score(0.5, None, f"{input}|{output}|{reference}|{rubric}|{metadata}")


async def slow_check(output, metadata=None):
    await asyncio.sleep(0)
    return output == "ok"


class Rules:
    @staticmethod
    def short(output):
        return len(output) < 5


def needs_extra(output, tone):
    return True


def positional_only(output, /):
    return True


def optional_extra(output, tone="warm"):
    return tone == "warm"


def raises(output):
    raise KeyError("no such thing")


def raises_scorer_error(output):
    from assay.scorers import ScorerError
    raise ScorerError("upstream busy", retryable=True)


def returns_text(output):
    return "great"


def returns_two(output):
    return 2


def returns_nan(output):
    return float("nan")


def returns_bad_dict(output):
    return {"value": 1, "score": 1}


def returns_empty_dict(output):
    return {"reason": "?"}


NOT_A_FUNCTION = 3
"""


@pytest.fixture
def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], PythonScorer]:
    """A module of checks in a fresh working directory; builds scorers from it."""
    module = f"checks_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(CHECKS))
    monkeypatch.chdir(tmp_path)
    # The scorer puts the working directory on sys.path; restore it afterwards.
    monkeypatch.setattr(sys, "path", list(sys.path))
    importlib.invalidate_caches()

    def build(spec: str) -> PythonScorer:
        scorer = create_scorer(spec.replace("checks:", f"{module}:"))
        assert isinstance(scorer, PythonScorer)
        return scorer

    build.module = module  # type: ignore[attr-defined]
    return build


def test_a_bool_is_pass_or_fail(checks, run_score) -> None:
    scorer = checks("python:function=checks:polite")
    assert run_score(scorer, "Please wait") == Score(
        1.0, True, f"{checks.module}:polite returned True"
    )
    assert run_score(scorer, "Wait.").value == 0.0
    assert str(Path.cwd()) in sys.path


def test_a_number_is_the_value_and_threshold_gives_pass(checks, run_score) -> None:
    plain = checks("python:function=checks:length")
    score = run_score(plain, "abc", "abcdef")
    assert (score.value, score.passed) == (0.5, None)
    assert score.reason.endswith("returned 0.5")
    strict = checks("python:function=checks:length,threshold=0.6")
    assert run_score(strict, "abc", "abcdef").passed is False
    assert run_score(strict, "abcdefgh", "abcdef").passed is True


def test_kwargs_receive_every_field_and_dicts_become_scores(checks, run_score) -> None:
    score = run_score(checks("python:function=checks:everything"), "out")
    assert score == Score(1.0, True, "input,metadata,output,reference,rubric", {"n": 5})


def test_a_dict_with_only_passed(checks, run_score) -> None:
    scorer = checks("python:function=checks:only_passed")
    assert run_score(scorer, "yes") == Score(1.0, True, "said yes")
    assert run_score(scorer, "no") == Score(0.0, False, "said no")


def test_a_score_is_returned_as_is_and_fields_are_passed(checks, run_score) -> None:
    score = run_score(
        checks("python:function=checks:full"),
        "ünï",
        "réf",
        input="q",
        rubric="r",
        metadata={"k": 1},
    )
    assert score == Score(0.5, None, "q|ünï|réf|r|{'k': 1}")


def test_async_functions_and_dotted_paths(checks, run_score) -> None:
    assert run_score(checks("python:function=checks:slow_check"), "ok").passed is True
    assert run_score(checks("python:function=checks:slow_check"), None).passed is False
    assert run_score(checks("python:function=checks:Rules.short"), "abc").passed is True


def test_optional_unknown_parameters_keep_their_defaults(checks, run_score) -> None:
    assert run_score(checks("python:function=checks:optional_extra"), "x").passed is True


def test_the_spec(checks) -> None:
    scorer = checks("python:function=checks:polite,threshold=0.5")
    assert scorer.spec == ScorerSpec(
        "python", {"function": f"{checks.module}:polite", "threshold": 0.5}
    )


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("checks:needs_extra", "requires parameter 'tone', which the scorer cannot give"),
        ("checks:positional_only", "requires parameter 'output'"),
        ("checks:absent", "has no attribute 'absent'"),
        ("checks:NOT_A_FUNCTION", "is a int, not callable"),
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz' .*ModuleNotFoundError"),
    ],
)
def test_load_problems_are_config_errors(checks, function: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        checks(f"python:function={function}")


def test_the_function_reference_must_have_a_colon() -> None:
    with pytest.raises(
        InvalidInput, match=r"argument 'function': 'checks\.polite' is not of the form"
    ):
        create_scorer("python:function=checks.polite")


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("raises", "raised KeyError: 'no such thing'"),
        (
            "returns_text",
            "returned str; expected a bool, a number in \\[0, 1\\], a Score or a dict",
        ),
        ("returns_two", "returned a bad score: score value must be in \\[0, 1\\], got 2"),
        ("returns_nan", "returned a bad score: score value must be in \\[0, 1\\]"),
        ("returns_bad_dict", "unknown keys score"),
        ("returns_empty_dict", "a dict needs a value, or a bool passed"),
    ],
)
def test_failures_on_a_case_are_scorer_errors(
    checks, run_score, function: str, message: str
) -> None:
    with pytest.raises(ScorerError, match=message):
        run_score(checks(f"python:function=checks:{function}"), "x")


def test_a_scorer_error_from_the_function_passes_through(checks, run_score) -> None:
    with pytest.raises(ScorerError, match="upstream busy") as info:
        run_score(checks("python:function=checks:raises_scorer_error"), "x")
    assert info.value.retryable
