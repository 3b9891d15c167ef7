"""Queue definition files: a queue's name, settings and label schema in JSON, TOML or YAML.

```toml
name = "support-answers"
instructions = "Judge the answer against the help centre."
overlap = 2
gold_rate = 0.05

[[fields]]
name = "verdict"
type = "categorical"
options = ["good", "bad"]

[[fields]]
name = "fix"
type = "correction"
required = false
```

Files are read by the release manifests' readers, which refuse duplicate keys and
read YAML 1.2 scalars (``options: [yes, no]`` stays text).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.datasets.registry import check_name
from assay.documents import DocumentFormat, parse_document, read_document
from assay.errors import InvalidInput
from assay.review.schema import LabelSchema, parse_schema
from assay.stats.agreement import ALPHA_FLOOR

DefinitionFormat = DocumentFormat

MAX_NAME_LENGTH = 100
MAX_OVERLAP = 20
MIN_CLAIM_SECONDS = 30
MAX_CLAIM_SECONDS = 7 * 24 * 3600
DEFAULT_OVERLAP = 2
DEFAULT_CLAIM_SECONDS = 1800
"""Half an hour: long enough to read a long trace, short enough that an abandoned
claim frees its slot the same working session."""

_KEYS = frozenset(
    {
        "name",
        "description",
        "instructions",
        "overlap",
        "claim_seconds",
        "gold_rate",
        "agreement_floor",
        "fields",
    }
)


@dataclass(frozen=True, slots=True)
class QueueDefinition:
    """A queue as its author writes it.

    Attributes:
        name: Unique in the project (the rules of dataset names, at most 100 characters).
        schema: The label schema.
        description: What the queue is for.
        instructions: What annotators read before labelling (Markdown).
        overlap: How many annotators label each item (1: one label decides).
        claim_seconds: How long a claimed item stays reserved for its annotator.
        gold_rate: The share of hand-outs that are gold items (known answers).
        agreement_floor: Krippendorff's alpha under this is flagged.
    """

    name: str
    schema: LabelSchema
    description: str = ""
    instructions: str = ""
    overlap: int = DEFAULT_OVERLAP
    claim_seconds: int = DEFAULT_CLAIM_SECONDS
    gold_rate: float = 0.0
    agreement_floor: float = ALPHA_FLOOR


def check_queue_name(name: Any) -> str:
    """Validate a queue name: the rules of dataset names, at most 100 characters.

    Raises:
        InvalidInput: The name is not text, empty, too long, padded, or holds
            ``@``, ``/`` or control characters.
    """
    if not isinstance(name, str):
        raise InvalidInput(f"queue name must be text, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"queue name is longer than {MAX_NAME_LENGTH} characters")
    try:
        return check_name(name)
    except InvalidInput as exc:
        raise InvalidInput(str(exc).replace("dataset name", "queue name", 1)) from None


def check_overlap(value: Any) -> int:
    """Validate ``overlap``: an integer from 1 to 20."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_OVERLAP:
        raise InvalidInput(f"overlap must be an integer from 1 to {MAX_OVERLAP}, got {value!r}")
    return value


def check_claim_seconds(value: Any) -> int:
    """Validate ``claim_seconds``: an integer from 30 seconds to a week."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_CLAIM_SECONDS <= value <= MAX_CLAIM_SECONDS
    ):
        raise InvalidInput(
            f"claim_seconds must be an integer from {MIN_CLAIM_SECONDS} to "
            f"{MAX_CLAIM_SECONDS}, got {value!r}"
        )
    return value


def check_gold_rate(value: Any) -> float:
    """Validate ``gold_rate``: a share from 0 up to (not including) 1."""
    if _number(value) is None or not 0.0 <= value < 1.0:
        raise InvalidInput(f"gold_rate must be a number from 0 up to 1 (excluded), got {value!r}")
    return float(value)


def check_agreement_floor(value: Any) -> float:
    """Validate ``agreement_floor``: an alpha between -1 and 1."""
    if _number(value) is None or not -1.0 <= value <= 1.0:
        raise InvalidInput(f"agreement_floor must be a number from -1 to 1, got {value!r}")
    return float(value)


def check_text(value: Any, key: str) -> str:
    """Validate a free-text setting (``description``, ``instructions``)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be text, got {value!r}")
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def parse_queue_definition(data: Any, *, source: str = "queue definition") -> QueueDefinition:
    """Read a queue definition from plain data (a parsed file or a request body).

    Args:
        data: An object with ``name`` and ``fields``, and optionally ``description``,
            ``instructions``, ``overlap``, ``claim_seconds``, ``gold_rate`` and
            ``agreement_floor``.
        source: Where it came from, prefixed to error messages.

    Raises:
        InvalidInput: A key is unknown, missing or out of range; the message names it.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{source}: must be an object with a name and fields")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise InvalidInput(f"{source}: unknown key {unknown[0]!r}; use {', '.join(sorted(_KEYS))}")
    for key in ("name", "fields"):
        if key not in data:
            raise InvalidInput(f"{source}: {key} is missing")
    try:
        return QueueDefinition(
            name=check_queue_name(data["name"]),
            schema=parse_schema(data["fields"]),
            description=check_text(data.get("description", ""), "description"),
            instructions=check_text(data.get("instructions", ""), "instructions"),
            overlap=check_overlap(data.get("overlap", DEFAULT_OVERLAP)),
            claim_seconds=check_claim_seconds(data.get("claim_seconds", DEFAULT_CLAIM_SECONDS)),
            gold_rate=check_gold_rate(data.get("gold_rate", 0.0)),
            agreement_floor=check_agreement_floor(data.get("agreement_floor", ALPHA_FLOOR)),
        )
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc}") from None


def parse_queue_text(
    text: str, fmt: DefinitionFormat, *, source: str = "queue definition"
) -> QueueDefinition:
    """Read a queue definition from JSON, TOML or YAML text.

    Raises:
        InvalidInput: The text does not parse or is not a valid definition.
    """
    return parse_queue_definition(parse_document(text, fmt, source=source), source=source)


def load_queue_definition(path: str | os.PathLike[str]) -> QueueDefinition:
    """Read a queue definition file: ``.json``, ``.toml``, or ``.yaml``/``.yml``.

    Raises:
        ConfigError: The file cannot be read.
        InvalidInput: The extension is not supported, or the content is not UTF-8,
            does not parse, or is not a valid definition (the message names the file
            and the key).
    """
    return parse_queue_definition(read_document(path, "queue definition"), source=str(path))
