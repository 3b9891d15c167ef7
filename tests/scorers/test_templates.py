"""Judge templates: checked at build, sandboxed and strict at render."""

from __future__ import annotations

import pytest

from assay.errors import InvalidInput
from assay.scorers import ScorerError
from assay.scorers.templates import check_template, compile_template, prompt_value, render


def test_unknown_variables_and_syntax_errors_are_caught_early() -> None:
    with pytest.raises(ValueError, match="unknown variables outptu; available: input, output"):
        check_template("{{ outptu }}", ["input", "output"])
    with pytest.raises(ValueError, match="does not parse: line 2"):
        check_template("fine\n{% if output %}", ["output"])
    with pytest.raises(InvalidInput, match="unknown variables x"):
        compile_template("{{ x }}", ["output"])


def test_render_keeps_text_as_is() -> None:
    template = compile_template(
        "<{{ output }}>{% if reference is none %} no ref{% endif %}\n", ["output", "reference"]
    )
    assert (
        render(template, {"output": 'a < b & "c"', "reference": None}) == '<a < b & "c"> no ref\n'
    )


def test_render_failures_are_scorer_errors() -> None:
    template = compile_template("{{ output.missing.deeper }}", ["output"])
    with pytest.raises(ScorerError, match="judge template failed: UndefinedError"):
        render(template, {"output": "text"})


def test_the_sandbox_refuses_python_internals() -> None:
    template = compile_template("{{ output.__class__.__mro__ }}", ["output"])
    with pytest.raises(ScorerError, match="judge template failed"):
        render(template, {"output": "text"})


def test_prompt_value() -> None:
    assert prompt_value(None) is None
    assert prompt_value({"b": 1, "a": [1]}) == '{"a": [1], "b": 1}'
    assert prompt_value("é") == "é"
