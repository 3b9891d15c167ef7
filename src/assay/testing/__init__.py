"""Test helpers for apps that use assay, and for assay's own tests.

- :mod:`assay.testing.openai_server`: a deterministic OpenAI-compatible server
  (:func:`serve_openai`), so an app's LLM calls run offline in tests.
- :mod:`assay.testing.otlp`: builders of OTLP trace and log export requests
  (protobuf and OTLP/JSON) with GenAI and OpenInference attributes.
- :mod:`assay.testing.background`: serve any ASGI app on a background thread.
"""

from assay.testing.background import BackgroundServer, serve_app, untraced_fastapi
from assay.testing.openai_server import (
    Fault,
    OpenAIServer,
    Reply,
    ToolCall,
    create_openai_app,
    serve_openai,
)

__all__ = [
    "BackgroundServer",
    "Fault",
    "OpenAIServer",
    "Reply",
    "ToolCall",
    "create_openai_app",
    "serve_app",
    "serve_openai",
    "untraced_fastapi",
]
