"""The ``json`` scorer: the output is JSON, and optionally valid under a JSON Schema.

A string output must parse as JSON (or, with ``extract``, hold a JSON object or
array somewhere in its text, as in a Markdown code fence); a non-string output is
already a value and only has to be JSON-able. Schema validation uses the
``jsonschema`` library with the draft the schema declares in ``$schema`` (the
latest draft when it declares none); the reason names the failing path in JSONPath
form (``$.items[2].price``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from assay.scorers.args import ScorerArgs, spec_of
from assay.scorers.base import Score, ScoreInput
from assay.scorers.registry import register_scorer
from assay.scorers.text import find_json_values

# Schema errors kept in metadata, and characters per message: a bad output can
# break hundreds of rules, and every result row stores its metadata.
_MAX_ERRORS = 10
_MAX_MESSAGE_CHARS = 300


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, though Python's decoder accepts them.
    raise ValueError(f"{name} is not JSON")


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[: _MAX_MESSAGE_CHARS - 1] + "…"


class JsonArgs(ScorerArgs):
    """Arguments of ``json``."""

    schema_: dict[str, Any] | None = Field(
        default=None,
        alias="schema",
        description="A JSON Schema the parsed output must satisfy.",
    )
    extract: bool = Field(
        default=False,
        description="Take the first JSON object or array found in the text (prose and "
        "code fences around it are ignored) instead of parsing the whole output.",
    )

    @field_validator("schema_")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            from jsonschema import SchemaError, validators

            try:
                validators.validator_for(schema).check_schema(schema)
            except SchemaError as exc:
                path = exc.json_path if exc.path else "$"
                raise ValueError(f"not a valid JSON Schema at {path}: {exc.message}") from None
        return schema


@register_scorer("json", args=JsonArgs)
class JsonScorer:
    """Passes when the output is JSON, and valid under `schema` if one is given."""

    def __init__(self, args: JsonArgs | None = None) -> None:
        """Build the scorer.

        Args:
            args: Its arguments; no schema and no extraction when ``None``.
        """
        self.args = args or JsonArgs()
        self.spec = spec_of("json", self.args)
        self._validator: Any = None
        if self.args.schema_ is not None:
            from jsonschema import validators

            schema = self.args.schema_
            self._validator = validators.validator_for(schema)(schema)

    def _parse(self, output: Any) -> tuple[Any, str | None]:
        """The output as a JSON value, or why it is not one."""
        if output is None:
            return None, "there is no output"
        if not isinstance(output, str):
            try:
                return json.loads(json.dumps(output, allow_nan=False)), None
            except (TypeError, ValueError) as exc:
                return None, f"output is not JSON-able: {exc}"
        if self.args.extract:
            found = find_json_values(output)
            if not found:
                return None, "no JSON object or array found in the output"
            return found[0], None
        try:
            return json.loads(output, parse_constant=_reject_constant), None
        except ValueError as exc:
            return None, f"output is not JSON: {exc}"

    async def score(self, case: ScoreInput) -> Score:
        """Parse ``case.output`` and validate it against the schema, if any."""
        value, problem = self._parse(case.output)
        if problem is not None:
            return Score(0.0, False, problem)
        if self._validator is None:
            return Score(1.0, True, "output is valid JSON")
        from jsonschema.exceptions import best_match

        errors = list(self._validator.iter_errors(value))
        if not errors:
            return Score(1.0, True, "output is valid under the schema")
        # best_match descends into anyOf/oneOf to the error a person should see first.
        best = best_match(errors)
        ordered = [best, *(error for error in errors if error is not best)]
        listed = [
            {"path": error.json_path, "message": _cut(error.message)}
            for error in ordered[:_MAX_ERRORS]
        ]
        first = listed[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return Score(
            0.0,
            False,
            f"{first['path']}: {first['message']}{more}",
            {"errors": listed, "error_count": len(errors)},
        )
