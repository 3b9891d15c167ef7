"""Documentation stays true: generated references are current and every setting is documented."""

from __future__ import annotations

from pathlib import Path

from assay.settings import Settings, settings_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_settings_reference_is_current() -> None:
    committed = (ROOT / "docs" / "reference" / "settings.md").read_text()
    assert committed == settings_markdown(), "run scripts/docs to regenerate"


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    head = readme[: readme.index("## Point your app")]
    assert "assay demo" in head
    assert "bash scripts/test" in head
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci


def test_docs_link_to_existing_pages() -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        text = page.read_text()
        for part in text.split("](")[1:]:
            target = part.split(")", 1)[0]
            if target.startswith(("http", "#", "<")):
                continue
            path = (page.parent / target.split("#", 1)[0]).resolve()
            assert path.exists(), f"{page.relative_to(ROOT)} links to missing {target}"
