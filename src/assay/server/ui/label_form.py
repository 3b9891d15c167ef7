"""A queue's label schema as HTML form controls, and a submitted form back as values.

Each field is one ``<fieldset>``; its inputs are named ``f.<field>`` so they never
clash with the form's own fields (``csrf_token``, ``item_id``, ``seconds``). What
goes back to :func:`assay.review.submit` is the raw text the browser sent; the
review core validates and normalises it (``"4"`` for an ordinal, ``"true"`` for a
boolean), so the page and the REST API refuse the same values with the same words.

Choices are numbered for the keyboard: digit ``N`` picks the N-th option of a
categorical field, the point N of an ordinal scale, yes (1) or no (2) of a boolean,
and toggles the N-th tag (see ``static/assay.js``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import FormData

from assay.review import LabelField, LabelSchema
from assay.traces import Content

PREFIX = "f."
"""Prefix of the form inputs that carry field values."""
MAX_KEYED = 9
"""Choices beyond the ninth have no digit key."""

ControlKind = Literal["radio", "checkbox", "textarea", "tags_text"]


@dataclass(frozen=True)
class Choice:
    """One radio button or checkbox.

    Attributes:
        value: What the browser sends.
        label: What the annotator reads.
        key: The digit that picks it (``"1"``..``"9"``), or ``""`` past nine.
        checked: Whether it is selected.
    """

    value: str
    label: str
    key: str
    checked: bool


@dataclass(frozen=True)
class FieldControl:
    """One field of the schema as the form shows it.

    Attributes:
        field: The schema field.
        number: Its position, from 1.
        kind: ``radio`` (categorical, ordinal, boolean), ``checkbox`` (tags with
            options), ``textarea`` (text, correction) or ``tags_text`` (free tags,
            comma-separated).
        name: The input name.
        choices: The radio buttons or checkboxes.
        text: The text of a textarea or tag input.
        answered: Whether it holds a value (the keyboard goes to the first that
            does not).
    """

    field: LabelField
    number: int
    kind: ControlKind
    name: str
    choices: tuple[Choice, ...] = ()
    text: str = ""
    answered: bool = False

    @property
    def dom_id(self) -> str:
        """The fieldset's id (field names are identifiers, safe in ids)."""
        return f"field-{self.field.name}"


def output_text(content: Content) -> str:
    """A trace output as the text a correction starts from: the text itself, or the
    last assistant message of a chat (the last message when none is the assistant's)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    chosen = next((m for m in reversed(content) if m.get("role") == "assistant"), None)
    if chosen is None and content:
        chosen = content[-1]
    body = chosen.get("content") if chosen else None
    return body if isinstance(body, str) else ""


def initial_state(schema: LabelSchema, output: Content) -> dict[str, Any]:
    """The values a fresh form starts with: corrections hold the trace's output (the
    annotator edits it rather than retyping it), everything else is empty."""
    text = output_text(output)
    return {f.name: text for f in schema.fields if f.type == "correction"}


def form_values(schema: LabelSchema, form: FormData) -> dict[str, Any]:
    """The field values a submitted label form holds, as raw as the browser sent them.

    An unanswered radio group is absent from the form and comes back as None; tags
    come back as a list (checked boxes, or the comma-separated text of a free tag
    field).
    """
    values: dict[str, Any] = {}
    for f in schema.fields:
        name = PREFIX + f.name
        if f.type == "tags":
            if f.options:
                values[f.name] = [str(v) for v in form.getlist(name)]
            else:
                raw = form.get(name)
                text = raw if isinstance(raw, str) else ""
                values[f.name] = [t.strip() for t in text.split(",") if t.strip()]
            continue
        raw = form.get(name)
        values[f.name] = raw if isinstance(raw, str) else None
    return values


def controls(schema: LabelSchema, state: Mapping[str, Any]) -> list[FieldControl]:
    """The form controls of ``schema`` showing ``state`` (field name to value, as a
    stored label or a re-shown submission holds it)."""
    return [_control(f, number, state.get(f.name)) for number, f in enumerate(schema.fields, 1)]


def _key(index: int) -> str:
    return str(index + 1) if index < MAX_KEYED else ""


def _control(f: LabelField, number: int, value: Any) -> FieldControl:
    name = PREFIX + f.name
    if f.type in ("text", "correction"):
        text = value if isinstance(value, str) else ""
        return FieldControl(f, number, "textarea", name, text=text, answered=bool(text.strip()))
    if f.type == "tags":
        chosen = [str(v) for v in value] if isinstance(value, (list, tuple)) else []
        if not f.options:
            return FieldControl(
                f, number, "tags_text", name, text=", ".join(chosen), answered=bool(chosen)
            )
        choices = tuple(
            Choice(option, option, _key(i), option in chosen) for i, option in enumerate(f.options)
        )
        return FieldControl(f, number, "checkbox", name, choices, answered=bool(chosen))
    given = _as_text(value, boolean=f.type == "boolean")
    if f.type == "boolean":
        pairs = [("true", "yes"), ("false", "no")]
    elif f.type == "ordinal":
        assert f.scale is not None
        # The point's number is its key (or, past nine, its label); anchors add words.
        pairs = [
            (str(point), f.anchors.get(point, "" if point <= MAX_KEYED else str(point)))
            for point in range(1, f.scale + 1)
        ]
    else:
        pairs = [(option, option) for option in f.options]
    choices = tuple(Choice(v, label, _key(i), v == given) for i, (v, label) in enumerate(pairs))
    return FieldControl(f, number, "radio", name, choices, answered=given is not None)


def _as_text(value: Any, *, boolean: bool) -> str | None:
    """A stored or submitted value as the form value of its radio button."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if boolean and isinstance(value, str):
        return value.strip().lower()
    return str(value)
