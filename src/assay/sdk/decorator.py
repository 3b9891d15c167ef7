"""The ``@trace`` decorator: one span per call of a function, sync or async."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar, cast, overload

from assay.sdk.tracing import Span, SpanKindName, check_kind, open_span

P = ParamSpec("P")
R = TypeVar("R")


def _bound_arguments(
    signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Call arguments by parameter name, without ``self``/``cls``."""
    if signature is None:
        return {"args": list(args), "kwargs": kwargs}
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:  # the call itself will raise the real error
        return {"args": list(args), "kwargs": kwargs}
    arguments = dict(bound.arguments)
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD and name in arguments:
            arguments.update(arguments.pop(name))
    arguments.pop("self", None)
    arguments.pop("cls", None)
    return arguments


def _record_llm_call(wrapper: Span, arguments: Mapping[str, Any]) -> None:
    """For ``kind="llm"``: pick up ``model`` and ``messages`` arguments."""
    model = arguments.get("model")
    if isinstance(model, str):
        wrapper.set_model(model)
    messages = arguments.get("messages")
    if isinstance(messages, Sequence) and not isinstance(messages, str):
        wrapper.set_messages(messages)


def _record_llm_result(wrapper: Span, result: Any) -> None:
    """For ``kind="llm"``: read model, usage and choices off an OpenAI-like response."""
    model = getattr(result, "model", None)
    if isinstance(model, str):
        wrapper.otel_span.set_attribute("gen_ai.response.model", model)
    usage = getattr(result, "usage", None)
    if usage is not None:
        input_tokens = getattr(usage, "prompt_tokens", None) or getattr(usage, "input_tokens", None)
        output_tokens = getattr(usage, "completion_tokens", None) or getattr(
            usage, "output_tokens", None
        )
        if isinstance(input_tokens, int) or isinstance(output_tokens, int):
            wrapper.set_usage(
                input_tokens if isinstance(input_tokens, int) else None,
                output_tokens if isinstance(output_tokens, int) else None,
            )
    choices = getattr(result, "choices", None)
    if isinstance(choices, Sequence) and choices:
        messages = []
        for choice in choices:
            message = getattr(choice, "message", None)
            dumped = getattr(message, "model_dump", None)
            if callable(dumped):
                entry = dict(dumped(mode="json", exclude_none=True))
                entry["finish_reason"] = getattr(choice, "finish_reason", None) or "stop"
                messages.append(entry)
        if messages:
            wrapper.set_messages(None, messages)


class _CallRecorder:
    """Shared begin/end logic of the sync and async wrappers of one function."""

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None,
        kind: SpanKindName,
        capture_input: bool,
        capture_output: bool,
        max_chars: int | None,
    ) -> None:
        check_kind(kind)
        self.name = name or func.__qualname__
        self.kind = kind
        self.capture_input = capture_input
        self.capture_output = capture_output
        self.max_chars = max_chars
        try:
            self.signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            self.signature = None

    @contextmanager
    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[Span]:
        with open_span(self.name, self.kind, self.max_chars, {}) as wrapper:
            if self.kind == "tool":
                wrapper.set_attribute("gen_ai.tool.type", "function")
            if self.capture_input:
                arguments = _bound_arguments(self.signature, args, kwargs)
                if self.kind == "llm":
                    _record_llm_call(wrapper, arguments)
                wrapper.set_input(arguments)
            yield wrapper

    def finish(self, wrapper: Span, result: Any) -> None:
        if self.capture_output:
            if self.kind == "llm":
                _record_llm_result(wrapper, result)
            wrapper.set_output(result)


@overload
def trace(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def trace(
    *,
    name: str | None = None,
    kind: SpanKindName = "chain",
    capture_input: bool = True,
    capture_output: bool = True,
    max_chars: int | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def trace(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    kind: SpanKindName = "chain",
    capture_input: bool = True,
    capture_output: bool = True,
    max_chars: int | None = None,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Trace every call of a function as a span; use bare (``@trace``) or with options.

    The input is the call's arguments by parameter name (``self``/``cls`` left
    out) as JSON; the output is the return value (strings verbatim, else JSON).
    An exception marks the span failed and propagates unchanged. ``async def``
    functions get a span around the awaited call. For ``kind="llm"``, ``model``
    and ``messages`` arguments and an OpenAI-like response (``model``, ``usage``,
    ``choices``) are also recorded in GenAI attributes.

    Generator functions are not supported (their body runs after the call
    returns, so a span would time only the generator's creation): trace the code
    that consumes them, or a ``span()`` block inside them, instead.

    Args:
        func: The function, when used bare.
        name: Span name; the function's qualified name by default.
        kind: ``llm``, ``retrieval``, ``tool``, ``chain``, ``agent`` or ``embedding``.
        capture_input: Record the arguments (turn off for secrets or huge inputs).
        capture_output: Record the return value.
        max_chars: Size limit for the recorded input and output; ``init()``'s
            ``max_value_chars`` by default.

    Returns:
        The wrapped function, or a decorator when called with options.

    Raises:
        InvalidInput: ``kind`` is unknown.
        TypeError: The function is a generator or async generator function.
    """

    def decorate(target: Callable[P, R]) -> Callable[P, R]:
        if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
            raise TypeError(
                f"@trace does not support generator functions ({target.__qualname__}); "
                "use a span() block inside it or trace its caller"
            )
        recorder = _CallRecorder(target, name, kind, capture_input, capture_output, max_chars)
        if inspect.iscoroutinefunction(target):
            async_target = cast(Callable[..., Awaitable[Any]], target)

            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with recorder.call(args, kwargs) as wrapper:
                    result = await async_target(*args, **kwargs)
                    recorder.finish(wrapper, result)
                    return result

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(target)
        def sync_wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with recorder.call(args, kwargs) as wrapper:
                result = target(*args, **kwargs)
                recorder.finish(wrapper, result)
                return result

        return sync_wrapper

    if func is not None:
        return decorate(func)
    return decorate
