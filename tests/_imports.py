"""What a fresh interpreter loads: for tests that keep heavy libraries out of a process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable


def loaded_after(statement: str, among: Iterable[str]) -> list[str]:
    """The packages of ``among`` that a new interpreter has loaded after ``statement``.

    Args:
        statement: Python to run first, e.g. ``"import assay.cli.main"``.
        among: Top-level package names to look for.
    """
    code = (
        f"import sys; {statement}; "
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {set(among)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()
