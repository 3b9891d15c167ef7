"""Rendering helpers: JSON conversion and the human formats."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli import output
from assay.redaction import RedactionConfig


@dataclass(frozen=True, slots=True)
class _Row:
    when: datetime
    tags: frozenset[str]
    rules: RedactionConfig
    where: Path


def test_jsonable_handles_dataclasses_models_times_and_sets() -> None:
    row = _Row(
        when=datetime(2026, 11, 20, 9, 30),  # naive: the store's UTC
        tags=frozenset({"b", "a"}),
        rules=RedactionConfig(builtins=["email"]),
        where=Path("x/y"),
    )
    assert output.jsonable([row]) == [
        {
            "when": "2026-11-20T09:30:00+00:00",
            "tags": ["a", "b"],
            "rules": {"builtins": ["email"], "patterns": []},
            "where": "x/y",
        }
    ]


@pytest.mark.parametrize(
    ("ns", "text"),
    [(850_000, "850µs"), (12_000_000, "12ms"), (1_250_000_000, "1.25s"), (184 * 10**9, "3m04s")],
)
def test_format_duration(ns: int, text: str) -> None:
    assert output.format_duration_ns(ns) == text


@pytest.mark.parametrize(
    ("usd", "text"),
    [
        (None, ""),
        (0.0, "$0"),
        (0.0000045, "$0.0000045"),
        (1e-12, "<$0.00000001"),
        (0.5, "$0.50"),
        (1234.5, "$1,234.50"),
    ],
)
def test_format_cost(usd: float | None, text: str) -> None:
    assert output.format_cost(usd) == text


def test_format_tokens_and_time() -> None:
    assert output.format_tokens(None, None) == ""
    assert output.format_tokens(12, None) == "12→0"
    assert (
        output.format_time(datetime(2026, 11, 20, 9, 30, 5, tzinfo=UTC)) == "2026-11-20 09:30:05Z"
    )
    assert output.format_time_ns(0) == "1970-01-01 00:00:00Z"


def test_cells_escape_markup() -> None:
    table = output.table(("name",), [("[bold]x[/]",), (None,), (True,), (["a", "b"],)])
    runner = CliRunner()  # only for its captured stdout
    with runner.isolation() as (out, _err, _):
        output.show(table)
        text = out.getvalue().decode()
    assert "[bold]x[/]" in text
    assert "yes" in text
    assert "a, b" in text


def test_print_json_and_error(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_json({"when": datetime(2026, 1, 1, tzinfo=UTC), "name": "ü"})
    output.error("project 'x' does not exist " + "y" * 200)
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"when": "2026-01-01T00:00:00+00:00", "name": "ü"}
    # One line, however long: scripts grep it and people read it.
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("error: project 'x' does not exist")
