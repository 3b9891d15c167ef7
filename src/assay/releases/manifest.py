"""The release manifest: a versioned schema of everything that shapes an app's behaviour.

A manifest names a release and describes its behaviour in optional sections:
``model``, ``generation``, ``prompts``, ``tools``, ``retrieval``, ``adapter``,
``serving``, ``code`` and a free ``extra``. Its fingerprint
(:mod:`assay.releases.fingerprint`) covers those sections and not the name.
Files in JSON, TOML and YAML are read by :mod:`assay.releases.formats`.

Unknown top-level keys are rejected rather than ignored: a typo such as ``promts``
would otherwise drop the prompts from the fingerprint without anyone noticing.
Custom fields belong under ``extra``, which is hashed like every other section.

Shapes are versioned by ``schema_version``. A manifest without one is read as
version 1; older versions are upgraded on read by the steps in :data:`UPGRADES`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, time
from typing import Annotated, Any, TypeAlias

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from assay.errors import InvalidInput
from assay.releases.canonical import join_key

SCHEMA_VERSION = 1
"""The manifest shape this version of assay writes."""

# The Release.name column is String(200).
MAX_NAME_LENGTH = 200

Upgrade: TypeAlias = Callable[[dict[str, Any]], dict[str, Any]]

UPGRADES: Mapping[int, Upgrade] = {}
"""Upgrade steps by source version: ``UPGRADES[n]`` turns a version-``n`` manifest
into a version ``n + 1`` one. Empty while version 1 is the only shape. A step must
keep the canonical form of content it does not reshape, so that stored
fingerprints still match their upgraded manifests."""

_FINGERPRINT_RE = re.compile(r"[0-9a-f]{64}")


def _version_text(value: Any) -> Any:
    """Accept integer versions (``version: 2``) as text; refuse floats.

    A float version has already lost information (``1.10`` parses as ``1.1``), so
    it is an error rather than a silent ``"1.1"``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        raise PydanticCustomError(
            "version_float",
            'expected a string; quote version numbers ("1.10"): '
            "as a number they lose trailing zeros",
        )
    return value


VersionText = Annotated[str, BeforeValidator(_version_text)]


