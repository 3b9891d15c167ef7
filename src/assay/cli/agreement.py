"""``assay agreement``: inter-annotator agreement of labels in a CSV or JSONL file."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from assay.cli import output
from assay.cli.context import JsonOption
from assay.errors import InvalidInput

if TYPE_CHECKING:
    from assay.stats import AgreementReport, Estimate
    from assay.stats.agreement import Level

JSONL_SUFFIXES = (".jsonl", ".ndjson")


def agreement_command(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="Labels: a .csv with a header row, or .jsonl with one object a line; - reads "
            "JSONL from stdin. One row per (item, annotator, value); an empty or null value "
            "is a missing label.",
        ),
    ],
    level: Annotated[
        str,
        typer.Option(
            "--level",
            "-l",
            metavar="LEVEL",
            help="Level of measurement: nominal (categories), ordinal (ranked, e.g. a 1-5 "
            "rubric), interval or ratio (numbers).",
        ),
    ],
    item: Annotated[
        str, typer.Option(metavar="FIELD", help="Column or key holding the item id.")
    ] = "item",
    annotator: Annotated[
        str, typer.Option(metavar="FIELD", help="Column or key holding the annotator id.")
    ] = "annotator",
    value: Annotated[
        str, typer.Option(metavar="FIELD", help="Column or key holding the label.")
    ] = "value",
    floor: Annotated[
        float,
        typer.Option(
            metavar="ALPHA",
            help="Warn when Krippendorff's alpha is under this (.667: tentative "
            "conclusions only; .800: reliable).",
        ),
    ] = 0.667,
    resamples: Annotated[
        int, typer.Option(metavar="N", help="Bootstrap resamples for the intervals.")
    ] = 1_000,
    seed: Annotated[int, typer.Option(metavar="SEED", help="Bootstrap seed.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """How far annotators agree: Krippendorff's alpha, Fleiss' kappa, Cohen's kappa per pair.

    Each coefficient comes with a 95% bootstrap interval over items. Kappas need
    categories, so with interval or ratio labels only alpha is given. Exit code 0
    even when alpha is under the floor (the warning says so); 2 for a bad file.
    """
    from assay.stats import agreement, ratings_from_rows

    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise InvalidInput(f"--level must be nominal, ordinal, interval or ratio, not {level!r}")
    rows = list(read_label_rows(file, item, annotator, value))
    ratings = ratings_from_rows(rows, cast("Level", level))
    report = agreement(ratings, floor=floor, resamples=resamples, seed=seed)
    if as_json:
        data = output.jsonable(report)
        data["below_floor"] = report.below_floor
        output.print_json(data)
        return
    show_report(report)


def read_label_rows(
    file: str, item: str, annotator: str, value: str
) -> Iterator[tuple[Any, Any, Any]]:
    """(item, annotator, value) from a CSV or JSONL file, or JSONL on stdin (``-``).

    Raises:
        InvalidInput: The file is missing, of an unknown kind, or a row lacks the
            item or annotator field; the message names the line.
    """
    if file == "-":
        yield from _jsonl(io.StringIO(sys.stdin.read()), "stdin", item, annotator, value)
        return
    path = Path(file)
    if not path.is_file():
        raise InvalidInput(f"{file}: no such file")
    suffix = path.suffix.lower()
    with path.open(encoding="utf-8", newline="") as handle:
        if suffix == ".csv":
            yield from _csv(handle, file, item, annotator, value)
        elif suffix in JSONL_SUFFIXES:
            yield from _jsonl(handle, file, item, annotator, value)
        else:
            raise InvalidInput(f"{file}: give a .csv or .jsonl file")


def _csv(
    handle: io.TextIOBase, name: str, item: str, annotator: str, value: str
) -> Iterator[tuple[Any, Any, Any]]:
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    missing = [f for f in (item, annotator, value) if f not in header]
    if missing:
        raise InvalidInput(
            f"{name}: no column {', '.join(map(repr, missing))} (the header has: "
            f"{', '.join(header) or 'nothing'}); name them with --item, --annotator, --value"
        )
    for row in reader:
        yield row[item], row[annotator], row[value]


def _jsonl(
    handle: io.TextIOBase, name: str, item: str, annotator: str, value: str
) -> Iterator[tuple[Any, Any, Any]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{name}, line {number}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InvalidInput(f"{name}, line {number}: expected a JSON object")
        for key in (item, annotator):
            if key not in data:
                raise InvalidInput(f"{name}, line {number}: no {key!r} field")
        yield data[item], data[annotator], data.get(value)


def show_report(report: AgreementReport) -> None:
    """Print an agreement report: counts, alpha and Fleiss' kappa, Cohen's kappa per
    pair, notes and warnings (``assay agreement`` and ``assay queue agreement``)."""
    output.show(
        f"{report.labels} labels by {report.annotators} annotators on {report.items} items "
        f"({report.pairable} with two or more labels), level {report.level}"
    )
    if report.observed is not None:
        output.show(f"observed agreement between pairs of labels: {report.observed:.1%}")
    rows = [("Krippendorff's alpha", *_cells(report.alpha))]
    if report.fleiss is not None:
        rows.append(("Fleiss' kappa", *_cells(report.fleiss)))
    output.show(output.table(["coefficient", "value", "95% CI", "items"], rows))
    if report.pairs:
        weighted = " (linearly weighted)" if report.level == "ordinal" else ""
        output.show(
            output.table(
                ["annotators", "items", "agree", f"Cohen's kappa{weighted}", "95% CI"],
                [
                    (
                        f"{p.first} / {p.second}",
                        p.items,
                        f"{p.observed:.0%}" if p.observed is not None else "",
                        *_cells(p.kappa)[:2],
                    )
                    for p in report.pairs
                ],
            )
        )
    for estimate in (report.alpha, report.fleiss):
        if estimate is not None and estimate.note:
            output.show(f"note: {estimate.note}")
    for warning in report.warnings:
        output.warn(warning)


def _cells(estimate: Estimate) -> tuple[str, str, int]:
    value = f"{estimate.value:.3f}" if estimate.value is not None else "undefined"
    ci = f"{estimate.ci.low:.3f} to {estimate.ci.high:.3f}" if estimate.ci is not None else ""
    return value, ci, estimate.items


def register(root: typer.Typer) -> None:
    """Add ``agreement`` to the root app."""
    root.command("agreement")(agreement_command)
