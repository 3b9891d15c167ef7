"""Label schemas: the fields an annotator fills in for one queue item.

A schema is a list of fields. Each has a ``name`` (an identifier), a ``type``, and
type-specific keys:

| type | value | keys | agreement |
|---|---|---|---|
| ``categorical`` | one of ``options`` | ``options`` (2 or more) | nominal |
| ``ordinal`` | an integer 1..scale | ``scale`` (>= 2), ``anchors``, ``level`` | ``level`` |
| ``boolean`` | true or false | | nominal |
| ``tags`` | a list of strings | ``options`` (optional) | nominal, sorted tags |
| ``text`` | free text (notes) | | none |
| ``correction`` | the output the app should have given | | none |

An ordinal's ``level`` is ``ordinal`` (default) or ``interval``.

Every field may carry ``required`` (default true, but false for ``text`` and
``tags``), ``description`` and ``reference`` (its value becomes the reference of a
case promoted from the item; by default the first ``correction`` field).

Categorical, ordinal, boolean and tags fields are *decisive*: they decide whether
annotators agree. Free text never does; corrections are compared separately (two
non-empty corrections must be equal once surrounding whitespace is stripped).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from assay.errors import InvalidInput
from assay.stats.agreement import Level

FieldType = Literal["categorical", "ordinal", "boolean", "text", "correction", "tags"]
FIELD_TYPES: tuple[FieldType, ...] = get_args(FieldType)
DECISIVE_TYPES: frozenset[str] = frozenset({"categorical", "ordinal", "boolean", "tags"})
REFERENCE_TYPES: frozenset[str] = frozenset({"correction", "categorical", "boolean", "ordinal"})
ORDINAL_LEVELS: tuple[Level, ...] = ("ordinal", "interval")

MAX_SCALE = 100
MAX_FIELDS = 50
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_COMMON_KEYS = frozenset({"name", "type", "required", "description", "reference"})
_TYPE_KEYS: dict[str, frozenset[str]] = {
    "categorical": frozenset({"options"}),
    "ordinal": frozenset({"scale", "anchors", "level"}),
    "boolean": frozenset(),
    "text": frozenset(),
    "correction": frozenset(),
    "tags": frozenset({"options"}),
}
_OPTIONAL_BY_DEFAULT = frozenset({"text", "tags"})


@dataclass(frozen=True, slots=True)
class LabelField:
    """One field of a label schema.

    Attributes:
        name: An identifier, unique in the schema.
        type: ``categorical``, ``ordinal``, ``boolean``, ``text``, ``correction`` or
            ``tags``.
        required: Whether an annotation must give a value (a non-empty list for tags).
        description: What the field asks, shown to annotators.
        options: The allowed values (categorical; tags when restricted).
        scale: The top of an ordinal scale (values 1..scale).
        anchors: Words for ordinal values (``{1: "wrong", 5: "perfect"}``).
        level: An ordinal field's level of measurement for agreement: ``ordinal``
            (default) or ``interval``.
        reference: Whether the field's value becomes a promoted case's reference.
    """

    name: str
    type: FieldType
    required: bool = True
    description: str = ""
    options: tuple[str, ...] = ()
    scale: int | None = None
    anchors: Mapping[int, str] = field(default_factory=dict)
    level: Level = "ordinal"
    reference: bool = False

    @property
    def decisive(self) -> bool:
        """Whether the field decides agreement (see :func:`decisive`)."""
        return decisive(self)

    def to_data(self) -> dict[str, Any]:
        """The field as plain data that :func:`parse_schema` reads back."""
        data: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.description:
            data["description"] = self.description
        if self.type == "categorical" or (self.type == "tags" and self.options):
            data["options"] = list(self.options)
        if self.type == "ordinal":
            data["scale"] = self.scale
            data["level"] = self.level
            if self.anchors:
                data["anchors"] = {str(k): v for k, v in sorted(self.anchors.items())}
        data["reference"] = self.reference
        return data


@dataclass(frozen=True, slots=True)
class LabelSchema:
    """The fields of a queue's labels, in the order annotators see them.

    Attributes:
        fields: The fields.
    """

    fields: tuple[LabelField, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in self.fields)

    @property
    def decisive_fields(self) -> tuple[LabelField, ...]:
        """The fields that decide agreement."""
        return tuple(f for f in self.fields if decisive(f))

    @property
    def reference_field(self) -> LabelField | None:
        """The field whose value becomes a promoted case's reference, if any."""
        return next((f for f in self.fields if f.reference), None)

    def field(self, name: str) -> LabelField:
        """The field called ``name``.

        Raises:
            InvalidInput: The schema has no such field.
        """
        for f in self.fields:
            if f.name == name:
                return f
        raise InvalidInput(f"unknown field {name!r}; the schema has: {', '.join(self.names)}")

    def validate(self, values: Any) -> dict[str, Any]:
        """An annotation's values, checked and normalised (see :func:`validate_values`)."""
        return validate_values(self, values)

    def to_data(self) -> list[dict[str, Any]]:
        """The schema as plain data (stored as the queue's JSON)."""
        return [f.to_data() for f in self.fields]


