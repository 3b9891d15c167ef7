"""Rendering shared by every command: Rich for people, plain JSON for scripts.

Everything a user typed or stored goes through :func:`rich.markup.escape` or a
:class:`rich.text.Text`, so a project called ``[bold]x`` prints as written.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

T = TypeVar("T")


def stdout() -> Console:
    """A console on the current ``sys.stdout`` (created per call so test runners capture it)."""
    return Console(highlight=False)


def stderr() -> Console:
    """A console on the current ``sys.stderr``."""
    return Console(stderr=True, highlight=False)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses and models become objects, times ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Write ``value`` to stdout as indented JSON, with no colour or wrapping."""
    typer.echo(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


def error(message: str) -> None:
    """Print ``error: <message>`` in red on stderr, unwrapped so it stays one line."""
    stderr().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def warn(message: str) -> None:
    """Print ``warning: <message>`` in yellow on stderr."""
    stderr().print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def done(message: str) -> None:
    """Print a green success line on stdout (``message`` is Rich markup)."""
    stdout().print(f"[green]✓[/] {message}", soft_wrap=True)


def show(renderable: RenderableType) -> None:
    """Print any Rich renderable on stdout."""
    stdout().print(renderable)


def table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> Table:
    """A Rich table; cells are shown as plain text, ``None`` as an empty cell."""
    out = Table(*columns, title=title, title_justify="left", header_style="bold")
    for row in rows:
        out.add_row(*(escape(cell_text(c)) for c in row))
    return out


def listing(
    items: Sequence[T],
    *,
    as_json: bool,
    empty: str,
    columns: Sequence[str],
    row: Callable[[T], Sequence[Any]],
) -> None:
    """Print a list command's result: JSON, a hint when there is nothing, or a table.

    Args:
        items: What to list.
        as_json: The command's ``--json``.
        empty: What to say when ``items`` is empty (how to make the first one).
        columns: Table headers.
        row: One item's cells, in the order of ``columns``.
    """
    if as_json:
        print_json(items)
    elif not items:
        show(empty)
    else:
        show(table(columns, [row(item) for item in items]))


def one_line(text: str, chars: int) -> str:
    """``text`` on one line (runs of whitespace folded), cut to ``chars`` with "…"."""
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 1] + "…"


def cell_text(value: Any) -> str:
    """The text of one table cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(v) for v in value)
    return str(value)


def as_utc(value: datetime) -> datetime:
    """``value`` as timezone-aware UTC; SQLite hands back naive times that are UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """A time to the second, in UTC: ``2026-11-20 14:03:07Z``."""
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%SZ")


def format_time_ns(ns: int) -> str:
    """An epoch time in nanoseconds (how spans keep time), like :func:`format_time`."""
    return format_time(datetime.fromtimestamp(ns / 1e9, UTC))


def format_duration_ns(ns: int) -> str:
    """A span duration: ``850µs``, ``12ms``, ``1.25s``, ``3m04s``."""
    if ns < 1_000_000:
        return f"{ns / 1_000:.0f}µs"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.0f}ms"
    seconds = ns / 1e9
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def format_cost(usd: float | None) -> str:
    """A cost in US dollars: ``$1,234.50``, or ``$0.0000045`` for one small call."""
    if usd is None:
        return ""
    if usd == 0:
        return "$0"
    if usd >= 0.01:
        return f"${usd:,.2f}"
    # Per-call costs are fractions of a cent; eight places show a 1-token call at
    # the cheapest listed prices (about $1e-8), without scientific notation.
    text = f"{usd:.8f}".rstrip("0").rstrip(".")
    return "<$0.00000001" if text == "0" else f"${text}"


def format_tokens(prompt: int | None, completion: int | None) -> str:
    """``prompt→completion`` token counts, empty when neither is known."""
    if prompt is None and completion is None:
        return ""
    return f"{prompt or 0}→{completion or 0}"
