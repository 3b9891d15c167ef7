"""docs/concepts/scorers.md documents every built-in scorer and argument, and is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import InvalidInput
from assay.scorers import list_scorers
from assay.scorers.reference import BEGIN, END, scorers_markdown, update_page

PAGE = Path(__file__).resolve().parents[2] / "docs" / "concepts" / "scorers.md"


def test_the_page_is_current() -> None:
    text = PAGE.read_text()
    # To regenerate: p.write_text(update_page(p.read_text())) for this page.
    assert update_page(text) == text, "stale: regenerate with assay.scorers.reference.update_page"


def test_every_builtin_and_argument_is_on_the_page() -> None:
    text = PAGE.read_text()
    builtins = [info for info in list_scorers() if info.source == "builtin"]
    assert len(builtins) == 8
    for info in builtins:
        assert f"### `{info.name}`" in text
        for arg in info.args:
            assert f"| `{arg.name}` |" in text, f"{info.name}.{arg.name}"


def test_the_generated_part_has_a_table_per_scorer() -> None:
    generated = scorers_markdown()
    assert generated.count("| argument | type | default | meaning |") == 8
    assert "| `pattern` | str | required |" in generated
    assert "| `normalize` | bool | `true` |" in generated


def test_markers_are_required_in_order() -> None:
    with pytest.raises(InvalidInput, match="needs the markers"):
        update_page("no markers")
    with pytest.raises(InvalidInput, match="in that order"):
        update_page(f"{END}\n{BEGIN}")
    assert update_page(f"a\n{BEGIN}\nstale\n{END}\nb").startswith(f"a\n{BEGIN}\n\n### `contains`")
