"""The ``python`` scorer: a user's own function, named ``module:function``.

The module is imported with the current directory importable (as ``python -m``
would; the directory stays on ``sys.path``, as uvicorn's ``--app-dir`` does, so the
function's own lazy imports keep working). ``function`` may be a dotted path inside
the module (``checks:Rules.polite``).

The function receives, as keyword arguments, the fields of
:class:`~assay.scorers.base.ScoreInput` its signature names (``input``, ``output``,
``reference``, ``rubric``, ``metadata``; all of them with ``**kwargs``), may be
sync or async, and returns one of:

- a ``bool``: pass (value 1) or fail (value 0);
- a number in [0, 1]: the value (pass/fail from ``threshold`` when given);
- a :class:`~assay.scorers.base.Score`;
- a dict with ``value`` and/or ``passed``, and optionally ``reason`` and ``metadata``.

A sync function runs on the event loop's thread: keep it quick, or make it async.
An exception in the function, or a return value of another kind, is a
:class:`~assay.scorers.base.ScorerError` for that case.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator

from assay.errors import ConfigError, InvalidInput
from assay.scorers.args import ScorerArgs, spec_of
from assay.scorers.base import Score, ScoreInput, ScorerError
from assay.scorers.registry import register_scorer

FIELDS = ("input", "output", "reference", "rubric", "metadata")
"""The keyword arguments a scorer function can ask for."""

_REFERENCE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_DICT_KEYS = frozenset({"value", "passed", "reason", "metadata"})


def load_function(reference: str) -> Callable[..., Any]:
    """Import ``module:function`` with the current directory importable.

    Raises:
        ConfigError: The module does not import, or has no such callable.
    """
    module_name, _, path = reference.partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:  # a user's module can fail in any way while importing
        raise ConfigError(
            f"python scorer: cannot import module {module_name!r} (from {cwd}): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    for part in path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(
                f"python scorer: {reference!r}: {module_name!r} has no attribute {path!r}"
            ) from None
    if not callable(target):
        raise ConfigError(
            f"python scorer: {reference!r} is a {type(target).__name__}, not callable"
        )
    return target  # type: ignore[no-any-return]


def _accepted_fields(function: Callable[..., Any], reference: str) -> tuple[str, ...]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"python scorer: cannot read the signature of {reference!r}: {exc}"
        ) from None
    accepted: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return FIELDS
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if parameter.name in FIELDS and parameter.kind is not inspect.Parameter.POSITIONAL_ONLY:
            accepted.append(parameter.name)
        elif parameter.default is inspect.Parameter.empty:
            raise ConfigError(
                f"python scorer: {reference!r} requires parameter {parameter.name!r}, which "
                f"the scorer cannot give; it passes keyword arguments among {', '.join(FIELDS)}"
            )
    return tuple(accepted)


class PythonArgs(ScorerArgs):
    """Arguments of ``python``."""

    function: str = Field(
        description="The function, as `module:function` (a dotted path after the colon "
        "is allowed), importable from the current directory."
    )
    threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="When the function returns a number: pass at or above it.",
    )

    @field_validator("function")
    @classmethod
    def _shape(cls, function: str) -> str:
        if not _REFERENCE.fullmatch(function):
            raise ValueError(f"{function!r} is not of the form module:function")
        return function


@register_scorer("python", args=PythonArgs)
class PythonScorer:
    """Your own function `module:function` scores the output (bool, number, dict or Score)."""

    def __init__(self, args: PythonArgs) -> None:
        """Import the function and read its signature.

        Args:
            args: Its arguments (``function`` is required).

        Raises:
            ConfigError: The function cannot be imported, or needs a parameter the
                scorer cannot give.
        """
        self.args = args
        self.spec = spec_of("python", args)
        self._function = load_function(args.function)
        self._fields = _accepted_fields(self._function, args.function)

    async def score(self, case: ScoreInput) -> Score:
        """Call the function on ``case``.

        Raises:
            ScorerError: The function raised, or returned something unusable.
        """
        name = self.args.function
        kwargs = {field: getattr(case, field) for field in self._fields}
        try:
            result = self._function(**kwargs)
            if inspect.isawaitable(result):
                result = await result
        except ScorerError:
            raise
        except Exception as exc:  # the user's code; its failure is this case's error
            raise ScorerError(f"python scorer {name!r} raised {type(exc).__name__}: {exc}") from exc
        try:
            return self._to_score(result)
        except InvalidInput as exc:
            raise ScorerError(f"python scorer {name!r} returned a bad score: {exc}") from None

    def _to_score(self, result: Any) -> Score:
        name = self.args.function
        if isinstance(result, Score):
            return result
        if isinstance(result, bool):
            return Score(float(result), result, f"{name} returned {result}")
        if isinstance(result, int | float):
            threshold = self.args.threshold
            passed = None if threshold is None else result >= threshold
            return Score(result, passed, f"{name} returned {result:g}")
        if isinstance(result, dict):
            unknown = set(result) - _DICT_KEYS
            if unknown:
                raise InvalidInput(
                    f"unknown keys {', '.join(sorted(map(str, unknown)))}; "
                    f"use {', '.join(sorted(_DICT_KEYS))}"
                )
            passed = result.get("passed")
            value = result.get("value")
            if value is None:
                if not isinstance(passed, bool):
                    raise InvalidInput("a dict needs a value, or a bool passed")
                value = float(passed)
            return Score(
                value, passed, result.get("reason") or "", dict(result.get("metadata") or {})
            )
        raise ScorerError(
            f"python scorer {name!r} returned {type(result).__name__}; expected a bool, "
            "a number in [0, 1], a Score or a dict"
        )
