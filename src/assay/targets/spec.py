"""``--target SPEC``: from a short spec or a config file to a :class:`Target`.

Short specs:

- ``module:function`` (or ``python:module:function``): a Python callable;
- ``http://...`` or ``https://...``: an endpoint taking ``{"input": ...}`` and
  answering JSON (its ``output`` field, or all of it) or text;
- ``openai:MODEL@BASE_URL``: an OpenAI-compatible chat model, the input as the
  user message.

A ``.toml``, ``.json``, ``.yaml`` or ``.yml`` file describes any of them fully
(``kind = "python" | "http" | "openai"``; see docs/concepts/experiments.md).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

from assay.errors import InvalidInput
from assay.targets.base import Target
from assay.targets.http import HttpTarget
from assay.targets.openai_chat import OpenAIChatTarget
from assay.targets.python import PythonTarget

CONFIG_SUFFIXES = (".toml", ".json", ".yaml", ".yml")
_KEYS = {
    "python": {"kind", "function"},
    "http": {"kind", "url", "method", "body", "output", "headers"},
    "openai": {
        "kind",
        "base_url",
        "model",
        "prompt",
        "prompt_file",
        "system",
        "system_file",
        "params",
    },
}


def load_target(spec: str, *, api_key: str = "", cwd: Path | None = None) -> Target:
    """The target a ``--target`` value names.

    Args:
        spec: A short spec or the path of a config file.
        api_key: Key for OpenAI-compatible endpoints (from the settings).
        cwd: Folder Python targets import from, and relative paths start at.

    Raises:
        InvalidInput: the spec or the file is malformed; the message says how.
    """
    base = cwd or Path.cwd()
    spec = spec.strip()
    if spec.endswith(CONFIG_SUFFIXES):
        path = Path(spec) if Path(spec).is_absolute() else base / spec
        return from_config(_read_config(path), api_key=api_key, cwd=base, folder=path.parent)
    if spec.startswith(("http://", "https://")):
        return HttpTarget(spec)
    if spec.startswith("openai:"):
        model, sep, url = spec[len("openai:") :].partition("@")
        if not sep or not model or not url:
            raise InvalidInput(f"target {spec!r}: expected openai:MODEL@BASE_URL")
        return OpenAIChatTarget(url, model, api_key=api_key)
    ref = spec[len("python:") :] if spec.startswith("python:") else spec
    if ":" not in ref:
        raise InvalidInput(
            f"target {spec!r}: use module:function, http(s)://URL, openai:MODEL@BASE_URL, "
            "or a .toml/.json/.yaml file"
        )
    return PythonTarget(ref, cwd=base)


def from_config(
    config: dict[str, Any],
    *,
    api_key: str = "",
    cwd: Path | None = None,
    folder: Path | None = None,
) -> Target:
    """A target from a config mapping (``kind`` plus that kind's fields).

    Raises:
        InvalidInput: unknown kind, unknown or missing fields, unreadable template files.
    """
    kind = config.get("kind")
    if kind not in _KEYS:
        raise InvalidInput(f"target config: kind must be python, http or openai, not {kind!r}")
    unknown = sorted(set(config) - _KEYS[kind])
    if unknown:
        raise InvalidInput(
            f"target config ({kind}): unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; known: {', '.join(sorted(_KEYS[kind]))}"
        )
    where = folder or cwd or Path.cwd()
    if kind == "python":
        return PythonTarget(_required(config, "function", kind), cwd=cwd)
    if kind == "http":
        return HttpTarget(
            _required(config, "url", kind),
            method=str(config.get("method", "POST")),
            body=config.get("body"),
            output=config.get("output"),
            headers={str(k): str(v) for k, v in (config.get("headers") or {}).items()},
        )
    return OpenAIChatTarget(
        _required(config, "base_url", kind),
        _required(config, "model", kind),
        prompt=_text(config, "prompt", where),
        system=_text(config, "system", where),
        params=config.get("params") or {},
        api_key=api_key,
    )


def _required(config: dict[str, Any], key: str, kind: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"target config ({kind}): {key} is required (a non-empty string)")
    return value


def _text(config: dict[str, Any], key: str, folder: Path) -> str | None:
    if key in config and f"{key}_file" in config:
        raise InvalidInput(f"target config: give {key} or {key}_file, not both")
    if f"{key}_file" in config:
        path = folder / str(config[f"{key}_file"])
        try:
            return path.read_text()
        except OSError as exc:
            raise InvalidInput(f"target config: cannot read {key}_file {str(path)!r}") from exc
    value = config.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"target config: {key} must be text")
    return value


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidInput(f"cannot read target config {str(path)!r}: {exc.strerror}") from exc
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"target config {path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"target config {path.name}: expected a table/object at the top")
    return data
