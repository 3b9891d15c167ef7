"""A Python callable as a target: ``module:function``, sync or async.

The function is called with the case input and returns the output (or a
:class:`TargetOutput` with tokens and cost). The current directory is importable,
so ``assay run --target app:answer`` finds ``./app.py``. Sync functions run in a
thread pool as wide as the run's concurrency.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assay.errors import InvalidInput
from assay.targets.base import TargetError, TargetOutput, fingerprint_of, retryable_status


def load_callable(ref: str, cwd: Path | None = None) -> Callable[..., Any]:
    """Import ``module:function`` (dotted attribute paths allowed after the colon).

    Raises:
        InvalidInput: the reference is malformed, the module cannot be imported, or
            the attribute is missing or not callable.
    """
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidInput(f"python target {ref!r}: expected module:function")
    folder = str((cwd or Path.cwd()).resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module may raise anything on import
        raise InvalidInput(
            f"python target {ref!r}: cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    found: Any = module
    for part in attr.split("."):
        if not hasattr(found, part):
            raise InvalidInput(f"python target {ref!r}: {module_name} has no {attr!r}")
        found = getattr(found, part)
    if not callable(found):
        raise InvalidInput(f"python target {ref!r}: {attr!r} is not callable")
    return found  # type: ignore[no-any-return]


def _source_bytes(func: Callable[..., Any]) -> bytes:
    """The source of the function's module: a code change changes the fingerprint."""
    module = inspect.getmodule(func)
    path = getattr(module, "__file__", None)
    if path:
        try:
            return Path(path).read_bytes()
        except OSError:
            pass
    try:
        return inspect.getsource(func).encode()
    except (OSError, TypeError):
        return b""


class PythonTarget:
    """A Python function as a target.

    Args:
        ref: ``module:function``.
        func: The function itself (instead of importing ``ref``), for in-process runs.
        cwd: Folder to import from (default: the current directory).
        threads: Threads for sync functions (the runner sets its concurrency).
    """

    kind = "python"

    def __init__(
        self,
        ref: str = "",
        *,
        func: Callable[..., Any] | None = None,
        cwd: Path | None = None,
        threads: int = 8,
    ) -> None:
        if func is None:
            func = load_callable(ref, cwd)
        elif not ref:
            ref = f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', '?')}"
        self.ref = ref
        self._func = func
        self._async = inspect.iscoroutinefunction(func)
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._fingerprint = fingerprint_of(self.describe(), _source_bytes(func))

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the reference and the source of the function's module."""
        return self._fingerprint

    def describe(self) -> dict[str, Any]:
        """``{"kind": "python", "function": "module:function"}``."""
        return {"kind": self.kind, "function": self.ref}

    def set_threads(self, threads: int) -> None:
        """Size the thread pool for sync functions (before the first call)."""
        self._threads = max(1, threads)

    async def __call__(self, input: Any) -> TargetOutput:
        """Call the function with ``input``.

        Raises:
            TargetError: the function raised; retryable when it raised a timeout or
                connection error, or an error carrying a retryable HTTP status.
        """
        try:
            if self._async:
                result = await self._func(input)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="target")
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._pool, self._func, input)
        except Exception as exc:  # the user's function may raise anything
            status = getattr(exc, "status_code", None)
            retryable = isinstance(exc, (TimeoutError, ConnectionError)) or (
                isinstance(status, int) and retryable_status(status)
            )
            raise TargetError(
                f"{self.ref} raised {type(exc).__name__}: {exc}", retryable=retryable
            ) from exc
        if isinstance(result, TargetOutput):
            return result
        return TargetOutput(output=result)

    async def aclose(self) -> None:
        """Shut the thread pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
