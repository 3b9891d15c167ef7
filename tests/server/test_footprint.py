"""What the server process loads: memory it holds for its whole life."""

from __future__ import annotations

from _imports import loaded_after


def test_the_server_loads_no_statistics_libraries() -> None:
    # SciPy and statsmodels cost the server ~170 MB of resident memory, more than
    # everything else it imports together, for pages that compare runs. They load
    # when such a page (or the gate) computes something, not at startup.
    heavy = ("scipy", "statsmodels", "sklearn", "pandas", "onnxruntime", "openai")
    statement = "import assay.server.app, assay.signals.worker, assay.ingest.writer"
    assert loaded_after(statement, heavy) == []


def test_statistics_are_loaded_on_first_use() -> None:
    # The function, not the submodule of the same name; and holm's statsmodels.
    statement = (
        "import assay.stats.agreement; from assay.stats import agreement, holm; "
        "assert callable(agreement) and agreement.__module__ == 'assay.stats.agreement'"
    )
    assert loaded_after(statement, ["statsmodels"]) == ["statsmodels"]
