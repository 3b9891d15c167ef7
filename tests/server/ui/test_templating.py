"""Templates and static assets: self-contained, parseable, and the display filters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assay.server.ui.templating import (
    ENV,
    STATIC_DIR,
    TEMPLATES_DIR,
    format_cost,
    format_duration,
    format_time,
    format_tokens,
    short_fingerprint,
)

# A reference that makes the browser fetch or navigate: src/href/action attributes,
# CSS url() and @import, and JS fetch/import of an absolute or protocol-relative URL.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import\s+["']?(?:https?:)?//)"""
    r"""|(?:\b(?:fetch|import)\s*\(\s*["'](?:https?:)?//)""",
    re.IGNORECASE,
)


def _asset_files() -> list[Path]:
    files = [p for p in (*TEMPLATES_DIR.rglob("*"), *STATIC_DIR.rglob("*")) if p.is_file()]
    assert len(files) >= 5
    return files


def test_no_template_or_static_file_loads_anything_from_another_origin() -> None:
    offenders = {
        str(path): EXTERNAL.findall(path.read_text(encoding="utf-8")) for path in _asset_files()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_external_reference_check_would_catch_one() -> None:
    for sample in (
        '<script src="https://cdn.example/x.js">',
        "<link href=//fonts.example/css>",
        "body { background: url('http://x.example/a.png') }",
        '@import "https://fonts.example/css";',
    ):
        assert EXTERNAL.search(sample), sample
    assert not EXTERNAL.search('<a href="/p/demo">see https://example.org</a>')


def test_every_template_compiles() -> None:
    names = ENV.list_templates()
    assert "base.html" in names
    for name in names:
        ENV.get_template(name)


def test_autoescape_is_on() -> None:
    html = ENV.from_string("{{ x }}").render(x="<script>alert(1)</script>")
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, "—"), (0.25, "0.25 ms"), (12.4, "12 ms"), (1500, "1.50 s"), (125_000, "2 m 5 s")],
)
def test_format_duration(ms: float | None, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize(
    ("usd", "text"),
    [
        (None, "—"),
        (0.0, "—"),
        (0.0000012, "$0.0000012"),
        (0.00076, "$0.00076"),
        (0.0123, "$0.0123"),
        (12.5, "$12.50"),
    ],
)
def test_format_cost(usd: float | None, text: str) -> None:
    assert format_cost(usd) == text


def test_small_formatters() -> None:
    assert format_tokens(0) == "—"
    assert format_tokens(12345) == "12,345"
    assert format_time(1_700_000_000_000_000_000) == "2023-11-14 22:13:20"
    assert format_time(None) == "—"
    assert short_fingerprint("a" * 64) == "a" * 12
