"""FastAPI apps that record no telemetry of their own.

Recent FastAPI versions trace every request on the global OpenTelemetry tracer
provider. The assay server must not: when it shares a process with an app that
exports to it (tests, the demo, `opentelemetry-instrument assay serve`), it would
trace its own `/v1/traces` handling and feed those spans back to itself without end.
Test doubles in an instrumented process have the same problem.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI

# FastAPI versions with native OpenTelemetry take this option (tracing, metrics, logs).
_FASTAPI_TELEMETRY = "telemetry" in inspect.signature(FastAPI.__init__).parameters


def untraced_fastapi(**options: Any) -> FastAPI:
    """``FastAPI(**options)`` with FastAPI's own tracing, metrics and logs off where they exist."""
    if _FASTAPI_TELEMETRY:
        options.setdefault("telemetry", {"tracing": False, "metrics": False, "logs": False})
    return FastAPI(**options)
