"""Argument validation messages, canonical specs of built scorers, and arg listings."""

from __future__ import annotations

import pytest
from pydantic import Field, SecretStr

from assay.errors import InvalidInput
from assay.scorers import ScorerArgs, spec_of, validate_args
from assay.scorers.args import describe_args


class DemoArgs(ScorerArgs):
    limit: int = Field(description="Most items.")
    mode: str = "fast"
    key: SecretStr | None = None


def test_unknown_argument_is_named_with_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as info:
        validate_args("demo", DemoArgs, {"limit": 1, "limt": 2})
    assert str(info.value) == "scorer 'demo': unknown argument 'limt' (known: limit, mode, key)"


def test_missing_and_malformed_arguments_are_named() -> None:
    with pytest.raises(InvalidInput, match="scorer 'demo': argument 'limit' is required"):
        validate_args("demo", DemoArgs, {})
    with pytest.raises(InvalidInput, match="argument 'limit': Input should be a valid integer"):
        validate_args("demo", DemoArgs, {"limit": "many"})


def test_spec_of_leaves_out_defaults_and_secrets() -> None:
    args = validate_args("demo", DemoArgs, {"limit": 3, "mode": "fast", "key": "sk-123"})
    spec = spec_of("demo", args, secret=("key",))
    assert spec.args == {"limit": 3}
    assert "sk-123" not in spec.canonical


def test_describe_args() -> None:
    limit, mode, key = describe_args(DemoArgs, secret=("key",))
    assert (limit.name, limit.type, limit.required, limit.default) == ("limit", "int", True, None)
    assert limit.description == "Most items."
    assert (mode.required, mode.default) == (False, '"fast"')
    assert (key.type, key.secret) == ("str | None", True)
