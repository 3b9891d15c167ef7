"""``assay dataset``: create, import, export, list, show and diff versioned eval datasets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape

from assay.cli import output
from assay.cli.context import (
    DbOption,
    JsonOption,
    NearThresholdOption,
    ProjectOption,
    command_group,
    open_store,
)
from assay.datasets import (
    AddResult,
    CaseFormat,
    OnDuplicate,
    VersionView,
    add_version,
    case_record,
    create_dataset,
    diff_cases,
    format_of,
    get_version,
    list_datasets,
    load_cases,
    read_cases,
    version_cases,
    write_cases,
)
from assay.datasets.cases import input_text
from assay.datasets.duplicates import NEAR_DUPLICATE_COSINE, EmbeddingFinder
from assay.errors import InvalidInput
from assay.projects import get_project
from assay.store import Store

app = command_group(
    "Versioned eval datasets: import cases from JSONL, CSV or Parquet, export, compare versions."
)

RefArg = Annotated[
    str,
    typer.Argument(
        metavar="NAME[@VERSION]",
        help="A dataset, optionally with a version: NAME (the latest), NAME@3, NAME@latest "
        "or NAME@DIGEST (8+ hex characters).",
    ),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="jsonl, csv or parquet. Default: from the file's suffix.",
        show_default=False,
    ),
]

# How many cases `show` lists unless told otherwise, and how much of an input a
# table cell shows: enough to recognise a case in a terminal.
_SHOWN_CASES = 20
_CELL_CHARS = 70


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new dataset's name.")],
    project: ProjectOption,
    description: Annotated[str, typer.Option(metavar="TEXT", help="What the dataset is for.")] = "",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create an empty dataset; add versions with `assay dataset import`."""
    with open_store(ctx, db) as store, store.write_session() as session:
        view = create_dataset(session, get_project(session, project).id, name, description)
    if as_json:
        output.print_json(view)
        return
    output.done(f"Created dataset [bold]{escape(view.name)}[/]")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Cases: .jsonl, .csv or .parquet ('-' reads stdin).",
            dir_okay=False,
        ),
    ],
    name: Annotated[
        str,
        typer.Option(
            "--name", "-n", metavar="NAME", help="The dataset (created if it does not exist)."
        ),
    ],
    project: ProjectOption,
    fmt: FormatOption = None,
    append: Annotated[
        bool,
        typer.Option(
            "--append",
            help="Add the file's cases to the latest version instead of replacing its cases "
            "(a case with an id already there replaces it).",
        ),
    ] = False,
    message: Annotated[
        str, typer.Option("--message", "-m", metavar="TEXT", help="A note kept with the version.")
    ] = "",
    on_duplicate: Annotated[
        str,
        typer.Option(
            metavar="skip|keep|error",
            help="A case whose input repeats another's (ignoring case and spaces): skip it "
            "(keeping the first), keep both, or stop with an error.",
        ),
    ] = "skip",
    near: Annotated[
        bool,
        typer.Option(
            "--near-duplicates/--no-near-duplicates",
            help="Also report cases whose inputs mean nearly the same (cosine similarity of "
            "the offline MiniLM embeddings at or above --near-threshold). Reported, never "
            "dropped. Vectors are cached in the store, so only new texts are embedded.",
        ),
    ] = True,
    near_threshold: NearThresholdOption = NEAR_DUPLICATE_COSINE,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Import a file as the next version of a dataset (creating the dataset if needed).

    The new version holds exactly the file's cases, unless `--append`. Importing the
    same content again creates no version. Each line (row) needs an `input`; `id`,
    `reference`, `rubric`, `tags`, `slices`, `weight`, `cluster`, `metadata` and
    `provenance` are optional, and other fields are kept as metadata.
    """
    if on_duplicate not in ("skip", "keep", "error"):
        raise InvalidInput(f"--on-duplicate {on_duplicate!r}: use skip, keep or error")
    if str(file) == "-":
        if fmt is None:
            raise InvalidInput("reading cases from stdin needs --format jsonl|csv|parquet")
        cases = read_cases(sys.stdin.buffer.read(), format_of("-", fmt), "stdin")
        source = "stdin"
    else:
        cases = load_cases(file, fmt)
        source = file.name
    with open_store(ctx, db) as store:
        finder = _near_finder(store, near_threshold) if near else None
        with store.write_session() as session:
            result = add_version(
                session,
                get_project(session, project).id,
                name,
                cases,
                mode="append" if append else "replace",
                message=message,
                source=source,
                on_duplicate=cast(OnDuplicate, on_duplicate),
                near_duplicates=finder,
            )
        if finder is not None:
            finder.save()
    if as_json:
        output.print_json(result)
        return
    _report(result)


def _near_finder(store: Store, threshold: float) -> EmbeddingFinder:
    # Imported here: the embedder brings NumPy and onnxruntime.
    from assay.embeddings import get_embedder

    return EmbeddingFinder(get_embedder("minilm"), store, threshold)


def _report(result: AddResult) -> None:
    version = result.version
    for dup in result.duplicates:
        what = "skipped" if dup.dropped else "kept"
        labels = "" if dup.same_reference else " with a different reference"
        similarity = "" if dup.kind == "exact" else f" (similarity {dup.similarity:.2f})"
        output.warn(
            f"case {dup.case_id!r} {dup.kind}ly repeats {dup.duplicate_of!r}{similarity}"
            f"{labels}: {what}"
        )
    if not result.created:
        output.show(
            f"No change: {escape(version.ref)} already holds these {version.case_count} cases."
        )
        return
    counts = (
        f"{len(result.added)} added, {len(result.changed)} changed, {len(result.removed)} removed"
    )
    made = "Created dataset and version" if result.dataset_created else "Created version"
    output.done(f"{made} [bold]{escape(version.ref)}[/]: {version.case_count} cases ({counts})")
    output.show(f"digest {version.digest}")


@app.command("export")
def export(
    ctx: typer.Context,
    ref: RefArg,
    project: ProjectOption,
    out: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write. Default: stdout (JSONL or CSV only).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = None,
    db: DbOption = None,
) -> None:
    """Write a dataset version's cases to a file; it imports back as the same cases."""
    kind = format_of(out, fmt) if out is not None else format_of("-", fmt or "jsonl")
    if out is None and kind is CaseFormat.PARQUET:
        raise InvalidInput("Parquet is binary: give --output FILE")
    with open_store(ctx, db) as store, store.session() as session:
        version = get_version(session, get_project(session, project).id, ref)
        cases = version_cases(session, version.id)
    data = write_cases(((c.id, c.case) for c in cases), kind)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {str(out)!r}: {exc.strerror or exc}") from exc
    output.done(f"Wrote {len(cases)} cases of {escape(version.ref)} to {escape(str(out))}")


