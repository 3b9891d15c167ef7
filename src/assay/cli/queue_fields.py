"""Label fields on the command line: the compact ``--field`` form, ``--set`` values, and
a schema as table rows.

``--field NAME:TYPE[:ARGS]`` is shorthand for one field of a queue definition file
(:mod:`assay.review.definition`); the review package checks what it becomes, so the
rules (and their messages) are the file's:

- ``verdict:categorical:good,bad``: a choice among the options;
- ``quality:ordinal:5``: an integer from 1 to 5;
- ``safe:boolean``: true or false;
- ``topics:tags`` or ``topics:tags:a,b``: a list of tags (from the options, if given);
- ``fix:correction``: the answer the app should have given;
- ``notes:text``: free text.

A ``?`` after the name makes a field optional (``fix?:correction``), a ``!``
required (``notes!:text``); text and tags are optional by default, the others
required.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assay.cli.context import parse_pairs
from assay.errors import InvalidInput

if TYPE_CHECKING:
    from assay.review import LabelField, LabelSchema

FIELD_HELP = (
    "A label field as NAME:TYPE[:ARGS] (repeat, in the order annotators see them): "
    "verdict:categorical:good,bad; quality:ordinal:5; safe:boolean; topics:tags[:a,b]; "
    "fix:correction; notes:text. NAME? is optional, NAME! required."
)
"""Help of the ``--field`` options."""

SET_HELP = (
    "A field's value as FIELD=VALUE (repeat for each field): an option, 1-N, true/false, "
    "or text; tags comma-separated (or FIELD=TAG repeated). FIELD= leaves it empty."
)
"""Help of the ``--set`` options."""

_WITH_LIST = frozenset({"categorical", "tags"})
_BARE = frozenset({"boolean", "text", "correction"})


def parse_field_spec(text: str) -> dict[str, Any]:
    """One ``--field`` value as a field object of a definition file.

    Raises:
        InvalidInput: Not ``NAME:TYPE[:ARGS]``, or arguments the type does not take.
    """
    name, sep, rest = text.partition(":")
    kind, _, args = rest.partition(":")
    name, kind, args = name.strip(), kind.strip(), args.strip()
    if not sep or not name or not kind:
        raise InvalidInput(f"--field {text!r}: expected NAME:TYPE[:ARGS], e.g. verdict:boolean")
    field: dict[str, Any] = {"type": kind}
    if name[-1] in "?!":
        field["required"] = name[-1] == "!"
        name = name[:-1]
    field["name"] = name
    if kind in _WITH_LIST:
        if args:
            field["options"] = [o.strip() for o in args.split(",")]
        elif kind == "categorical":
            raise InvalidInput(f"--field {text!r}: give the options, e.g. {name}:categorical:a,b")
    elif kind == "ordinal":
        if not args.isdigit():
            raise InvalidInput(f"--field {text!r}: give the scale, e.g. {name}:ordinal:5")
        field["scale"] = int(args)
    elif kind in _BARE and args:
        raise InvalidInput(f"--field {text!r}: a {kind} field takes no arguments")
    # An unknown type goes through as given: the schema parser names the valid ones.
    return field


def parse_field_specs(values: list[str]) -> list[dict[str, Any]]:
    """Every ``--field`` value, in order (see :func:`parse_field_spec`)."""
    return [parse_field_spec(v) for v in values]


def label_values(schema: LabelSchema, pairs: list[str]) -> dict[str, Any]:
    """``--set FIELD=VALUE`` values as the label values the schema checks.

    Tags fields collect comma-separated values, and repeats; any other field given
    twice is refused. Unknown fields are passed on, for the schema to name.

    Raises:
        InvalidInput: A value without ``=``, or a field given twice.
    """
    types = {f.name: f.type for f in schema.fields}
    values: dict[str, Any] = {}
    for key, value in parse_pairs(pairs, option="--set"):
        if types.get(key) == "tags":
            tags = values.setdefault(key, [])
            tags.extend(t.strip() for t in value.split(",") if t.strip())
        elif key in values:
            raise InvalidInput(f"--set {key}: given twice")
        else:
            values[key] = value
    return values


def field_values(field: LabelField) -> str:
    """What a field takes, in words: its options, its scale and anchors, or its type."""
    if field.options:
        return " | ".join(field.options)
    if field.type == "ordinal":
        anchors = ", ".join(f"{k} {v}" for k, v in sorted(field.anchors.items()))
        return f"1-{field.scale}" + (f" ({anchors})" if anchors else "")
    if field.type == "boolean":
        return "true | false"
    return field.type


def schema_rows(schema: LabelSchema) -> list[tuple[Any, ...]]:
    """One table row per field: name, type, required, values, reference, description."""
    return [
        (f.name, f.type, f.required, field_values(f), f.reference, f.description)
        for f in schema.fields
    ]


def label_text(label: dict[str, Any] | None) -> str:
    """A label on one line: ``verdict=bad, quality=2`` (empty fields left out)."""
    if not label:
        return ""
    parts = []
    for key, value in label.items():
        if value is None or value == []:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    return ", ".join(parts)
