"""The public Python API is exactly what `assay.__all__` says, and each name resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest

import assay
import assay.sdk


def test_all_names_resolve() -> None:
    for name in assay.__all__:
        assert getattr(assay, name) is not None, name


def test_sdk_names_are_the_sdk_functions() -> None:
    for name in ("init", "trace", "span", "feedback", "current_trace_id"):
        assert getattr(assay, name) is getattr(assay.sdk, name)


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = assay.no_such_thing  # type: ignore[attr-defined]


def test_import_assay_does_not_load_the_sdk_or_server() -> None:
    code = (
        "import sys, assay; "
        "print(sorted(m for m in ('assay.sdk', 'assay.server', 'opentelemetry.sdk') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