@app.command("ls")
def ls(
    ctx: typer.Context, project: ProjectOption, as_json: JsonOption = False, db: DbOption = None
) -> None:
    """List a project's datasets with their latest versions."""
    with open_store(ctx, db) as store, store.session() as session:
        datasets = list_datasets(session, get_project(session, project).id)
    output.listing(
        datasets,
        as_json=as_json,
        empty="No datasets yet. Import one with: assay dataset import FILE --name NAME -p PROJECT",
        columns=("name", "latest", "cases", "versions", "updated", "description"),
        row=lambda d: (
            d.name,
            d.latest.number if d.latest else "",
            d.latest.case_count if d.latest else 0,
            len(d.versions),
            output.format_time(d.latest.created_at) if d.latest else "",
            d.description,
        ),
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ref: RefArg,
    project: ProjectOption,
    limit: Annotated[
        int, typer.Option(min=0, metavar="N", help="Show at most N cases (0: none).")
    ] = _SHOWN_CASES,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show a dataset version: where it came from, and its cases."""
    with open_store(ctx, db) as store, store.session() as session:
        version = get_version(session, get_project(session, project).id, ref)
        cases = version_cases(session, version.id, limit=limit) if limit else []
    if as_json:
        output.print_json({"version": version, "cases": [case_record(c.case, c.id) for c in cases]})
        return
    _version_header(version)
    if not cases:
        return
    rows = [
        (
            c.id,
            _cut(input_text(c.case.input)),
            _cut(_text(c.case.reference)),
            ", ".join(c.case.tags),
        )
        for c in cases
    ]
    title = f"cases {len(cases)} of {version.case_count}"
    output.show(output.table(("id", "input", "reference", "tags"), rows, title=title))


def _version_header(version: VersionView) -> None:
    output.show(
        f"[bold]{escape(version.ref)}[/]  {version.case_count} cases  "
        f"created {output.format_time(version.created_at)}"
        + (f"  from {escape(version.source)}" if version.source else "")
    )
    output.show(f"digest {version.digest}")
    if version.message:
        output.show(escape(version.message))


@app.command("diff")
def diff(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(metavar="A", help="The older version: NAME@N.")],
    new: Annotated[
        str, typer.Argument(metavar="B", help="The newer version: NAME@N (or NAME: the latest).")
    ],
    project: ProjectOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show which cases were added, removed or changed from version A to version B."""
    with open_store(ctx, db) as store, store.session() as session:
        project_id = get_project(session, project).id
        a = get_version(session, project_id, old)
        b = get_version(session, project_id, new)
        result = diff_cases(version_cases(session, a.id), version_cases(session, b.id))
    if as_json:
        output.print_json({"old": a, "new": b, "diff": result})
        return
    header = f"{escape(a.ref)} → {escape(b.ref)}"
    if result.empty:
        output.show(f"{header}: the same {b.case_count} cases.")
        return
    rows: list[tuple[str, str, str]] = [(cid, "added", "") for cid in result.added]
    rows += [(cid, "removed", "") for cid in result.removed]
    rows += [(c.id, "changed", ", ".join(c.fields)) for c in result.changed]
    title = (
        f"{header}: {len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed, {result.unchanged} unchanged"
    )
    output.show(output.table(("case", "change", "fields"), rows, title=title))


def _text(value: Any) -> str:
    return "" if value is None else input_text(value)


def _cut(text: str) -> str:
    return output.one_line(text, _CELL_CHARS)


def register(root: typer.Typer) -> None:
    """Add ``dataset`` to the root app."""
    root.add_typer(app, name="dataset")
