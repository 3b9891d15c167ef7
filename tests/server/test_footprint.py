"""What the server process loads: memory it holds for its whole life."""

from __future__ import annotations

import subprocess
import sys


def test_the_server_loads_no_statistics_libraries() -> None:
    # SciPy and statsmodels cost the server ~170 MB of resident memory, more than
    # everything else it imports together, for pages that compare runs. They load
    # when such a page (or the gate) computes something, not at startup.
    heavy = ("scipy", "statsmodels", "sklearn", "pandas", "onnxruntime", "openai")
    code = (
        "import sys; import assay.server.app, assay.signals.worker, assay.ingest.writer; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_statistics_are_loaded_on_first_use() -> None:
    code = (
        "import sys; import assay.stats.agreement; from assay.stats import agreement, holm; "
        "print(callable(agreement), agreement.__module__, 'statsmodels' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # The function, not the submodule of the same name, and holm's statsmodels loaded.
    assert out.stdout.split() == ["True", "assay.stats.agreement", "True"]
