"""The trace filter options of ``assay traces ls``, shared by every command that picks
traces by what they are (``assay queue add``, ``assay queue promote``).

Typer reads options from a command's signature, so each command lists them; this
module gives each option its one declaration and turns their values into a
:class:`~assay.traces.TraceFilter`.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Literal

import typer

from assay.cli.context import parse_pairs
from assay.errors import InvalidInput
from assay.ingest.conventions import KINDS
from assay.traces import TraceFilter, parse_timestamp

Status = Literal["ok", "error", "unset"]
"""Trace statuses (:data:`assay.traces.STATUSES`) as a type Typer turns into choices."""

_UNITS_NS = {"s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_UNITS_NS["w"] = 7 * _UNITS_NS["d"]
_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")

ReleaseFilter = Annotated[
    str | None,
    typer.Option(
        "--release",
        metavar="REF",
        help="Only traces of this release: a name, fingerprint or fingerprint prefix.",
        show_default=False,
    ),
]
ModelFilter = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="MODEL",
        help="Only traces where this model answered.",
        show_default=False,
    ),
]
StatusFilter = Annotated[
    Status | None,
    typer.Option("--status", help="Only traces with this status.", show_default=False),
]
KindFilter = Annotated[
    str | None,
    typer.Option(
        "--kind",
        metavar="KIND",
        help=f"Only traces with a span of this kind: {', '.join(sorted(KINDS))}.",
        show_default=False,
    ),
]
SliceFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--slice",
        metavar="KEY=VALUE",
        help=(
            "Only traces whose slice KEY has VALUE (e.g. locale=de). Repeat: different "
            "keys must all match; values of one key match any."
        ),
        show_default=False,
    ),
]
SearchFilter = Annotated[
    str | None,
    typer.Option(
        "--search",
        metavar="TEXT",
        help="Only traces whose input or output contains TEXT (any case).",
        show_default=False,
    ),
]
SinceFilter = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="WHEN",
        help="Only traces started since WHEN: 30m, 1h, 7d, 2w ago, or 2026-11-01T00:00 (UTC).",
        show_default=False,
    ),
]


def parse_since(text: str, *, now_ns: int | None = None, option: str = "--since") -> int:
    """The start bound of ``--since``: a duration back from now, or a point in time.

    Args:
        text: ``30m``, ``1h``, ``7d``, ``2w``; or ISO 8601 (``2026-11-01T00:00``,
            UTC when no offset); or nanoseconds since the epoch.
        now_ns: The present, for tests; the clock when None.
        option: The option's name, for the error message.

    Returns:
        Nanoseconds since the epoch.

    Raises:
        InvalidInput: ``text`` is none of these.
    """
    match = _RELATIVE.fullmatch(text.strip())
    if match:
        now = time.time_ns() if now_ns is None else now_ns
        return now - int(match.group(1)) * _UNITS_NS[match.group(2)]
    try:
        return parse_timestamp(text, field=option)
    except InvalidInput:
        raise InvalidInput(
            f"{option}: expected a duration back from now (30m, 1h, 7d, 2w) or a time "
            f"(2026-11-01T00:00, UTC unless an offset is given); got {text!r}"
        ) from None


def trace_filter(
    *,
    release: str | None = None,
    model: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    slices: list[str] | None = None,
    search: str | None = None,
    since: str | None = None,
) -> TraceFilter:
    """The filter the options describe (None and empty options match any trace).

    Raises:
        InvalidInput: A malformed ``--slice`` or ``--since``.
    """
    return TraceFilter(
        start_from_ns=parse_since(since) if since is not None else None,
        release=release,
        model=model,
        status=status,
        kind=kind,
        slices=parse_pairs(slices or [], option="--slice"),
        q=search,
    )


def any_given(*values: object) -> bool:
    """Whether any filter option was given (an empty ``--slice`` list is not)."""
    return any(v is not None and v != [] for v in values)
