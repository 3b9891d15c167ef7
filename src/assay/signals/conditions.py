"""The condition language of routing rules and online-scorer filters.

A condition is ``{"field": F, "op": OP, "value": V}``; a list of conditions holds when
all of them hold. Command lines and rule files may write the compact text form
``FIELD OP VALUE``::

    feedback.thumbs <= 0
    status == error
    slice.locale in de,fr
    passed.faithfulness == false
    score.judge < 0.5
    feedback.correction exists

Fields (see :data:`FIELDS` and :data:`PREFIXES`): ``status`` (``ok``, ``error``,
``unset``), ``model``, ``release`` (what the trace sent), ``service``, ``name``,
``latency_ms``, ``cost``, ``tokens`` (prompt + completion), ``input`` and
``output`` (text), ``feedback.<name>`` (the latest explicit feedback of that name:
its number, else its text), ``signal.<name>`` (an implicit signal: ``retried``,
``abandoned``, ``edit_distance``), ``score.<scorer>``, ``passed.<scorer>`` and
``confidence.<scorer>`` (an online scorer's verdict), and ``slice.<key>``.

Operators: ``eq ne lt le gt ge in not_in exists missing contains``; the text form
also takes ``== != < <= > >= not in``. ``contains`` is case-insensitive. A value is
read as JSON when it parses (``0.5``, ``false``, ``"a, b"``) and as text otherwise;
the values of ``in`` are separated by commas (or given as a JSON list).

A fact the trace does not have (no feedback of that name, no score, no slice) makes
every comparison false, ``ne`` and ``not_in`` included; only ``missing`` holds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assay.errors import InvalidInput
from assay.traces.query import STATUSES

FIELDS = (
    "status",
    "model",
    "release",
    "service",
    "name",
    "latency_ms",
    "cost",
    "tokens",
    "input",
    "output",
)
"""Fields without a suffix."""

PREFIXES = ("feedback", "signal", "score", "passed", "confidence", "slice")
"""Fields written ``PREFIX.<name>``."""

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists", "missing", "contains")
"""Operator names, as stored."""

_SYMBOLS = {"==": "eq", "=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_SHOWN = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "not_in": "not in"}
_ORDERING = frozenset({"lt", "le", "gt", "ge"})
_LISTS = frozenset({"in", "not_in"})
_NO_VALUE = frozenset({"exists", "missing"})

# What a field's values are, which decides the operators it takes and how a value
# given as text is read. "any" fields (feedback, signals, slices) hold whatever was
# sent, so their values are compared by the fact's type when evaluated.
_KINDS: dict[str, str] = {
    "status": "status",
    "model": "text",
    "release": "text",
    "service": "text",
    "name": "text",
    "input": "text",
    "output": "text",
    "latency_ms": "number",
    "cost": "number",
    "tokens": "number",
    "feedback": "any",
    "signal": "any",
    "slice": "any",
    "score": "number",
    "confidence": "number",
    "passed": "bool",
}
_KIND_OPS: dict[str, frozenset[str]] = {
    "status": frozenset({"eq", "ne", "in", "not_in"}),
    "text": frozenset({"eq", "ne", "in", "not_in", "contains", "exists", "missing"}),
    "number": frozenset({"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists", "missing"}),
    "bool": frozenset({"eq", "ne", "exists", "missing"}),
    "any": frozenset(OPS),
}

_WORD_FORM = re.compile(
    r"^(?P<field>\S+)\s+(?P<op>not\s+in|not_in|in|contains|exists|missing|eq|ne|lt|le|gt|ge)"
    r"(?:\s+(?P<value>.*?))?\s*$",
    re.IGNORECASE,
)
_SYMBOL_FORM = re.compile(
    r"^(?P<field>[^\s<>=!]+)\s*(?P<op><=|>=|==|!=|=|<|>)\s*(?P<value>.*?)\s*$"
)


def _field_list() -> str:
    return ", ".join([*FIELDS, *(f"{p}.<name>" for p in PREFIXES)])


def field_kind(field: str) -> str:
    """The kind of a field's values: ``status``, ``text``, ``number``, ``bool`` or ``any``.

    Raises:
        InvalidInput: The field is unknown, or a prefixed field has no name.
    """
    if field in FIELDS:
        return _KINDS[field]
    prefix, dot, name = field.partition(".")
    if dot and prefix in PREFIXES:
        if not name:
            raise InvalidInput(f"field {field!r}: name what comes after {prefix + '.'!r}")
        return _KINDS[prefix]
    raise InvalidInput(f"unknown field {field!r}; fields: {_field_list()}")


@dataclass(frozen=True)
class Condition:
    """One test of a trace's facts.

    Attributes:
        field: What is tested (``status``, ``feedback.thumbs``, ``slice.locale``...).
        op: The operator name (one of :data:`OPS`).
        value: What the fact is compared with: a scalar, a tuple for ``in`` and
            ``not_in``, None for ``exists`` and ``missing``.
    """

    field: str
    op: str
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The stored form ``{"field", "op", "value"}`` (no value for exists/missing)."""
        out: dict[str, Any] = {"field": self.field, "op": self.op}
        if self.op not in _NO_VALUE:
            out["value"] = list(self.value) if self.op in _LISTS else self.value
        return out

    def __str__(self) -> str:
        """The compact text form, e.g. ``feedback.thumbs <= 0``."""
        shown = _SHOWN.get(self.op, self.op)
        if self.op in _NO_VALUE:
            return f"{self.field} {shown}"
        if self.op in _LISTS:
            return f"{self.field} {shown} {','.join(_show_value(v) for v in self.value)}"
        return f"{self.field} {shown} {_show_value(self.value)}"

    def holds(self, fact: Any) -> bool:
        """Whether the condition holds for ``fact`` (None: the trace lacks it)."""
        if self.op == "exists":
            return fact is not None
        if self.op == "missing":
            return fact is None
        if fact is None:
            return False
        if self.op == "contains":
            return isinstance(fact, str) and str(self.value).casefold() in fact.casefold()
        if self.op in _LISTS:
            found = any(_equal(fact, v) for v in self.value)
            return found if self.op == "in" else not found
        if self.op == "eq":
            return _equal(fact, self.value)
        if self.op == "ne":
            return _comparable(fact, self.value) and not _equal(fact, self.value)
        return _ordered(self.op, fact, self.value)


