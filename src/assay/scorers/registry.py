"""The scorer registry: built-ins, scorers registered in-process, and plugins.

A name resolves, in order, to a scorer registered with :func:`register_scorer` (the
built-ins register themselves when :mod:`assay.scorers` is imported), then to an
entry point of the ``assay.scorers`` group declared by an installed package::

    [project.entry-points."assay.scorers"]
    toxicity = "my_scorers:make_toxicity"

An entry point loads a factory ``(args: dict) -> Scorer``. The factory may carry an
``args_model`` attribute (a pydantic model, validated before the call and shown in
``assay scorers`` listings) and a ``secret_args`` attribute (argument names filled
from ``secrets`` and kept out of stored specs).
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from assay.errors import AssayError, ConfigError, Conflict, InvalidInput
from assay.scorers.args import ArgInfo, ScorerArgs, describe_args, validate_args
from assay.scorers.base import Scorer
from assay.scorers.spec import NAME_PATTERN, ScorerSpec

ENTRY_POINT_GROUP = "assay.scorers"
"""The entry-point group third-party scorers are declared in."""

C = TypeVar("C", bound=Callable[..., Scorer])


@dataclass(frozen=True)
class ScorerInfo:
    """A scorer as listed by :func:`list_scorers` (for ``--help``, the docs, the UI).

    Attributes:
        name: The name a spec uses.
        summary: First line of the scorer's docstring.
        args: Its arguments, in declaration order.
        args_schema: JSON Schema of its arguments (``{}`` when a plugin declares none).
        source: ``builtin``, ``registered`` (by :func:`register_scorer` outside
            assay) or ``plugin <module:attr> (<distribution>)``.
        error: Why the scorer cannot be used (a plugin that fails to load, or whose
            name is taken), else ``None``.
    """

    name: str
    summary: str
    args: tuple[ArgInfo, ...]
    args_schema: dict[str, Any]
    source: str
    error: str | None = None


@dataclass(frozen=True)
class _Entry:
    info: ScorerInfo
    secret: frozenset[str]
    build: Callable[[dict[str, Any]], Scorer]


_REGISTRY: dict[str, _Entry] = {}


def _summary(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def register_scorer(
    name: str, *, args: type[ScorerArgs], secret: Collection[str] = ()
) -> Callable[[C], C]:
    """Register a scorer class (or factory) under ``name``.

    The decorated callable is called with the validated ``args`` model and must
    return a :class:`~assay.scorers.base.Scorer`; its docstring's first line is the
    summary in listings. The callable itself is returned unchanged::

        class MinLengthArgs(ScorerArgs):
            chars: int = Field(description="Fewest characters that pass.")

        @register_scorer("min_length", args=MinLengthArgs)
        class MinLength:
            \"\"\"Passes outputs of at least `chars` characters.\"\"\"

            def __init__(self, args: MinLengthArgs) -> None:
                self.args = args
                self.spec = spec_of("min_length", args)

            async def score(self, case: ScoreInput) -> Score: ...

    Args:
        name: The scorer name used in specs.
        args: The pydantic model of its arguments (subclass :class:`ScorerArgs`).
        secret: Argument names that hold secrets (API keys): filled from
            ``create_scorer(..., secrets=...)`` and never part of a stored spec.

    Returns:
        A decorator that registers its argument and returns it.

    Raises:
        Conflict: ``name`` is already registered.
        InvalidInput: ``name`` is not a valid scorer name.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(f"scorer name {name!r} is not valid")

    def decorator(factory: C) -> C:
        if name in _REGISTRY:
            raise Conflict(f"a scorer named {name!r} is already registered")
        source = "builtin" if factory.__module__.startswith("assay.") else "registered"
        info = ScorerInfo(
            name=name,
            summary=_summary(factory),
            args=describe_args(args, secret),
            args_schema=args.model_json_schema(),
            source=source,
        )

        def build(raw: dict[str, Any]) -> Scorer:
            return factory(validate_args(name, args, raw))

        _REGISTRY[name] = _Entry(info, frozenset(secret), build)
        return factory

    return decorator


def _entry_points() -> dict[str, list[importlib.metadata.EntryPoint]]:
    found: dict[str, list[importlib.metadata.EntryPoint]] = {}
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, []).append(point)
    return found