def decisive(field: LabelField) -> bool:
    """Whether a field decides agreement: categorical, ordinal, boolean and tags do;
    free text and corrections do not (corrections are compared on their own when an
    item is decided)."""
    return field.type in DECISIVE_TYPES


def agreement_level(field: LabelField) -> Level | None:
    """The level of measurement agreement uses for a field: nominal for categorical,
    boolean and tags, the field's ``level`` for ordinal, None for text and corrections."""
    if field.type == "ordinal":
        return field.level
    return "nominal" if decisive(field) else None


# -- parsing -------------------------------------------------------------------------


def parse_schema(data: Any, *, source: str = "") -> LabelSchema:
    """Read a label schema from plain data (a JSON, TOML or YAML document's content).

    Args:
        data: A list of field objects, or an object with a ``fields`` list.
        source: Where it came from, prefixed to error messages.

    Raises:
        InvalidInput: The schema is malformed; the message names the field and key.
    """
    prefix = f"{source}: " if source else ""
    if isinstance(data, Mapping) and set(data) == {"fields"}:
        data = data["fields"]
    if not isinstance(data, Sequence) or isinstance(data, (str, bytes)):
        raise InvalidInput(f"{prefix}fields must be a list of field objects")
    if not data:
        raise InvalidInput(f"{prefix}fields: the label schema needs at least one field")
    if len(data) > MAX_FIELDS:
        raise InvalidInput(f"{prefix}fields: at most {MAX_FIELDS} fields, got {len(data)}")
    parsed: list[tuple[LabelField, bool | None]] = []
    seen: set[str] = set()
    for number, raw in enumerate(data, start=1):
        f, reference = _parse_field(raw, number, prefix)
        if f.name in seen:
            raise InvalidInput(f"{prefix}field {f.name!r}: the name is used twice")
        seen.add(f.name)
        parsed.append((f, reference))
    chosen = [f.name for f, reference in parsed if reference]
    if len(chosen) > 1:
        raise InvalidInput(
            f"{prefix}fields {', '.join(repr(n) for n in chosen)}: only one field may be "
            "the reference"
        )
    if not chosen:
        # The first correction is the reference unless it says otherwise.
        first = next((f for f, ref in parsed if f.type == "correction" and ref is None), None)
        chosen = [first.name] if first is not None else []
    fields = tuple(_replace_reference(f, f.name in chosen) for f, _ in parsed)
    return LabelSchema(fields)


def _replace_reference(f: LabelField, reference: bool) -> LabelField:
    return LabelField(
        name=f.name,
        type=f.type,
        required=f.required,
        description=f.description,
        options=f.options,
        scale=f.scale,
        anchors=f.anchors,
        level=f.level,
        reference=reference,
    )


def _parse_field(raw: Any, number: int, prefix: str) -> tuple[LabelField, bool | None]:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{prefix}field {number}: must be an object with a name and a type")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{prefix}field {number}: name must be an identifier (letters, digits and '_', "
            f"not starting with a digit, at most 64 characters), got {name!r}"
        )
    where = f"{prefix}field {name!r}"
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        raise InvalidInput(f"{where}: type must be one of {', '.join(FIELD_TYPES)}, got {kind!r}")
    unknown = sorted(str(k) for k in raw if k not in _COMMON_KEYS | _TYPE_KEYS[kind])
    if unknown:
        raise InvalidInput(f"{where}: unknown key {unknown[0]!r} for a {kind} field")
    required = _flag(raw, "required", where, default=kind not in _OPTIONAL_BY_DEFAULT)
    reference = _flag(raw, "reference", where, default=None)
    if reference and kind not in REFERENCE_TYPES:
        raise InvalidInput(
            f"{where}: a {kind} field cannot be the reference; use a correction, "
            "categorical, boolean or ordinal field"
        )
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise InvalidInput(f"{where}: description must be text")
    options: tuple[str, ...] = ()
    scale: int | None = None
    anchors: dict[int, str] = {}
    level: Level = "ordinal"
    if kind == "categorical":
        options = _options(raw.get("options"), where, kind, minimum=2)
    elif kind == "tags" and raw.get("options") is not None:
        options = _options(raw["options"], where, kind, minimum=1)
    elif kind == "ordinal":
        scale = raw.get("scale")
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 2:
            raise InvalidInput(f"{where}: ordinal needs scale >= 2 (an integer), got {scale!r}")
        if scale > MAX_SCALE:
            raise InvalidInput(f"{where}: scale must be at most {MAX_SCALE}, got {scale}")
        anchors = _anchors(raw.get("anchors", {}), scale, where)
        level = raw.get("level", "ordinal")
        if level not in ORDINAL_LEVELS:
            raise InvalidInput(
                f"{where}: level must be 'ordinal' or 'interval', got {raw.get('level')!r}"
            )
    f = LabelField(
        name=name,
        type=kind,
        required=required if required is not None else True,
        description=description,
        options=options,
        scale=scale,
        anchors=anchors,
        level=level,
    )
    return f, reference