class _Section(BaseModel):
    """A closed section: unknown keys are errors, values are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _OpenSection(BaseModel):
    """An open section: known keys are typed, any other JSON key is kept and hashed."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class ModelSpec(_Section):
    """The model that answers.

    Attributes:
        id: Model id as the provider names it, e.g. ``gpt-4o-2024-08-06``.
        provider: Who serves it, e.g. ``openai``, ``anthropic``, ``vllm``.
        snapshot: The dated snapshot or version when ``id`` is an alias that moves
            (``gpt-4o`` -> ``2024-08-06``). Also accepted as ``version``.
    """

    id: str | None = None
    provider: str | None = None
    snapshot: VersionText | None = Field(
        default=None, validation_alias=AliasChoices("snapshot", "version")
    )

    @model_validator(mode="before")
    @classmethod
    def _one_snapshot_key(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "snapshot" in data and "version" in data:
            raise PydanticCustomError(
                "snapshot_twice", "give snapshot or version (the same field), not both"
            )
        return data


class GenerationSpec(_OpenSection):
    """Sampling parameters. The common ones are typed; any other key is kept.

    Attributes:
        temperature: Sampling temperature, >= 0.
        top_p: Nucleus sampling mass, in [0, 1].
        top_k: Top-k sampling cut-off, >= 0.
        max_tokens: Cap on generated tokens, >= 1.
        seed: Sampling seed, where the provider honours one.
        frequency_penalty: Frequency penalty.
        presence_penalty: Presence penalty.
    """

    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None


def _chunking(value: Any) -> Any:
    if value is None or isinstance(value, str | Mapping):
        return value
    raise PydanticCustomError("chunking_type", "expected a string or a mapping")


class RetrievalSpec(_OpenSection):
    """Retrieval configuration. Any other key (reranker, filters...) is kept.

    Attributes:
        embedding_model: The model that embeds queries and documents.
        index_version: Version of the vector index the app reads.
        top_k: Number of chunks retrieved, >= 1.
        chunking: How documents were split: a name or a mapping of settings.
    """

    embedding_model: str | None = None
    index_version: VersionText | None = None
    top_k: int | None = Field(default=None, ge=1)
    chunking: Annotated[dict[str, Any] | str | None, BeforeValidator(_chunking)] = None


class AdapterSpec(_Section):
    """A fine-tuned adapter (LoRA and the like) applied to a base model.

    Attributes:
        name: The adapter's name.
        base_model: The base model it was trained on.
        version: The adapter's version.
        checksum: Checksum of the adapter weights, e.g. ``sha256:...``.
    """

    name: str | None = None
    base_model: str | None = None
    version: VersionText | None = None
    checksum: str | None = None


class ServingSpec(_Section):
    """How the model is served.

    Attributes:
        base_model: The base model the release is served on (compared with
            ``adapter.base_model`` by the gate's compatibility rule).
        engine: The serving engine and its version, e.g. ``vllm 0.6.3``.
        quantization: Weight quantization, e.g. ``awq-int4``.
    """

    base_model: str | None = None
    engine: str | None = None
    quantization: str | None = None


class CodeSpec(_Section):
    """The application code the release runs.

    Attributes:
        version: The app's version.
        commit: The VCS commit.
        repository: Where the code lives.
    """

    version: VersionText | None = None
    commit: str | None = None
    repository: str | None = None


def tool_name(tool: Mapping[str, Any]) -> str | None:
    """The name of a JSON tool schema, in the plain or the OpenAI ``function`` shape.

    Returns:
        ``tool["name"]``, else ``tool["function"]["name"]``, else None.
    """
    name = tool.get("name")
    if isinstance(name, str):
        return name
    function = tool.get("function")
    if isinstance(function, Mapping) and isinstance(function.get("name"), str):
        return str(function["name"])
    return None


def _prompts(value: Any) -> Any:
    """Check the shape of ``prompts`` so an error names the prompt, not a union arm."""
    if value is None:
        return value
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(item, str | Mapping | list):
                raise PydanticCustomError(
                    "prompt_type",
                    "expected template text, a list of messages or a mapping",
                    {"subpath": join_key("_", key)[1:]},
                )
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            if not isinstance(item, str | Mapping):
                raise PydanticCustomError(
                    "prompt_type",
                    "expected template text or a mapping",
                    {"subpath": f"[{i}]"},
                )
        return value
    raise PydanticCustomError(
        "prompts_type", "expected a mapping of prompt name to template text, or a list"
    )


class Manifest(BaseModel):
    """A release manifest: the release name and the sections that shape its behaviour.

    Immutable. Build it with :func:`parse_manifest` or
    :func:`~assay.releases.formats.load_manifest` to get upgrades and readable
    errors; the constructor raises pydantic's ``ValidationError``.

    Attributes:
        schema_version: The manifest shape (always :data:`SCHEMA_VERSION` once read).
        name: The release name, e.g. ``v2`` or ``support-bot-2026-11-20``. Not part
            of the fingerprint.
        model: The model that answers.
        generation: Sampling parameters.
        prompts: Prompt templates, by name (``{"system": "..."}``) or as a list.
        tools: JSON schemas of the tools offered to the model, in the order sent.
        retrieval: Retrieval configuration.
        adapter: A fine-tuned adapter and its base model.
        serving: How the model is served.
        code: The application code version.
        extra: Any other behaviour-relevant setting. Hashed like the rest.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    schema_version: int = SCHEMA_VERSION
    name: str
    model: ModelSpec | None = None
    generation: GenerationSpec | None = None
    prompts: Annotated[
        dict[str, str | list[Any] | dict[str, Any]] | list[str | dict[str, Any]] | None,
        BeforeValidator(_prompts),
    ] = None
    tools: list[dict[str, Any]] | None = None
    retrieval: RetrievalSpec | None = None
    adapter: AdapterSpec | None = None
    serving: ServingSpec | None = None
    code: CodeSpec | None = None
    extra: dict[str, Any] | None = None

    @field_validator("schema_version")
    @classmethod
    def _current_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise PydanticCustomError(
                "schema_version",
                "must be {current} here; read older manifests with parse_manifest",
                {"current": SCHEMA_VERSION},
            )
        return value

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("release_name", "must not be empty")
        if value != value.strip():
            raise PydanticCustomError("release_name", "must not start or end with whitespace")
        if len(value) > MAX_NAME_LENGTH:
            raise PydanticCustomError(
                "release_name", "is longer than {limit} characters", {"limit": MAX_NAME_LENGTH}
            )
        if any(not ch.isprintable() for ch in value):
            raise PydanticCustomError("release_name", "must not contain control characters")
        if _FINGERPRINT_RE.fullmatch(value.lower()):
            # A release is looked up by name or fingerprint; this name would shadow one.
            raise PydanticCustomError(
                "release_name", "must not look like a fingerprint (64 hex characters)"
            )
        return value

    @field_validator("tools")
    @classmethod
    def _unique_tool_names(cls, value: list[dict[str, Any]] | None) -> Any:
        # Model APIs reject two tools of one name, and the diff matches tools by name.
        seen: set[str] = set()
        for i, tool in enumerate(value or []):
            name = tool_name(tool)
            if name is None:
                continue
            if name in seen:
                raise PydanticCustomError(
                    "tool_duplicate",
                    "duplicate tool name {name}",
                    {"name": repr(name), "subpath": f"[{i}]"},
                )
            seen.add(name)
        return value


ManifestLike: TypeAlias = Manifest | Mapping[str, Any]
"""A parsed manifest, or the plain data of one."""


# --- reading -------------------------------------------------------------------------


def parse_manifest(data: Mapping[str, Any], *, source: str | None = None) -> Manifest:
    """Validate manifest data (from JSON, TOML, YAML or Python), upgrading old shapes.

    Args:
        data: The manifest as plain data.
        source: Where it came from (a file name), used to prefix error messages.

    Returns:
        The validated manifest.

    Raises:
        InvalidInput: The data is not a valid manifest. The message names the source
            and each offending field path, e.g. ``model.id: expected a string``.
    """
    prefix = f"{source}: " if source else "release manifest: "
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{prefix}expected a mapping at the top level")
    try:
        plain = _json_compatible(data, "")
        upgraded = upgrade_manifest_data(plain)
    except InvalidInput as exc:
        raise InvalidInput(f"{prefix}{exc}") from exc
    try:
        return Manifest.model_validate(upgraded)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors(include_url=False)]
        if len(problems) == 1:
            raise InvalidInput(f"{prefix}{problems[0]}") from exc
        listed = "".join(f"\n  {p}" for p in problems)
        raise InvalidInput(f"{prefix}{len(problems)} problems:{listed}") from exc


def upgrade_manifest_data(
    data: Mapping[str, Any], *, upgrades: Mapping[int, Upgrade] = UPGRADES
) -> dict[str, Any]:
    """Bring manifest data of any known ``schema_version`` to :data:`SCHEMA_VERSION`.

    A manifest without ``schema_version`` is version 1: hand-written files never
    change meaning when a newer shape appears.

    Args:
        data: Manifest data.
        upgrades: The upgrade steps (see :data:`UPGRADES`); a parameter for tests.

    Returns:
        A new dict in the current shape, with ``schema_version`` set.

    Raises:
        InvalidInput: The version is not an integer, unknown, or newer than this
            version of assay understands.
    """
    out = dict(data)
    version = out.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidInput("schema_version: expected an integer")
    if version > SCHEMA_VERSION:
        raise InvalidInput(
            f"schema_version: {version} is newer than this assay understands "
            f"({SCHEMA_VERSION}); upgrade assay"
        )
    if version < 1:
        raise InvalidInput(f"schema_version: {version} is not a manifest version")
    while version < SCHEMA_VERSION:
        step = upgrades.get(version)
        if step is None:
            raise InvalidInput(f"schema_version: no upgrade from version {version}")
        out = step(out)
        version += 1
        out["schema_version"] = version
    out["schema_version"] = version
    return out


def as_manifest(manifest: ManifestLike) -> Manifest:
    """Return ``manifest`` itself if parsed, else parse it with :func:`parse_manifest`."""
    if isinstance(manifest, Manifest):
        return manifest
    return parse_manifest(manifest)


# --- helpers -----------------------------------------------------------------------------


def _json_compatible(value: Any, path: str) -> Any:
    """Copy ``value`` as plain JSON data; TOML dates and times become ISO text."""
    if isinstance(value, str):
        _check_text(value, path)
        return value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{path or 'manifest'}: NaN and infinity are not allowed")
        return value
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{path or 'manifest'}: keys must be strings, got {key!r}")
            _check_text(key, path)
            out[key] = _json_compatible(item, join_key(path, key))
        return out
    if isinstance(value, list | tuple):
        return [_json_compatible(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise InvalidInput(f"{path or 'manifest'}: {type(value).__name__} is not a JSON value")


def _check_text(text: str, path: str) -> None:
    # JSON's "\ud800" escape decodes to a lone surrogate, which has no UTF-8 form
    # and so no fingerprint.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        raise InvalidInput(
            f"{path or 'manifest'}: text holds an unpaired surrogate (\\u{code:04x})"
        ) from exc


_MESSAGES = {
    "string_type": "expected a string",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "bool_type": "expected true or false",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "list_type": "expected a list",
    "missing": "required",
}

# Keys each closed part of the manifest knows, for "did you mean" hints.
_KNOWN_KEYS: dict[str, list[str]] = {
    "": list(Manifest.model_fields),
    "model": ["id", "provider", "snapshot", "version"],
    "adapter": list(AdapterSpec.model_fields),
    "serving": list(ServingSpec.model_fields),
    "code": list(CodeSpec.model_fields),
}


def _describe(err: Mapping[str, Any]) -> str:
    """One pydantic error as ``path: message``."""
    parent = ""
    path = ""
    for part in err["loc"]:
        parent = path
        path = f"{path}[{part}]" if isinstance(part, int) else join_key(path, str(part))
    ctx = err.get("ctx") or {}
    path += str(ctx.get("subpath", ""))
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        message = "unknown key"
        close = difflib.get_close_matches(key, _KNOWN_KEYS.get(parent, []), n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        if not parent:
            message += "; put custom fields under 'extra'"
        return f"{path}: {message}"
    message = _MESSAGES.get(kind) or str(err["msg"]).removeprefix("Input ")
    return f"{path or 'manifest'}: {message}"
