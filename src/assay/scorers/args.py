"""Scorer arguments: a strict pydantic model per scorer, and readable errors.

Each built-in scorer declares its arguments as a subclass of :class:`ScorerArgs`
(unknown arguments are refused, so a typo cannot silently fall back to a default).
Validation errors become :class:`~assay.errors.InvalidInput` naming the scorer and
the argument.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from assay.errors import InvalidInput
from assay.scorers.spec import ScorerSpec

A = TypeVar("A", bound=BaseModel)


class ScorerArgs(BaseModel):
    """Base of every scorer's argument model: frozen, unknown arguments refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ArgInfo:
    """One argument of a scorer, for ``--help`` and the docs.

    Attributes:
        name: Argument name.
        type: Its type, as a person reads it (``float | None``).
        required: Whether it must be given.
        default: The default as JSON text (``true``, ``0.5``), or ``None`` if required.
        description: What it does.
        secret: A secret (an API key): never stored in the spec; pass it through
            ``create_scorer(..., secrets=...)``.
    """

    name: str
    type: str
    required: bool
    default: str | None
    description: str
    secret: bool = False


def validate_args(name: str, model: type[A], args: Mapping[str, Any]) -> A:
    """Validate ``args`` for scorer ``name`` against ``model``.

    Raises:
        InvalidInput: An argument is unknown, missing or malformed; the message
            names the scorer and each bad argument (and lists the known ones).
    """
    try:
        return model.model_validate(dict(args))
    except ValidationError as exc:
        known = ", ".join(arg_names(model)) or "none"
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"]
            if error["type"] == "value_error":
                # Our validators' own words, without pydantic's "Value error, " prefix.
                message = str(error.get("ctx", {}).get("error", message))
            if error["type"] == "extra_forbidden":
                problems.append(f"unknown argument {where!r} (known: {known})")
            elif error["type"] == "missing":
                problems.append(f"argument {where!r} is required")
            elif where:
                problems.append(f"argument {where!r}: {message}")
            else:
                problems.append(message)
        raise InvalidInput(f"scorer {name!r}: {'; '.join(problems)}") from None


def spec_of(name: str, args: BaseModel, secret: Collection[str] = ()) -> ScorerSpec:
    """The canonical spec of a built scorer: defaults and secrets left out.

    Leaving defaults out makes ``exact`` and ``exact:normalize=true`` one spec with
    one fingerprint; leaving secrets out keeps API keys out of every stored result.
    """
    exclude = {
        field_name
        for field_name, info in type(args).model_fields.items()
        if (info.alias or field_name) in secret
    }
    dumped = args.model_dump(mode="json", exclude_defaults=True, exclude=exclude, by_alias=True)
    return ScorerSpec(name, dumped)


def describe_args(model: type[BaseModel], secret: Collection[str] = ()) -> tuple[ArgInfo, ...]:
    """The arguments of ``model`` in declaration order, for listings and docs."""
    infos = []
    for field_name, info in model.model_fields.items():
        arg_name = info.alias or field_name
        required = info.is_required()
        default = None if required else _json_text(info.get_default(call_default_factory=True))
        infos.append(
            ArgInfo(
                name=arg_name,
                type=_type_name(info.annotation),
                required=required,
                default=default,
                description=info.description or "",
                secret=arg_name in secret,
            )
        )
    return tuple(infos)


def arg_names(model: type[BaseModel]) -> list[str]:
    """The argument names of ``model`` as a spec writes them (aliases where set)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _json_text(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, tuple):
        value = list(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return repr(value)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(_json_text(choice) for choice in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is dict:
        return "object"
    if origin is not None:
        inner = ", ".join(_type_name(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is type(None):
        return "None"
    if annotation is SecretStr:
        return "str"
    if annotation is typing.Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))
