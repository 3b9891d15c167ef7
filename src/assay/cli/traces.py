"""``assay traces``: list and inspect stored traces, straight from the store.

Queries are :mod:`assay.traces`'s (the same the REST API serves); this module only
turns options into a :class:`~assay.traces.TraceFilter` and renders the answers.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Any, Literal

import orjson
import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text
from rich.tree import Tree

from assay.cli import output
from assay.cli.context import (
    DbOption,
    JsonOption,
    ProjectOption,
    command_group,
    open_store,
    parse_pairs,
)
from assay.errors import InvalidInput
from assay.ingest.conventions import KINDS
from assay.projects import get_project
from assay.traces import (
    MAX_PAGE,
    Content,
    SpanNode,
    TraceDetail,
    TraceFilter,
    TracePage,
    get_trace,
    list_traces,
    parse_timestamp,
)

app = command_group("List and inspect the traces assay has stored.")

Status = Literal["ok", "error", "unset"]
"""Trace statuses (:data:`assay.traces.STATUSES`) as a type Typer turns into choices."""

# A content panel shows this much; more is cut with a pointer to --json. Long enough
# for a full RAG prompt, short enough to keep the span tree on the first screen.
CONTENT_CHARS = 4000

_UNITS_NS = {"s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_UNITS_NS["w"] = 7 * _UNITS_NS["d"]
_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")


def parse_since(text: str, *, now_ns: int | None = None) -> int:
    """The start bound of ``--since``: a duration back from now, or a point in time.

    Args:
        text: ``30m``, ``1h``, ``7d``, ``2w``; or ISO 8601 (``2026-11-01T00:00``,
            UTC when no offset); or nanoseconds since the epoch.
        now_ns: The present, for tests; the clock when None.

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
        return parse_timestamp(text, field="--since")
    except InvalidInput:
        raise InvalidInput(
            f"--since: expected a duration back from now (30m, 1h, 7d, 2w) or a time "
            f"(2026-11-01T00:00, UTC unless an offset is given); got {text!r}"
        ) from None


