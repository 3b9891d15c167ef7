"""``assay agreement``: labels from CSV, JSONL and stdin; JSON and human output; bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Cli

# Krippendorff (2011)'s reliability data: nominal alpha .743, interval .849.
MATRIX = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
ROWS = [
    {"unit": f"u{j}", "coder": f"c{i}", "score": value}
    for i, labels in enumerate(MATRIX)
    for j, value in enumerate(labels)
]
NAMES = ("--item", "unit", "--annotator", "coder", "--value", "score")


def ok(cli: Cli, *args: str) -> str:
    """Run ``assay agreement ...`` (it takes no --db) and return stdout, asserting exit 0."""
    result = cli("agreement", *args, db=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def test_csv_with_empty_cells_as_missing_labels(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    lines = ["unit,coder,score"] + [
        f"{r['unit']},{r['coder']},{'' if r['score'] is None else r['score']}" for r in ROWS
    ]
    path.write_text("\n".join(lines) + "\n")
    report = json.loads(ok(cli, str(path), "--level", "nominal", *NAMES, "--json"))
    assert report["alpha"]["value"] == pytest.approx(0.743, abs=5e-4)
    assert (report["items"], report["annotators"], report["labels"]) == (12, 4, 41)
    assert report["alpha"]["ci"]["resamples"] == 1000
    assert len(report["pairs"]) == 6
    assert report["below_floor"] is False
    human = ok(cli, str(path), "-l", "nominal", *NAMES)
    assert "Krippendorff's alpha" in human
    assert "0.743" in human
    assert "c0 / c1" in human


def test_jsonl_file_and_stdin_with_nulls(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    text = "".join(json.dumps(r) + "\n" for r in ROWS)
    path.write_text(text)
    from_file = json.loads(ok(cli, str(path), "-l", "interval", *NAMES, "--json"))
    assert from_file["alpha"]["value"] == pytest.approx(0.849, abs=5e-4)
    assert from_file["fleiss"] is None
    assert from_file["pairs"] == []
    from_stdin = cli("agreement", "-", "-l", "interval", *NAMES, "--json", input=text, db=False)
    assert from_stdin.exit_code == 0
    assert json.loads(from_stdin.stdout)["alpha"] == from_file["alpha"]


def test_alpha_under_the_floor_warns_but_exits_0(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    result = cli("agreement", str(path), "-l", "nominal", *NAMES, "--floor", "0.8", db=False)
    assert result.exit_code == 0
    assert "under the floor of 0.800" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "args", "message"),
    [
        ("l.csv", "a,b,c\n1,2,3\n", (), "no column 'item', 'annotator', 'value'"),
        ("l.jsonl", '{"item": 1, "annotator": "x", "value": 1}\nnot json\n', (),
         "line 2: not JSON"),
        ("l.jsonl", '{"item": 1, "value": 1}\n', (), "line 1: no 'annotator' field"),
        ("l.jsonl", "[1, 2]\n", (), "line 1: expected a JSON object"),
        ("l.txt", "x", (), "give a .csv or .jsonl file"),
        ("l.jsonl", '{"item": 1, "annotator": "x", "value": "a"}\n', ("-l", "ordinal"),
         "ordinal labels must be numbers"),
        ("l.jsonl", '{"item": 1, "annotator": "x", "value": 1}\n', ("-l", "binary"),
         "--level must be nominal, ordinal, interval or ratio"),
    ],
)  # fmt: skip
def test_bad_files_exit_2_naming_the_problem(
    cli: Cli, tmp_path: Path, name: str, content: str, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    level = () if "-l" in args else ("-l", "nominal")
    result = cli("agreement", str(path), *level, *args, db=False)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    missing = cli("agreement", str(tmp_path / "none.csv"), "-l", "nominal", db=False)
    assert missing.exit_code == 2
    assert "no such file" in missing.stderr