def _flag(raw: Mapping[str, Any], key: str, where: str, *, default: bool | None) -> bool | None:
    value = raw.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _options(value: Any, where: str, kind: str, *, minimum: int) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise InvalidInput(f"{where}: {kind} needs options, a list of at least {minimum} strings")
    options: list[str] = []
    for option in value:
        if not isinstance(option, str) or not option.strip():
            raise InvalidInput(f"{where}: options must be non-empty strings, got {option!r}")
        if option in options:
            raise InvalidInput(f"{where}: option {option!r} is listed twice")
        options.append(option)
    if len(options) < minimum:
        raise InvalidInput(f"{where}: {kind} needs at least {minimum} options, got {len(options)}")
    return tuple(options)


def _anchors(value: Any, scale: int, where: str) -> dict[int, str]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f'{where}: anchors must map scale points to words, like {{"1": ...}}')
    anchors: dict[int, str] = {}
    for key, text in value.items():
        # ASCII digits only: "²" passes isdigit() but int() refuses it.
        point = int(key) if isinstance(key, str) and key.isascii() and key.isdecimal() else key
        if isinstance(point, bool) or not isinstance(point, int) or not 1 <= point <= scale:
            raise InvalidInput(f"{where}: anchor {key!r} is not a point of the scale 1-{scale}")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f"{where}: anchor {key!r} must be non-empty text")
        anchors[point] = text
    return anchors


# -- validating values --------------------------------------------------------------


def validate_values(schema: LabelSchema, values: Any) -> dict[str, Any]:
    """An annotation's values, checked against the schema and normalised.

    Normalised values hold every field of the schema, in its order: categorical
    values as the option, ordinal as an int, boolean as a bool, text and corrections
    as text (None when empty or only whitespace), tags as a sorted list without
    repeats. An absent optional field is None (an empty list for tags). Forms and
    CSV cells send text, so ``"4"`` is accepted for an ordinal and ``"true"`` /
    ``"false"`` for a boolean.

    Raises:
        InvalidInput: Values is not an object, names an unknown field, misses a
            required one, or gives a value of the wrong type or outside the
            options or scale. Every problem is listed, each naming its field.
    """
    if not isinstance(values, Mapping):
        raise InvalidInput("label values must be an object mapping field names to values")
    problems: list[str] = []
    known = set(schema.names)
    for key in values:
        if key not in known:
            problems.append(f"unknown field {key!r} (the schema has: {', '.join(schema.names)})")
    out: dict[str, Any] = {}
    for f in schema.fields:
        try:
            out[f.name] = _value(f, values.get(f.name))
        except ValueError as exc:
            problems.append(f"field {f.name!r}: {exc}")
    if problems:
        raise InvalidInput("; ".join(problems))
    return out


def _value(f: LabelField, value: Any) -> Any:
    if f.type == "tags":
        tags = _tags(f, value)
        if f.required and not tags:
            raise ValueError("is required: give at least one tag")
        return tags
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.required:
            raise ValueError("is required")
        return None
    if f.type in ("text", "correction"):
        if not isinstance(value, str):
            raise ValueError(f"must be text, got {value!r}")
        return value
    if f.type == "categorical":
        if not isinstance(value, str) or value not in f.options:
            raise ValueError(f"{value!r} is not one of the options: {', '.join(f.options)}")
        return value
    if f.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"must be true or false, got {value!r}")
    return _ordinal(f, value)


def _ordinal(f: LabelField, value: Any) -> int:
    assert f.scale is not None
    point: int | None = None
    if isinstance(value, bool):
        point = None
    elif isinstance(value, int):
        point = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        point = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        point = int(value.strip())
    if point is None or not 1 <= point <= f.scale:
        raise ValueError(f"must be an integer from 1 to {f.scale}, got {value!r}")
    return point


def _tags(f: LabelField, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"must be a list of tags, got {value!r}")
    tags: set[str] = set()
    for tag in value:
        if not isinstance(tag, str) or not tag.strip():
            raise ValueError(f"tags must be non-empty strings, got {tag!r}")
        tag = tag.strip()
        if f.options and tag not in f.options:
            raise ValueError(f"tag {tag!r} is not one of the options: {', '.join(f.options)}")
        tags.add(tag)
    return sorted(tags)
