"""Canonical JSON: one byte string per meaning, so equal behaviour hashes equal.

The rules, applied recursively to a JSON value:

- Object keys are sorted (by Unicode code point) and no insignificant whitespace is
  written: separators are ``,`` and ``:``. Text is UTF-8, not ``\\uXXXX``-escaped.
- Inside objects, members whose value is ``null``, ``{}`` or ``[]`` are dropped, so
  adding an empty optional section (or spelling out ``seed = null``) does not change
  the fingerprint. Members of lists are kept as they are, ``null`` included:
  a list's positions are part of its meaning. Empty strings are kept: an empty
  system prompt is a value, not an absence.
- Numbers: a float with an integral value in the exactly representable range
  (``|x| < 2**53``) is written as an integer, so ``1.0`` and ``1`` are the same
  (TOML keeps them apart, JSON and YAML authors write either, and no model API
  treats ``temperature=1`` and ``temperature=1.0`` differently). Other floats are
  written with Python's shortest round-trip ``repr``, so ``0.7`` and ``0.70`` are
  the same. NaN and infinities are not JSON and are rejected.

This is close to, but not, RFC 8785 (JCS): JCS sorts keys by UTF-16 code unit and
writes numbers the ECMAScript way (Python writes ``1e-07`` where JCS writes
``1e-7``). Fingerprints are computed by assay itself, so Python's rules are the
reference; another implementation must follow them, not JCS.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from assay.errors import InvalidInput

# Floats beyond 2**53 cannot all be told apart from their integer neighbours, so
# only smaller integral floats are folded into ints.
_MAX_EXACT_INT = 2**53


def canonicalize(value: Any, path: str = "") -> Any:
    """Return ``value`` in canonical form: pruned, with floats normalised.

    Args:
        value: A JSON-compatible value (dicts with string keys, lists, tuples,
            strings, numbers, booleans, ``None``).
        path: Where ``value`` sits, used in error messages.

    Returns:
        A new value made of dicts, lists, strings, ints, floats, booleans and None.

    Raises:
        InvalidInput: ``value`` holds NaN, an infinity, a non-string key or
            something that is not JSON.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{path or 'value'}: NaN and infinity are not allowed")
        if value.is_integer() and abs(value) < _MAX_EXACT_INT:
            return int(value)
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{path or 'value'}: keys must be strings, got {key!r}")
            child = canonicalize(item, join_key(path, key))
            if not _is_empty(child):
                out[key] = child
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [canonicalize(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise InvalidInput(f"{path or 'value'}: {type(value).__name__} is not a JSON value")


def _is_empty(value: Any) -> bool:
    """Whether canonical form drops ``value`` from an object (None, {} or [])."""
    return value is None or (isinstance(value, dict | list) and not value)


def canonical_dumps(value: Any) -> str:
    """Serialise ``value`` as canonical JSON text (see the module docstring).

    Raises:
        InvalidInput: ``value`` is not JSON (see :func:`canonicalize`).
    """
    return json.dumps(
        canonicalize(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def join_key(path: str, key: str) -> str:
    """Append an object key to a display path: ``a.b``, or ``a["odd key"]``.

    Keys that are not plain identifiers (dots, spaces, empty) are JSON-quoted in
    brackets so that a path reads back unambiguously.
    """
    plain = key.replace("_", "a").replace("-", "a")
    if plain.isascii() and plain.isalnum():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"
