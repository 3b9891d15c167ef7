"""Manifest files: JSON, TOML and YAML read into one validated :class:`Manifest`.

The same manifest written in any of the three formats gives the same fingerprint.
Each reader refuses what would make that untrue or hide a mistake: duplicate keys
(JSON and PyYAML would silently keep the last) and ``NaN``. YAML is read with
YAML 1.2 scalars: ``2026-11-20`` and ``yes``/``no``/``on``/``off`` stay text, as
the same words would be in JSON, and only ``true``/``false`` are booleans.
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
from assay.releases.manifest import Manifest, parse_manifest

ManifestFormat: TypeAlias = Literal["json", "toml", "yaml"]

_FORMATS: dict[str, ManifestFormat] = {
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
}


def parse_manifest_text(
    text: str, fmt: ManifestFormat, *, source: str = "release manifest"
) -> Manifest:
    """Parse manifest text in JSON, TOML or YAML.

    Args:
        text: The document.
        fmt: Its format.
        source: Where it came from, used to prefix error messages.

    Returns:
        The validated manifest.

    Raises:
        InvalidInput: The text does not parse, or is not a valid manifest.
    """
    if fmt == "json":
        data = _load_json(text, source)
    elif fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{source}: invalid TOML: {exc}") from exc
    elif fmt == "yaml":
        data = _load_yaml(text, source)
    else:
        raise InvalidInput(f"{source}: unknown manifest format {fmt!r}; use json, toml or yaml")
    return parse_manifest(data, source=source)


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read a manifest file: ``.json``, ``.toml``, or ``.yaml``/``.yml``.

    Args:
        path: The file.

    Returns:
        The validated manifest.

    Raises:
        ConfigError: The file cannot be read.
        InvalidInput: The extension is not supported, or the content is not UTF-8,
            does not parse, or is not a valid manifest. The message names the file
            and the field path.
    """
    file = Path(path)
    fmt = _FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"{file}: unsupported manifest format {file.suffix!r}; use .json, .toml, .yaml or .yml"
        )
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read release manifest: {exc.strerror}") from exc
    try:
        # utf-8-sig: editors on Windows start files with a BOM, which JSON rejects.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    return parse_manifest_text(text, fmt, source=str(file))


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


def _load_json(text: str, source: str) -> Any:
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


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_ManifestLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidInput(f"{source}: invalid YAML{where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: invalid YAML: {exc}") from exc
