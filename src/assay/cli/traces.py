"""``assay traces``: list and inspect stored traces, straight from the store.

Queries are :mod:`assay.traces`'s (the same the REST API serves); this module only
turns options into a :class:`~assay.traces.TraceFilter` and renders the answers.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text
from rich.tree import Tree

from assay.cli import output
from assay.cli.context import DbOption, JsonOption, ProjectOption, command_group, open_store
from assay.cli.trace_filters import (
    KindFilter,
    ModelFilter,
    ReleaseFilter,
    SearchFilter,
    SinceFilter,
    SliceFilter,
    StatusFilter,
    parse_since,
    trace_filter,
)
from assay.projects import get_project
from assay.traces import (
    MAX_PAGE,
    Content,
    SpanNode,
    TraceDetail,
    TracePage,
    get_trace,
    list_traces,
)

__all__ = ["app", "content_renderable", "parse_since", "register"]

app = command_group("List and inspect the traces assay has stored.")

# A content panel shows this much; more is cut with a pointer to --json. Long enough
# for a full RAG prompt, short enough to keep the span tree on the first screen.
CONTENT_CHARS = 4000


@app.command("ls")
def list_(
    ctx: typer.Context,
    project: ProjectOption,
    release: ReleaseFilter = None,
    model: ModelFilter = None,
    status: StatusFilter = None,
    kind: KindFilter = None,
    slice_: SliceFilter = None,
    search: SearchFilter = None,
    since: SinceFilter = None,
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
    filters = trace_filter(
        release=release,
        model=model,
        status=status,
        kind=kind,
        slices=slice_,
        search=search,
        since=since,
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
    output.show(Panel(content_renderable(detail.input), title="input", title_align="left"))
    output.show(Panel(content_renderable(detail.output), title="output", title_align="left"))
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


def content_renderable(content: Content) -> RenderableType:
    """A trace's input or output for a panel: text, or chat messages one per line
    (tool calls in magenta); cut at :data:`CONTENT_CHARS` with a pointer to --json."""
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
