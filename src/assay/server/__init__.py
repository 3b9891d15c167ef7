"""The HTTP server: OTLP receiver, REST API and web UI."""

from assay.server.app import create_app

__all__ = ["create_app"]