@app.command("ls")
def list_(
    ctx: typer.Context,
    project: ProjectOption,
    release: Annotated[
        str | None,
        typer.Option(
            metavar="REF",
            help="Only traces of this release: a name, fingerprint or fingerprint prefix.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            metavar="MODEL", help="Only traces where this model answered.", show_default=False
        ),
    ] = None,
    status: Annotated[
        Status | None, typer.Option(help="Only traces with this status.", show_default=False)
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            metavar="KIND",
            help=f"Only traces with a span of this kind: {', '.join(sorted(KINDS))}.",
            show_default=False,
        ),
    ] = None,
    slice_: Annotated[
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
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT",
            help="Only traces whose input or output contains TEXT (any case).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="Only traces started since WHEN: 30m, 1h, 7d, 2w ago, or 2026-11-01T00:00 (UTC).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, max=MAX_PAGE, help="Most traces to list.")
    ] = 20,
    cursor: Annotated[
        str | None,
        typer.Option(
            metavar="CURSOR",
            help="Continue after the previous page (its next cursor is printed below it).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List a project's traces, newest first, filtered by any of the options."""
    filters = TraceFilter(
        start_from_ns=parse_since(since) if since is not None else None,
        release=release,
        model=model,
        status=status,
        kind=kind,
        slices=parse_pairs(slice_ or [], option="--slice"),
        q=search,
    )
    with open_store(ctx, db) as store, store.session() as session:
        project_id = get_project(session, project).id
        page = list_traces(session, project_id, filters, limit=limit, cursor=cursor)
    if as_json:
        output.print_json(page)
        return
    _show_page(page, project)


def _show_page(page: TracePage, project: str) -> None:
    if not page.items:
        output.show("No traces match.")
        return
    # Two lines a trace rather than a table: the full 32-digit id (what `traces show`
    # takes) plus the numbers already fill an 80-column terminal.
    out = output.stdout()
    for t in page.items:
        first = Text(t.trace_id, style="bold")
        first.append(f"  {output.format_time_ns(t.start_ns)}  ")
        first.append_text(Text.from_markup(_status(t.status)))
        numbers = [
            output.format_duration_ns(t.end_ns - t.start_ns),
            _tokens_text(t.prompt_tokens, t.completion_tokens),
            output.format_cost(t.cost),
        ]
        first.append("  " + "  ".join(n for n in numbers if n))
        out.print(first, soft_wrap=True)
        release = (t.release.name or t.release.ref) if t.release is not None else None
        about = " · ".join(x for x in (t.name, t.model, release) if x)
        second = Text("  " + about, style="dim", no_wrap=True, overflow="ellipsis")
        if t.input_preview:
            second.append(f" — {t.input_preview}", style="default")
        out.print(second)
    if page.next_cursor:
        out.print(
            f"[dim]More: assay traces ls --project {escape(project)} "
            f"--cursor {page.next_cursor} (with the same filters)[/]",
            soft_wrap=True,
        )


def _tokens_text(prompt: int | None, completion: int | None) -> str:
    tokens = output.format_tokens(prompt, completion)
    return f"{tokens} tok" if tokens else ""


@app.command("show")
def show(
    ctx: typer.Context,
    trace_id: Annotated[
        str,
        typer.Argument(metavar="TRACE_ID", help="The trace id: 32 hex digits."),
    ],
    project: ProjectOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show one trace: its span tree (kind, model, duration, tokens, cost, status),
    input, output and feedback."""
    with open_store(ctx, db) as store, store.session() as session:
        project_id = get_project(session, project).id
        detail = get_trace(session, project_id, trace_id)
    if as_json:
        output.print_json(detail)
        return
    output.show(_header(detail))
    tree = Tree(f"[bold]trace {detail.trace_id}[/]", guide_style="dim")
    for node in detail.spans:
        _add_span(tree, node)
    output.show(tree)
    output.show(Panel(_content(detail.input), title="input", title_align="left"))
    output.show(Panel(_content(detail.output), title="output", title_align="left"))
    if detail.feedback:
        rows = [(f.name, f.value, f.comment, f.source, f.created_at) for f in detail.feedback]
        output.show(output.table(("feedback", "value", "comment", "source", "at"), rows))


def _header(detail: TraceDetail) -> RenderableType:
    release = ""
    if detail.release is not None:
        release = detail.release.name or f"{detail.release.ref} (unregistered)"
    slices = ", ".join(f"{k}={v}" for k, v in sorted(detail.slices.items()))
    rows: list[tuple[str, Any]] = [
        ("name", detail.name),
        ("service", detail.service_name),
        ("release", release),
        ("started", output.format_time_ns(detail.start_ns)),
        ("duration", output.format_duration_ns(detail.end_ns - detail.start_ns)),
        ("status", detail.status),
        ("spans", f"{detail.span_count} ({detail.error_count} failed)"),
        ("tokens", _tokens_text(detail.prompt_tokens, detail.completion_tokens)),
        ("cost", output.format_cost(detail.cost)),
        ("session", detail.session_id),
        ("user", detail.user_id),
        ("slices", slices),
    ]
    grid = output.table(("field", "value"), [(k, v) for k, v in rows if v])
    grid.show_header = False
    return grid


def _add_span(parent: Tree, node: SpanNode) -> None:
    label = Text()
    label.append(f"{node.kind} ", style="cyan")
    label.append(node.name, style="bold")
    facts = [
        node.model or "",
        output.format_duration_ns(node.end_ns - node.start_ns),
        _tokens_text(node.prompt_tokens, node.completion_tokens),
        output.format_cost(node.cost),
    ]
    label.append("  " + "  ".join(f for f in facts if f), style="dim")
    label.append("  ")
    label.append_text(Text.from_markup(_status(node.status)))
    if node.status_message:
        label.append(f"  {node.status_message}", style="red")
    branch = parent.add(label)
    for child in node.children:
        _add_span(branch, child)


def _status(status: str) -> str:
    style = {"ok": "green", "error": "bold red"}.get(status, "dim")
    return f"[{style}]{escape(status)}[/]"


def _content(content: Content) -> RenderableType:
    if content is None:
        return Text("(not recorded)", style="dim")
    if isinstance(content, str):
        return Text(_cut(content))
    parts: list[RenderableType] = []
    for message in content:
        line = Text()
        line.append(f"{message.get('role', '?')}: ", style="bold")
        body = message.get("content")
        if isinstance(body, str):
            line.append(_cut(body))
        elif body is not None:
            line.append(_cut(orjson.dumps(body).decode()))
        for call in message.get("tool_calls") or []:
            line.append(f"\n  → tool call {_cut(orjson.dumps(call).decode())}", style="magenta")
        parts.append(line)
    return Group(*parts)


def _cut(text: str) -> str:
    if len(text) <= CONTENT_CHARS:
        return text
    rest = len(text) - CONTENT_CHARS
    return f"{text[:CONTENT_CHARS]}… ({rest} more characters; see --json)"


def register(root: typer.Typer) -> None:
    """Add ``traces`` to the root app."""
    root.add_typer(app, name="traces")
