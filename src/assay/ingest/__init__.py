"""Ingest: OTLP decoding, normalisation of GenAI/OpenInference spans, the group-commit writer."""
