"""One eval case: what it holds, how it is validated, and its content hash.

A case has an input (text, or structured data such as chat messages), an optional
reference output and rubric, tags (``golden``, capability suite names), slice
attributes, a weight, an optional cluster (cases from the same conversation or
document, which are not independent), free metadata, and provenance (where it came
from: a trace, an annotation, who and when).

The hash covers everything but the storage row, so the same case is stored once and
shared by every version that holds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assay.errors import InvalidInput

CASE_FIELDS = (
    "id",
    "input",
    "reference",
    "rubric",
    "tags",
    "slices",
    "weight",
    "cluster",
    "metadata",
    "provenance",
)
"""The fields a case file line may carry; any other field is kept as metadata."""

MAX_ID_LENGTH = 200
SliceValue = str | int | float | bool


class CaseSpec(BaseModel):
    """A case as a user gives it (a file line, an API body, a promoted trace).

    Attributes:
        id: Pairs the case across runs; derived from the input when not given.
        input: Text, or structured data (a list of chat messages, an object).
        reference: The expected output, if there is one.
        rubric: Instructions for a judge, if any.
        tags: Labels such as ``golden`` or a capability suite's name.
        slices: Attributes to break results down by (``lang``, ``tier``, ...).
        weight: How much the case counts, relative to others (default 1).
        cluster: Cases sharing a cluster (same conversation, document or session)
            are not independent; comparisons resample and compute errors by cluster.
        metadata: Anything else, kept and exported as given.
        provenance: Where the case came from (``trace_id``, ``annotation_ids``,
            ``by``, ``at``, ``source``, ...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    input: str | list[Any] | dict[str, Any]
    reference: Any = None
    rubric: str | None = None
    tags: tuple[str, ...] = ()
    slices: dict[str, SliceValue] = Field(default_factory=dict)
    weight: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    cluster: str | None = Field(default=None, min_length=1, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", "cluster", mode="before")
    @classmethod
    def _scalar_to_text(cls, value: Any) -> Any:
        # Ids and clusters often come as numbers (a CSV column, a conversation id).
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("input")
    @classmethod
    def _non_empty(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("input is empty")
        if not isinstance(value, str) and not value:
            raise ValueError("input is an empty list or object")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            seen: dict[str, None] = {}
            for tag in value:
                if not isinstance(tag, str) or not tag.strip():
                    raise ValueError(f"tags must be non-empty strings, got {tag!r}")
                seen.setdefault(tag.strip(), None)
            return tuple(seen)
        return value


def parse_case(raw: Mapping[str, Any], where: str) -> CaseSpec:
    """Validate one case from plain data; unknown fields go to ``metadata``.

    Args:
        raw: The case as read (a JSON object, a CSV row already typed, ...).
        where: Where it came from, for messages (``cases.jsonl line 12``).

    Raises:
        InvalidInput: A field is missing or has the wrong type; the message names
            ``where`` and the field.
    """
    known = {k: v for k, v in raw.items() if k in CASE_FIELDS and v is not None}
    extra = {k: v for k, v in raw.items() if k not in CASE_FIELDS}
    if extra:
        metadata = known.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise InvalidInput(f"{where}: metadata must be an object")
        known["metadata"] = {**extra, **metadata}
    if "input" not in known:
        raise InvalidInput(f"{where}: every case needs an input field")
    try:
        return CaseSpec.model_validate(known)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'case'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise InvalidInput(f"{where}: {problems}") from exc


def canonical(value: Any) -> str:
    """Deterministic JSON text of ``value`` (sorted keys, no spaces), for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_of(case: CaseSpec, case_id: str) -> dict[str, Any]:
    """The fields the case hash covers, with its final id."""
    return {
        "id": case_id,
        "input": case.input,
        "reference": case.reference,
        "rubric": case.rubric,
        "tags": list(case.tags),
        "slices": case.slices,
        "weight": float(case.weight),
        "cluster": case.cluster,
        "metadata": case.metadata,
        "provenance": case.provenance,
    }


def case_hash(case: CaseSpec, case_id: str) -> str:
    """SHA-256 (hex) of a case's content under its final id."""
    return hashlib.sha256(canonical(content_of(case, case_id)).encode()).hexdigest()


def derived_id(case: CaseSpec) -> str:
    """The id of a case given without one: a hash of its input, so it stays the same
    across versions for as long as the input does."""
    return "c" + hashlib.sha256(canonical(case.input).encode()).hexdigest()[:12]


def duplicate_key(value: Any) -> str:
    """A case input reduced to what makes two inputs the same question.

    Case and runs of whitespace are ignored in every string, at any depth of a
    structured input.
    """
    return canonical(_fold(value))


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.lower().split())
    if isinstance(value, list):
        return [_fold(v) for v in value]
    if isinstance(value, dict):
        return {k: _fold(v) for k, v in value.items()}
    return value


def input_text(value: Any) -> str:
    """The text of an input for embedding and display: the text itself, the
    messages' contents joined for chat input, else its JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        parts = [m.get("content") for m in value]
        texts = [p for p in parts if isinstance(p, str) and p]
        if texts:
            return "\n".join(texts)
    return canonical(value)