def _show_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    # Bare text when it reads back as the same text; JSON-quoted otherwise.
    if text and text == text.strip() and "," not in text and _read_scalar(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _read_scalar(text: str) -> Any:
    """Text as a JSON scalar when it is one, else the text itself."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return text
    return value if isinstance(value, str | int | float | bool) else text


def _split_list(text: str, where: str) -> list[str]:
    """Comma-separated items; commas inside double quotes do not split."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if quoted:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
            current.append(char)
        elif char == ",":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quoted:
        raise InvalidInput(f"{where}: unclosed '\"' in the list of values")
    parts.append("".join(current).strip())
    if any(not part for part in parts):
        raise InvalidInput(f"{where}: empty item in the list of values {text!r}")
    return parts


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _number_like(value: Any) -> float | None:
    # Against a number, true and false are 1 and 0 (thumbs are stored as 1/0).
    return float(value) if isinstance(value, bool) else _as_number(value)


def _comparable(fact: Any, value: Any) -> bool:
    if isinstance(fact, bool):
        return _as_bool(value) is not None
    if isinstance(fact, int | float):
        return _number_like(value) is not None
    return True


def _equal(fact: Any, value: Any) -> bool:
    if isinstance(fact, bool):
        return _as_bool(value) is fact
    if isinstance(fact, int | float):
        number = _number_like(value)
        return number is not None and float(fact) == number
    if isinstance(fact, str) and isinstance(value, int | float) and not isinstance(value, bool):
        # A slice sent as "2" equals 2.
        number = _as_number(fact)
        return number is not None and number == float(value)
    return str(fact) == _text_of(value)


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ordered(op: str, fact: Any, value: Any) -> bool:
    if isinstance(fact, bool):
        return False
    left = _as_number(fact)
    right = _as_number(value)
    if left is None or right is None:
        return False
    if op == "lt":
        return left < right
    if op == "le":
        return left <= right
    if op == "gt":
        return left > right
    return left >= right


def _value_for(kind: str, op: str, value: Any, where: str) -> Any:
    """A value checked and converted for its field's kind."""
    if op in _NO_VALUE:
        if value is not None:
            raise InvalidInput(f"{where}: {op!r} takes no value; got {value!r}")
        return None
    if value is None:
        raise InvalidInput(f"{where}: {_SHOWN.get(op, op)!r} needs a value")
    if op in _LISTS:
        items = value if isinstance(value, list | tuple) else [value]
        if not items:
            raise InvalidInput(f"{where}: {_SHOWN[op]!r} needs at least one value")
        return tuple(_scalar_for(kind, item, where) for item in items)
    if op == "contains":
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{where}: 'contains' needs non-empty text; got {value!r}")
        return value
    return _scalar_for(kind, value, where)


def _scalar_for(kind: str, value: Any, where: str) -> Any:
    if isinstance(value, list | tuple | dict) or value is None:
        raise InvalidInput(f"{where}: value must be a single text, number or true/false")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{where}: value must be a finite number; got {value!r}")
    if kind == "status":
        if value not in STATUSES:
            raise InvalidInput(
                f"{where}: status must be one of {', '.join(STATUSES)}; got {value!r}"
            )
        return value
    if kind == "text":
        return _text_of(value) if not isinstance(value, float) else json.dumps(value)
    if kind == "number":
        number = _as_number(value)
        if number is None:
            raise InvalidInput(f"{where}: value must be a number; got {value!r}")
        return int(number) if number.is_integer() and not isinstance(value, float) else number
    if kind == "bool":
        flag = _as_bool(value)
        if flag is None:
            raise InvalidInput(f"{where}: value must be true or false; got {value!r}")
        return flag
    return value


def make_condition(field: str, op: str, value: Any = None, *, where: str = "") -> Condition:
    """A checked condition from its parts.

    Args:
        field: The field (see the module docstring).
        op: An operator name (:data:`OPS`) or symbol (``<=``, ``not in``...).
        value: The value, already typed (JSON-like), or None for exists/missing.
        where: How to name the condition in errors (its text or position).

    Raises:
        InvalidInput: The field, operator or value is wrong; the message names which.
    """
    label = where or f"condition {field!r}"
    if not isinstance(field, str) or not field.strip():
        raise InvalidInput(f"{label}: field must be non-empty text; got {field!r}")
    field = field.strip()
    try:
        kind = field_kind(field)
    except InvalidInput as exc:
        raise InvalidInput(f"{label}: {exc}") from None
    name = _op_name(op, label)
    if name not in _KIND_OPS[kind]:
        allowed = ", ".join(_SHOWN.get(o, o) for o in OPS if o in _KIND_OPS[kind])
        raise InvalidInput(
            f"{label}: operator {_SHOWN.get(name, name)!r} does not apply to {field!r}; "
            f"use one of {allowed}"
        )
    return Condition(field, name, _value_for(kind, name, value, label))


def _op_name(op: Any, label: str) -> str:
    if not isinstance(op, str):
        raise InvalidInput(f"{label}: operator must be text; got {op!r}")
    raw = " ".join(op.strip().lower().split())
    name = _SYMBOLS.get(raw) or ("not_in" if raw == "not in" else raw)
    if name not in OPS:
        symbols = ", ".join(["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
        raise InvalidInput(f"{label}: unknown operator {op!r}; use {', '.join(OPS)} (or {symbols})")
    return name


def parse_text(text: str) -> Condition:
    """Read the compact form ``FIELD OP [VALUE]``.

    Raises:
        InvalidInput: The text is empty or malformed, or its field, operator or
            value is wrong; the message quotes the text and names the bad part.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("condition is empty: expected FIELD OP VALUE, e.g. 'status == error'")
    raw = text.strip()
    where = f"condition {raw!r}"
    found = _SYMBOL_FORM.match(raw) or _WORD_FORM.match(raw)
    if found is None:
        parts = raw.split(None, 2)
        if len(parts) >= 2:
            # Report the most likely mistake: a field then something not an operator.
            _op_name(parts[1], where)
        raise InvalidInput(
            f"{where}: expected FIELD OP VALUE with OP one of ==, !=, <, <=, >, >=, in, "
            "not in, contains, or FIELD exists / FIELD missing"
        )
    field, op, raw_value = found.group("field"), found.group("op"), found.group("value")
    name = _op_name(op, where)
    if name in _NO_VALUE:
        if raw_value:
            raise InvalidInput(f"{where}: {name!r} takes no value; got {raw_value!r}")
        return make_condition(field, name, where=where)
    if not raw_value:
        raise InvalidInput(f"{where}: no value after {_SHOWN.get(name, name)!r}")
    kind_value: Any
    try:
        kind = field_kind(field)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    if name in _LISTS:
        if raw_value.startswith("["):
            try:
                kind_value = json.loads(raw_value, parse_constant=_reject_constant)
            except ValueError as exc:
                raise InvalidInput(f"{where}: the list {raw_value!r} is not JSON: {exc}") from None
        else:
            kind_value = [_typed(kind, item) for item in _split_list(raw_value, where)]
    elif name == "contains":
        kind_value = _unquote(raw_value)
    else:
        kind_value = _typed(kind, raw_value)
    return make_condition(field, name, kind_value, where=where)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        value = _read_scalar(text)
        if isinstance(value, str):
            return value
    return text


def _typed(kind: str, text: str) -> Any:
    # Text fields keep what was written ("release == 1.10" is not 1.1).
    if kind in ("text", "status"):
        return _unquote(text)
    return _read_scalar(text)


def parse_condition(raw: str | Mapping[str, Any], *, where: str = "") -> Condition:
    """One condition, in either form.

    Args:
        raw: ``"FIELD OP VALUE"`` or ``{"field": ..., "op": ..., "value": ...}``.
        where: How to name it in errors (``rule 'x' condition 2``).

    Raises:
        InvalidInput: Malformed; the message names the bad part.
    """
    if isinstance(raw, str):
        try:
            return parse_text(raw)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}" if where else str(exc)) from None
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            f"{where or 'condition'}: expected text 'FIELD OP VALUE' or an object "
            f"{{field, op, value}}; got {type(raw).__name__}"
        )
    field = raw.get("field")
    label = where or (f"condition on {field!r}" if isinstance(field, str) else "condition")
    unknown = set(raw) - {"field", "op", "value"}
    if unknown:
        raise InvalidInput(f"{label}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    for key in ("field", "op"):
        if key not in raw:
            raise InvalidInput(f"{label}: {key!r} is missing")
    return make_condition(raw["field"], raw["op"], raw.get("value"), where=label)


def parse_conditions(raw: Any, *, where: str = "conditions") -> list[Condition]:
    """A list of conditions (all must hold) in either form.

    Args:
        raw: None or ``[]`` (no conditions: everything matches), one condition
            (text or object), or a list of them.
        where: How to name the list in errors.

    Raises:
        InvalidInput: A condition is malformed; the message says which one and why.
    """
    if raw is None:
        return []
    if isinstance(raw, str | Mapping):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        raise InvalidInput(f"{where}: expected a list of conditions; got {type(raw).__name__}")
    return [parse_condition(item, where=f"{where}[{i}]") for i, item in enumerate(raw)]


def conditions_json(conditions: Sequence[Condition]) -> str:
    """Conditions as the JSON text stored in a rule or a scorer's filters."""
    return json.dumps([c.to_dict() for c in conditions], ensure_ascii=False)


def load_conditions(text: str) -> list[Condition]:
    """Conditions from stored JSON text (as :func:`conditions_json` writes it).

    Raises:
        InvalidInput: The text is not a valid list of conditions.
    """
    try:
        data = json.loads(text or "[]")
    except ValueError as exc:
        raise InvalidInput(f"stored conditions are not JSON: {exc}") from None
    return parse_conditions(data)


def describe(conditions: Sequence[Condition]) -> str:
    """The conditions in text form, joined with ``and``."""
    return " and ".join(str(c) for c in conditions)
