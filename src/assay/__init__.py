"""assay: every production failure of an AI feature becomes tomorrow's regression test.

The names an app uses are re-exported here::

    import assay

    assay.init(endpoint="http://127.0.0.1:6500", api_key="ak_...", release="v2")

    @assay.trace(kind="llm")
    def answer(question: str) -> str: ...

Experiments run from Python too::

    result = assay.run_experiment(
        "sqlite:///.assay/assay.db", project="bot", dataset="support", target="app:answer",
        scorers=["exact"],
    )

They load on first use, so ``import assay`` (and every CLI command) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from assay.experiments import CallPolicy, run_experiment
    from assay.sdk import (
        current_span,
        current_trace_id,
        feedback,
        feedback_event,
        init,
        span,
        trace,
    )
    from assay.targets import TargetOutput

_SDK = ("init", "trace", "span", "feedback", "feedback_event", "current_trace_id", "current_span")
_LAZY = {
    **dict.fromkeys(_SDK, "assay.sdk"),
    "run_experiment": "assay.experiments",
    "CallPolicy": "assay.experiments",
    "TargetOutput": "assay.targets",
}

__all__ = [
    "CallPolicy",
    "TargetOutput",
    "__version__",
    "current_span",
    "current_trace_id",
    "feedback",
    "feedback_event",
    "init",
    "run_experiment",
    "span",
    "trace",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'assay' has no attribute {name!r}")
