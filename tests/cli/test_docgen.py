"""The generated CLI reference matches the code."""

from __future__ import annotations

from pathlib import Path

from assay.cli import docgen
from assay.cli.main import app

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / docgen.DEFAULT_PATH


def test_committed_reference_is_current() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == docgen.render(), (
        "docs/reference/cli.md is stale: run scripts/cli-docs"
    )


def test_reference_documents_every_command_and_option() -> None:
    text = docgen.render(app)
    for doc in docgen.walk(app):
        assert f"## `{doc.path}`" in text
        for declaration, _ in docgen.parameters(doc):
            assert f"- `{declaration}`" in text


def test_check_mode(tmp_path: Path) -> None:
    target = tmp_path / "cli.md"
    assert docgen.main(["--check", str(target)]) == 1
    assert docgen.main([str(target)]) == 0
    assert docgen.main(["--check", str(target)]) == 0
    target.write_text(target.read_text() + "edited\n")
    assert docgen.main(["--check", str(target)]) == 1