def _plugin_source(point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    where = f" ({dist.name})" if dist is not None else ""
    return f"plugin {point.value}{where}"


def _load_plugin(point: importlib.metadata.EntryPoint) -> _Entry:
    """Load one plugin's factory.

    Raises:
        ConfigError: The entry point does not import or is not a factory.
    """
    label = f"scorer plugin {point.name!r} ({point.value})"
    try:
        factory = point.load()
    except Exception as exc:  # a plugin can fail in any way while importing
        raise ConfigError(f"{label} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if not callable(factory):
        raise ConfigError(f"{label} is not callable: expected a factory (args: dict) -> Scorer")
    model = getattr(factory, "args_model", None)
    if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ConfigError(f"{label}: args_model must be a pydantic model class")
    secret = frozenset(getattr(factory, "secret_args", ()) or ())
    info = ScorerInfo(
        name=point.name,
        summary=_summary(factory),
        args=describe_args(model, secret) if model is not None else (),
        args_schema=model.model_json_schema() if model is not None else {},
        source=_plugin_source(point),
    )

    def build(raw: dict[str, Any]) -> Scorer:
        args = validate_args(point.name, model, raw).model_dump() if model is not None else raw
        try:
            scorer = factory(args)
        except AssayError:
            raise
        except Exception as exc:  # foreign code: name the plugin in the error
            raise ConfigError(f"{label} failed to build: {type(exc).__name__}: {exc}") from exc
        if not isinstance(scorer, Scorer) or not inspect.iscoroutinefunction(scorer.score):
            raise ConfigError(
                f"{label} returned {type(scorer).__name__}, not a Scorer "
                "(a `spec` and an `async def score(case)`)"
            )
        return scorer

    return _Entry(info, secret, build)


def _known_names() -> list[str]:
    return sorted(set(_REGISTRY) | set(_entry_points()))


def scorer_names() -> list[str]:
    """Every scorer name that can be created: built-ins and installed plugins (not
    loaded)."""
    return _known_names()


def _resolve(name: str) -> _Entry:
    entry = _REGISTRY.get(name)
    if entry is not None:
        return entry
    points = _entry_points().get(name)
    if not points:
        known = ", ".join(_known_names())
        raise InvalidInput(f"unknown scorer {name!r}; known scorers: {known}")
    if len(points) > 1:
        sources = ", ".join(_plugin_source(point) for point in points)
        raise ConfigError(f"scorer {name!r} is declared by several plugins: {sources}")
    return _load_plugin(points[0])


def create_scorer(spec: ScorerSpec | str, *, secrets: Mapping[str, Any] | None = None) -> Scorer:
    """Build the scorer a spec names.

    Args:
        spec: A :class:`ScorerSpec`, or its command-line form ``NAME[:ARGS]``.
        secrets: Values for secret arguments (the judge's ``api_key``) that the
            spec leaves out; a scorer takes only the secrets it declares, so the
            same mapping can be passed for every scorer.

    Returns:
        The scorer. Store ``scorer.spec`` with its results: it is canonical
        (validated, defaults and secrets left out), so equal configurations share
        one fingerprint.

    Raises:
        InvalidInput: The name is unknown (the message lists the known ones) or an
            argument is unknown, missing or malformed (the message names it).
        ConfigError: A plugin cannot be loaded or did not return a scorer.
    """
    if isinstance(spec, str):
        spec = ScorerSpec.parse(spec)
    entry = _resolve(spec.name)
    args = dict(spec.args)
    for key in entry.secret:
        if secrets and key in secrets and key not in args:
            args[key] = secrets[key]
    return entry.build(args)


def list_scorers() -> list[ScorerInfo]:
    """Every scorer that a spec can name: registered ones, then plugins, by name.

    Never raises for a broken plugin: it is listed with ``error`` set.
    """
    infos = [_REGISTRY[name].info for name in sorted(_REGISTRY)]
    for name, points in sorted(_entry_points().items()):
        for index, point in enumerate(points):
            error: str | None = None
            if name in _REGISTRY:
                error = f"name taken by the {_REGISTRY[name].info.source} scorer {name!r}"
            elif index > 0:
                error = f"name already declared by {_plugin_source(points[0])}"
            try:
                info = _load_plugin(point).info
            except ConfigError as exc:
                info = ScorerInfo(name, "", (), {}, _plugin_source(point), str(exc))
            if error is not None:
                info = ScorerInfo(
                    info.name, info.summary, info.args, info.args_schema, info.source, error
                )
            infos.append(info)
    return infos
