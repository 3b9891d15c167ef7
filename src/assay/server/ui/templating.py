"""Jinja2 templates of the UI, the filters they use, and the headers every page gets.

Autoescaping is on for every template: traces hold untrusted user text, and a
template that forgot ``|e`` must not be the way a ``<script>`` gets in. The
Content-Security-Policy is the second line: even injected markup could run no
script and load nothing from another origin.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from assay import __version__

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"

# 'self' only: all assets ship in the package (self-hosted installs are often
# offline), and no inline script or style is allowed. The waterfall bars are SVG
# attributes, which CSP's style-src does not govern.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages show user data: keep them out of shared and back-button caches.
    "Cache-Control": "no-store",
}


def static_url(path: str) -> str:
    """URL of a packaged static file, versioned so upgrades bypass browser caches."""
    return f"{STATIC_PREFIX}/{path}?v={__version__}"


def format_time(ns: int | None) -> str:
    """Nanoseconds since the epoch as ``YYYY-MM-DD HH:MM:SS`` UTC."""
    if ns is None:
        return "—"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso_time(ns: int | None) -> str:
    """Nanoseconds since the epoch as ISO 8601 UTC (for ``<time datetime>``)."""
    if ns is None:
        return ""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="milliseconds")


def format_datetime(value: datetime | None) -> str:
    """A datetime as ``YYYY-MM-DD HH:MM`` UTC (naive values are taken as UTC)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def format_duration(ms: float | None) -> str:
    """A duration in milliseconds, in the largest unit that keeps it readable."""
    if ms is None:
        return "—"
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f} m {rest:.0f} s"


def format_tokens(n: int | None) -> str:
    """A token count with thousands separators; a dash when unknown or zero."""
    if not n:
        return "—"
    return f"{n:,}"


def format_cost(usd: float | None) -> str:
    """A cost in USD; a dash when unknown or zero.

    One small LLM call costs millionths of a dollar, so amounts under a cent keep
    two significant digits (``$0.0000012``) instead of rounding to ``$0.00000``.
    """
    if usd is None or usd <= 0:
        return "—"
    if usd >= 1:
        return f"${usd:,.2f}"
    if usd >= 0.01:
        return f"${usd:.4f}"
    decimals = min(-math.floor(math.log10(usd)) + 1, 12)
    return f"${usd:.{decimals}f}"


def short_fingerprint(fingerprint: str | None) -> str:
    """The first 12 characters of a fingerprint, as git abbreviates commits."""
    return (fingerprint or "")[:12]


def pretty_json(value: Any) -> str:
    """A value as indented JSON for display (escaped by the template, not here)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        time=format_time,
        iso_time=iso_time,
        datetime=format_datetime,
        duration=format_duration,
        tokens=format_tokens,
        cost=format_cost,
        short_fp=short_fingerprint,
        pretty_json=pretty_json,
    )
    env.globals.update(static=static_url, version=__version__)
    return env


ENV = _environment()


def render(template: str, context: Mapping[str, Any], *, status: int = 200) -> HTMLResponse:
    """Render a template into a response with the UI's security headers.

    Args:
        template: File name under ``templates/``.
        context: Template variables.
        status: HTTP status.

    Returns:
        The response.
    """
    html = ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
