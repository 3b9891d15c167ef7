"""Documents people write: JSON, TOML and YAML files read strictly, one way for all.

Release manifests, review-queue definitions and routing-rule files are all read
here. Each reader refuses what would hide a mistake: duplicate keys (JSON and
PyYAML would silently keep the last) and ``NaN``. YAML is read with YAML 1.2
scalars: ``2026-11-20`` and ``yes``/``no``/``on``/``off`` stay text, as the same
words would be in JSON, and only ``true``/``false`` are booleans.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeAlias

import yaml

from assay.errors import ConfigError, InvalidInput

DocumentFormat: TypeAlias = Literal["json", "toml", "yaml"]

FORMATS: dict[str, DocumentFormat] = {
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
}
"""File suffixes and the format each means."""


def parse_document(text: str, fmt: str, *, source: str) -> Any:
    """Parse JSON, TOML or YAML text.

    Args:
        text: The document.
        fmt: ``json``, ``toml`` or ``yaml``.
        source: What it is and where it came from, prefixed to error messages.

    Raises:
        InvalidInput: Unknown format, or the text does not parse (with line and column).
    """
    if fmt == "json":
        return load_json_document(text, source)
    if fmt == "toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{source}: invalid TOML: {exc}") from exc
    if fmt == "yaml":
        return load_yaml_document(text, source)
    raise InvalidInput(f"{source}: unknown format {fmt!r}; use json, toml or yaml")


def read_document(path: str | os.PathLike[str], what: str) -> Any:
    """Read a ``.json``, ``.toml`` or ``.yaml``/``.yml`` file.

    Args:
        path: The file.
        what: What the file holds ("release manifest"), for error messages.

    Raises:
        ConfigError: The file cannot be read.
        InvalidInput: The suffix is not supported, or the content is not UTF-8 or
            does not parse. The message names the file.
    """
    file = Path(path)
    fmt = FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"{file}: unsupported format {file.suffix!r} for a {what}; "
            "use .json, .toml, .yaml or .yml"
        )
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read {what}: {exc.strerror}") from exc
    try:
        # utf-8-sig: editors on Windows start files with a BOM, which JSON rejects.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    return parse_document(text, fmt, source=str(file))


class _DuplicateKeyError(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not allowed (not a JSON number)")


def load_json_document(text: str, source: str) -> Any:
    """Parse JSON that a person wrote: duplicate keys and NaN/Infinity are errors.

    Shared by every file assay reads from users (manifests, queue definitions).

    Raises:
        InvalidInput: Invalid JSON, named by ``source`` with line and column.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except _DuplicateKeyError as exc:
        # Python keeps the last of two equal keys; the author meant one of them.
        raise InvalidInput(f"{source}: duplicate key {exc.args[0]!r}") from exc
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc}") from exc


class _ManifestLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and reads YAML 1.2 scalars.

    Timestamps stay strings so ``version: 2026-11-20`` means what the same line
    means in JSON; PyYAML would make it a ``date``.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable: SafeLoader reports it below
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


_YAML_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_YAML_BOOL = "tag:yaml.org,2002:bool"

_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_YAML_TIMESTAMP, _YAML_BOOL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.2 booleans only: PyYAML's YAML 1.1 turns `yes`, `no`, `on` and `off` into
# booleans, so `enum: [yes, no]` in a tool schema would silently change meaning.
_ManifestLoader.add_implicit_resolver(
    _YAML_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml_document(text: str, source: str) -> Any:
    """Parse YAML that a person wrote: duplicate keys are errors, only YAML 1.2
    booleans are booleans, and dates stay text.

    Raises:
        InvalidInput: Invalid YAML, named by ``source`` with line and column.
    """
    try:
        return yaml.load(text, Loader=_ManifestLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidInput(f"{source}: invalid YAML{where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: invalid YAML: {exc}") from exc
