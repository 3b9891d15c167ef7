"""`ScorerSpec`: a scorer's name and arguments, as stored next to every result.

The command line writes a spec as ``NAME[:ARGS]``; ``ARGS`` is either a JSON object
or comma-separated ``key=value`` pairs::

    exact
    exact:normalize=false
    regex:{"pattern": "^\\\\d+$", "flags": "i"}
    numeric:abs_tol=0.01,extract=true
    contains:values=["refund", "sorry"],mode=any
    regex:pattern="a,b"

In ``key=value`` form each value is read as JSON when it parses (``0.5``, ``true``,
``["a", "b"]``, ``"quoted, with commas"``) and as a plain string otherwise
(``pattern=^\\d+$``, ``function=checks:polite``). Commas split pairs only outside
brackets, braces and double quotes, so ``pattern=\\d{1,3}`` stays one value; any
other comma needs quotes or the JSON form.

The canonical JSON of a spec has sorted keys, no spaces and integral floats written
as integers (``1.0`` and ``1`` are the same argument); its SHA-256 is the
:attr:`ScorerSpec.fingerprint` that keys cached scores.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.errors import InvalidInput

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
"""A scorer name: a letter or ``_``, then letters, digits, ``_``, ``.`` or ``-``."""

_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Floats beyond 2**53 cannot all be told apart from their integer neighbours, so
# only smaller integral floats are folded into ints (the rule of
# assay.releases.canonical). That module is not reused because it also drops null
# members, and a null argument can differ from its default (judge threshold=null
# turns pass/fail off; the default is 0.5).
_MAX_EXACT_INT = 2**53


def _canonical(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{path}: NaN and infinity are not allowed")
        return int(value) if value.is_integer() and abs(value) < _MAX_EXACT_INT else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{path}: keys must be strings, got {key!r}")
            out[key] = _canonical(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_canonical(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise InvalidInput(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON text: sorted keys, no spaces, ``1.0`` written ``1``.

    Raises:
        InvalidInput: ``value`` holds NaN, an infinity, a non-string key or
            something that is not JSON.
    """
    return json.dumps(
        _canonical(value, "value"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


@dataclass(frozen=True)
class ScorerSpec:
    """A scorer's registered name and its arguments.

    Attributes:
        name: The registered scorer name (``exact``, ``judge``, a plugin's name).
        args: JSON-able arguments; kept in canonical form (see :func:`canonical_json`).

    Raises:
        InvalidInput: The name is malformed or the arguments are not JSON.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_PATTERN.fullmatch(self.name):
            raise InvalidInput(
                f"scorer name {self.name!r} is not valid: use letters, digits, '_', '.' "
                "or '-', starting with a letter or '_'"
            )
        if not isinstance(self.args, Mapping):
            raise InvalidInput(
                f"scorer {self.name!r}: arguments must be an object, got {type(self.args).__name__}"
            )
        # A private canonical copy: the caller's dict can change, the spec cannot.
        try:
            text = json.dumps(_canonical(dict(self.args), "args"), allow_nan=False)
        except InvalidInput as exc:
            raise InvalidInput(f"scorer {self.name!r}: {exc}") from None
        args = json.loads(text)
        object.__setattr__(self, "args", args)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    @property
    def canonical(self) -> str:
        """The spec as canonical JSON: ``{"args":{...},"name":"..."}``."""
        return canonical_json({"name": self.name, "args": self.args})

    @property
    def fingerprint(self) -> str:
        """SHA-256 of :attr:`canonical`, as 64 hex characters (keys cached scores)."""
        return hashlib.sha256(self.canonical.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON object ``{"name": ..., "args": {...}}``."""
        return {"name": self.name, "args": json.loads(canonical_json(self.args))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScorerSpec:
        """Read a spec written by :meth:`to_dict`.

        Raises:
            InvalidInput: ``name`` is missing, or a field is unknown or malformed.
        """
        unknown = set(data) - {"name", "args"}
        if unknown:
            raise InvalidInput(f"scorer spec has unknown fields: {', '.join(sorted(unknown))}")
        if "name" not in data:
            raise InvalidInput("scorer spec has no name")
        return cls(data["name"], data.get("args") or {})

    @classmethod
    def parse(cls, text: str) -> ScorerSpec:
        """Read the command-line form ``NAME[:ARGS]`` (see the module docstring).

        Args:
            text: For example ``exact``, ``numeric:abs_tol=0.01`` or
                ``regex:{"pattern": "^\\\\d+$"}``.

        Returns:
            The spec.

        Raises:
            InvalidInput: The text is empty, the name malformed, or the arguments
                are neither a JSON object nor well-formed ``key=value`` pairs; the
                message says which part is wrong.
        """
        text = text.strip()
        if not text:
            raise InvalidInput("scorer spec is empty: expected NAME or NAME:ARGS")
        name, _, raw = text.partition(":")
        name = name.strip()
        if not NAME_PATTERN.fullmatch(name):
            raise InvalidInput(
                f"scorer spec {text!r}: name {name!r} is not valid: use letters, digits, "
                "'_', '.' or '-', starting with a letter or '_'"
            )
        raw = raw.strip()
        if not raw:
            return cls(name)
        if raw.startswith("{"):
            return cls(name, _json_args(name, raw))
        return cls(name, _pair_args(name, raw))

    def __str__(self) -> str:
        """The command-line form: ``NAME`` or ``NAME:{canonical JSON args}``."""
        return f"{self.name}:{canonical_json(self.args)}" if self.args else self.name


def _reject_constant(name: str) -> Any:
    # JSON has no NaN or Infinity; Python's json module would accept them.
    raise ValueError(f"{name} is not JSON")


def _json_args(name: str, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except ValueError as exc:
        raise InvalidInput(
            f"scorer {name!r}: arguments start with '{{' but are not valid JSON: {exc}"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput(f"scorer {name!r}: JSON arguments must be an object")
    return value


def _split_pairs(name: str, raw: str) -> list[str]:
    """Split on commas outside brackets, braces and double-quoted strings."""
    parts: list[str] = []
    depth = 0
    in_string = False
    escaped = False
    start = 0
    for index, char in enumerate(raw):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            # A stray closer (a smiley, a regex) is text, not structure.
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append(raw[start:index])
            start = index + 1
    if in_string:
        raise InvalidInput(
            f"scorer {name!r}: unclosed '\"' in arguments; close the quote or use the "
            "JSON form NAME:{...}"
        )
    if depth:
        raise InvalidInput(
            f"scorer {name!r}: unclosed '[' or '{{' in arguments; close it, quote the "
            "value, or use the JSON form NAME:{...}"
        )
    parts.append(raw[start:])
    return parts


def _pair_args(name: str, raw: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for part in _split_pairs(name, raw):
        item = part.strip()
        if not item:
            raise InvalidInput(f"scorer {name!r}: empty argument (a stray ',') in {raw!r}")
        key, equals, text = item.partition("=")
        key = key.strip()
        if not equals:
            raise InvalidInput(
                f"scorer {name!r}: argument {item!r} has no '=': write key=value pairs "
                "separated by ',', or a JSON object"
            )
        if not _KEY_PATTERN.fullmatch(key):
            raise InvalidInput(f"scorer {name!r}: argument name {key!r} is not an identifier")
        if key in args:
            raise InvalidInput(f"scorer {name!r}: argument {key!r} is given twice")
        args[key] = _pair_value(text.strip())
    return args


def _pair_value(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return text
